"""HTTP security defaults: response headers, session timeouts and log-in throttling."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core import clock
from core.tables import AuditEntry

__all__ = [
    "ABSOLUTE_TIMEOUT",
    "IDLE_TIMEOUT",
    "SECURITY_HEADERS",
    "add_security_headers",
    "login_throttled",
]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
"""No inline or third-party script anywhere; inline styles are allowed (server-drawn SVG charts)."""

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)

IDLE_TIMEOUT = dt.timedelta(minutes=30)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 20
THROTTLE_WINDOW = dt.timedelta(minutes=15)


async def add_security_headers(message: Any, scope: Any) -> None:
    """``before_send`` hook: add :data:`SECURITY_HEADERS` to every HTTP response, including the
    router's own 404/405 answers that no middleware sees."""
    if message["type"] == "http.response.start":
        headers = message.setdefault("headers", [])
        present = {bytes(k).lower() for k, _ in headers}
        headers.extend((k, v) for k, v in SECURITY_HEADERS if k not in present)


async def login_throttled(username: str, ip: str) -> bool:
    """Too many failed log-ins for this username or from this address within the window?

    Counted from the audit log (``login.failed`` entries), so every process of a deployment agrees.
    A successful log-in does not reset the count: the window simply slides.
    """
    since = clock.now() - THROTTLE_WINDOW
    by_user = await AuditEntry.count().where(AuditEntry.action == "login.failed", AuditEntry.actor == username,
                                             AuditEntry.at > since)
    if by_user >= MAX_FAILURES_PER_USER:
        return True
    if ip:
        by_ip = await AuditEntry.count().where(AuditEntry.action == "login.failed", AuditEntry.ip == ip,
                                               AuditEntry.at > since)
        return by_ip >= MAX_FAILURES_PER_IP
    return False
