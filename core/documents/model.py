"""Documents as data: the frozen value objects that plugins register.

A document is a :class:`DocumentDef`: a key, a title, a :class:`Layout` (a short list of blocks whose
dynamic parts are Jinja snippets such as ``"{{ case.number }}"``) and where it applies. One layout
feeds both outputs: the DOCX template (built with python-docx, filled by docxtpl) and the print
HTML page. A deployment or a plugin may supply its own ``.docx`` template instead (a local format
designed in Word with the same ``{{ … }}`` placeholders).

An :class:`AgreementRequirement` is a channel's extra item that an agreement must contain before it
may be marked signed (police, procuratorate and traffic agreements differ).

Nothing here does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.channels import RegistrationError

__all__ = [
    "AgreementCheck",
    "AgreementRequirement",
    "Block",
    "DocumentDef",
    "Fields",
    "Layout",
    "Line",
    "PageBreak",
    "Para",
    "PartySignatures",
    "PartyTable",
    "Repeat",
    "Seal",
    "Section",
    "Signatures",
    "Table",
    "Title",
    "must_mention",
    "intake_field_required",
]

_KEY = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


def _check_key(kind: str, key: str) -> None:
    if not _KEY.match(key):
        raise RegistrationError(f"{kind} key {key!r} must be 2-64 lowercase letters, digits or '_' starting with a letter")


# --------------------------------------------------------------------------- layout blocks
# Every text below may contain Jinja: ``{{ … }}`` placeholders filled from the document context.


@dataclass(frozen=True)
class Title:
    """The document's title, centred and bold; ``subtitle`` is a line under it (e.g. the number)."""

    text: str
    subtitle: str = ""


@dataclass(frozen=True)
class Line:
    """One line of text, aligned ``left`` | ``right`` | ``center``."""

    text: str
    align: str = "left"


@dataclass(frozen=True)
class Para:
    """A paragraph of running text (indented first line)."""

    text: str


@dataclass(frozen=True)
class Section:
    """A heading and a multi-line text under it (``纠纷简要情况`` …)."""

    heading: str
    text: str


@dataclass(frozen=True)
class Fields:
    """A two-column table of ``(label, value)`` rows."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    """A table with a header and one row per item of ``source`` (a context list); cells refer to the
    item as ``row`` (``"{{ row.name }}"``)."""

    source: str
    columns: tuple[tuple[str, str], ...]
    """``(header, cell)`` pairs."""


@dataclass(frozen=True)
class PartyTable:
    """The parties with their particulars (ID numbers masked)."""

    columns: tuple[tuple[str, str], ...] = (
        ("身份", "{{ row.role_label }}"),
        ("姓名/名称", "{{ row.name }}"),
        ("性别", "{{ row.gender }}"),
        ("民族", "{{ row.ethnicity }}"),
        ("身份证号/统一社会信用代码", "{{ row.id_text }}"),
        ("联系电话", "{{ row.phone }}"),
        ("住址", "{{ row.address }}"),
    )


@dataclass(frozen=True)
class Repeat:
    """Lines repeated for each item of ``source``, the item being ``row``; ``heading`` starts each one."""

    source: str
    heading: str
    lines: tuple[str, ...]
    empty: str = "（无）"


@dataclass(frozen=True)
class Signatures:
    """Signature lines (``调解员（签名）：`` …), each followed by a blank and a date."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class PartySignatures:
    """One signature line per party (``申请人 张三（签名或按指印）：``)."""

    suffix: str = "（签名、盖章或按指印）"


@dataclass(frozen=True)
class Seal:
    """The committee's name, ``（印章）`` and the date, right-aligned."""

    text: str = "{{ org.committee }}（印章）"
    date: str = "{{ doc_date }}"


@dataclass(frozen=True)
class PageBreak:
    """Start a new page (the back cover of the case file …)."""


Block = Title | Line | Para | Section | Fields | Table | PartyTable | Repeat | Signatures | PartySignatures | Seal | PageBreak


@dataclass(frozen=True)
class Layout:
    """The blocks of a document, in order."""

    blocks: tuple[Block, ...]


# --------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class DocumentDef:
    """A document the system can produce for a case.

    Attributes:
        key: unique, namespaced by channel for channel documents (``police_agreement``).
        title: Chinese title (人民调解协议书 …).
        layout: the blocks, used for the print page and (unless ``docx_template`` is given) the DOCX.
        docx_template: a docxtpl ``.docx`` template of the plugin's own; ``None`` = built from the
            layout. A deployment may override any document's template with ``[documents.templates]``.
        channels / kinds / dispute_types: where it applies; empty = everywhere.
        file_item: the standard 卷宗 item it belongs to (``agreement`` …), empty for none.
        required_for_archive: the case file of a case it applies to must hold it before archiving
            (an extra index entry after the 13 standard items). The channel's archive transition must
            then enforce it: ``core.documents.guards.require_case_file(extra=(this_doc,))`` — the
            registry checks that at start-up.
        on_file: for required documents, a predicate on :class:`core.documents.facts.FileFacts`
            telling the system already holds it; otherwise the mediator records the signed paper.
        available: predicate on the document context: can the document be produced now (e.g.
            there is an agreement)? ``None`` = always.
        context: builds extra context keys from the base document context (may be async).
        order: position in lists.
    """

    key: str
    title: str
    layout: Layout | None = None
    docx_template: Path | None = None
    channels: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    dispute_types: tuple[str, ...] = ()
    file_item: str = ""
    required_for_archive: bool = False
    on_file: Callable[[Any], bool] | None = None
    available: Callable[[Mapping[str, Any]], bool] | None = None
    context: Callable[[Mapping[str, Any]], Any] | None = None
    order: int = 100
    description: str = ""

    def __post_init__(self) -> None:
        _check_key("document", self.key)
        if self.layout is None and self.docx_template is None:
            raise RegistrationError(f"document {self.key!r} needs a layout or a docx_template")
        if self.docx_template is not None and not Path(self.docx_template).is_file():
            raise RegistrationError(f"document {self.key!r}: template {self.docx_template} does not exist")

    def applies_to(self, case: Mapping[str, Any]) -> bool:
        """Whether the document belongs to ``case`` (its channel, kind and dispute type)."""
        return (
            (not self.channels or case.get("channel") in self.channels)
            and (not self.kinds or case.get("kind") in self.kinds)
            and (not self.dispute_types or case.get("dispute_type") in self.dispute_types
                 or str(case.get("dispute_type", "")).split(".")[0] in self.dispute_types)
        )


# --------------------------------------------------------------------------- agreement requirements


@dataclass(frozen=True)
class AgreementCheck:
    """What an agreement requirement looks at: the case row, the agreement as entered, the parties."""

    case: Mapping[str, Any]
    agreement: Mapping[str, Any]
    parties: tuple[Mapping[str, Any], ...] = ()

    def text(self, *fields: str) -> str:
        return "\n".join(str(self.agreement.get(f) or "") for f in fields)


@dataclass(frozen=True)
class AgreementRequirement:
    """An item a channel's agreements must contain before they may be marked signed.

    Attributes:
        key: unique (``<channel>_<name>``).
        label: what is required, in Chinese (shown in the checklist).
        check: returns ``None`` when satisfied, else the refusal message.
        field: the agreement form field the message is shown at (``""`` = at the top of the form).
        channels / kinds / dispute_types: where it applies; empty = everywhere.
        citation: the rule it comes from.
    """

    key: str
    label: str
    check: Callable[[AgreementCheck], str | None]
    field: str = ""
    channels: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    dispute_types: tuple[str, ...] = ()
    citation: str = ""

    def __post_init__(self) -> None:
        _check_key("agreement requirement", self.key)

    def applies_to(self, case: Mapping[str, Any]) -> bool:
        return DocumentDef.applies_to(self, case)  # type: ignore[arg-type]


def must_mention(
    key: str,
    label: str,
    words: tuple[str, ...],
    *,
    fields: tuple[str, ...] = ("facts", "terms"),
    field: str = "terms",
    citation: str = "",
    **where: Any,
) -> AgreementRequirement:
    """A requirement satisfied when one of ``words`` appears in the agreement's ``fields``."""

    def check(a: AgreementCheck) -> str | None:
        text = a.text(*fields)
        if any(w in text for w in words):
            return None
        return f"协议须写明{label}" + (f"（{citation}）" if citation else "")

    return AgreementRequirement(key=key, label=label, check=check, field=field, citation=citation, **where)


def intake_field_required(
    key: str, label: str, name: str, *, citation: str = "", **where: Any
) -> AgreementRequirement:
    """A requirement satisfied when the case's intake field ``name`` is filled in."""

    def check(a: AgreementCheck) -> str | None:
        intake = a.case.get("intake") or {}
        if isinstance(intake, Mapping) and intake.get(name) not in (None, "", []):
            return None
        return f"签署协议前须登记{label}" + (f"（{citation}）" if citation else "")

    return AgreementRequirement(key=key, label=label, check=check, field="", citation=citation, **where)

