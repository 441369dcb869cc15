"""Links into an existing video-conference system for online sessions — never a home-made video stack.

The deployment chooses the system in ``[online.video]``; built in is Jitsi Meet with JWT
authentication (``prosody`` token auth: a room URL carries a token signed with the shared secret)::

    [online.video]
    provider = "jitsi"
    base_url = "https://meet.example.gov.cn"
    app_id = "fengqiao"          # the token's issuer, as configured on the Jitsi server
    secret = "…"                 # the shared secret (app_secret) of the Jitsi server

Without ``[online.video]`` slots can still be marked online; parties then see that the room will
tell them how to join.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlparse

import jwt

__all__ = ["video_settings", "join_url"]


def video_settings(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``[online.video]`` section if it names a supported provider with what it needs."""
    cfg = dict(raw.get("online", {}).get("video", {}) or {})
    if cfg.get("provider") != "jitsi":
        return None
    if not (cfg.get("base_url") and cfg.get("app_id") and cfg.get("secret")):
        return None
    return cfg


def join_url(cfg: Mapping[str, Any], room: str, *, name: str, moderator: bool, not_after: dt.datetime) -> str:
    """A Jitsi room URL with a signed token for ``name``; valid until ``not_after``."""
    base = str(cfg["base_url"]).rstrip("/")
    claims = {
        "aud": "jitsi",
        "iss": cfg["app_id"],
        "sub": urlparse(base).hostname or "*",
        "room": room,
        "exp": int(not_after.timestamp()),
        "nbf": int((not_after - dt.timedelta(days=2)).timestamp()),
        "context": {"user": {"name": name, "moderator": moderator}},
        "moderator": moderator,
    }
    token = jwt.encode(claims, str(cfg["secret"]), algorithm="HS256")
    return f"{base}/{quote(room)}?jwt={token}"
