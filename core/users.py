"""Organisations, rooms and users: creation and password checks (argon2id)."""

from __future__ import annotations

import re
import time
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core import clock
from core.access import ROLES, UserCtx
from core.db import write_transaction
from core.tables import Organisation, Room, User

__all__ = ["UserError", "create_organisation", "create_room", "create_user", "authenticate", "password_problem",
           "get_user", "get_user_cached", "forget_user", "set_user_active"]

_hasher = PasswordHasher()
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
_DUMMY_HASH = _hasher.hash("timing-equaliser")
COMMON_PASSWORDS = frozenset(
    {"12345678", "123456789", "1234567890", "password", "password1", "qwertyui", "11111111",
     "88888888", "abc12345", "iloveyou", "admin123", "a1234567", "qwerty123", "00000000"}
)


class UserError(ValueError):
    """A refused user/room/organisation operation, with a one-line message."""


def password_problem(password: str) -> str | None:
    if len(password) < 8:
        return "密码至少 8 位"
    if password.lower() in COMMON_PASSWORDS:
        return "密码过于常见，请换一个"
    return None


async def create_organisation(code: str, name: str, *, kind: str = "dispatched", region: str = "") -> dict[str, Any]:
    if not _SLUG.match(code):
        raise UserError(f"organisation code {code!r} must be a slug (a-z, 0-9, '-', '_')")
    async with write_transaction():
        existing = await Organisation.select().where(Organisation.code == code).first()
        if existing:
            return existing
        await Organisation.insert(
            Organisation(code=code, name=name, kind=kind, region=region, created_at=clock.now())
        )
        return await Organisation.select().where(Organisation.code == code).first()


async def create_room(
    room_id: str,
    *,
    name: str,
    channel: str,
    organisation: int | None = None,
    partner_agency: str = "",
    number_prefix: str = "人调",
    known_channels: set[str] | None = None,
) -> dict[str, Any]:
    """Create a room; refuses a duplicate id or (when ``known_channels`` is given) an unknown channel."""
    if not _SLUG.match(room_id):
        raise UserError(f"room id {room_id!r} must be a slug (a-z, 0-9, '-', '_')")
    if known_channels is not None and channel not in known_channels:
        raise UserError(f"unknown or disabled channel {channel!r}; enabled: {', '.join(sorted(known_channels))}")
    async with write_transaction():
        if await Room.exists().where(Room.room_id == room_id):
            raise UserError(f"room {room_id!r} already exists")
        await Room.insert(
            Room(room_id=room_id, name=name, channel=channel, organisation=organisation,
                 partner_agency=partner_agency, number_prefix=number_prefix, created_at=clock.now())
        )
        return await Room.select().where(Room.room_id == room_id).first()


async def create_user(
    username: str,
    password: str,
    *,
    role: str,
    room_id: str | None = None,
    display_name: str = "",
    organisation: int | None = None,
) -> dict[str, Any]:
    """Create a user. Mediators need a room; supervisors get the room's organisation if not given."""
    if not _SLUG.match(username):
        raise UserError(f"username {username!r} must be a slug (a-z, 0-9, '-', '_')")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if problem := password_problem(password):
        raise UserError(problem)
    room = None
    if room_id:
        room = await Room.select().where(Room.room_id == room_id).first()
        if room is None:
            raise UserError(f"room {room_id!r} does not exist")
    if role == "mediator" and room is None:
        raise UserError("a mediator needs --room")
    if role == "supervisor" and organisation is None:
        organisation = room["organisation"] if room else None
        if organisation is None:
            raise UserError("a supervisor needs --room (whose organisation they supervise)")
    async with write_transaction():
        if await User.exists().where(User.username == username):
            raise UserError(f"user {username!r} already exists")
        await User.insert(
            User(
                username=username,
                display_name=display_name or username,
                password_hash=_hasher.hash(password),
                role=role,
                room=room["id"] if room else None,
                organisation=organisation if organisation is not None else (room["organisation"] if room else None),
                created_at=clock.now(),
            )
        )
        return await User.select(User.all_columns(exclude=[User.password_hash])).where(User.username == username).first()


async def authenticate(username: str, password: str) -> UserCtx | None:
    """The user if the password matches an active account, else ``None`` (constant-ish time)."""
    row = await User.select().where((User.username == username) & (User.active == True)).first()  # noqa: E712
    if row is None:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return None
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(row["password_hash"]):
        await User.update({User.password_hash: _hasher.hash(password)}).where(User.id == row["id"])
    await User.update({User.last_login_at: clock.now()}).where(User.id == row["id"])
    return UserCtx.from_row(row)


async def get_user(user_id: int) -> UserCtx | None:
    row = await User.select().where((User.id == user_id) & (User.active == True)).first()  # noqa: E712
    return UserCtx.from_row(row) if row else None


USER_CACHE_SECONDS = 2.0
"""How long :func:`get_user_cached` trusts an answer. Changes made through this module (e.g.
:func:`set_user_active`) and log-outs take effect at once in this process; changes made by another
process or directly in the database take effect within this many seconds."""
_user_cache: dict[int, tuple[float, Any, UserCtx | None]] = {}


async def get_user_cached(user_id: int) -> UserCtx | None:
    """:func:`get_user` behind a very short-lived in-process cache (the per-request session check of
    the web layer; saves a query — on SQLite a connection — on every request)."""
    from core.db import engine

    db, now = engine(), time.monotonic()
    hit = _user_cache.get(user_id)
    if hit is not None and hit[0] > now and hit[1] is db:  # the engine check: tests switch databases
        return hit[2]
    user = await get_user(user_id)
    if len(_user_cache) > 10_000:
        _user_cache.clear()
    _user_cache[user_id] = (now + USER_CACHE_SECONDS, db, user)
    return user


def forget_user(user_id: int | None = None) -> None:
    """Drop the cached answer for ``user_id`` (all of them with ``None``)."""
    if user_id is None:
        _user_cache.clear()
    else:
        _user_cache.pop(user_id, None)


async def set_user_active(user_id: int, active: bool) -> bool:
    """Activate or deactivate an account; a deactivated user's sessions stop working at once in this
    process (and within ``USER_CACHE_SECONDS`` in others). Returns whether the user exists."""
    async with write_transaction():
        exists = await User.exists().where(User.id == user_id)
        if exists:
            await User.update({User.active: active}).where(User.id == user_id)
    forget_user(user_id)
    return bool(exists)
