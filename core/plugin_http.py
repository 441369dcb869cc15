"""What a plugin's route handlers need from the running app, without importing ``web``.

The web app registers every route a plugin contributes (``fengqiao_register_routes``) behind its log-in
guard — session idle and absolute time-outs included — which leaves the signed-in user on the
connection state before any plugin code runs. Handlers read the user and the registry here.
"""

from __future__ import annotations

from typing import Any

from litestar.exceptions import NotAuthorizedException

from core.access import UserCtx

__all__ = ["signed_in_user", "registry_of"]


def signed_in_user(request: Any) -> UserCtx:
    """The user the app's log-in guard found for this request.

    Raises:
        NotAuthorizedException: no signed-in user (the app sends browsers to the log-in page).
    """
    user = request.state.get("fq_user")
    if not isinstance(user, UserCtx):
        raise NotAuthorizedException("请先登录")
    return user


def registry_of(request: Any) -> Any:
    """The running deployment's :class:`core.registry.Registry`."""
    return request.app.state["fq"].registry
