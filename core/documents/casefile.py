"""The case file (卷宗): the 13 standard items, the index of a case's file, recording paper items.

The standard index follows a county 卷宗 package (RULES §3.9): each item is required (必备) or
as-needed (视情况). Some required items only apply to some cases — an agreement only where the case
was settled, a mediation record only where mediation took place. Items the system produces itself
(the register, the notice, the record of sessions, the agreement, the back cover) count as on file
automatically; paper items (identity documents, evidence, receipts …) are recorded by the mediator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core import clock
from core.access import UserCtx
from core.documents.facts import FileFacts
from core.documents.model import DocumentDef
from core.documents.tables import FileItem

__all__ = [
    "ItemDef",
    "IndexEntry",
    "STANDARD_ITEMS",
    "ITEM_TITLES",
    "RECORDABLE",
    "build_index",
    "missing_required",
    "missing_message",
    "record_item",
    "remove_item",
]


@dataclass(frozen=True)
class ItemDef:
    """One of the 13 standard items of the case-file index."""

    no: int
    key: str
    title: str
    required: bool
    """必备 (True) or 视情况 (False) in the standard index."""
    required_when: Callable[[FileFacts], bool] | None = None
    """Narrows or widens when the item is required for this case; ``None`` = as ``required``."""
    auto: Callable[[FileFacts], str | None] | None = None
    """Returns a note when the system itself holds the item (it then counts as on file)."""
    recordable: bool = True
    """The mediator may record it as on file (a paper item)."""
    hint: str = ""


def _has_representative(f: FileFacts) -> bool:
    return any(p["role"] == "representative" for p in f.parties)


def _mediated(f: FileFacts) -> bool:
    return f.sessions > 0 or f.settled


def _agreement_on_file(f: FileFacts) -> str | None:
    a = f.agreement
    if a is None:
        return None
    if a["form"] == "oral":
        return "系统生成：人民调解口头协议登记表"
    if a["signed_by_parties"] and a["signed_by_mediator"] and a["sealed"]:
        return "系统生成：人民调解协议书（已签名盖章）"
    return None


def _register_note(f: FileFacts) -> str:
    intake = f.case.get("intake")
    written = isinstance(intake, Mapping) and intake.get("application_form") == "written"
    return "系统生成：人民调解申请书、人民调解受理登记表" if written else "系统生成：人民调解受理登记表"


STANDARD_ITEMS: tuple[ItemDef, ...] = (
    ItemDef(1, "application", "人民调解申请书或人民调解受理登记表", True, auto=_register_note, recordable=False),
    ItemDef(2, "notice", "人民调解当事人权利义务告知书", True, required_when=lambda f: f.accepted,
            auto=lambda f: "系统生成：权利义务告知书（受理时告知）" if f.accepted else None,
            hint="受理后告知当事人权利义务（人民调解法 第二十三条、第二十四条）"),
    ItemDef(3, "identity", "当事人身份证明", True, hint="居民身份证或营业执照等复印件，核对原件后附卷"),
    ItemDef(4, "power_of_attorney", "授权委托书", False, required_when=_has_representative,
            hint="有代理人参加调解的，须附授权委托书"),
    ItemDef(5, "investigation", "人民调解调查记录", False),
    ItemDef(6, "evidence", "证据材料", False),
    ItemDef(7, "record", "人民调解记录", True, required_when=_mediated,
            auto=lambda f: f"系统生成：调解笔录（{f.sessions} 次）" if f.sessions else None,
            hint="每次调解的笔录，由当事人、调解员签名"),
    ItemDef(8, "agreement", "人民调解协议书", True, required_when=lambda f: f.settled, auto=_agreement_on_file,
            hint="书面协议一式多份，当事人各执一份、调解委员会留存一份（人民调解法 第二十九条）"),
    ItemDef(9, "receipts", "履行凭证", False, hint="收条、汇款凭证等"),
    ItemDef(10, "follow_up", "人民调解回访记录", False,
            auto=lambda f: "系统记录：回访记录" if f.followups_done else None),
    ItemDef(11, "judicial_confirmation", "司法确认有关材料", False),
    ItemDef(12, "statement", "卷宗情况说明", False),
    ItemDef(13, "back_cover", "封底", True, auto=lambda f: "系统生成：封底", recordable=False),
)

ITEM_TITLES: dict[str, str] = {i.key: i.title for i in STANDARD_ITEMS}
RECORDABLE: dict[str, str] = {i.key: i.title for i in STANDARD_ITEMS if i.recordable}


@dataclass(frozen=True)
class IndexEntry:
    """One line of a case's 卷宗 index."""

    no: int
    key: str
    title: str
    standard_required: bool
    """必备 in the standard index (or a channel document marked required)."""
    required: bool
    """Required for this case."""
    present: bool
    note: str
    recordable: bool
    recorded: bool
    hint: str = ""

    @property
    def status(self) -> str:
        """``present`` | ``missing`` | ``optional`` | ``not_applicable``."""
        if self.present:
            return "present"
        if self.required:
            return "missing"
        return "not_applicable" if self.standard_required else "optional"

    @property
    def status_label(self) -> str:
        return {"present": "已附卷", "missing": "缺", "optional": "无", "not_applicable": "不适用"}[self.status]

    @property
    def requirement_label(self) -> str:
        return "必备" if self.standard_required else "视情况"


def _recorded_note(row: Mapping[str, Any]) -> str:
    note = row.get("note") or "已登记附卷"
    return f"{note}（{row['pages']} 页）" if row.get("pages") else note


def build_index(facts: FileFacts, extra: Iterable[DocumentDef] = ()) -> list[IndexEntry]:
    """The index of ``facts.case``'s file: the 13 standard items, then the channel documents of
    ``extra`` that apply to the case and are required for archiving."""
    entries = []
    for item in STANDARD_ITEMS:
        auto = item.auto(facts) if item.auto else None
        row = facts.recorded.get(item.key)
        required = item.required_when(facts) if item.required_when else item.required
        note = auto or (_recorded_note(row) if row else "")
        entries.append(IndexEntry(item.no, item.key, item.title, item.required, required,
                                  present=bool(auto or row), note=note, recordable=item.recordable and not auto,
                                  recorded=row is not None, hint=item.hint))
    no = len(STANDARD_ITEMS)
    for doc in sorted(extra, key=lambda d: (d.order, d.key)):
        if not (doc.required_for_archive and doc.applies_to(facts.case)):
            continue
        no += 1
        row = facts.recorded.get(doc.key)
        known = bool(doc.on_file and doc.on_file(facts))
        note = "系统已记录" if known else (_recorded_note(row) if row else "")
        entries.append(IndexEntry(no, doc.key, doc.title, True, True, present=known or row is not None, note=note,
                                  recordable=not known, recorded=row is not None, hint=doc.description))
    return entries


def missing_required(entries: Iterable[IndexEntry]) -> list[IndexEntry]:
    return [e for e in entries if e.status == "missing"]


def missing_message(missing: list[IndexEntry]) -> str:
    names = "；".join(f"{e.no}. {e.title}" for e in missing)
    return f"卷宗缺少必备材料，不能归档：{names}。请在“卷宗”页登记已附卷的材料后再归档（人民调解法 第二十七条）"


async def _locked_case(case_id: int, user: UserCtx) -> dict[str, Any]:
    from core.cases import Refused, load_case

    case = await load_case(case_id, user, for_update=True)
    if case["status"] == "archived":
        raise Refused("案件已归档，卷宗不可再修改")
    return case


async def record_item(
    case_id: int,
    user: UserCtx,
    item: str,
    *,
    allowed: Mapping[str, str] | None = None,
    note: str = "",
    pages: int | None = None,
) -> int:
    """Record that paper item ``item`` is on file (insert or update its note and page count).

    ``allowed`` maps the item keys the mediator may record for this case to their titles (the
    recordable entries of its index, channel documents included); default: the recordable standard
    items.

    Raises:
        core.cases.NotFound: the case is out of the user's scope.
        core.cases.Refused: the case is archived, or ``item`` may not be recorded for it.
    """
    from core.cases import Refused, write_event
    from core.db import write_transaction

    allowed = RECORDABLE if allowed is None else allowed
    async with write_transaction():
        await _locked_case(case_id, user)
        if item not in allowed:
            raise Refused("该材料不能在此登记")
        now = clock.now()
        existing = await FileItem.select(FileItem.id).where((FileItem.case == case_id) & (FileItem.item == item)).first()
        if existing:
            await FileItem.update({FileItem.note: note, FileItem.pages: pages, FileItem.recorded_by: user.id,
                                   FileItem.recorded_at: now}).where(FileItem.id == existing["id"])
            item_id = existing["id"]
        else:
            rows = await FileItem.insert(FileItem(case=case_id, item=item, note=note, pages=pages,
                                                  recorded_by=user.id, recorded_at=now)).returning(FileItem.id)
            item_id = rows[0]["id"]
        await write_event(case_id, "documents.item_recorded", actor=user,
                          data={"item": item, "title": allowed[item], "reason": f"{allowed[item]}已附卷"})
    return int(item_id)


async def remove_item(case_id: int, user: UserCtx, item: str, *, title: str = "") -> None:
    """Withdraw a recorded item (it was recorded by mistake); refused once the case is archived."""
    from core.cases import write_event
    from core.db import write_transaction

    async with write_transaction():
        await _locked_case(case_id, user)
        deleted = await FileItem.delete().where((FileItem.case == case_id) & (FileItem.item == item)).returning(
            FileItem.id)
        if deleted:
            await write_event(case_id, "documents.item_removed", actor=user,
                              data={"item": item, "title": title, "reason": f"撤回：{title or item}"})
