"""Test helpers for the handoff, usable by partner integrators and plugin authors too.

- :class:`PartnerServer` — a real HTTP server on a free loopback port that plays a partner's
  callback endpoint: it verifies Standard Webhooks signatures (``standardwebhooks``), records every
  delivery and answers as told (``2xx``, an error status, slowly, or not at all when stopped).
- :class:`ThreadedApp` — serves an ASGI app with uvicorn in a background thread on a free port.
- :func:`free_port`, :func:`wait_until`.

Nothing here is imported by the application itself.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

__all__ = ["Delivery", "PartnerServer", "ThreadedApp", "free_port", "sample_referral", "wait_until"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02,
               message: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``message`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {message}")
        time.sleep(interval)


@dataclass
class Delivery:
    """One request the partner server received."""

    path: str
    webhook_id: str
    timestamp: str
    signature: str
    raw: bytes
    verified: bool
    status: int
    received_at: float
    body: dict[str, Any] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 256  # the default listen backlog (5) refuses bursts of new connections


class PartnerServer:
    """A partner's callback endpoint over real HTTP.

    ``secrets`` maps a URL path (``/court-a``) to that partner's ``whsec_…`` secret; a delivery whose
    signature does not verify is recorded with ``verified=False`` and answered 401. ``status`` is
    the answer to verified deliveries (200 by default); ``delay`` seconds are slept first.
    """

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.secrets: dict[str, str] = {}
        self.status = 200
        self.delay = 0.0
        self.deliveries: list[Delivery] = []
        self.truncated = 0
        """Requests cut off before their body was complete (not deliveries)."""
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:  # the sender went away mid-request (the fault tests kill it): no delivery
                    with server._lock:
                        server.truncated += 1
                    self.close_connection = True
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                secret = server.secrets.get(self.path)
                verified = False
                body: dict[str, Any] = {}
                if secret:
                    try:
                        body = Webhook(secret).verify(raw, headers)
                        verified = True
                    except (WebhookVerificationError, ValueError):
                        verified = False
                if server.delay:
                    time.sleep(server.delay)
                status = server.status if verified else 401
                with server._lock:
                    server.deliveries.append(Delivery(
                        path=self.path, webhook_id=headers.get("webhook-id", ""),
                        timestamp=headers.get("webhook-timestamp", ""),
                        signature=headers.get("webhook-signature", ""), raw=raw, verified=verified,
                        status=status, received_at=time.monotonic(), body=body or _loads(raw)))
                    server._arrived.notify_all()
                payload = b'{"ok":true}' if 200 <= status < 300 else b'{"ok":false}'
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def start(self) -> PartnerServer:
        """Listen (again) on the same port."""
        for _ in range(100):
            try:
                self._httpd = _Server(("127.0.0.1", self.port), self._handler())
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"port {self.port} stays busy")
        # a sender killed mid-request (the fault tests do that) is not an error of the partner
        self._httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until :meth:`start`."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> PartnerServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ---------------------------------------------------------------- reading what arrived

    def snapshot(self) -> list[Delivery]:
        with self._lock:
            return list(self.deliveries)

    def accepted(self, path: str | None = None) -> list[Delivery]:
        """Verified deliveries that were answered 2xx, in arrival order."""
        return [d for d in self.snapshot() if d.verified and 200 <= d.status < 300 and (path is None or d.path == path)]

    def wait_for(self, predicate: Callable[[list[Delivery]], Any], timeout: float = 10.0) -> Any:
        """Block until ``predicate(deliveries)`` is truthy (re-checked on every arrival)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                value = predicate(self.deliveries)
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout:g} s waiting for deliveries")
                self._arrived.wait(left)

    def unique_ids(self, path: str | None = None) -> list[str]:
        """Distinct ``webhook-id`` values accepted, in order of first arrival."""
        seen: dict[str, None] = {}
        for d in self.accepted(path):
            seen.setdefault(d.webhook_id, None)
        return list(seen)


def _loads(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class ThreadedApp:
    """Serve an ASGI app with uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: Any, port: int | None = None):
        import uvicorn

        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                     lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ThreadedApp:
        self._thread.start()
        wait_until(lambda: self._server.started or not self._thread.is_alive(), timeout=30, message="uvicorn")
        if not self._server.started:
            raise RuntimeError("uvicorn failed to start")
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


def sample_referral(external_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid ``POST /api/v1/referrals`` body for the general channel (the contract's example)."""
    body: dict[str, Any] = {
        "external_id": external_id,
        "channel": "general",
        "kind": "walk_in",
        "referred_at": "2026-11-20T09:30:00+08:00",
        "summary": "房屋租赁合同纠纷，承租人拖欠租金三个月",
        "dispute_type": "contract",
        "amount": "35000.00",
        "people_count": 2,
        "parties": [
            {"role": "applicant", "kind": "person", "name": "张三", "id_number": "110101199003071233",
             "phone": "13800138000", "address": "湖北省十堰市郧西县城关镇"},
            {"role": "respondent", "kind": "organization", "name": "某某物业有限公司",
             "credit_code": "91110000100000000X"},
        ],
        "fields": {},
    }
    body.update(overrides)
    return body
