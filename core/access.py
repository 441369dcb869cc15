"""Who may see what: every case query goes through :func:`case_scope`.

- a mediator sees the cases of their room;
- a supervisor sees the cases of every room of their organisation;
- an admin sees everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.tables import Case, Room

__all__ = ["UserCtx", "ROLES", "case_scope", "case_scope_sql", "room_scope"]

ROLES = {"mediator": "调解员", "supervisor": "督导/管理人员", "admin": "系统管理员"}


@dataclass(frozen=True)
class UserCtx:
    """The signed-in user as the domain layer sees them."""

    id: int
    username: str
    display_name: str
    role: str
    room: int | None
    organisation: int | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> UserCtx:
        return cls(
            id=row["id"],
            username=row["username"],
            display_name=row.get("display_name") or row["username"],
            role=row["role"],
            room=row.get("room"),
            organisation=row.get("organisation"),
        )


def case_scope(user: UserCtx) -> Any:
    """A Piccolo ``where`` clause limiting ``Case`` rows to what ``user`` may see."""
    if user.role == "admin":
        return Case.id.is_not_null()
    if user.role == "supervisor" and user.organisation is not None:
        return Case.room.organisation == user.organisation
    if user.role == "mediator" and user.room is not None:
        return Case.room == user.room
    return Case.id == -1  # a user without a room or organisation sees nothing


def _scope_sql(user: UserCtx, organisation: str, room: str) -> tuple[str, list[Any]]:
    """The scope rule as plain SQL (``{}`` placeholders), given the columns holding a row's organisation
    and room."""
    if user.role == "admin":
        return "1 = 1", []
    if user.role == "supervisor" and user.organisation is not None:
        return f"{organisation} = {{}}", [user.organisation]
    if user.role == "mediator" and user.room is not None:
        return f"{room} = {{}}", [user.room]
    return "1 = 0", []


def case_scope_sql(user: UserCtx, case: str = "c", room: str = "r") -> tuple[str, list[Any]]:
    """:func:`case_scope` as plain SQL (``{}`` placeholders) over ``core_case`` aliased ``case`` joined
    to its ``core_room`` aliased ``room``."""
    return _scope_sql(user, f"{room}.organisation", f"{case}.room")


def room_scope_sql(user: UserCtx, room: str = "r") -> tuple[str, list[Any]]:
    """:func:`room_scope` as plain SQL (``{}`` placeholders) over ``core_room`` aliased ``room``."""
    return _scope_sql(user, f"{room}.organisation", f"{room}.id")


def room_scope(user: UserCtx) -> Any:
    """The same rule for ``Room`` rows."""
    if user.role == "admin":
        return Room.id.is_not_null()
    if user.role == "supervisor" and user.organisation is not None:
        return Room.organisation == user.organisation
    if user.role == "mediator" and user.room is not None:
        return Room.id == user.room
    return Room.id == -1
