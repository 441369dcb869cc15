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

from core import audit
from core.access import UserCtx
from core.users import authenticate, get_user
from web.sessions import renew_session

__all__ = ["current_user", "requires_login", "login_page", "login", "logout", "SESSION_USER_KEY"]

SESSION_USER_KEY = "uid"


async def current_user(connection: ASGIConnection) -> UserCtx | None:
    """The signed-in user (cached on the connection state), or ``None``."""
    if "fq_user" in connection.state:
        return connection.state["fq_user"]
    user = None
    session = connection.scope.get("session") or {}
    uid = session.get(SESSION_USER_KEY) if isinstance(session, dict) else None
    if isinstance(uid, int):
        user = await get_user(uid)
    connection.state["fq_user"] = user
    return user


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
    user = await authenticate(username, password) if username and password else None
    client = request.client.host if request.client else ""
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
    request.set_session({SESSION_USER_KEY: user.id, "role": user.role})
    return Redirect(path=nxt, status_code=303)


@post("/logout", name="logout")
async def logout(request: Request) -> Redirect:
    user = await current_user(request)
    if user is not None:
        await audit.record("logout", actor=user.username, ip=request.client.host if request.client else "")
    request.clear_session()
    return Redirect(path="/login", status_code=303)


def login_redirect(request: Request) -> str:
    return "/login?next=" + quote(request.url.path + (("?" + request.url.query) if request.url.query else ""), safe="/")


