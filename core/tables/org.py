"""Organisations, dispatched rooms and users."""

from piccolo.columns import (
    JSONB,
    Boolean,
    Date,
    ForeignKey,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

__all__ = ["Organisation", "Room", "User"]


class Organisation(Table, tablename="core_organisation"):
    """A people's-mediation organisation (调委会) in the registry (名册)."""

    code = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    kind = Varchar(length=32, default="dispatched")
    """village | township | industry | dispatched | enterprise | chamber | studio"""
    region = Varchar(length=100, default="")
    filing_no = Varchar(length=64, default="")
    """Filing (备案) number with the justice bureau; empty until filed."""
    filed_on = Date(null=True, default=None)
    checklist = JSONB(default={})
    """Standardisation checklist (四落实五有六统一七公开): item key → true/false."""
    created_at = Timestamptz()


class Room(Table, tablename="core_room"):
    """A dispatched mediation room (派驻调解工作室), tied to one partner agency and channel."""

    room_id = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=True)
    channel = Varchar(length=64, index=True)
    partner_agency = Varchar(length=200, default="")
    number_prefix = Varchar(length=64, default="人调")
    """The room's part of a case number, e.g. ``郧西人调`` in （2026）郧西人调字第0001号."""
    active = Boolean(default=True)
    created_at = Timestamptz()


class User(Table, tablename="core_user"):
    """A person who logs in: mediator (one room), supervisor (one organisation) or admin."""

    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=100, default="")
    password_hash = Varchar(length=255, secret=True)
    role = Varchar(length=16)
    room = ForeignKey(references=Room, on_delete=OnDelete.restrict, null=True)
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=True)
    active = Boolean(default=True)
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)
