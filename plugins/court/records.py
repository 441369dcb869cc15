"""The court record of a referral: kept in step with the case inside the case engine's transactions,
plus the judicial-confirmation packet, application and decision (routes in ``routes.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import msgspec

from core import clock
from core.access import UserCtx
from core.cases import Refused, load_case, write_event
from core.db import write_transaction
from core.deadline_service import CONFIRMATION_RULE, deadline_for, recompute_deadline
from core.deadlines import compute_clock
from core.forms import FormErrors
from core.registry import Registry
from core.sql import rows_of
from core.tables import Agreement, Case

from plugins.court.forms import ApplicationForm, DecisionForm, PacketForm, RETURN_REASONS, TERMINATION_GROUNDS
from plugins.court.protocol import ACCEPTANCE_RULE, ENTRUSTED_RULES
from plugins.court.tables import CourtReferral

__all__ = [
    "EXCLUSIONS",
    "PACKET_ITEMS",
    "exclusion_flags",
    "on_registered",
    "on_transitioned",
    "load_record",
    "packet_status",
    "save_packet",
    "apply_confirmation",
    "record_decision",
]

# ------------------------------------------------------------------ disputes courts do not confirm

EXCLUSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "status_relation": (
        "涉及婚姻、收养、亲子等身份关系",
        (r"离婚", r"婚姻关系", r"婚姻无效", r"撤销婚姻", r"收养关系", r"解除收养", r"亲子关系", r"身份关系",
         r"确认.{0,6}亲子", r"否认.{0,6}亲子", r"监护关系"),
    ),
    "property_right": (
        "涉及物权确权",
        (r"物权确认", r"所有权确认", r"确认.{0,20}所有权", r"确认.{0,20}使用权", r"权属确认", r"确权",
         r"用益物权确认", r"担保物权确认", r"房屋权属", r"土地权属"),
    ),
    "ip_right": (
        "涉及知识产权确权",
        (r"知识产权权属", r"专利权权属", r"商标权权属", r"著作权权属", r"确认.{0,20}(专利|商标|著作)权",
         r"(专利|商标|著作)权归属"),
    ),
}
"""民诉法解释 第三百五十五条: courts do not accept confirmation of agreements about status relations
(marriage, adoption, parentage) or the confirmation of property rights or intellectual-property rights."""

_EXCLUSION_RE = {code: re.compile("|".join(pats)) for code, (_, pats) in EXCLUSIONS.items()}


def exclusion_flags(*texts: str | None) -> list[str]:
    """Exclusion codes whose wording appears in any of ``texts`` (cause of action, claims, terms …)."""
    joined = "\n".join(t for t in texts if t)
    return [code for code, rx in _EXCLUSION_RE.items() if rx.search(joined)]


# ------------------------------------------------------------------ the confirmation packet

PACKET_ITEMS: dict[str, str] = {
    "agreement": "调解协议书（已签名盖章）",
    "hosting_proof": "调解组织主持调解的证明",
    "identity": "双方当事人身份证明",
    "contacts": "当事人联系方式及送达地址",
    "property_proof": "与调解协议相关的财产权利证明材料",
}
"""民诉法解释 第三百五十四条. ``property_proof`` is required when the agreement disposes of money or property."""


def _needs_property_proof(agreement: dict[str, Any] | None) -> bool:
    return bool(agreement and agreement.get("amount"))


def packet_status(record: dict[str, Any], agreement: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each packet item: label, whether required, whether in hand."""
    packet = record.get("packet") or {}
    out = []
    for key, label in PACKET_ITEMS.items():
        required = key != "property_proof" or _needs_property_proof(agreement)
        out.append({"key": key, "label": label, "required": required, "present": bool(packet.get(key))})
    return out


def _signed_written(agreement: dict[str, Any] | None) -> bool:
    return bool(agreement and agreement["form"] == "written" and agreement["signed_by_parties"]
                and agreement["signed_by_mediator"] and agreement["sealed"] and agreement["signed_on"])


# ------------------------------------------------------------------ hooks (inside the engine's transaction)

def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def on_registered(reg: Registry, case: dict[str, Any]) -> None:
    """Create the court record; start the clock on the signed receipt and pick the entrusted rule."""
    row = await Case.select(Case.intake, Case.summary, Case.claims, Case.deadline_rule, Case.clock_started_on).where(
        Case.id == case["id"]).output(load_json=True).first()
    fields = row["intake"] or {}
    received_on = dt.date.fromisoformat(fields["received_on"])
    rule_key = row["deadline_rule"]
    if case["kind"] == "entrusted":
        rule_key = ENTRUSTED_RULES[fields["procedure"]]
    rule = reg.deadline_rules[rule_key]
    started = received_on if rule.starts_on == "received" else None
    due = recompute_deadline(reg, {"deadline_rule": rule_key, "clock_started_on": started}, [])
    await Case.update({Case.deadline_rule: rule_key, Case.clock_started_on: started, Case.deadline: due}).where(
        Case.id == case["id"])
    flags = exclusion_flags(fields.get("cause_of_action"), row["summary"], row["claims"])
    now = clock.now()
    await CourtReferral.insert(CourtReferral(
        case=case["id"], room=case["room"], kind=case["kind"], procedure=fields.get("procedure", ""),
        court_name=fields["court_name"].strip(), court_reference=fields["court_reference"].strip(),
        court_case_number=(fields.get("court_case_number") or "").strip(), received_on=received_on,
        period=received_on.year * 100 + received_on.month,
        acceptance_due=deadline_for(reg, ACCEPTANCE_RULE, received_on), exclusions=_json(flags),
        packet="{}", created_at=now, updated_at=now,
    ))


_RESULTS = {"return_to_court": "returned", "settle": "settled", "terminate": "terminated", "withdraw": "withdrawn"}
_FOLLOW_UPS = {"file_agreement": "filed", "request_document": "document_requested",
               "request_withdrawal": "withdrawal_requested"}


async def on_transitioned(reg: Registry, event: dict[str, Any]) -> None:
    """Keep the court record in step; enrich the partner payload with what the court needs."""
    record = await CourtReferral.select().where(CourtReferral.case == event["case_id"]).output(
        load_json=True).first()
    if record is None:  # a case registered before the plugin was installed
        return
    day = event["occurred_at"].astimezone(clock.TZ).date()
    data = event["data"]
    values: dict[Any, Any] = {CourtReferral.updated_at: clock.now()}
    key = event["transition"]
    data.setdefault("court_reference", record["court_reference"])
    if key == "accept":
        values[CourtReferral.accepted_on] = day
        data["accepted_on"] = day.isoformat()
        data["accepted_in_time"] = record["acceptance_due"] is None or day <= record["acceptance_due"]
        case = await Case.select(Case.deadline).where(Case.id == event["case_id"]).first()
        data["deadline"] = case["deadline"].isoformat() if case["deadline"] else None
    elif key in _RESULTS:
        case = await Case.select(Case.deadline, Case.clock_started_on).where(Case.id == event["case_id"]).first()
        due = case["deadline"] if case["clock_started_on"] else None
        result = _RESULTS[key]
        values.update({
            CourtReferral.result: result,
            CourtReferral.result_ground: data.get("ground", ""),
            CourtReferral.concluded_on: day,
            CourtReferral.due_at_conclusion: due,
            CourtReferral.on_time: None if due is None else day <= due,
            CourtReferral.days_to_close: (day - record["received_on"]).days,
        })
        if key == "return_to_court":
            data["ground_label"] = RETURN_REASONS.get(data.get("ground", ""), "")
        if key == "terminate":
            # the court resumes filing or trial (特邀调解规定 第二十一条)
            data["ground_label"] = TERMINATION_GROUNDS.get(data.get("ground", ""), "")
            data["route"] = "litigation"
            await Case.update({Case.suggested_route: "litigation"}).where(Case.id == event["case_id"])
        if key == "settle":
            agreement = await Agreement.select(Agreement.terms, Agreement.facts).where(
                Agreement.case == event["case_id"]).first()
            flags = sorted(set(record["exclusions"] or []) | set(
                exclusion_flags(agreement["terms"], agreement["facts"]) if agreement else []))
            values[CourtReferral.exclusions] = _json(flags)
            data["next_step"] = "filing" if record["kind"] == "pre_filing" else "mediation_document_or_withdrawal"
            if flags:
                data["confirmation_exclusions"] = flags
    elif key in _FOLLOW_UPS:
        values[CourtReferral.follow_up] = _FOLLOW_UPS[key]
    elif key == "report_and_close":
        values[CourtReferral.reported_on] = day
        data["result"] = record["result"]
        if record["result_ground"]:
            data["ground"] = record["result_ground"]
        data["follow_up"] = record["follow_up"]
        data["days_to_close"] = record["days_to_close"]
        data["on_time"] = record["on_time"]
    await CourtReferral.update(values).where(CourtReferral.id == record["id"])


# ------------------------------------------------------------------ judicial confirmation


async def load_record(case_id: int) -> dict[str, Any] | None:
    rows = await rows_of(CourtReferral, "case", case_id, order_by="", limit=1, load_json=True)  # core.sql: hot
    return rows[0] if rows else None


async def _for_confirmation(case_id: int, user: UserCtx) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    case = await load_case(case_id, user, for_update=True)
    record = await load_record(case_id)
    if case["channel"] != "court" or record is None:
        raise Refused("该案件不是法院委派或委托的案件")
    if record["kind"] != "pre_filing":
        raise Refused("委托调解案件由法院出具调解书或原告撤诉，不适用司法确认")
    if record["result"] != "settled":
        raise Refused("调解成功后才能申请司法确认")
    agreement = await Agreement.select().where(Agreement.case == case_id).first()
    if user.role not in {"mediator", "supervisor", "admin"}:
        raise Refused("您的角色不能办理司法确认")
    return case, record, agreement


def confirmation_due(reg: Registry, agreement: dict[str, Any] | None) -> dt.date | None:
    """Last day for the joint application (人民调解法 第三十三条: 30 days from the agreement's effect)."""
    rule = reg.deadline_rules.get(CONFIRMATION_RULE)
    if rule is None or not agreement or not agreement.get("signed_on"):
        return None
    return compute_clock(rule, reg.calendar, agreement["signed_on"], clock.today()).due


async def _partner_event(reg: Registry, case: dict[str, Any], type_: str, event_id: int,
                         data: dict[str, Any]) -> None:
    if not case.get("partner_id"):
        return
    from core.handoff.outbox import enqueue

    await enqueue({"partner_event": True, "partner_id": case["partner_id"], "case_id": case["id"],
                   "case_number": case["number"], "external_id": case["external_id"], "type": type_,
                   "event_id": event_id, "occurred_at": clock.now(), "data": data})


async def save_packet(reg: Registry, case_id: int, user: UserCtx, form: PacketForm) -> bool:
    """Record which materials are in hand; refuse ``complete`` while a required one is missing.

    Returns whether the packet is complete. Raises FormErrors (item → message) or Refused.
    """
    async with write_transaction():
        case, record, agreement = await _for_confirmation(case_id, user)
        if record["confirmation_applied_on"]:
            raise Refused("已提交司法确认申请，材料清单不能再修改")
        packet = {k: bool(getattr(form, k)) for k in PACKET_ITEMS}
        errors: dict[str, str] = {}
        if packet["agreement"] and not _signed_written(agreement):
            errors["agreement"] = "系统中没有经双方签名、调解员签名并加盖印章的书面调解协议"
        if form.complete:
            for item in packet_status({"packet": packet}, agreement):
                if item["required"] and not item["present"]:
                    errors.setdefault(item["key"], f"缺少：{item['label']}")
            if errors:
                errors["complete"] = "材料不齐全，不能标记为齐全"
        if errors:
            raise FormErrors(errors)
        await CourtReferral.update({CourtReferral.packet: _json(packet), CourtReferral.packet_complete: form.complete,
                                    CourtReferral.updated_at: clock.now()}).where(CourtReferral.id == record["id"])
        await write_event(case_id, "court.packet_saved", actor=user,
                          data={"items": [k for k, v in packet.items() if v], "complete": form.complete})
    return form.complete


async def apply_confirmation(reg: Registry, case_id: int, user: UserCtx, form: ApplicationForm) -> None:
    """Record the parties' joint application (within 30 days, packet complete, no exclusion)."""
    async with write_transaction():
        case, record, agreement = await _for_confirmation(case_id, user)
        if record["confirmation_applied_on"]:
            raise Refused("已记录司法确认申请")
        if record["exclusions"]:
            labels = "、".join(EXCLUSIONS[c][0] for c in record["exclusions"] if c in EXCLUSIONS)
            raise Refused(f"该纠纷人民法院不予受理司法确认申请（民诉法解释 第三百五十五条）：{labels}")
        if not record["packet_complete"]:
            raise Refused("请先备齐司法确认申请材料并标记为齐全")
        due = confirmation_due(reg, agreement)
        if due is None:
            raise Refused("调解协议尚未生效，不能申请司法确认")
        if form.applied_on < agreement["signed_on"]:
            raise FormErrors({"applied_on": "申请日期不能早于调解协议生效日期"})
        if form.applied_on > due:
            raise FormErrors({"applied_on": f"已超过申请期限（{due.isoformat()}），人民调解法 第三十三条规定协议生效之日起三十日内申请"})
        await CourtReferral.update({CourtReferral.confirmation_applied_on: form.applied_on,
                                    CourtReferral.confirmation_court: form.court_name.strip(),
                                    CourtReferral.updated_at: clock.now()}).where(CourtReferral.id == record["id"])
        data = {"applied_on": form.applied_on.isoformat(), "court_name": form.court_name.strip(),
                "agreement_number": agreement["number"], "agreement_date": agreement["signed_on"].isoformat(),
                "application_deadline": due.isoformat(), "materials": [k for k, v in (record["packet"] or {}).items() if v]}
        event_id = await write_event(case_id, "court.confirmation_applied", actor=user, data=data, partner_event=bool(case.get("partner_id")))
        await _partner_event(reg, case, "court.confirmation_applied", event_id, data)


async def record_decision(reg: Registry, case_id: int, user: UserCtx, form: DecisionForm) -> None:
    """Record the court's ruling: confirmed, or rejected with the reason."""
    async with write_transaction():
        case, record, agreement = await _for_confirmation(case_id, user)
        if not record["confirmation_applied_on"]:
            raise Refused("尚未记录司法确认申请")
        if record["confirmation_decision"]:
            raise Refused("已记录法院的裁定")
        if form.decided_on < record["confirmation_applied_on"]:
            raise FormErrors({"decided_on": "裁定日期不能早于申请日期"})
        reason = (form.reason or "").strip() if form.decision == "rejected" else ""
        await CourtReferral.update({
            CourtReferral.confirmation_decision: form.decision, CourtReferral.confirmation_decided_on: form.decided_on,
            CourtReferral.confirmation_ruling: (form.ruling_number or "").strip(),
            CourtReferral.confirmation_reason: reason, CourtReferral.updated_at: clock.now(),
        }).where(CourtReferral.id == record["id"])
        data = {"decision": form.decision, "decided_on": form.decided_on.isoformat(),
                "ruling_number": (form.ruling_number or "").strip(), "reason": reason}
        event_id = await write_event(case_id, "court.confirmation_decided", actor=user, data=data,
                                     partner_event=bool(case.get("partner_id")))
        await _partner_event(reg, case, "court.confirmation_decided", event_id, data)
