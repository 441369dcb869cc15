"""Log-in, log-out, the current user and the guard that requires one."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from core import audit, clock
from core.access import UserCtx
from core.users import authenticate, forget_user, get_user_cached
from web.security import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT, login_throttled
from web.sessions import renew_session

__all__ = ["current_user", "requires_login", "login_page", "login", "logout", "SESSION_USER_KEY"]

SESSION_USER_KEY = "uid"
SEEN_GRANULARITY = 60
"""Seconds between updates of a session's last-seen time (each update rewrites the stored session)."""


async def current_user(connection: ASGIConnection) -> UserCtx | None:
    """The signed-in user (cached on the connection state), or ``None``."""
    if "fq_user" in connection.state:
        return connection.state["fq_user"]
    user = None
    session = connection.scope.get("session") or {}
    uid = session.get(SESSION_USER_KEY) if isinstance(session, dict) else None
    if isinstance(uid, int) and session_alive(session):
        user = await get_user_cached(uid)  # a ≤ 2 s cache, dropped on log-out and deactivation
    connection.state["fq_user"] = user
    return user


def session_alive(session: dict[str, Any]) -> bool:
    """Idle (30 min) and absolute (12 h) timeouts on a dict holding ``iat`` and ``seen`` (a staff session,
    or a party's part of one); an expired one is emptied, a live one's last-seen time slides forward —
    at most once a minute, since each change rewrites the stored session."""
    now = clock.now().timestamp()
    issued, seen = session.get("iat"), session.get("seen")
    if not isinstance(issued, int | float) or not isinstance(seen, int | float):
        session.clear()
        return False
    if now - seen > IDLE_TIMEOUT.total_seconds() or now - issued > ABSOLUTE_TIMEOUT.total_seconds():
        session.clear()
        return False
    if now - seen >= SEEN_GRANULARITY:
        session["seen"] = now
    return True


async def requires_login(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: a signed-in user is required (HTML requests are redirected to the log-in page)."""
    if await current_user(connection) is None:
        raise NotAuthorizedException("请先登录")


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/"


@get("/login", name="login_page", sync_to_thread=False)
def login_page(request: Request, next: FromQuery[str | None] = None) -> Template:  # noqa: A002
    return Template("pages/login.html", context={"next": _safe_next(next), "error": None},
                    headers={"Cache-Control": "no-store"})


@post("/login", name="login")
async def login(request: Request) -> Any:
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    nxt = _safe_next(str(form.get("next", "/")))
    client = request.client.host if request.client else ""
    if username and await login_throttled(username[:64], client):
        await audit.record("login.throttled", actor=username[:64], ip=client)
        return Template(
            "pages/login.html",
            context={"next": nxt, "error": "登录失败次数过多，请 15 分钟后再试", "username": username},
            status_code=429,
            headers={"Cache-Control": "no-store", "Retry-After": "900"},
        )
    user = await authenticate(username, password) if username and password else None
    if user is None:
        await audit.record("login.failed", actor=username[:64], ip=client)
        return Template(
            "pages/login.html",
            context={"next": nxt, "error": "用户名或密码不正确", "username": username},
            status_code=401,
            headers={"Cache-Control": "no-store"},
        )
    await audit.record("login", actor=user.username, ip=client)
    await renew_session(request)
    now = clock.now().timestamp()
    request.set_session({SESSION_USER_KEY: user.id, "role": user.role, "iat": now, "seen": now})
    return Redirect(path=nxt, status_code=303)


@post("/logout", name="logout")
async def logout(request: Request) -> Redirect:
    user = await current_user(request)
    if user is not None:
        await audit.record("logout", actor=user.username, ip=request.client.host if request.client else "")
        forget_user(user.id)
    request.clear_session()
    return Redirect(path="/login", status_code=303)


def login_redirect(request: Request) -> str:
    return "/login?next=" + quote(request.url.path + (("?" + request.url.query) if request.url.query else ""), safe="/")


