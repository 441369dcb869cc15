"""The durable outbox: result callbacks written with the state change, delivered by a worker.

- :func:`enqueue` runs inside the case engine's write transaction (``fengqiao_case_transitioned``),
  so an event exists if and only if its state change was committed.
- :func:`claim` takes due rows under a lease (``locked_until``/``locked_by``): in a ``BEGIN
  IMMEDIATE`` transaction on SQLite, with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL so that
  concurrent workers never wait for nor double-claim each other's rows. A row is due when its time
  has come, its lease (if any) has expired, its partner is enabled and **every earlier event of its
  case has been delivered** (ordering per case). No transaction is held while talking HTTP.
- :func:`deliver` POSTs the stored body signed per Standard Webhooks (``webhook-id`` = event id,
  ``webhook-timestamp``, ``webhook-signature``) with a 10 s timeout; only a 2xx counts.
- :func:`record` writes the outcome, fenced by the claim token: a worker whose lease ran out cannot
  overwrite the result of the worker that took over. Failures follow :data:`RETRY_SCHEDULE`, then
  the event is ``failed`` until staff resend it (:func:`resend`).

A worker killed at any point (even ``kill -9``) loses nothing: an uncommitted claim rolls back, a
committed claim's lease expires and the row is delivered again (at least once; partners deduplicate
on ``webhook-id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx
from piccolo.engine.postgres import PostgresEngine
from standardwebhooks import Webhook

from core import clock
from core.crypto import FieldCipher
from core.db import engine, write_transaction
from core.handoff.partners import SECRET_CONTEXT
from core.handoff.tables import OutboxEvent, Partner

__all__ = [
    "RETRY_SCHEDULE",
    "OutboxConfig",
    "OutboxWorker",
    "DeliveryResult",
    "enqueue",
    "claim",
    "deliver",
    "record",
    "resend",
    "deliveries_for_case",
    "notify",
    "utcnow",
]

log = logging.getLogger("fengqiao.outbox")

RETRY_SCHEDULE: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
"""Seconds to wait after the 1st, 2nd, … failed attempt (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
20 h, 24 h); after the last retry fails the event is ``failed``. 10 attempts in all."""

MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1


def utcnow() -> dt.datetime:
    """Real time for scheduling (never the domain clock, which tests and the demo may freeze)."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class OutboxConfig:
    """Worker settings: ``[outbox]`` in the TOML file, overridden by ``FENGQIAO_OUTBOX_*``.

    Attributes:
        retry_scale: multiplies :data:`RETRY_SCHEDULE` (tests use tiny values).
        timeout: seconds before a delivery attempt counts as failed.
        lease: seconds a claim lasts; must exceed ``timeout`` in production (a worker killed
            mid-delivery holds its rows this long).
        poll: seconds between looks for due events when nothing woke the worker.
        concurrency: deliveries in flight per worker (never two of one case).
    """

    retry_scale: float = 1.0
    timeout: float = 10.0
    lease: float = 30.0
    poll: float = 0.5
    concurrency: int = 32

    @classmethod
    def from_settings(cls, settings: Any = None, env: Mapping[str, str] | None = None) -> OutboxConfig:
        env = os.environ if env is None else env
        doc = dict((getattr(settings, "raw", None) or {}).get("outbox", {}))
        names = {"retry_scale": float, "timeout": float, "lease": float, "poll": float, "concurrency": int}
        values: dict[str, Any] = {}
        for name, conv in names.items():
            raw = env.get(f"FENGQIAO_OUTBOX_{name.upper()}", doc.get(name))
            if raw is None or raw == "":
                continue
            try:
                values[name] = conv(raw)
            except (TypeError, ValueError):
                raise ValueError(f"FENGQIAO_OUTBOX_{name.upper()} / [outbox] {name} must be a number, got {raw!r}") from None
            if values[name] <= 0:
                raise ValueError(f"FENGQIAO_OUTBOX_{name.upper()} / [outbox] {name} must be positive")
        return cls(**values)

    def retry_delay(self, attempts: int) -> dt.timedelta | None:
        """Delay after the ``attempts``-th failed attempt, or ``None`` when the schedule is spent."""
        if attempts > len(RETRY_SCHEDULE):
            return None
        return dt.timedelta(seconds=RETRY_SCHEDULE[attempts - 1] * self.retry_scale)


# --------------------------------------------------------------------------- writing events

_WORKERS: set[OutboxWorker] = set()


def notify() -> None:
    """Wake the in-process workers (a new or resent event). Called before the writing transaction
    has committed, so the wake-up is repeated a few times shortly after."""
    if not _WORKERS:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    for delay in (0.005, 0.03, 0.15):
        for worker in list(_WORKERS):
            if worker.loop is loop:
                loop.call_later(delay, worker.wake)


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


async def enqueue(event: Mapping[str, Any]) -> str | None:
    """Write the callback for a case event, inside the caller's transaction.

    Does nothing unless the transition is a partner event and the case came from a partner.
    Returns the event id (``evt_…``) or ``None``.
    """
    if not event.get("partner_event") or not event.get("partner_id"):
        return None
    partner = await Partner.select(Partner.id).where(Partner.partner_id == event["partner_id"]).first()
    if partner is None:  # the case names a partner that is not registered here: nobody to tell
        log.warning("case %s names unknown partner %r; event %s not queued",
                    event.get("case_number"), event["partner_id"], event.get("type"))
        return None
    event_id = new_event_id()
    occurred = (event.get("occurred_at") or clock.now()).astimezone(clock.TZ)
    body = {
        "id": event_id,
        "type": event["type"],
        "occurred_at": occurred.isoformat(timespec="seconds"),
        "external_id": event.get("external_id"),
        "case_number": event["case_number"],
        "data": dict(event.get("data") or {}),
    }
    now = utcnow()
    await OutboxEvent.insert(
        OutboxEvent(
            event_id=event_id,
            case=event["case_id"],
            partner=partner["id"],
            case_event=event.get("event_id"),
            type=event["type"],
            body=json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str),
            occurred_at=occurred,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    notify()
    return event_id


# --------------------------------------------------------------------------- claiming

_DUE = (
    "SELECT o.id FROM handoff_outbox o JOIN handoff_partner p ON p.id = o.partner "
    "WHERE o.status IN ('pending', 'failing') AND o.next_attempt_at <= {} "
    "AND (o.locked_until IS NULL OR o.locked_until < {}) AND p.disabled = {} "
    "AND NOT EXISTS (SELECT 1 FROM handoff_outbox e "
    "WHERE e.\"case\" = o.\"case\" AND e.id < o.id AND e.status <> 'delivered') "
    "ORDER BY o.next_attempt_at, o.id LIMIT {}"
)


async def claim(limit: int, token: str, lease: float) -> list[dict[str, Any]]:
    """Lease up to ``limit`` due events to claim ``token``; returns them with their partner's
    callback URL and encrypted secret."""
    if limit <= 0:
        return []
    now = utcnow()
    pg = isinstance(engine(), PostgresEngine)
    sql = _DUE + (" FOR UPDATE OF o SKIP LOCKED" if pg else "")
    async with write_transaction():
        ids = [r["id"] for r in await OutboxEvent.raw(sql, now, now, False, limit)]
        if not ids:
            return []
        await OutboxEvent.update(
            {OutboxEvent.locked_until: now + dt.timedelta(seconds=lease), OutboxEvent.locked_by: token}
        ).where(OutboxEvent.id.is_in(ids))
    return await OutboxEvent.select(
        OutboxEvent.id, OutboxEvent.event_id, OutboxEvent.case, OutboxEvent.body, OutboxEvent.attempts,
        OutboxEvent.partner.callback_url.as_alias("callback_url"),
        OutboxEvent.partner.secret_enc.as_alias("secret_enc"),
    ).where(OutboxEvent.id.is_in(ids), OutboxEvent.locked_by == token).order_by(OutboxEvent.id)


# --------------------------------------------------------------------------- delivering


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    status: int | None = None
    error: str = ""


def sign_headers(event_id: str, body: str, secret: str, at: dt.datetime | None = None) -> dict[str, str]:
    """Standard Webhooks headers for ``body`` (signed by the ``standardwebhooks`` library)."""
    at = (at or utcnow()).astimezone(dt.timezone.utc)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
    }


async def deliver(client: httpx.AsyncClient, row: Mapping[str, Any], cipher: FieldCipher,
                  timeout: float = 10.0) -> DeliveryResult:
    """One attempt: POST the stored body, freshly signed. Never raises for network trouble."""
    try:
        secret = cipher.decrypt(row["secret_enc"], SECRET_CONTEXT)
        headers = {
            "content-type": "application/json; charset=utf-8",
            "user-agent": "Fengqiao-Handoff/1",
            **sign_headers(row["event_id"], row["body"], secret),
        }
    except Exception as exc:  # a secret encrypted under another key: staff must rotate it
        return DeliveryResult(False, None, f"cannot sign: {type(exc).__name__}")
    try:
        resp = await client.post(row["callback_url"], content=row["body"].encode(), headers=headers,
                                 timeout=timeout)
    except httpx.TimeoutException:
        return DeliveryResult(False, None, f"timeout after {timeout:g} s")
    except httpx.ConnectError as exc:
        return DeliveryResult(False, None, f"connection failed: {exc}"[:500])
    except httpx.HTTPError as exc:
        return DeliveryResult(False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= resp.status_code < 300:
        return DeliveryResult(True, resp.status_code)
    snippet = resp.text[:200].replace("\n", " ").strip()
    return DeliveryResult(False, resp.status_code, f"HTTP {resp.status_code}" + (f": {snippet}" if snippet else ""))


async def record(row: Mapping[str, Any], result: DeliveryResult, token: str, cfg: OutboxConfig) -> str:
    """Store the outcome of an attempt (only if ``token`` still holds the claim); returns the new
    status."""
    now = utcnow()
    attempts = int(row["attempts"]) + 1
    values: dict[Any, Any] = {
        OutboxEvent.attempts: attempts,
        OutboxEvent.last_status: result.status,
        OutboxEvent.last_attempt_at: now,
        OutboxEvent.locked_until: None,
        OutboxEvent.locked_by: None,
    }
    if result.ok:
        status = "delivered"
        values |= {OutboxEvent.status: status, OutboxEvent.delivered_at: now, OutboxEvent.last_error: ""}
    else:
        delay = cfg.retry_delay(attempts)
        status = "failed" if delay is None else "failing"
        values |= {OutboxEvent.status: status, OutboxEvent.last_error: result.error}
        if delay is not None:
            values[OutboxEvent.next_attempt_at] = now + delay
    await OutboxEvent.update(values).where((OutboxEvent.id == row["id"]) & (OutboxEvent.locked_by == token))
    return status


# --------------------------------------------------------------------------- staff actions and views


async def resend(case_id: int, event_id: str) -> bool:
    """Put a ``failed`` event of ``case_id`` back in the queue with a fresh schedule."""
    rows = await OutboxEvent.update(
        {
            OutboxEvent.status: "pending",
            OutboxEvent.attempts: 0,
            OutboxEvent.next_attempt_at: utcnow(),
            OutboxEvent.locked_until: None,
            OutboxEvent.locked_by: None,
        }
    ).where(
        (OutboxEvent.case == case_id) & (OutboxEvent.event_id == event_id) & (OutboxEvent.status == "failed")
    ).returning(OutboxEvent.id)
    if rows:
        notify()
    return bool(rows)


async def deliveries_for_case(case_id: int) -> list[dict[str, Any]]:
    """The callbacks of a case in order, with their delivery state."""
    rows = await OutboxEvent.select(
        OutboxEvent.id, OutboxEvent.event_id, OutboxEvent.type, OutboxEvent.occurred_at, OutboxEvent.status,
        OutboxEvent.attempts, OutboxEvent.next_attempt_at, OutboxEvent.last_error, OutboxEvent.last_status,
        OutboxEvent.last_attempt_at, OutboxEvent.delivered_at, OutboxEvent.partner.partner_id.as_alias("partner_id"),
    ).where(OutboxEvent.case == case_id).order_by(OutboxEvent.id)
    blocked = False
    for row in rows:
        row["waiting"] = blocked and row["status"] == "pending"
        blocked = blocked or row["status"] != "delivered"
    return rows


# --------------------------------------------------------------------------- the worker


class OutboxWorker:
    """Claims and delivers due events until stopped. Run several (in one process or many) freely.

    ``await worker.run()`` in a task; ``worker.stop()`` asks it to finish the deliveries in flight
    and return. Outcomes are written in batches, one transaction each (a delivered event whose
    outcome a killed worker never wrote is delivered again when its lease expires).
    """

    def __init__(self, cipher: FieldCipher, cfg: OutboxConfig | None = None, *, name: str | None = None,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.cipher = cipher
        self.cfg = cfg or OutboxConfig()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.transport = transport
        self.loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._flush: asyncio.Event | None = None
        self._stopping = False
        self._closing = False
        self._inflight: set[asyncio.Task[Any]] = set()
        self._outcomes: list[tuple[dict[str, Any], DeliveryResult, str]] = []
        self._unrecorded = 0
        self._claims = 0
        self.delivered = 0
        self.failed_attempts = 0

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    @property
    def idle(self) -> bool:
        return not self._inflight and not self._unrecorded

    async def _sleep(self) -> None:
        assert self._wake is not None
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=self.cfg.poll)
        except asyncio.TimeoutError:
            pass

    async def _deliver(self, client: httpx.AsyncClient, row: dict[str, Any], token: str) -> None:
        try:
            result = await deliver(client, row, self.cipher, self.cfg.timeout)
            self._unrecorded += 1
            self._outcomes.append((row, result, token))
            assert self._flush is not None
            self._flush.set()
        except Exception:  # the lease expires and another attempt follows
            log.exception("delivering event %s failed unexpectedly", row.get("event_id"))
        finally:
            # free the slot before waking the loop (a done-callback would run too late)
            self._inflight.discard(asyncio.current_task())  # type: ignore[arg-type]
            self.wake()

    async def _write_outcomes(self) -> None:
        batch, self._outcomes = self._outcomes, []
        if not batch:
            return
        for attempt in range(6):  # the outcomes must be written; a busy database is retried
            try:
                async with write_transaction():
                    statuses = [await record(row, result, token, self.cfg) for row, result, token in batch]
                break
            except Exception:
                if attempt == 5:
                    self._unrecorded -= len(batch)
                    log.exception("writing %d delivery outcomes failed; their leases will expire", len(batch))
                    return
                await asyncio.sleep(0.2 * (attempt + 1))
        self._unrecorded -= len(batch)
        for (row, result, _), status in zip(batch, statuses):
            if status == "delivered":
                self.delivered += 1
            else:
                self.failed_attempts += 1
                log.info("event %s: %s (%s)", row["event_id"], status, result.error)
        self.wake()  # the next event of each delivered case is due now

    async def _flusher(self) -> None:
        """Write outcomes as they come; never cancelled mid-transaction (see :meth:`run`)."""
        assert self._flush is not None
        while True:
            await self._flush.wait()
            self._flush.clear()
            await self._write_outcomes()
            if self._closing and not self._outcomes:
                return

    async def run(self, *, until_idle: bool = False) -> None:
        """Deliver until :meth:`stop` (or, with ``until_idle``, until nothing is due or in flight)."""
        self.loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._flush = asyncio.Event()
        httpx_log = logging.getLogger("httpx")
        if httpx_log.level == logging.NOTSET:  # one INFO line per delivery is noise; failures are logged here
            httpx_log.setLevel(logging.WARNING)
        _WORKERS.add(self)
        flusher = asyncio.create_task(self._flusher())
        # Several small connection pools rather than one big one: httpcore checks every pooled
        # connection on every request, so a 32-connection pool costs ~4x the CPU of 8 pools of 4.
        per_pool = 4
        pools = [
            httpx.AsyncClient(timeout=self.cfg.timeout, transport=self.transport, follow_redirects=False,
                              trust_env=False, limits=httpx.Limits(max_connections=per_pool,
                                                                   max_keepalive_connections=per_pool))
            for _ in range(max(1, -(-self.cfg.concurrency // per_pool)))
        ]
        try:
            async with contextlib.AsyncExitStack() as stack:
                for pool in pools:
                    await stack.enter_async_context(pool)
                turn = 0
                while not self._stopping:
                    self._wake.clear()
                    free = self.cfg.concurrency - len(self._inflight)
                    rows: list[dict[str, Any]] = []
                    if free > 0:
                        self._claims += 1
                        token = f"{self.name}#{self._claims}"
                        try:
                            rows = await claim(free, token, self.cfg.lease)
                        except Exception:
                            log.exception("claiming outbox events failed; retrying")
                        for row in rows:
                            turn += 1
                            task = asyncio.create_task(self._deliver(pools[turn % len(pools)], row, token))
                            self._inflight.add(task)
                    if until_idle and not rows and self.idle:
                        return
                    if free <= 0 or len(rows) < free:
                        await self._sleep()
                if self._inflight:
                    await asyncio.wait(set(self._inflight), timeout=self.cfg.timeout + 1)
        finally:
            for task in list(self._inflight):
                task.cancel()
            # let the flusher write what was delivered before the stop, then end on its own
            self._closing = True
            self._flush.set()
            try:
                await asyncio.wait_for(asyncio.shield(flusher), timeout=30)
            except Exception:  # pragma: no cover - the leases expire instead
                log.exception("final write of delivery outcomes failed")
            _WORKERS.discard(self)
