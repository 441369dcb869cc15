"""Partners: creation, listing, secret rotation, disabling, and bearer-token authentication.

A bearer token is shown once and stored as its SHA-256 (a 256-bit random token needs no slow hash);
authentication looks the hash up and compares it again in constant time. The Standard Webhooks
signing secret (``whsec_<base64 of 32 random bytes>``) is encrypted with the deployment's field
cipher, because the worker must recover it to sign.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from core import clock
from core.crypto import FieldCipher
from core.db import write_transaction
from core.handoff.tables import Partner
from core.tables import Room

__all__ = [
    "PartnerError",
    "PartnerCtx",
    "authenticate",
    "create_partner",
    "list_partners",
    "rotate_secret",
    "rotate_token",
    "set_disabled",
    "partner_secret",
    "hash_token",
]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
SECRET_CONTEXT = "handoff-signing-secret"


class PartnerError(ValueError):
    """A refused partner operation, with a one-line message."""


@dataclass(frozen=True)
class PartnerCtx:
    """An authenticated partner as the API sees it."""

    id: int
    partner_id: str
    channel: str
    room: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return "fqp_" + secrets.token_urlsafe(32)


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PartnerError(f"callback URL {url!r} must be an absolute http:// or https:// URL")


def _public(row: dict[str, Any], room_key: str | None = None) -> dict[str, Any]:
    return {
        "partner_id": row["partner_id"],
        "name": row.get("name") or "",
        "channel": row["channel"],
        "room": room_key if room_key is not None else row.get("room_key"),
        "callback_url": row["callback_url"],
        "disabled": bool(row["disabled"]),
        "created_at": row["created_at"].astimezone(clock.TZ).isoformat(timespec="seconds") if row.get("created_at") else None,
    }


async def create_partner(
    partner_id: str,
    *,
    channel: str,
    room_id: str,
    callback_url: str,
    cipher: FieldCipher,
    known_channels: set[str],
    name: str = "",
) -> dict[str, Any]:
    """Create a partner; returns ``{"partner": {...}, "token": …, "secret": …}`` (shown once).

    Raises:
        PartnerError: bad slug, unknown/disabled channel, unknown room or one of another channel,
            bad URL, or an existing partner id.
    """
    if not _SLUG.match(partner_id):
        raise PartnerError(f"partner id {partner_id!r} must be a slug (a-z, 0-9, '-', '_', 2-64 characters)")
    if channel not in known_channels:
        raise PartnerError(f"unknown or disabled channel {channel!r}; enabled: {', '.join(sorted(known_channels))}")
    _check_url(callback_url)
    room = await Room.select().where(Room.room_id == room_id).first()
    if room is None:
        raise PartnerError(f"room {room_id!r} does not exist")
    if room["channel"] != channel:
        raise PartnerError(f"room {room_id!r} takes channel {room['channel']!r}, not {channel!r}")
    token, secret = _new_token(), _new_secret()
    now = clock.now()
    async with write_transaction():
        if await Partner.exists().where(Partner.partner_id == partner_id):
            raise PartnerError(f"partner {partner_id!r} already exists")
        await Partner.insert(
            Partner(
                partner_id=partner_id,
                name=name,
                channel=channel,
                room=room["id"],
                callback_url=callback_url,
                token_hash=hash_token(token),
                secret_enc=cipher.encrypt(secret, SECRET_CONTEXT),
                disabled=False,
                created_at=now,
                updated_at=now,
            )
        )
        row = await Partner.select().where(Partner.partner_id == partner_id).first()
    return {"partner": _public(row, room_id), "token": token, "secret": secret}


async def list_partners() -> list[dict[str, Any]]:
    rows = await Partner.select(Partner.all_columns(), Partner.room.room_id.as_alias("room_key")).order_by(
        Partner.partner_id
    )
    return [_public(r) for r in rows]


async def _get(partner_id: str) -> dict[str, Any]:
    row = await Partner.select().where(Partner.partner_id == partner_id).first()
    if row is None:
        raise PartnerError(f"partner {partner_id!r} does not exist")
    return row


async def rotate_secret(partner_id: str, cipher: FieldCipher) -> str:
    """Replace the signing secret; every later delivery attempt is signed with the new one."""
    await _get(partner_id)
    secret = _new_secret()
    await Partner.update(
        {Partner.secret_enc: cipher.encrypt(secret, SECRET_CONTEXT), Partner.updated_at: clock.now()}
    ).where(Partner.partner_id == partner_id)
    return secret


async def rotate_token(partner_id: str) -> str:
    """Replace the bearer token; the old one stops working at once."""
    await _get(partner_id)
    token = _new_token()
    await Partner.update({Partner.token_hash: hash_token(token), Partner.updated_at: clock.now()}).where(
        Partner.partner_id == partner_id
    )
    return token


async def set_disabled(partner_id: str, disabled: bool) -> None:
    """Disable (token refused with 401, callbacks held) or re-enable a partner."""
    await _get(partner_id)
    await Partner.update({Partner.disabled: disabled, Partner.updated_at: clock.now()}).where(
        Partner.partner_id == partner_id
    )


async def partner_secret(row: dict[str, Any], cipher: FieldCipher) -> str:
    return cipher.decrypt(row["secret_enc"], SECRET_CONTEXT)


async def authenticate(authorization: str | None) -> PartnerCtx | None:
    """The enabled partner whose token is in ``Authorization: Bearer <token>``, else ``None``."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    digest = hash_token(token)
    row = await Partner.select(
        Partner.id, Partner.partner_id, Partner.channel, Partner.room, Partner.token_hash, Partner.disabled
    ).where(Partner.token_hash == digest).first()
    if row is None or not hmac.compare_digest(row["token_hash"], digest) or row["disabled"]:
        return None
    return PartnerCtx(id=row["id"], partner_id=row["partner_id"], channel=row["channel"], room=row["room"])
