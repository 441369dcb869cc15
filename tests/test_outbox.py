"""The durable outbox: events written with the state change, delivered by the worker to a real HTTP
partner server that verifies Standard Webhooks signatures; retries, ordering per case, claims,
leases, failure and the staff "resend". Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import json
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from core import clock, hookimpl
from core.cases import apply_transition
from core.crypto import FieldCipher
from core.handoff import referrals
from core.handoff.outbox import RETRY_SCHEDULE, OutboxConfig, OutboxWorker, claim, record, DeliveryResult
from core.handoff.partners import authenticate, create_partner, set_disabled
from core.handoff.tables import OutboxEvent
from core.handoff.testing import PartnerServer, ThreadedApp, sample_referral, wait_until
from core.registry import build_registry
from core.tables import Agreement, MediationSession

FAST = OutboxConfig(retry_scale=0.001, timeout=2.0, lease=5.0, poll=0.05, concurrency=8)


@pytest.fixture
def partner_server() -> Iterator[PartnerServer]:
    with PartnerServer() as server:
        yield server


@pytest.fixture
def handoff(settings, registry, world, arun, partner_server) -> SimpleNamespace:
    """A partner ``court-a`` (room A) whose callbacks go to the test's partner server."""
    cipher = FieldCipher.from_secret(settings.secret_key)
    created = arun(create_partner("court-a", channel="general", room_id="room-a",
                                  callback_url=partner_server.url("/court-a"), cipher=cipher,
                                  known_channels=set(registry.channels)))
    partner_server.secrets["/court-a"] = created["secret"]
    partner = arun(authenticate(f"Bearer {created['token']}"))

    def refer(external_id: str) -> int:
        valid = referrals.validate_referral(registry, sample_referral(external_id))
        _, summary = arun(referrals.submit_referral(registry, partner, valid, cipher))
        return summary["case_id"]

    return SimpleNamespace(reg=registry, cipher=cipher, partner=partner, token=created["token"],
                           secret=created["secret"], refer=refer, med=world["users"]["med-a"], server=partner_server)


def outbox(case_id: int | None = None) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        query = OutboxEvent.select().order_by(OutboxEvent.id)
        if case_id is not None:
            query = query.where(OutboxEvent.case == case_id)
        return await query

    return asyncio.run(go())


async def drive(worker: OutboxWorker, done: Any, timeout: float = 20.0) -> None:
    """Run ``worker`` until the async predicate ``done()`` holds."""
    task = asyncio.create_task(worker.run())
    try:
        deadline = time.monotonic() + timeout
        while not await done():
            if task.done():
                task.result()
            assert time.monotonic() < deadline, "worker did not finish in time"
            await asyncio.sleep(0.02)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)


async def all_settled() -> bool:
    return not await OutboxEvent.exists().where(OutboxEvent.status.is_in(["pending", "failing"]))


# --------------------------------------------------------------------------- writing events


class RefuseWithdrawals:
    """Registered before the handoff, so its coroutine is awaited after the outbox row was inserted."""

    NAME = "refuser"

    def __init__(self):
        self.saw_outbox_row = False

    @hookimpl
    async def fengqiao_case_transitioned(self, event):
        if event["transition"] == "withdraw":
            self.saw_outbox_row = await OutboxEvent.exists().where(
                (OutboxEvent.case == event["case_id"]) & (OutboxEvent.type == "case.withdrawn"))
            raise RuntimeError("refused")


@pytest.mark.filterwarnings("ignore:coroutine 'fengqiao_case_transitioned' was never awaited:RuntimeWarning")
def test_partner_events_are_written_in_the_state_change_transaction(handoff, settings, world, make_case, arun):
    case_id = handoff.refer("EVT-1")
    arun(apply_transition(handoff.reg, case_id, "accept", handoff.med))
    (row,) = outbox(case_id)
    body = json.loads(row["body"])
    assert list(body) == ["id", "type", "occurred_at", "external_id", "case_number", "data"]
    assert body["id"] == row["event_id"] and body["id"].startswith("evt_")
    assert body["type"] == "case.accepted" and body["external_id"] == "EVT-1"
    assert dt.datetime.fromisoformat(body["occurred_at"]).utcoffset() == dt.timedelta(hours=8)
    assert row["status"] == "pending" and row["attempts"] == 0

    arun(apply_transition(handoff.reg, case_id, "start_mediation", handoff.med))  # not a partner event
    assert len(outbox(case_id)) == 1
    walk_in = make_case(world["rooms"]["a"], handoff.med)  # no partner: nothing to tell
    arun(apply_transition(handoff.reg, walk_in["id"], "accept", handoff.med))
    assert len(outbox(walk_in["id"])) == 0

    # a plugin that fails after the outbox row was written aborts the change and the row with it
    refuser = RefuseWithdrawals()
    plugins = ["core.builtin", refuser, "core.handoff", "plugins.general"]
    reg = build_registry(settings, plugins, entry_points=False)
    with pytest.raises(RuntimeError):
        arun(apply_transition(reg, case_id, "withdraw", handoff.med, {"reason": "当事人自行和解"}))
    assert refuser.saw_outbox_row  # it had been written inside the transaction …
    assert len(outbox(case_id)) == 1  # … and was rolled back with the state change


def test_settled_and_not_settled_events_carry_the_outcome(handoff, arun):
    settled = handoff.refer("OUT-1")
    for key in ("accept", "start_mediation"):
        arun(apply_transition(handoff.reg, settled, key, handoff.med))
    now = clock.now()
    arun(MediationSession.insert(MediationSession(case=settled, held_at=now, place="调解室", attendees="张三",
                                                  record="达成协议", outcome="agreement", created_at=now)))
    arun(Agreement.insert(Agreement(
        case=settled, number="（2026）人调协字第0001号", form="written", facts="拖欠租金", terms="被申请人分两期支付租金",
        amount=decimal.Decimal("12000.00"), performance_method="银行转账", performance_deadline=dt.date(2026, 12, 31),
        signed_by_parties=True, signed_by_mediator=True, sealed=True, signed_on=dt.date(2026, 12, 2),
        created_at=now, updated_at=now)))
    arun(apply_transition(handoff.reg, settled, "settle", handoff.med))
    data = json.loads(outbox(settled)[-1]["body"])["data"]
    assert json.loads(outbox(settled)[-1]["body"])["type"] == "case.settled"
    assert data["agreement"] == {"number": "（2026）人调协字第0001号", "date": "2026-12-02",
                                 "terms": "被申请人分两期支付租金", "amount": "12000.00",
                                 "performance_deadline": "2026-12-31"}

    failed = handoff.refer("OUT-2")
    arun(apply_transition(handoff.reg, failed, "accept", handoff.med))
    arun(apply_transition(handoff.reg, failed, "not_settle", handoff.med,
                          {"reason": "双方分歧过大", "route": "litigation"}))
    body = json.loads(outbox(failed)[-1]["body"])
    assert body["type"] == "case.not_settled"
    assert body["data"]["reason"] == "双方分歧过大" and body["data"]["route"] == "litigation"

    state = arun(referrals.referral_state(handoff.partner, "OUT-2"))
    assert state["status"] == "not_settled"
    assert state["outcome"] == {"result": "not_settled", "reason": "双方分歧过大", "route": "litigation"}
    assert [e["type"] for e in state["events"]] == ["case.accepted", "case.not_settled"]
    assert arun(referrals.referral_state(handoff.partner, "OUT-1"))["outcome"]["agreement"]["amount"] == "12000.00"


# --------------------------------------------------------------------------- delivering


def _burst(handoff: SimpleNamespace, arun: Any, n_cases: int) -> list[int]:
    cases = [handoff.refer(f"BURST-{i}") for i in range(n_cases)]
    for case_id in cases:
        arun(apply_transition(handoff.reg, case_id, "accept", handoff.med))
        arun(apply_transition(handoff.reg, case_id, "withdraw", handoff.med, {"reason": "当事人撤回申请"}))
        arun(apply_transition(handoff.reg, case_id, "close", handoff.med))
    return cases


def assert_ordered_per_case(server: PartnerServer, rows: list[dict[str, Any]]) -> None:
    """Each case's events arrived in order, and none before its predecessor had been accepted."""
    by_case: dict[int, list[str]] = {}
    for r in rows:
        by_case.setdefault(r["case"], []).append(r["event_id"])
    first_ok: dict[str, float] = {}
    first_seen: dict[str, float] = {}
    for d in server.snapshot():
        first_seen.setdefault(d.webhook_id, d.received_at)
        if d.verified and 200 <= d.status < 300:
            first_ok.setdefault(d.webhook_id, d.received_at)
    for ids in by_case.values():
        for earlier, later in zip(ids, ids[1:]):
            assert first_ok[earlier] <= first_seen[later], "a later event went out before the earlier one succeeded"


def test_worker_delivers_signed_events_in_order_despite_an_outage(handoff, arun):
    server = handoff.server
    server.stop()  # the partner is down when the events are written
    cases = _burst(handoff, arun, 4)

    async def scenario() -> None:
        worker = OutboxWorker(handoff.cipher, FAST)
        task = asyncio.create_task(worker.run())
        await asyncio.sleep(0.25)  # attempts fail: connection refused
        server.start()
        try:
            deadline = time.monotonic() + 20
            while not await all_settled():
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
        finally:
            worker.stop()
            await task

    arun(scenario())
    rows = outbox()
    assert len(rows) == 12 and {r["status"] for r in rows} == {"delivered"}
    assert all(d.verified for d in server.snapshot()), "every delivery carries a valid signature"
    assert set(server.unique_ids("/court-a")) == {r["event_id"] for r in rows}
    assert_ordered_per_case(server, rows)
    heads = [outbox(c)[0] for c in cases]
    assert all(h["attempts"] >= 2 for h in heads)  # the outage cost at least one retry
    for d in server.accepted():
        assert d.body["id"] == d.webhook_id and d.body["type"].startswith("case.")
        assert abs(int(d.timestamp) - time.time()) < 60


def test_failed_event_blocks_its_case_until_staff_resend_it(handoff, settings, world, arun, monkeypatch):
    from web.app import create_app

    server = handoff.server
    server.status = 500
    case_id = handoff.refer("FAIL-1")
    arun(apply_transition(handoff.reg, case_id, "accept", handoff.med))
    arun(apply_transition(handoff.reg, case_id, "withdraw", handoff.med, {"reason": "当事人撤回申请"}))

    async def head_failed() -> bool:
        row = await OutboxEvent.select(OutboxEvent.status).where(OutboxEvent.case == case_id).order_by(
            OutboxEvent.id).first()
        return row["status"] == "failed"

    arun(drive(OutboxWorker(handoff.cipher, OutboxConfig(retry_scale=1e-6, timeout=2, lease=5, poll=0.02)),
               head_failed))
    first, second = outbox(case_id)
    assert first["status"] == "failed" and first["attempts"] == len(RETRY_SCHEDULE) + 1
    assert first["last_error"].startswith("HTTP 500") and first["last_status"] == 500
    assert second["status"] == "pending" and second["attempts"] == 0  # never sent before the first succeeds
    assert len(server.snapshot()) == len(RETRY_SCHEDULE) + 1
    assert {d.webhook_id for d in server.snapshot()} == {first["event_id"]}

    # staff see it on the case page and resend it; the app's own worker delivers both, in order
    monkeypatch.setenv("FENGQIAO_OUTBOX_RETRY_SCALE", "0.001")
    monkeypatch.setenv("FENGQIAO_OUTBOX_POLL", "0.05")
    app = create_app(settings.with_(secure_cookies=False), entry_points=False, outbox_worker=True)
    with ThreadedApp(app) as live, httpx.Client(base_url=live.base_url, trust_env=False) as staff, \
            httpx.Client(base_url=live.base_url, trust_env=False) as stranger:
        for client, user in ((staff, "med-a"), (stranger, "med-c")):
            client.get("/login")
            client.post("/login", data={"username": user, "password": world["password"],
                                        "_csrf_token": client.cookies.get("csrftoken")})
        page = staff.get(f"/cases/{case_id}").text
        assert "合作方通知" in page and first["event_id"] in page and "HTTP 500" in page and "重新发送" in page
        url = f"/cases/{case_id}/deliveries/{first['event_id']}/resend"
        # another organisation's mediator cannot see the case, so cannot resend
        assert stranger.post(url, headers={"x-csrftoken": stranger.cookies.get("csrftoken")}).status_code == 404
        # without the CSRF token the POST is refused
        assert staff.post(url).status_code == 403
        server.status = 200
        # the panel's own form carries the token, so resending works as a plain form (no JavaScript)
        form_token = page.split(f'action="{url}"')[1].split('name="_csrf_token" value="')[1].split('"')[0]
        resp = staff.post(url, data={"_csrf_token": form_token}, follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"] == f"/cases/{case_id}"
        wait_until(lambda: {r["status"] for r in outbox(case_id)} == {"delivered"}, timeout=15,
                   message="both events delivered after the resend")
        assert "已送达" in staff.get(f"/cases/{case_id}").text
        # resending an event that is not failed is refused
        assert staff.post(url, headers={"x-csrftoken": staff.cookies.get("csrftoken")}).status_code == 404
    assert server.unique_ids("/court-a") == [first["event_id"], second["event_id"]]


def test_timeouts_and_refused_connections_are_retried_later(handoff, arun):
    server = handoff.server
    server.delay = 1.0
    case_id = handoff.refer("SLOW-1")
    arun(apply_transition(handoff.reg, case_id, "accept", handoff.med))
    cfg = OutboxConfig(retry_scale=1.0, timeout=0.3, lease=5, poll=0.05)
    before = dt.datetime.now(dt.timezone.utc)
    arun(OutboxWorker(handoff.cipher, cfg).run(until_idle=True))
    (row,) = outbox(case_id)
    assert row["status"] == "failing" and row["attempts"] == 1
    assert row["last_error"] == "timeout after 0.3 s"
    assert before + dt.timedelta(seconds=4) < row["next_attempt_at"] < before + dt.timedelta(seconds=7)
    assert row["locked_by"] is None

    server.stop()  # nothing listens: the connection is refused
    arun(OutboxEvent.update({OutboxEvent.next_attempt_at: before}).where(OutboxEvent.id == row["id"]))
    arun(OutboxWorker(handoff.cipher, cfg).run(until_idle=True))
    (row,) = outbox(case_id)
    assert row["status"] == "failing" and row["attempts"] == 2 and row["last_error"].startswith("connection failed")
    assert row["next_attempt_at"] > before + dt.timedelta(seconds=250)  # 5 minutes after the second failure


def test_claims_are_exclusive_fenced_and_expire(handoff, arun):
    cases = [handoff.refer(f"CLAIM-{i}") for i in range(3)]
    for case_id in cases:
        arun(apply_transition(handoff.reg, case_id, "accept", handoff.med))
        arun(apply_transition(handoff.reg, case_id, "withdraw", handoff.med, {"reason": "当事人撤回申请"}))

    async def scenario() -> None:
        a, b = await asyncio.gather(claim(10, "A#1", 30), claim(10, "B#1", 30))
        got = a + b
        # only the head of each case is due, and no row is claimed twice
        assert sorted(r["case"] for r in got) == sorted(cases)
        assert not {r["id"] for r in a} & {r["id"] for r in b}
        assert await claim(10, "C#1", 30) == []
        # a worker whose claim was lost cannot write the outcome
        row = got[0]
        await record(row, DeliveryResult(True, 200), "Z#9", OutboxConfig())
        assert (await OutboxEvent.select(OutboxEvent.status).where(OutboxEvent.id == row["id"]).first())[
            "status"] == "pending"
        # expired leases are claimed again (a killed worker's rows)
        await OutboxEvent.update({OutboxEvent.locked_until: dt.datetime.now(dt.timezone.utc)}).where(
            OutboxEvent.id.is_in([r["id"] for r in got]))
        await asyncio.sleep(0.01)
        again = await claim(10, "D#1", 30)
        assert sorted(r["id"] for r in again) == sorted(r["id"] for r in got)

    arun(scenario())


def test_two_workers_share_the_load_without_duplicates(handoff, arun):
    _burst(handoff, arun, 8)
    cfg = OutboxConfig(retry_scale=0.001, timeout=2, lease=30, poll=0.02, concurrency=4)

    async def scenario() -> None:
        workers = [OutboxWorker(handoff.cipher, cfg, name=f"w{i}") for i in range(2)]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        deadline = time.monotonic() + 20
        while not await all_settled():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        for w in workers:
            w.stop()
        await asyncio.gather(*tasks)
        assert all(w.delivered > 0 for w in workers) or sum(w.delivered for w in workers) == 24

    arun(scenario())
    rows = outbox()
    assert len(rows) == 24 and {r["status"] for r in rows} == {"delivered"}
    assert len(handoff.server.accepted()) == 24  # exactly once each: no double claims
    assert_ordered_per_case(handoff.server, rows)


def test_a_disabled_partner_s_callbacks_are_held(handoff, arun):
    case_id = handoff.refer("HOLD-1")
    arun(apply_transition(handoff.reg, case_id, "accept", handoff.med))
    arun(set_disabled("court-a", True))
    arun(OutboxWorker(handoff.cipher, FAST).run(until_idle=True))
    assert outbox(case_id)[0]["status"] == "pending" and handoff.server.snapshot() == []
    arun(set_disabled("court-a", False))
    arun(drive(OutboxWorker(handoff.cipher, FAST), all_settled))
    assert outbox(case_id)[0]["status"] == "delivered"


def test_outbox_config_and_schedule():
    assert RETRY_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    cfg = OutboxConfig.from_settings(None, env={"FENGQIAO_OUTBOX_RETRY_SCALE": "0.5", "FENGQIAO_OUTBOX_CONCURRENCY": "4"})
    assert cfg.retry_scale == 0.5 and cfg.concurrency == 4 and cfg.timeout == 10.0
    assert [cfg.retry_delay(n).total_seconds() for n in range(1, 10)] == [s * 0.5 for s in RETRY_SCHEDULE]
    assert cfg.retry_delay(10) is None
    with pytest.raises(ValueError, match="FENGQIAO_OUTBOX_LEASE"):
        OutboxConfig.from_settings(None, env={"FENGQIAO_OUTBOX_LEASE": "soon"})
    settings = SimpleNamespace(raw={"outbox": {"timeout": 3}})
    assert OutboxConfig.from_settings(settings, env={}).timeout == 3.0
