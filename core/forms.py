"""One schema per form: render, validate (field-level messages in Chinese) and export JSON Schema.

A form is a ``msgspec.Struct`` whose fields carry ``msgspec.Meta(title=…, description=…)`` and
constraints. Choice labels go in ``Meta(extra={"labels": {value: label}})``; a long text field asks
for a textarea with ``Meta(extra={"widget": "textarea"})``. Cross-field rules live in an optional
method ``check(self) -> list[tuple[str, str]]`` returning ``(field, message)`` pairs.

The same declaration feeds the HTML form (:func:`describe`), the submit validation of both the
HTML form (:func:`validate_form`) and the JSON API (:func:`validate_data`), and the JSON Schema
(:func:`json_schema`). There is no second copy.
"""

from __future__ import annotations

import re
import typing
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from msgspec import inspect as mi

__all__ = [
    "FieldSpec",
    "FormErrors",
    "describe",
    "validate_form",
    "validate_data",
    "json_schema",
    "translate_error",
]

S = TypeVar("S", bound=msgspec.Struct)


class FormErrors(ValueError):
    """Validation failed; ``errors`` maps field name → user-facing message (one per field)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class FieldSpec:
    """What a template needs to render one field."""

    name: str
    title: str
    description: str
    widget: str
    """text | textarea | integer | decimal | date | datetime | checkbox | select | checkboxes"""
    required: bool
    default: Any
    choices: tuple[tuple[str, str], ...] = ()
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    code_list: str = ""
    """Name of a code list (``core.codes``) whose codes are the choices, filled at render time."""


def _unwrap(t: Any) -> tuple[Any, dict[str, Any], dict[str, Any], bool]:
    """Strip Metadata and Optional; return (type, json-schema extras, extra, nullable)."""
    schema_extra: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    nullable = False
    while True:
        if isinstance(t, mi.Metadata):
            schema_extra.update(t.extra_json_schema or {})
            extra.update(t.extra or {})
            t = t.type
        elif isinstance(t, mi.UnionType):
            rest = [x for x in t.types if not isinstance(x, mi.NoneType)]
            nullable = len(rest) != len(t.types)
            if len(rest) != 1:
                return t, schema_extra, extra, nullable
            t = rest[0]
        else:
            return t, schema_extra, extra, nullable


def _choices(t: Any, labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    if isinstance(t, mi.LiteralType):
        values = [str(v) for v in t.values]
    elif isinstance(t, mi.EnumType):
        values = [str(m.value) for m in t.cls]
    else:
        return ()
    order = {v: i for i, v in enumerate(labels)}
    values.sort(key=lambda v: order.get(v, len(order)))
    return tuple((v, labels.get(v, v)) for v in values)


_DESCRIBED: weakref.WeakKeyDictionary[type, tuple[FieldSpec, ...]] = weakref.WeakKeyDictionary()
""":func:`describe`'s results by schema class, held weakly: schemas built at run time (a channel's
re-check form, per registry) must be free to go when their registry goes."""


def describe(schema: type[msgspec.Struct]) -> list[FieldSpec]:
    """The fields of ``schema`` in declaration order, ready to render (computed once per schema class:
    ``msgspec.inspect`` is slow, and pages call this on every render)."""
    try:
        specs = _DESCRIBED.get(schema)
    except TypeError:  # not weakly referenceable: not a class
        specs = None
    if specs is None:
        specs = _describe(schema)
        try:
            _DESCRIBED[schema] = specs
        except TypeError:
            pass
    return list(specs)


def _describe(schema: type[msgspec.Struct]) -> tuple[FieldSpec, ...]:
    info = mi.type_info(schema)
    assert isinstance(info, mi.StructType)
    specs = []
    for f in info.fields:
        t, sx, extra, nullable = _unwrap(f.type)
        labels = extra.get("labels", {})
        kw: dict[str, Any] = {}
        if isinstance(t, mi.StrType):
            widget = extra.get("widget") or ("select" if extra.get("codes") else "text")
            kw = {"min_length": t.min_length, "max_length": t.max_length}
        elif isinstance(t, mi.IntType):
            widget = "integer"
            kw = {"minimum": t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else None),
                  "maximum": t.le if t.le is not None else (t.lt - 1 if t.lt is not None else None)}
        elif isinstance(t, mi.DecimalType | mi.FloatType):
            widget = "decimal"
        elif isinstance(t, mi.DateType):
            widget = "date"
        elif isinstance(t, mi.DateTimeType):
            widget = "datetime"
        elif isinstance(t, mi.BoolType):
            widget = "checkbox"
        elif isinstance(t, mi.LiteralType | mi.EnumType):
            widget = "select"
        elif isinstance(t, mi.ListType):
            widget = "checkboxes"
            item, _, item_extra, _ = _unwrap(t.item_type)
            labels = labels or item_extra.get("labels", {})
            t = item
        else:
            raise TypeError(f"{schema.__name__}.{f.name}: unsupported form field type {t!r}")
        default = None if f.default is msgspec.NODEFAULT else f.default
        if f.default_factory is not msgspec.NODEFAULT:
            default = f.default_factory()
        specs.append(
            FieldSpec(
                name=f.encode_name,
                title=sx.get("title", f.name),
                description=sx.get("description", ""),
                widget=widget,
                required=f.required and not nullable,
                default=default,
                choices=_choices(t, labels),
                code_list=extra.get("codes", ""),
                **kw,
            )
        )
    return tuple(specs)


_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Expected `str` of length >= 1\b"), "此项为必填"),
    (re.compile(r"Expected `str` of length >= (\d+)"), "至少需要 {0} 个字"),
    (re.compile(r"Expected `str` of length <= (\d+)"), "不能超过 {0} 个字"),
    (re.compile(r"Expected `str` matching regex"), "格式不正确"),
    (re.compile(r"Expected `(?:int|float)` >= (-?[\d.]+)"), "不能小于 {0}"),
    (re.compile(r"Expected `(?:int|float)` > (-?[\d.]+)"), "必须大于 {0}"),
    (re.compile(r"Expected `(?:int|float)` <= (-?[\d.]+)"), "不能大于 {0}"),
    (re.compile(r"Expected `(?:int|float)` < (-?[\d.]+)"), "必须小于 {0}"),
    (re.compile(r"Expected `int`"), "请输入整数"),
    (re.compile(r"Invalid decimal|Expected `decimal`"), "请输入有效的金额，如 35000.00"),
    (re.compile(r"encoded date\b|Expected `date`"), "请输入有效日期（年-月-日）"),
    (re.compile(r"encoded datetime|Expected `datetime`|missing required timezone"), "请输入有效的日期和时间"),
    (re.compile(r"Invalid enum value"), "请从列表中选择"),
    (re.compile(r"Object missing required field"), "此项为必填"),
    (re.compile(r"Object contains unknown field"), "不接受此字段"),
    (re.compile(r"Expected `bool`"), "请选择是或否"),
    (re.compile(r"Expected `array`"), "应为列表"),
    (re.compile(r"Expected `object`"), "应为对象"),
    (re.compile(r"Expected `str`"), "请输入文字"),
]


class Message(str):
    """A user-facing message that keeps its msgid and arguments, so that the web layer can show it
    in the reader's language (``web.i18n.translate``); it is the Chinese text everywhere else."""

    msgid: str
    args: tuple[str, ...]

    def __new__(cls, msgid: str, *args: str) -> "Message":
        self = super().__new__(cls, msgid.format(*args))
        self.msgid, self.args = msgid, args
        return self


def translate_error(message: str) -> str:
    """Turn a msgspec validation message into a Chinese, user-facing one."""
    for pattern, text in _RULES:
        m = pattern.search(message)
        if m:
            return Message(text, *m.groups()) if m.groups() else text
    return "格式不正确"


_PATH = re.compile(r"at `\$((?:\.[\w]+|\[\d+\])*)`")


def _path_of(message: str) -> str:
    m = _PATH.search(message)
    if not m:
        field = re.search(r"field `([^`]+)`", message)
        return field.group(1) if field else ""
    return m.group(1).lstrip(".")


def _hints(schema: type[msgspec.Struct]) -> dict[str, Any]:
    return typing.get_type_hints(schema, include_extras=True)


def validate_data(schema: type[S], data: Any, *, strict: bool = True) -> S:
    """Validate already-structured data (a JSON object) against ``schema``.

    Every offending field is reported, not just the first: each field is converted alone.

    Raises:
        FormErrors: with one message per offending field (keys are field names or paths).
    """
    if not isinstance(data, Mapping):
        raise FormErrors({"": "应为对象"})
    errors: dict[str, str] = {}
    hints = _hints(schema)
    info = mi.type_info(schema)
    assert isinstance(info, mi.StructType)
    names = {f.encode_name: f for f in info.fields}
    if schema.__struct_config__.forbid_unknown_fields:
        for key in data:
            if key not in names:
                errors[str(key)] = "不接受此字段"
    for name, f in names.items():
        if name not in data:
            if f.required:
                errors[name] = "此项为必填"
            continue
        try:
            msgspec.convert(data[name], hints[f.name], strict=strict)
        except msgspec.ValidationError as exc:
            sub = _path_of(str(exc))
            errors[f"{name}.{sub}" if sub and not sub.startswith("[") else f"{name}{sub}"] = translate_error(str(exc))
    if errors:
        raise FormErrors(errors)
    try:
        obj = msgspec.convert(data, schema, strict=strict)
    except msgspec.ValidationError as exc:  # e.g. __post_init__ raising ValueError
        raise FormErrors({_path_of(str(exc)) or "": str(exc).split(" - at ")[0]}) from exc
    check = getattr(obj, "check", None)
    if callable(check):
        problems = check()
        if problems:
            raise FormErrors({k: v for k, v in problems})
    return obj


def _form_value(spec: FieldSpec, raw: Any) -> Any:
    """Pre-process one posted value for its widget (HTML forms send strings)."""
    if spec.widget == "checkbox":
        return raw not in (None, "", "0", "false", "off")
    if spec.widget == "checkboxes":
        if raw is None:
            return []
        return list(raw) if isinstance(raw, list | tuple) else [raw]
    if isinstance(raw, list):
        raw = raw[-1] if raw else None
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            return None
        if spec.widget == "datetime" and re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?", raw):
            # <input type=datetime-local> sends no seconds and no offset; deployments are in UTC+8
            raw = raw.replace(" ", "T") + (":00" if len(raw) == 16 else "") + "+08:00"
    return raw


def validate_form(schema: type[S], form: Mapping[str, Any], *, prefix: str = "") -> S:
    """Validate posted HTML form data (strings, possibly lists) against ``schema``.

    Empty inputs count as missing; unchecked checkboxes as ``False``; ``prefix`` selects fields
    named ``<prefix><name>`` (used when several schemas share one HTML form).

    Raises:
        FormErrors: keyed by the un-prefixed field name.
    """
    data: dict[str, Any] = {}
    for spec in describe(schema):
        raw = form.get(prefix + spec.name)
        value = _form_value(spec, raw)
        if value is None:
            if spec.required:
                data[spec.name] = None  # reported as required below
            continue
        data[spec.name] = value
    missing = {k: "此项为必填" for k, v in data.items() if v is None}
    data = {k: v for k, v in data.items() if v is not None}
    try:
        obj = validate_data(schema, data, strict=False)
    except FormErrors as exc:
        missing.update(exc.errors)
        raise FormErrors(missing) from None
    if missing:
        raise FormErrors(missing)
    return obj


def json_schema(schema: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON Schema of ``schema`` with its definitions inlined at the top level."""
    doc = msgspec.json.schema(schema)
    defs = doc.get("$defs", {})
    name = doc.get("$ref", "").rsplit("/", 1)[-1]
    out = dict(defs.get(name, doc))
    rest = {k: v for k, v in defs.items() if k != name}
    if rest:
        out["$defs"] = rest
    return out


def to_builtins(obj: msgspec.Struct) -> dict[str, Any]:
    """JSON-ready dict of a validated form (dates as ISO strings, decimals as strings)."""
    return msgspec.to_builtins(obj)


