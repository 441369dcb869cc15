"""Work-order bookkeeping, run inside the case engine's transactions (hooks in ``__init__``).

Nothing here has its own table: a work order's deadlines and its tracking facts live in the case's
``intake`` JSON (``Case.intake``), the history in the case's event log. On registration the order's
response and completion times are fixed (the hotline's, or the deployment defaults) and
``Case.deadline`` becomes the completion time. On each hotline step the facts the hotline reports on
are written under ``intake["_track"]``:

- ``responded_at`` / ``response_on_time`` — the organisation's answer to the order (sign-for, or a
  return before signing), against the response time;
- ``result`` (``resolved`` | ``not_resolved`` | ``returned`` | ``withdrawn``), ``completed_at`` and
  ``completed_on_time`` (result day on or before the completion day);
- ``satisfaction`` (``satisfied`` | ``dissatisfied``) and ``callback_at`` after the callback (回访).

The same facts are added to the event's ``data``, so the hotline's callback carries them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from core import clock
from core.crypto import FieldCipher
from core.deadline_service import deadline_for
from core.forms import FormErrors
from core.lifecycle import OPEN_STATUSES
from core.tables import Case, CaseParty, Party

from plugins.hotline.protocol import RESULT_STATES, RULE_KEY

__all__ = ["CHANNEL", "PETITION_SOURCE", "on_registered", "on_transitioned", "order_facts", "response_hours"]

CHANNEL = "hotline"
PETITION_CHANNEL = "petition"
PETITION_SOURCE = "referral.petition"
DEFAULT_RESPONSE_HOURS = 24
RESPONSES = ("sign_for", "return_unsigned")
"""Transitions that answer an order (签收, or a return before signing); a caller's withdrawal is not one."""


def response_hours(settings: Any) -> int:
    """``[channels.hotline] response_hours`` (default 24): the default time to sign for an order."""
    value = settings.channel_settings(CHANNEL).get("response_hours", DEFAULT_RESPONSE_HOURS)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 24 * 30:
        raise ValueError(f"[channels.hotline] response_hours must be an integer from 1 to 720, got {value!r}")
    return value


def _dt(value: Any) -> dt.datetime | None:
    if not value:
        return None
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(clock.TZ).isoformat(timespec="seconds")


async def _intake(case_id: int) -> dict[str, Any]:
    row = await Case.select(Case.intake).where(Case.id == case_id).output(load_json=True).first()
    intake = row["intake"] if row else {}
    return dict(intake) if isinstance(intake, dict) else {}


async def _petition_conflict(case: dict[str, Any], reg: Any) -> dict[str, str]:
    """Field errors when a caller of this order already has an open petition-track case in the room.

    A petition-track case is an open case of the ``petition`` channel, or of any channel whose case
    source is ``referral.petition`` (信访部门委托移交). The caller (an applicant of the order) is matched
    against the applicants (petitioners) of those cases: by the blind index of the ID number (in SQL),
    else by phone (decrypted for the few open petition-track cases of the room).
    """
    open_values = [s.value for s in OPEN_STATUSES]
    placeholders = ", ".join("{}" for _ in open_values)
    track = (f"o.room = {{}} AND o.id <> {{}} AND o.status IN ({placeholders}) "
             "AND (o.channel = {} OR o.source = {})")
    track_args = [case["room"], case["id"], *open_values, PETITION_CHANNEL, PETITION_SOURCE]
    callers = await CaseParty.raw(
        "SELECT cp.id AS link, p.id_number_index AS idx, p.phone_enc AS phone FROM core_case_party cp "
        "JOIN core_party p ON p.id = cp.party WHERE cp.\"case\" = {} AND cp.role = 'applicant' ORDER BY cp.id",
        case["id"],
    )
    if not callers:
        return {}
    links = await CaseParty.raw(
        "SELECT cp.id AS link FROM core_case_party cp WHERE cp.\"case\" = {} ORDER BY cp.id", case["id"]
    )
    index_of = {row["link"]: i for i, row in enumerate(links)}

    def refusal(number: str) -> str:
        return (f"来电人在本调解室已有信访渠道案件（{number}）正在办理，该事项已进入信访程序，"
                "不能再按 12345 工单受理；请热线按信访渠道转办")

    for caller in callers:
        if not caller["idx"]:
            continue
        rows = await Case.raw(
            "SELECT o.number FROM core_case o JOIN core_case_party cp ON cp.\"case\" = o.id "
            "JOIN core_party p ON p.id = cp.party WHERE cp.role = 'applicant' AND p.id_number_index = {} AND "
            + track + " LIMIT 1",
            caller["idx"], *track_args,
        )
        if rows:
            i = index_of[caller["link"]]
            return {f"parties[{i}].id_number": refusal(rows[0]["number"]), "parties": refusal(rows[0]["number"])}
    with_phone = [c for c in callers if c["phone"]]
    if not with_phone:
        return {}
    others = await Party.raw(
        "SELECT o.number, p.phone_enc AS phone FROM core_case o JOIN core_case_party cp ON cp.\"case\" = o.id "
        "JOIN core_party p ON p.id = cp.party WHERE cp.role = 'applicant' AND p.phone_enc <> '' AND " + track
        + " ORDER BY o.id LIMIT 500",
        *track_args,
    )
    if not others:
        return {}
    cipher = FieldCipher.from_secret(reg.settings.secret_key)
    known: dict[str, str] = {}
    for row in others:
        known.setdefault(cipher.decrypt(row["phone"], "phone"), row["number"])
    for caller in with_phone:
        number = known.get(cipher.decrypt(caller["phone"], "phone"))
        if number:
            i = index_of[caller["link"]]
            return {f"parties[{i}].phone": refusal(number), "parties": refusal(number)}
    return {}


async def on_registered(case: dict[str, Any], reg: Any) -> None:
    """Refuse a petition-track caller; fix the order's response and completion times."""
    if case["channel"] != CHANNEL:
        return
    errors = await _petition_conflict(case, reg)
    if errors:
        raise FormErrors(errors)  # aborts the registration: nothing is stored
    intake = await _intake(case["id"])
    dispatched = _dt(intake.get("dispatched_at")) or case["registered_at"]
    response_due = _dt(intake.get("response_due")) or dispatched + dt.timedelta(hours=response_hours(reg.settings))
    completion_due = _date(intake.get("completion_due")) or deadline_for(
        reg, RULE_KEY, dispatched.astimezone(clock.TZ).date()
    )
    intake.update({
        "response_due": _iso(response_due),
        "completion_due": completion_due.isoformat() if completion_due else None,
        "_track": {},
    })
    await Case.update({
        Case.intake: msgspec.json.encode(intake).decode(),
        Case.deadline: completion_due,
        Case.clock_started_on: dispatched.astimezone(clock.TZ).date(),
    }).where(Case.id == case["id"])


def order_facts(intake: dict[str, Any]) -> dict[str, Any]:
    """The order's identity and deadlines as sent back to the hotline."""
    return {
        "order_number": intake.get("order_number"),
        "response_due": intake.get("response_due"),
        "completion_due": intake.get("completion_due"),
    }


async def on_transitioned(event: dict[str, Any], reg: Any) -> None:
    """Record what the hotline reports on; add it to the event's data (and so to its callback)."""
    if event["channel"] != CHANNEL:
        return
    intake = await _intake(event["case_id"])
    track = dict(intake.get("_track") or {})
    at: dt.datetime = event["occurred_at"]
    facts: dict[str, Any] = {}
    if event["transition"] in RESPONSES and "responded_at" not in track:
        due = _dt(intake.get("response_due"))
        track["responded_at"] = _iso(at)
        track["response_on_time"] = due is None or at <= due
        facts.update(responded_at=track["responded_at"], response_on_time=track["response_on_time"])
    result = RESULT_STATES.get(event["to_state"]) or ("withdrawn" if event["to_state"] == "withdrawn" else None)
    if result:
        due = _date(intake.get("completion_due"))
        track["result"] = result
        track["completed_at"] = _iso(at)
        track["completed_on_time"] = due is None or at.astimezone(clock.TZ).date() <= due
        facts.update(result=result, completed_at=track["completed_at"], completed_on_time=track["completed_on_time"])
    if event["type"] == "hotline.callback_done":
        track["satisfaction"] = event["data"].get("satisfaction")
        track["callback_at"] = _iso(at)
        facts.update(satisfaction=track["satisfaction"], callback_at=track["callback_at"])
    event["data"].update({**order_facts(intake), **facts})
    if facts:
        intake["_track"] = track
        await Case.update({Case.intake: msgspec.json.encode(intake).decode()}).where(Case.id == event["case_id"])

