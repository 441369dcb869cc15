"""Build the gettext catalogues: template strings + the data strings of every installed plugin.

``python -m web.i18n_extract`` (``scripts/i18n-extract``) rewrites ``web/translations/messages.pot``
and merges it into each ``<locale>/LC_MESSAGES/messages.po``:

- **template strings**: every ``_()`` / ``gettext`` / ``ngettext`` in ``web/templates/**/*.html``
  and in ``plugins/**/*.html`` (Babel's Jinja2 extractor);
- **data strings**: walked from a registry built with *all* installed plugins (built-in ones and
  the ``fengqiao`` entry points, whatever a deployment enables): channel, intake form, protocol
  state and transition, statistic, deadline rule and document labels; the titles, descriptions and
  choice labels of every ``msgspec`` form schema (``Meta(title=…)``, ``extra={"labels": …}``) of
  core, web and the plugins; module-level ``*_LABELS`` tables; the form error messages of
  ``core.forms``. Code lists carry their own English (``en``) and are not in the catalogue.

Merging is idempotent: existing translations are kept; a new msgid gets ``msgstr = msgid`` in
``zh_CN`` and, in ``en``, the object's ``label_en`` when it has one (else it stays empty, which
``tests/test_i18n.py`` reports). Entries no longer found are kept as obsolete (``#~``) so that a
run without some plugin does not lose its translations; they come back when the string does.
``--check`` exits 1 if the files would change (CI).
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import pkgutil
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po, write_po

from web.i18n import DEFAULT_LOCALE, DOMAIN, LOCALES, TRANSLATIONS, po_path

__all__ = ["Entry", "template_messages", "data_messages", "collect", "merge", "main", "template_files"]

ROOT = Path(__file__).resolve().parent.parent
POT = TRANSLATIONS / f"{DOMAIN}.pot"
FIXED_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class Entry:
    msgid: str
    locations: set[tuple[str, int]] = field(default_factory=set)
    en_hint: str = ""
    python_format: bool = False


def template_files() -> list[Path]:
    """Every template of core and of every plugin in this tree (``plugins/**/*.html``)."""
    files = sorted((ROOT / "web" / "templates").rglob("*.html"))
    files += sorted((ROOT / "plugins").rglob("*.html"))
    for mod in _plugin_packages():
        if not getattr(mod, "__file__", None):
            continue
        base = Path(mod.__file__).resolve().parent
        if base.is_dir() and ROOT not in base.parents:
            files += sorted(base.rglob("*.html"))
    return files


def template_messages() -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    options = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "trimmed": "false"}
    for path in template_files():
        rel = path.relative_to(ROOT).as_posix() if ROOT in path.parents else path.as_posix()
        with path.open("rb") as f:
            for lineno, msg, _comments, _ctx in extract("jinja2.ext:babel_extract", f, DEFAULT_KEYWORDS, [], options):
                for msgid in (msg if isinstance(msg, tuple) else (msg,)):
                    if not msgid:
                        continue
                    e = out.setdefault(msgid, Entry(msgid))
                    e.locations.add((rel, lineno))
                    e.python_format = True
    return out


_MARK = "\ue000"  # stands for an expression or tag while the literal HTML is parsed
_GETTEXT_NAMES = {"_", "gettext", "ngettext", "pgettext", "npgettext"}
_LATIN_WORD = re.compile(r"\b[A-Za-z]*[a-z][A-Za-z]*[a-z][A-Za-z]*\b")  # a word, not an acronym (PDF)


class _TextNodes(__import__("html.parser").parser.HTMLParser):
    """Text nodes and human-readable attributes of an HTML fragment."""

    ATTRS = {"title", "alt", "placeholder", "aria-label", "aria-description"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        for k, v in attrs:
            if k in self.ATTRS and v and not (tag == "meta" and k == "content"):
                self.texts.append(v)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.texts.append(data)


def untranslated_literals(source: str, env: Any = None) -> list[tuple[int, str]]:
    """Human-readable text of a template that is not inside ``_()``: ``(line, text)`` pairs.

    Flags (a) template data (outside ``{{ }}``/``{% %}``) whose text nodes or readable attributes
    contain Chinese or an English word, and (b) string constants with Chinese inside expressions
    that are not the argument of a gettext call. Expressions are replaced by a placeholder before
    the HTML is read, so ``<a href="{{ url }}">`` is fine.
    """
    import jinja2

    env = env or jinja2.Environment(extensions=["jinja2.ext.i18n"])
    found: list[tuple[int, str]] = []
    html_parts: list[tuple[int, str]] = []
    prev: list[str] = []
    for lineno, kind, value in env.lex(source):
        if kind == "data":
            html_parts.append((lineno, value))
        elif kind in {"variable_begin", "block_begin"}:
            html_parts.append((lineno, _MARK))
        elif kind == "string" and CJK.search(value):
            # _("…") or gettext("…") — the string follows "<name> (" or is a later argument
            if not (len(prev) >= 2 and prev[-1] == "(" and prev[-2] in _GETTEXT_NAMES):
                found.append((lineno, value))
        if kind not in {"whitespace"}:
            prev = (prev + [value if kind in {"name", "operator"} else kind])[-2:]
    # HTML text of the literal parts (joined so tags split by expressions still parse)
    joined = "".join(v for _, v in html_parts)
    parser = _TextNodes()
    parser.feed(joined)
    parser.close()
    for text in parser.texts:
        for piece in text.split(_MARK):
            piece = piece.strip()
            if not piece:
                continue
            if CJK.search(piece) or _LATIN_WORD.search(piece):
                line = next((ln for ln, v in html_parts if piece in v), 0)
                found.append((line, piece))
    return found


# --------------------------------------------------------------------------- data strings


def _plugin_packages() -> list[Any]:
    from core.plugins import DEFAULT_PLUGINS

    mods = []
    for name in DEFAULT_PLUGINS:
        try:
            mods.append(importlib.import_module(name))
        except Exception:  # noqa: BLE001 - a broken or half-written plugin is reported by its own tests
            continue
    try:
        from importlib.metadata import entry_points

        for ep in entry_points(group="fengqiao"):
            try:
                obj = ep.load()
                mods.append(sys.modules[getattr(obj, "__module__", None) or obj.__name__])
            except Exception:  # noqa: BLE001
                continue
    except Exception:  # noqa: BLE001
        pass
    return mods


def _import_tree(package: str) -> None:
    try:
        pkg = importlib.import_module(package)
    except Exception:  # noqa: BLE001
        return
    for info in pkgutil.walk_packages(getattr(pkg, "__path__", []), package + "."):
        if ".tests" in info.name or info.name.endswith("__main__") or ".migrations" in info.name:
            continue
        try:
            importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 - optional modules (e.g. needing a server) are skipped
            continue


def _structs() -> Iterator[type[msgspec.Struct]]:
    seen: set[type] = set()
    todo = list(msgspec.Struct.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        yield cls


def _importable(names: Any) -> list[str]:
    out = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            print(f"i18n-extract: skipping plugin {name!r}, which cannot be imported", file=sys.stderr)
            continue
        out.append(name)
    return out


def _registry() -> Any:
    from core.plugins import DEFAULT_PLUGINS
    from core.registry import build_registry
    from core.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env={"FENGQIAO_DATA_DIR": tmp, "FENGQIAO_SECRET_KEY": "i18n-extract-" + "0" * 32})
        names = _importable(DEFAULT_PLUGINS)
        try:
            return build_registry(settings, names, entry_points=True)
        except Exception:  # noqa: BLE001 - a plugin being written may not register yet: leave it out
            base = [n for n in names if n.startswith("core.")]
            good = []
            for name in names:
                if name in base:
                    continue
                try:
                    build_registry(settings, [*base, name], entry_points=False)
                except Exception as exc:  # noqa: BLE001
                    print(f"i18n-extract: skipping plugin {name!r}: {exc}", file=sys.stderr)
                    continue
                good.append(name)
            return build_registry(settings, [*base, *good], entry_points=True)


def data_messages(registry: Any = None) -> dict[str, Entry]:
    """Data strings of core, web and every installed plugin (see the module docstring)."""
    from core.forms import _RULES, describe

    reg = registry if registry is not None else _registry()
    out: dict[str, Entry] = {}

    def add(text: Any, where: str, en: str = "") -> None:
        if not isinstance(text, str) or not CJK.search(text):
            return
        e = out.setdefault(text, Entry(text))
        e.locations.add((where, 0))
        if en and not e.en_hint:
            e.en_hint = en

    def add_schema(schema: Any, where: str) -> None:
        try:
            specs = describe(schema)
        except Exception:  # noqa: BLE001 - not a form schema
            return
        for s in specs:
            add(s.title, where)
            add(s.description, where)
            for _v, label in s.choices:
                add(label, where)

    for ch in reg.channels.values():
        add(ch.label, f"channel:{ch.key}", ch.label_en)
        add(ch.description, f"channel:{ch.key}")
    for f in reg.forms.values():
        where = f"form:{f.channel}/{f.kind}"
        add(f.label, where, f.label_en)
        add(f.description, where)
        add_schema(f.schema, where)
    for p in reg.protocols.values():
        for st in p.states:
            add(st.label, f"protocol:{p.channel}:state")
        for t in p.transitions:
            add(t.label, f"protocol:{p.channel}:transition", t.label_en)
            if t.form is not None:
                add_schema(t.form, f"protocol:{p.channel}:transition")
    for sd in reg.statistics.values():
        add(sd.label, f"statistic:{sd.channel}", sd.label_en)
        add(sd.description, f"statistic:{sd.channel}")
    for key, r in reg.deadline_rules.items():
        add(getattr(r, "label", ""), f"deadline_rule:{key}", getattr(r, "label_en", ""))
    for d in reg.documents.values():
        add(getattr(d, "title", ""), f"document:{','.join(getattr(d, 'channels', ())) or 'all'}:{d.key}")
    for key, a in reg.agreement_requirements.items():
        add(getattr(a, "label", ""), f"agreement_requirement:{key}")
    for type_, label in getattr(reg, "event_labels", {}).items():
        add(label, f"event:{type_}")
    for _pattern, text in _RULES:
        add(text, "core.forms")

    # every form schema and *_LABELS table of core, web and the plugins
    packages = ["core", "web", "plugins"] + sorted({m.__name__.split(".")[0] for m in _plugin_packages()})
    for package in dict.fromkeys(packages):
        _import_tree(package)
    prefixes = tuple(p + "." for p in dict.fromkeys(packages))
    for cls in _structs():
        if cls.__module__.startswith(prefixes):
            add_schema(cls, f"schema:{cls.__module__}.{cls.__qualname__}")
    for name, mod in list(sys.modules.items()):
        if not name.startswith(prefixes) or mod is None:
            continue
        for attr, value in list(vars(mod).items()):
            if not (attr.isupper() and (attr.endswith("LABELS") or attr.endswith("ROLES") or attr.endswith("SLOTS"))):
                continue
            if getattr(mod, "__name__", "") != name:
                continue
            if isinstance(value, dict):
                for v in value.values():
                    add(v, f"{name}.{attr}")
            elif isinstance(value, tuple | list):
                for item in value:
                    for v in (item if isinstance(item, tuple | list) else (item,)):
                        add(v, f"{name}.{attr}")
    return out


MESSAGE_MODULES = (
    "web/**/*.py", "core/cases.py", "core/protocol_kit.py", "core/case_clocks.py", "core/records.py",
    "core/intake.py", "core/idnumbers.py", "core/mediators.py", "core/followups.py", "core/warnings.py",
    "core/organisations.py", "core/access.py", "core/statistics/report.py", "core/statistics/definitions.py",
)
"""Python modules whose Chinese string literals reach people as messages (refusals, field errors,
flash notices) and are shown through the ``t`` filter. Docstrings and f-strings are skipped (an
f-string message is shown in Chinese)."""


_NOT_A_MESSAGE = re.compile(r"[\n<{]|^[-A-Za-z]")  # HTML snippets, str.format templates, English text


def python_messages() -> dict[str, Entry]:
    import ast

    out: dict[str, Entry] = {}
    files = sorted({p for pattern in MESSAGE_MODULES for p in ROOT.glob(pattern)})
    for path in files:
        if path.name in {"cli.py", "i18n.py", "i18n_extract.py"}:
            continue
        tree = ast.parse(path.read_text("utf-8"))
        skip: set[int] = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))
            if isinstance(node, ast.JoinedStr):
                skip.update(id(v) for v in node.values)
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
                    and CJK.search(node.value) and not _NOT_A_MESSAGE.search(node.value)):
                out.setdefault(node.value, Entry(node.value)).locations.add((rel, node.lineno))
    return out


def collect(registry: Any = None) -> dict[str, Entry]:
    entries = template_messages()
    for msgid, e in [*data_messages(registry).items(), *python_messages().items()]:
        if msgid in entries:
            entries[msgid].locations |= e.locations
            entries[msgid].en_hint = entries[msgid].en_hint or e.en_hint
        else:
            entries[msgid] = e
    return entries


# --------------------------------------------------------------------------- writing


def _catalog(locale: str | None) -> Catalog:
    return Catalog(locale=locale, domain=DOMAIN, project="Fengqiao", version="", copyright_holder="Fengqiao contributors",
                   msgid_bugs_address="", creation_date=FIXED_DATE, revision_date=FIXED_DATE,
                   fuzzy=False)


def _po_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=0, sort_output=True, omit_header=False, include_previous=False)
    return buf.getvalue()


def _locations(e: Entry) -> list[tuple[str, int | None]]:
    # registry locations ("protocol:general:transition") use "/" so that PO readers keep them whole
    return [(f.replace(":", "/"), (n or None)) for f, n in sorted(e.locations)]


def merge(entries: dict[str, Entry]) -> dict[Path, bytes]:
    """The new contents of the ``.pot`` and of each ``.po`` (nothing written)."""
    files: dict[Path, bytes] = {}
    pot = _catalog(None)
    for msgid in sorted(entries):
        e = entries[msgid]
        pot.add(msgid, "", locations=_locations(e), flags=("python-format",) if e.python_format else ())
    files[POT] = _po_bytes(pot)
    for locale in LOCALES:
        path = po_path(locale)
        old: dict[str, str] = {}
        if path.exists():
            with path.open("rb") as f:
                prev = read_po(f, locale=locale)
            for m in list(prev) + list(prev.obsolete.values()):
                if m.id and isinstance(m.id, str) and m.string and "fuzzy" not in m.flags:
                    old[m.id] = m.string
        cat = _catalog(locale)
        for msgid in sorted(entries):
            e = entries[msgid]
            if msgid in old:
                string = old[msgid]
            elif locale == DEFAULT_LOCALE:
                string = msgid
            else:
                string = e.en_hint if locale == "en" else ""
            cat.add(msgid, string, locations=_locations(e), flags=("python-format",) if e.python_format else ())
        for msgid, string in sorted(old.items()):
            if msgid not in entries:
                cat.obsolete[msgid] = _obsolete(msgid, string)
        files[path] = _po_bytes(cat)
    return files


def _obsolete(msgid: str, string: str) -> Any:
    from babel.messages.catalog import Message

    return Message(msgid, string)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in argv
    files = merge(collect())
    changed = [p for p, data in files.items() if not p.exists() or p.read_bytes() != data]
    if check:
        for p in changed:
            print(f"i18n-extract: {p.relative_to(ROOT)} is out of date", file=sys.stderr)
        return 1 if changed else 0
    for p in changed:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(files[p])
        print(f"i18n-extract: wrote {p.relative_to(ROOT)}")
    en = files[po_path("en")]
    with io.BytesIO(en) as f:
        missing = [m.id for m in read_po(f, locale="en") if m.id and not m.string]
    print(f"i18n-extract: {len(files) - 1} catalogues, "
          f"{sum(1 for _ in read_po(io.BytesIO(files[POT])) if _.id)} messages, {len(missing)} without English")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
