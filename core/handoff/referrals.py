"""Inbound referrals: validation with JSON paths, idempotent creation, and the partner's view.

The body of ``POST /api/v1/referrals`` is the common case fields (:class:`core.intake.CaseIntake`,
inherited by :class:`ReferralRequest`, not copied), the parties (:class:`core.intake.PartyIn`) and the
kind's ``fields`` (``IntakeForm.schema``): the same declarations the HTML intake form validates with.
Errors are reported per field as JSON paths (``parties[0].id_number``, ``fields.court_name``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from core import clock
from core.cases import check_parties, create_case
from core.crypto import FieldCipher
from core.db import write_transaction
from core.forms import FormErrors, validate_data
from core.handoff.partners import PartnerCtx
from core.handoff.tables import OutboxEvent, Referral
from core.intake import CaseIntake, PartyIn
from core.registry import Registry
from core.tables import Case, Room

__all__ = [
    "ReferralRequest",
    "ReferralProblem",
    "ValidReferral",
    "validate_referral",
    "submit_referral",
    "referral_state",
    "request_hash",
]


class ReferralRequest(CaseIntake, forbid_unknown_fields=True, kw_only=True):
    """``POST /api/v1/referrals``: the common case fields (inherited from ``CaseIntake``) plus the
    referral envelope, the parties and the kind's ``fields``."""

    external_id: Annotated[str, Meta(title="合作方案号", description="The partner's own reference, unique per partner.",
                                     min_length=1, max_length=200)]
    channel: Annotated[str, Meta(title="对接渠道", description="A channel key from GET /api/v1/channels.",
                                 min_length=1, max_length=64)]
    kind: Annotated[str, Meta(title="转介类型", description="One of the channel's referral kinds.",
                              min_length=1, max_length=64)]
    parties: Annotated[list[PartyIn], Meta(title="当事人", description="At least one applicant and one respondent.")]
    referred_at: Annotated[dt.datetime, Meta(title="转介时间", tz=True)] | None = None
    fields: Annotated[dict[str, Any], Meta(
        title="渠道专有字段", description="Validated against the kind's schema (GET /api/v1/channels).")] = {}


class ReferralProblem(Exception):
    """A refusal with the HTTP status and error code of the protocol."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


@dataclass(frozen=True)
class ValidReferral:
    request: ReferralRequest
    intake: CaseIntake
    parties: list[PartyIn]
    fields: msgspec.Struct
    hash: str
    extra: dict[str, Any] = field(default_factory=dict)


def request_hash(body: Any) -> str:
    """SHA-256 of the canonical JSON of ``body`` (sorted keys, no insignificant whitespace)."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _prefixed(prefix: str, errors: dict[str, str]) -> dict[str, str]:
    out = {}
    for key, message in errors.items():
        if not key:
            out[prefix] = message
        elif key.startswith("["):
            out[prefix + key] = message
        else:
            out[f"{prefix}.{key}"] = message
    return out


def check_channel(reg: Registry, partner: PartnerCtx, body: Any) -> None:
    """403 for a channel the partner is not registered for; 404 ``channel_disabled`` when the
    partner's own channel is not enabled in this deployment. A missing or malformed ``channel`` is
    left to validation (422)."""
    channel = body.get("channel") if isinstance(body, dict) else None
    if not isinstance(channel, str) or not channel:
        return
    if channel != partner.channel:
        raise ReferralProblem(403, "forbidden", f"partner {partner.partner_id!r} may not refer to channel {channel!r}")
    if channel not in reg.channels:
        raise ReferralProblem(404, "channel_disabled", f"channel {channel!r} is not enabled on this deployment")


def validate_referral(reg: Registry, body: Any) -> ValidReferral:
    """Validate a decoded request body; every offending field is listed.

    Raises:
        ReferralProblem: 422 ``validation_failed`` with ``fields`` (JSON path → message).
    """
    if not isinstance(body, dict):
        raise ReferralProblem(422, "validation_failed", "the body must be a JSON object", {"": "应为对象"})
    errors: dict[str, str] = {}
    # Money is a decimal string, never a JSON number (a float would lose cents).
    if "amount" in body and body["amount"] is not None and not isinstance(body["amount"], str):
        errors["amount"] = '金额应为字符串形式的十进制数，如 "35000.00"'
    core_body = {k: v for k, v in body.items() if k not in {"parties", "fields"} and k not in errors}
    core_body["parties"], core_body["fields"] = [], {}
    request: ReferralRequest | None = None
    try:
        request = validate_data(ReferralRequest, core_body)
    except FormErrors as exc:
        errors.update(exc.errors)

    parties: list[PartyIn] = []
    raw_parties = body.get("parties")
    if "parties" not in body:
        errors["parties"] = "此项为必填"
    elif not isinstance(raw_parties, list):
        errors["parties"] = "应为列表"
    else:
        for i, raw in enumerate(raw_parties):
            try:
                parties.append(validate_data(PartyIn, raw))
            except FormErrors as exc:
                errors.update(_prefixed(f"parties[{i}]", exc.errors))
        if len(parties) == len(raw_parties):
            errors.update(check_parties(parties))

    form = None
    kind, channel = body.get("kind"), body.get("channel")
    if isinstance(kind, str) and isinstance(channel, str) and "kind" not in errors:
        form = reg.form(channel, kind)
        if form is None:
            kinds = ", ".join(f.kind for f in reg.forms_for(channel))
            errors["kind"] = f"未知的转介类型；可选：{kinds}" if kinds else "未知的转介类型"
    fields_obj: msgspec.Struct | None = None
    raw_fields = body.get("fields", {})
    if not isinstance(raw_fields, dict):
        errors["fields"] = "应为对象"
    elif form is not None:
        try:
            fields_obj = validate_data(form.schema, raw_fields)
        except FormErrors as exc:
            errors.update(_prefixed("fields", exc.errors))

    if isinstance(body.get("dispute_type"), str) and "dispute_type" not in errors:
        if not reg.codes.has("dispute_type", body["dispute_type"]):
            errors["dispute_type"] = "未知的纠纷类型代码"
    if isinstance(body.get("source"), str) and "source" not in errors:
        if not reg.codes.has("case_source", body["source"]):
            errors["source"] = "未知的案件来源代码"
    if errors or request is None or fields_obj is None:
        raise ReferralProblem(422, "validation_failed", "the referral is invalid; see fields", errors)
    intake = CaseIntake(**{name: getattr(request, name) for name in CaseIntake.__struct_fields__})
    return ValidReferral(request=request, intake=intake, parties=parties, fields=fields_obj, hash=request_hash(body))


def _is_unique_violation(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in (exc, exc.__cause__, exc.__context__) if e is not None}
    return bool(names & {"UniqueViolationError", "IntegrityError"})


async def _existing(partner: PartnerCtx, external_id: str) -> dict[str, Any] | None:
    return await Referral.select(Referral.request_hash, Referral.case).where(
        (Referral.partner == partner.id) & (Referral.external_id == external_id)
    ).first()


async def _case_summary(case_id: int) -> dict[str, Any]:
    row = await Case.select(Case.id, Case.number, Case.status, Case.deadline).where(Case.id == case_id).first()
    return {
        "case_id": row["id"],
        "case_number": row["number"],
        "status": row["status"],
        "deadline": row["deadline"].isoformat() if row["deadline"] else None,
    }


def _repeat_or_conflict(existing: dict[str, Any], valid: ValidReferral) -> None:
    if existing["request_hash"] != valid.hash:
        raise ReferralProblem(
            409, "conflict",
            f"external_id {valid.request.external_id!r} was already referred with a different body",
        )


async def submit_referral(
    reg: Registry, partner: PartnerCtx, valid: ValidReferral, cipher: FieldCipher
) -> tuple[bool, dict[str, Any]]:
    """Create the case and the referral row in one transaction, or recognise a repeat.

    Returns ``(created, summary)``: ``created`` is ``False`` for an identical repeat.

    Raises:
        ReferralProblem: 409 ``conflict`` (same ``external_id``, different body), 422 from the case
            engine's own checks.
    """
    ext = valid.request.external_id
    for _ in range(3):  # a concurrent identical POST loses the unique index race and re-reads
        try:
            async with write_transaction():
                existing = await _existing(partner, ext)
                if existing is not None:
                    _repeat_or_conflict(existing, valid)
                    return False, await _case_summary(existing["case"])
                room = await Room.select().where(Room.id == partner.room).first()
                form = reg.form(valid.request.channel, valid.request.kind)
                assert form is not None and room is not None
                try:
                    created = await create_case(
                        reg, room=room, form=form, intake=valid.intake, parties=valid.parties,
                        fields=valid.fields, actor=None, actor_label=partner.partner_id, cipher=cipher,
                        partner_id=partner.partner_id, external_id=ext,
                    )
                except FormErrors as exc:
                    raise ReferralProblem(422, "validation_failed", "the referral is invalid; see fields",
                                          exc.errors) from None
                await Referral.insert(
                    Referral(partner=partner.id, external_id=ext, request_hash=valid.hash,
                             referred_at=valid.request.referred_at, case=created["id"], created_at=clock.now())
                )
                return True, await _case_summary(created["id"])
        except ReferralProblem:
            raise
        except Exception as exc:
            if not _is_unique_violation(exc):
                raise
            existing = await _existing(partner, ext)
            if existing is None:
                raise
            _repeat_or_conflict(existing, valid)
            return False, await _case_summary(existing["case"])
    raise RuntimeError("referral could not be stored")  # pragma: no cover


async def referral_state(partner: PartnerCtx, external_id: str) -> dict[str, Any] | None:
    """This partner's referral: case number, status, deadline, outcome (once there is one) and the
    callbacks with their delivery state. ``None`` when the partner has no such referral."""
    existing = await _existing(partner, external_id)
    if existing is None:
        return None
    case = await Case.select().where(Case.id == existing["case"]).first()
    events = await OutboxEvent.select(
        OutboxEvent.event_id, OutboxEvent.type, OutboxEvent.occurred_at, OutboxEvent.status,
        OutboxEvent.attempts, OutboxEvent.delivered_at, OutboxEvent.body,
    ).where(OutboxEvent.case == case["id"]).order_by(OutboxEvent.id)
    out: dict[str, Any] = {
        "external_id": external_id,
        "case_number": case["number"],
        "status": case["status"],
        "deadline": case["deadline"].isoformat() if case["deadline"] else None,
    }
    if case["outcome"]:
        outcome: dict[str, Any] = {"result": case["outcome"]}
        if case["outcome_reason"]:
            outcome["reason"] = case["outcome_reason"]
        if case["suggested_route"]:
            outcome["route"] = case["suggested_route"]
        for e in events:
            if e["type"] == "case.settled":
                agreement = json.loads(e["body"]).get("data", {}).get("agreement")
                if agreement:
                    outcome["agreement"] = agreement
        out["outcome"] = outcome
    out["events"] = [
        {
            "id": e["event_id"],
            "type": e["type"],
            "occurred_at": _iso(e["occurred_at"]),
            "state": e["status"],
            "attempts": e["attempts"],
            "delivered_at": _iso(e["delivered_at"]),
        }
        for e in events
    ]
    return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(clock.TZ).isoformat(timespec="seconds") if value else None
