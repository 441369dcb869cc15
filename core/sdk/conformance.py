"""The conformance kit: what every channel (and so every industry committee) must satisfy.

An outside developer calls these from their own tests (see docs/plugins.md)::

    from core.sdk import conformance

    def test_conforms(fengqiao_registry):
        conformance.assert_conforms(fengqiao_registry, "tourism", sample=SAMPLE)

    async def test_statistics(...):
        await conformance.check_statistics(registry, "tourism", room=room, user=admin, cipher=cipher,
                                           sample=SAMPLE, dispute_type="consumer")

Checks (each failure is one human-readable line naming the object):

- **schema**: every intake form of the channel renders (``core.forms.describe``: every field has a
  Chinese title and a supported widget), exports JSON Schema, refuses an empty submission with
  field-level Chinese messages when it has required fields, and accepts the developer's ``sample``;
- **protocol**: exists, starts in a ``registered`` step, every state is reachable (the core checks
  that at construction), a settled and an archived state are reachable from the initial state, every
  transition has roles and a label, every transition form renders;
- **deadlines**: the intake forms' rules exist; every rule of the channel (``<key>_…``) cites a law and
  an article;
- **statistics**: every statistic of the channel is named ``<key>_…`` with a label; ratios name
  existing statistics; :func:`check_statistics` computes them on an empty and a small dataset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.forms import FormErrors, describe, json_schema, validate_data
from core.lifecycle import CoreStatus

__all__ = ["ConformanceError", "problems", "assert_conforms", "check_statistics", "channel_indicators"]


class ConformanceError(AssertionError):
    """The channel does not conform; the message lists every problem."""


def _schema_problems(what: str, schema: type, sample: Mapping[str, Any] | None) -> list[str]:
    out = []
    try:
        specs = describe(schema)
    except Exception as exc:  # noqa: BLE001 - report, don't crash the kit
        return [f"{what}: schema does not render as a form: {exc}"]
    for s in specs:
        if s.title == s.name or not any("\u4e00" <= ch <= "\u9fff" for ch in s.title):
            out.append(f"{what}: field {s.name!r} needs a Chinese title (msgspec.Meta(title=…))")
        if s.widget == "select" and not s.choices and not s.code_list:
            out.append(f"{what}: select field {s.name!r} has no choices")
    try:
        json_schema(schema)
    except Exception as exc:  # noqa: BLE001
        out.append(f"{what}: no JSON Schema: {exc}")
    required = [s.name for s in specs if s.required]
    if required:
        try:
            validate_data(schema, {})
            out.append(f"{what}: an empty submission was accepted although {required} are required")
        except FormErrors as exc:
            missing = [n for n in required if n not in exc.errors]
            if missing:
                out.append(f"{what}: an empty submission did not report {missing}")
            if not all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in exc.errors.values()):
                out.append(f"{what}: error messages are not Chinese: {exc.errors}")
    if sample is not None:
        try:
            validate_data(schema, dict(sample), strict=False)
        except FormErrors as exc:
            out.append(f"{what}: the sample does not validate: {exc.errors}")
    return out


def _reachable(protocol: Any) -> set[str]:
    seen, todo = {protocol.initial}, [protocol.initial]
    while todo:
        cur = todo.pop()
        for t in protocol.available(cur):
            if t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    return seen


def problems(registry: Any, key: str, *, sample: Mapping[str, Any] | None = None) -> list[str]:
    """Everything wrong with channel ``key`` in ``registry`` (an empty list when it conforms)."""
    out: list[str] = []
    if key not in registry.channels:
        return [f"channel {key!r} is not registered or not enabled (installed plugins: "
                f"{sorted(n for n, _ in registry.pm.list_name_plugin())})"]
    forms = registry.forms_for(key)
    if not forms:
        out.append(f"channel {key!r} has no intake form")
    for f in forms:
        out += _schema_problems(f"intake form {key}/{f.kind}", f.schema, sample)
        if f.deadline_rule and f.deadline_rule not in registry.deadline_rules:
            out.append(f"intake form {key}/{f.kind}: unknown deadline rule {f.deadline_rule!r}")
        if f.default_dispute_type and not registry.codes.has("dispute_type", f.default_dispute_type):
            out.append(f"intake form {key}/{f.kind}: unknown dispute type code {f.default_dispute_type!r}")
    protocol = registry.protocols.get(key)
    if protocol is None:
        out.append(f"channel {key!r} has no protocol")
    else:
        if protocol.state(protocol.initial).status is not CoreStatus.REGISTERED:
            out.append(f"protocol {key}: the initial state must be a 'registered' step")
        statuses = {protocol.state(s).status for s in _reachable(protocol)}
        for needed in (CoreStatus.SETTLED, CoreStatus.ARCHIVED):
            if needed not in statuses:
                out.append(f"protocol {key}: no path from {protocol.initial!r} to a {needed.value!r} state")
        for t in protocol.transitions:
            if not t.roles or not t.label:
                out.append(f"protocol {key}: transition {t.key!r} needs roles and a label")
            if t.form is not None:
                out += _schema_problems(f"protocol {key}: form of {t.key!r}", t.form, None)
    for rule in registry.deadline_rules.values():
        if rule.key.startswith(key + "_") or any(rule.key == f.deadline_rule for f in forms):
            for c in rule.citations:
                if not c.law.strip() or not c.article.strip():
                    out.append(f"deadline rule {rule.key!r}: citation {c!r} needs a law and an article")
            if not rule.citations:
                out.append(f"deadline rule {rule.key!r} cites no source")
    for s in registry.statistics.values():
        if s.channel != key:
            continue
        if not s.name.startswith(key + "_"):
            out.append(f"statistic {s.name!r} of channel {key!r} must be named {key}_…")
        if not s.label.strip():
            out.append(f"statistic {s.name!r} needs a label")
        if s.ratio and any(r not in registry.statistics for r in s.ratio):
            out.append(f"statistic {s.name!r}: ratio names unknown statistics {s.ratio}")
    return out


def assert_conforms(registry: Any, key: str, *, sample: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`ConformanceError` listing every problem of channel ``key``."""
    found = problems(registry, key, sample=sample)
    if found:
        raise ConformanceError(f"channel {key!r} does not conform:\n- " + "\n- ".join(found))


async def channel_indicators(registry: Any, key: str, user: Any, year: int) -> dict[str, Any]:
    """The channel's statistics for ``year`` as the statistics page computes them (``user``'s scope)."""
    from core.statistics.queries import StatsFilters
    from core.statistics.report import monthly_report

    _, report = await monthly_report(registry, user, StatsFilters(year * 100 + 1, year * 100 + 12))
    return {s.name: value for s, value in report.indicators if s.channel == key}


async def check_statistics(registry: Any, key: str, *, room: Mapping[str, Any], user: Any, cipher: Any,
                           sample: Mapping[str, Any], dispute_type: str, cases: int = 3) -> dict[str, Any]:
    """Compute the channel's statistics on the (empty) database, then after registering ``cases``
    cases through the case engine in ``room`` (one accepted); return the final values.

    Raises:
        ConformanceError: a statistic fails to compute, is non-zero on the empty dataset, or the
            registered-cases counter (when the channel has one) does not count the new cases.
    """
    from core.cases import apply_transition, create_case
    from core.intake import CaseIntake, PartyIn

    from core import clock

    year = clock.today().year
    names = [s.name for s in registry.statistics.values() if s.channel == key]
    try:
        empty = await channel_indicators(registry, key, user, year)
    except Exception as exc:  # noqa: BLE001
        raise ConformanceError(f"statistics of {key!r} fail on an empty dataset: {exc!r}") from exc
    nonzero = {n: v for n, v in empty.items() if v not in (0, None)}
    if nonzero:
        raise ConformanceError(f"statistics of {key!r} are not zero on an empty dataset: {nonzero}")
    missing = set(names) - set(empty)
    if missing:
        raise ConformanceError(f"statistics of {key!r} missing from the report: {sorted(missing)}")
    form = registry.forms_for(key)[0]
    fields = validate_data(form.schema, dict(sample), strict=False)
    ids = []
    for i in range(cases):
        created = await create_case(
            registry, room=room, form=form, intake=CaseIntake(summary=f"一致性检查案件{i + 1}", dispute_type=dispute_type),
            parties=[PartyIn(role="applicant", name="张三"), PartyIn(role="respondent", name="李四")],
            fields=fields, actor=user, cipher=cipher)
        ids.append(created["id"])
    await apply_transition(registry, ids[0], "accept", user)
    try:
        values = await channel_indicators(registry, key, user, year)
    except Exception as exc:  # noqa: BLE001
        raise ConformanceError(f"statistics of {key!r} fail on a small dataset: {exc!r}") from exc
    counter = f"{key}_registered_cases"
    if counter in values and values[counter] != cases:
        raise ConformanceError(f"{counter} is {values[counter]} after registering {cases} cases")
    return values
