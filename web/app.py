"""The Litestar app factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

from litestar import Litestar, Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.enums import MediaType
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.logging.config import LoggingConfig
from litestar.plugins.htmx import HTMXPlugin
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router

from core import db
from core.crypto import FieldCipher
from core.migrate import migrate
from core.registry import build_registry
from core.settings import Settings, load_settings
from web.api import api_router, openapi_config
from web.audit import AuditMiddleware
from web.auth import login, login_page, login_redirect, logout, requires_login
from web.controllers.cases import CaseController
from web.controllers.intake import IntakeController
from web.controllers.meta import health, plugins_page
from web.controllers.org import OrgController
from web.controllers.readback import ReadbackController
from web.i18n import LocaleMiddleware, set_preferences
from web.partner_audit import PartnerAuditMiddleware
from web.security import add_security_headers
from web.sessions import RenewingSessionConfig, SessionFileStore
from web.state import AppState
from web.templating import template_config
from web.party import PARTY_ROUTES, STAFF_ROUTES

__all__ = ["create_app"]

HERE = Path(__file__).parent
log = logging.getLogger("fengqiao.web")


def _unavailable(request: Request, exc: BaseException) -> Response:
    """503 with ``Retry-After`` when the database is unreachable or restarting (never a 500 page);
    the connection pool reconnects by itself once the server is back."""
    log.warning("database unavailable for %s %s: %s", request.method, request.url.path, type(exc).__name__)
    headers = {"Retry-After": str(db.RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if request.url.path.startswith("/api/"):
        return Response({"error": {"code": "unavailable", "message": "the service is temporarily unavailable; "
                                   f"retry after {db.RETRY_AFTER_SECONDS} seconds"}}, status_code=503, headers=headers)
    return Template(
        "pages/error.html",
        context={"status": 503, "message": "系统暂时无法访问数据库，请稍候几秒后重试；已保存的内容不会丢失。", "user": None},
        status_code=503,
        media_type=MediaType.HTML,
        headers=headers,
    )


def _database_error_handler(request: Request, exc: Exception) -> Response:
    """Exceptions of the classes a lost database connection raises: 503 when it is one, else as usual."""
    if db.is_unavailable(exc):
        return _unavailable(request, exc)
    if request.url.path.startswith("/api/"):
        from web.api import _api_exception_handler

        return _api_exception_handler(request, exc)
    return _error_handler(request, exc)


def _error_handler(request: Request, exc: Exception) -> Response:
    """HTML errors for people, JSON for the API; log-in redirect for anonymous page requests."""
    if not isinstance(exc, HTTPException) and db.is_unavailable(exc):
        return _unavailable(request, exc)
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if request.url.path.startswith("/api/"):
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(status, "error")
        return Response({"error": {"code": code, "message": getattr(exc, "detail", "") or code}}, status_code=status)
    if isinstance(exc, NotAuthorizedException):
        if getattr(request, "htmx", None):
            return Response("", status_code=401, headers={"HX-Redirect": login_redirect(request)})
        return Redirect(path=login_redirect(request), status_code=303)
    if status >= 500:
        log.exception("unhandled error", exc_info=exc)
    messages = {403: "您没有权限执行此操作，或页面已过期，请刷新后重试。", 404: "页面或案件不存在，或您无权查看。",
                405: "不支持此请求方式。"}
    return Template(
        "pages/error.html",
        context={"status": status, "message": messages.get(status, "系统出现错误，请稍后再试。"), "user": None},
        status_code=status,
        media_type=MediaType.HTML,
        headers={"Cache-Control": "no-store"},
    )


def create_app(
    settings: Settings | None = None,
    *,
    plugins: Sequence[object | str] | None = None,
    entry_points: bool = True,
    run_migrations: bool = True,
    outbox_worker: bool = False,
    deadline_sweeper: bool = False,
) -> Litestar:
    """Build the app for ``settings`` (default: from the environment).

    Args:
        plugins: explicit built-in plugin list (tests); default ``core.plugins.DEFAULT_PLUGINS``.
        entry_points: load outside plugins from the ``fengqiao`` entry-point group.
        run_migrations: apply pending migrations at start-up.
        outbox_worker: run an outbox worker in-process (``fengqiao serve`` does, unless
            ``--no-worker``), started with the app and stopped cleanly on shutdown.
        deadline_sweeper: write ``case.deadline_passed`` events in-process, at start-up and then
            every ``FENGQIAO_SWEEP_INTERVAL`` seconds (default 3600; ``fengqiao serve`` does).
    """
    settings = settings or load_settings()
    registry = build_registry(settings, plugins, entry_points=entry_points)
    db.configure(settings.database_url)
    state = AppState(settings=settings, registry=registry, cipher=FieldCipher.from_settings(settings))

    worker_tasks: list[Any] = []
    sweep_tasks: list[Any] = []

    async def on_startup(app: Litestar) -> None:
        await db.start(pool=settings.db_pool)
        if run_migrations:
            await migrate()
        if outbox_worker:
            import asyncio

            from core.handoff.outbox import OutboxConfig, OutboxWorker

            worker = OutboxWorker(state.cipher, OutboxConfig.from_settings(settings))
            worker_tasks.append((worker, asyncio.create_task(worker.run(), name="outbox-worker")))
        if deadline_sweeper:
            import asyncio
            import os

            from core.case_clocks import sweep_forever

            stop = asyncio.Event()
            interval = float(os.environ.get("FENGQIAO_SWEEP_INTERVAL", "3600"))
            sweep_tasks.append((stop, asyncio.create_task(sweep_forever(registry, interval, stop), name="sweeper")))

    async def on_shutdown(app: Litestar) -> None:
        for worker, task in worker_tasks:
            worker.stop()
            await task
        worker_tasks.clear()
        for stop, task in sweep_tasks:
            stop.set()
            await task
        sweep_tasks.clear()
        await db.stop()

    plugin_routes: list[Any] = []
    for result in registry.pm.hook.fengqiao_register_routes(settings=settings):
        plugin_routes.extend(result or [])

    sessions_dir = settings.data_dir / "sessions"
    sessions_dir.mkdir(parents=True, exist_ok=True)
    app = Litestar(
        route_handlers=[
            # HTML pages stay out of the OpenAPI document, which describes the partner API
            Router(path="/", include_in_schema=False, route_handlers=[
                login_page, login, logout, health, plugins_page, set_preferences, CaseController, ReadbackController, IntakeController, OrgController, *PARTY_ROUTES, *STAFF_ROUTES,
            ]),
            # plugins' pages are for signed-in staff: the guard applies the session time-outs before any
            # plugin code runs, and leaves the user in ``request.state["fq_user"]``
            Router(path="/", include_in_schema=False, guards=[requires_login], route_handlers=plugin_routes),
            api_router(registry),
            create_static_files_router(path="/static", directories=[HERE / "static"], name="static"),
        ],
        openapi_config=openapi_config(),
        template_config=template_config(registry),
        plugins=[HTMXPlugin()],
        middleware=[
            LocaleMiddleware,
            AuditMiddleware,
            PartnerAuditMiddleware,
            RenewingSessionConfig(
                key="fq_session",
                secure=settings.secure_cookies,
                httponly=True,
                samesite="lax",
                max_age=12 * 3600,
            ).middleware
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            cookie_samesite="lax",
            exclude=["/api/"],
        ),
        stores={"sessions": SessionFileStore(sessions_dir)},
        before_send=[add_security_headers],
        exception_handlers={HTTPException: _error_handler, NotFoundException: _error_handler,
                            PermissionDeniedException: _error_handler, Exception: _error_handler,
                            **{t: _database_error_handler for t in db.unavailable_exception_types()}},
        logging_config=LoggingConfig(log_exceptions="never"),  # _error_handler logs 5xx
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        state={"fq": state},
        debug=False,
    )
    return app
