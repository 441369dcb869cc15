"""The document context: a case's data as display-ready strings (dates as 2026年11月22日, ID numbers
masked, amounts as 人民币1,200.50元), shared by the DOCX and the print HTML of every document."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core import clock
from core.documents.casefile import build_index
from core.documents.facts import FileFacts, load_facts
from core.documents.model import DocumentDef
from core.documents.tables import ArchiveRecord
from core.intake import PARTY_ROLES
from core.lifecycle import STATUS_LABELS, CoreStatus
from core.protocol_kit import ROUTE_LABELS
from core.tables import FollowUp, MediationSession, Room, User

if TYPE_CHECKING:
    from core.registry import Registry

__all__ = ["build_context", "cn_date", "cn_datetime", "cn_money", "SOURCE_BOXES"]

SOURCE_BOXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("当事人申请", ("application",)),
    ("主动调解", ("self_initiated",)),
    ("公安机关移交", ("referral.police",)),
    ("审判机关委托", ("referral.court",)),
    ("政府部门指定", ("referral.government", "referral.petition", "referral.procuratorate", "referral.hotline")),
)
"""案件来源 boxes of the 结案报告表 (RULES §3.9) and the codes ticking each."""

OUTCOME_TEXT = {"continue": "继续调解", "agreement": "达成协议", "failed": "未达成协议"}
FULFILMENT = {"pending": "待履行", "partial": "部分履行", "performed": "已履行", "breached": "未履行"}
PERFORMANCE = {"performed": "已履行", "partial": "部分履行", "pending": "未到期", "breached": "未履行"}
SATISFACTION = {"satisfied": "满意", "neutral": "基本满意", "dissatisfied": "不满意"}


def cn_date(value: dt.date | dt.datetime | None) -> str:
    """``2026年11月22日`` (China time for datetimes); empty for ``None``."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(clock.TZ).date()
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(clock.TZ)
    return f"{cn_date(local)} {local.hour}时{local.minute:02d}分"


def cn_money(value: decimal.Decimal | None) -> str:
    return "" if value is None else f"人民币{decimal.Decimal(value):,.2f}元"


def _party(p: Mapping[str, Any]) -> dict[str, Any]:
    person = p.get("kind", "person") != "organization"
    return {
        "role": p["role"],
        "role_label": PARTY_ROLES.get(p["role"], p["role"]),
        "name": p["name"],
        "kind_label": "自然人" if person else "单位",
        "gender": p.get("gender") or "",
        "ethnicity": p.get("ethnicity") or "",
        "id_text": (p.get("id_number_masked") if person else p.get("credit_code")) or "",
        "phone": p.get("phone_masked") or "",
        "address": p.get("address") or "",
    }


def _source_checks(source: str) -> str:
    return "　".join(("☑" if source in codes else "☐") + label for label, codes in SOURCE_BOXES)


def _result_text(reg: Registry, case: Mapping[str, Any]) -> str:
    if not case.get("outcome"):
        return "调解中" if case["status"] == CoreStatus.IN_MEDIATION else STATUS_LABELS[CoreStatus(case["status"])]
    text = reg.codes.label("outcome", case["outcome"])
    if case.get("outcome_reason"):
        text += f"：{case['outcome_reason']}"
    if case.get("suggested_route"):
        text += f"（已告知当事人可通过{ROUTE_LABELS.get(case['suggested_route'], case['suggested_route'])}等途径解决）"
    return text


def _acceptance(case: Mapping[str, Any]) -> str:
    if case.get("accepted_at"):
        return f"予以受理（{cn_date(case['accepted_at'])}）"
    if case.get("outcome") == "declined":
        return f"不予受理：{case.get('outcome_reason') or ''}"
    return "待受理"


async def _name(user_id: int | None) -> str:
    if not user_id:
        return ""
    row = await User.select(User.display_name, User.username).where(User.id == user_id).first()
    return (row["display_name"] or row["username"]) if row else ""


async def build_context(
    reg: Registry,
    case: Mapping[str, Any],
    *,
    facts: FileFacts | None = None,
    documents: tuple[DocumentDef, ...] = (),
) -> dict[str, Any]:
    """Everything a document may show about ``case`` (a scope-checked case row).

    ``documents`` are the registered documents (their required ones extend the 卷宗 index).
    """
    facts = facts or await load_facts(case)
    room = await Room.select(Room.name, Room.partner_agency, Room.organisation.name.as_alias("org_name"),
                             Room.organisation.region.as_alias("region")).where(Room.id == case["room"]).first()
    committee = (room or {}).get("org_name") or (room or {}).get("name") or "人民调解委员会"
    mediator = await _name(case.get("mediator")) or await _name(case.get("created_by"))
    sessions = await MediationSession.select(
        MediationSession.all_columns(), MediationSession.recorded_by.display_name.as_alias("recorder")
    ).where(MediationSession.case == case["id"]).order_by(MediationSession.held_at)
    followups = await FollowUp.select(
        FollowUp.all_columns(), FollowUp.visitor.display_name.as_alias("visitor_name")
    ).where(FollowUp.case == case["id"]).order_by(FollowUp.id)
    archive = await ArchiveRecord.select(ArchiveRecord.sha256, ArchiveRecord.retention_years,
                                         ArchiveRecord.archived_at, ArchiveRecord.archived_by).where(
        ArchiveRecord.case == case["id"]).first()
    parties = [_party(p) for p in facts.parties]
    names = "、".join(p["name"] for p in parties if p["role"] != "representative")
    a = facts.agreement
    n_parties = sum(1 for p in parties if p["role"] in {"applicant", "respondent", "third_party"})
    agreement = {
        "number": a["number"] if a else "",
        "form": a["form"] if a else "",
        "form_label": ("书面协议" if a["form"] == "written" else "口头协议") if a else "",
        "facts": a["facts"] if a else "",
        "terms": a["terms"] if a else "",
        "amount_text": cn_money(a["amount"]) if a else "",
        "performance_method": a["performance_method"] if a else "",
        "performance_deadline": cn_date(a["performance_deadline"]) if a else "",
        "signed_on": cn_date(a["signed_on"]) if a else "",
        "copies": n_parties + 1,
        "fulfilment": FULFILMENT.get(a["fulfilment"], a["fulfilment"]) if a else "",
    }
    last = next((f for f in reversed(followups) if f["done_on"]), None)
    followup = {
        "done_on": cn_date(last["done_on"]) if last else "",
        "performance": PERFORMANCE.get(last["performance"], last["performance"]) if last else "",
        "satisfaction": SATISFACTION.get(last["satisfaction"], last["satisfaction"]) if last else "",
        "notes": last["notes"] if last else "",
        "visitor": (last["visitor_name"] or "") if last else "",
        "suit": "", "escalation": "", "measures": "",
    }
    held = [s["held_at"] for s in sessions]
    if archive:
        retention = "永久" if archive["retention_years"] == 0 else f"{archive['retention_years']}年"
    else:
        from core.documents.policy import policy_from_settings

        years = policy_from_settings(reg.settings).retention_for(case)
        retention = ("永久" if years == 0 else f"{years}年") + "（归档时确定）"
    entries = build_index(facts, documents)
    dispute_label = reg.codes.label("dispute_type", case["dispute_type"])
    statement = facts.recorded.get("statement", {}).get("note", "") if facts.recorded.get("statement") else ""
    return {
        "case": {
            "id": case["id"],
            "number": case["number"],
            "channel": case["channel"],
            "channel_label": reg.channels[case["channel"]].label if case["channel"] in reg.channels else case["channel"],
            "dispute_type": case["dispute_type"],
            "dispute_type_label": dispute_label,
            "source_label": reg.codes.label("case_source", case["source"]),
            "source_checks": _source_checks(case["source"]),
            "summary": case["summary"],
            "claims": case.get("claims") or "",
            "amount_text": cn_money(case.get("amount")),
            "people_count": case.get("people_count") or "",
            "registered_on": cn_date(case["registered_at"]),
            "accepted_on": cn_date(case.get("accepted_at")),
            "closed_on": cn_date(case.get("closed_at")),
            "archived_on": cn_date(case.get("archived_at")),
            "status": case["status"],
            "status_label": STATUS_LABELS[CoreStatus(case["status"])],
            "outcome": case.get("outcome") or "",
            "result_text": _result_text(reg, case),
            "acceptance": _acceptance(case),
            "mediator": mediator,
            "registrar": await _name(case.get("created_by")),
            "intake": case.get("intake") or {},
        },
        "org": {
            "committee": committee,
            "room": (room or {}).get("name", ""),
            "partner_agency": (room or {}).get("partner_agency", ""),
            "region": (room or {}).get("region", ""),
        },
        "parties": parties,
        "party_names": names,
        "applicants": "、".join(p["name"] for p in parties if p["role"] == "applicant"),
        "respondents": "、".join(p["name"] for p in parties if p["role"] == "respondent"),
        "sessions": [
            {"n": i, "held_at": cn_datetime(s["held_at"]), "place": s["place"] + ("（线上）" if s["online"] else ""),
             "attendees": s["attendees"], "record": s["record"], "outcome_label": OUTCOME_TEXT.get(s["outcome"], s["outcome"]),
             "recorder": s["recorder"] or ""}
            for i, s in enumerate(sessions, 1)
        ],
        "has_agreement": a is not None,
        "agreement": agreement,
        "followup": followup,
        "file": {
            "title": f"{names}{dispute_label}纠纷",
            "entries": entries,
            "mediation_dates": (cn_date(min(held)) + ("至" + cn_date(max(held)) if cn_date(max(held)) != cn_date(min(held)) else "")) if held else "",
            "filer": await _name(archive["archived_by"]) if archive else "",
            "filed_on": cn_date(archive["archived_at"]) if archive else "",
            "retention": retention,
            "statement": statement,
            "sha256": archive["sha256"] if archive else "",
        },
        "doc_date": cn_date(clock.now()),
    }

