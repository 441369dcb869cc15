"""The ``fengqiao`` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from core import db
from core.settings import Settings, SettingsError, load_settings

__all__ = ["main"]


class CliError(Exception):
    """A one-line error for the user; exits non-zero."""


async def _prepare(settings: Settings) -> Any:
    from core.migrate import migrate
    from core.registry import build_registry

    reg = build_registry(settings)
    db.configure(settings.database_url)
    await migrate()
    return reg


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    _run(_prepare(settings))
    print(f"database is up to date: {_redact(settings.database_url)}")


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def cmd_rooms_add(args: argparse.Namespace, settings: Settings) -> None:
    from core.users import UserError, create_organisation, create_room

    async def go() -> dict[str, Any]:
        reg = await _prepare(settings)
        if args.channel not in reg.channels:  # checked before anything is written
            raise CliError(f"unknown or disabled channel {args.channel!r}; enabled: {', '.join(sorted(reg.channels))}")
        try:
            org = None
            if args.organisation:
                org = (await create_organisation(args.organisation, args.organisation_name or args.organisation))["id"]
            return await create_room(args.room_id, name=args.name, channel=args.channel, organisation=org,
                                     partner_agency=args.agency or "", number_prefix=args.prefix,
                                     known_channels=set(reg.channels))
        except UserError as exc:
            raise CliError(str(exc)) from None

    room = _run(go())
    print(f"room {room['room_id']} created ({room['name']}, channel {room['channel']})")


def cmd_users_add(args: argparse.Namespace, settings: Settings) -> None:
    from core.users import UserError, create_user

    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else __import__("getpass").getpass("password: ")
    if not password:
        raise CliError("no password given on stdin")

    async def go() -> dict[str, Any]:
        await _prepare(settings)
        try:
            return await create_user(args.username, password, role=args.role, room_id=args.room,
                                     display_name=args.display_name or "")
        except UserError as exc:
            raise CliError(str(exc)) from None

    user = _run(go())
    print(f"user {user['username']} created (role {user['role']})")


def cmd_plugins(args: argparse.Namespace, settings: Settings) -> None:
    from core.plugins import plugin_infos
    from core.registry import build_registry

    reg = build_registry(settings)
    for info in plugin_infos(reg.pm):
        print(f"{info.name:<16} {info.version:<10} {info.module}")
        print(f"{'':<16} hooks: {', '.join(info.hooks)}")
    print("channels: " + ", ".join(f"{k} ({reg.owners[k]})" for k in reg.channels))


def cmd_demo(args: argparse.Namespace, settings: Settings) -> None:
    _load_demo(settings)


def _load_demo(settings: Settings) -> None:
    from core.crypto import FieldCipher
    from core.demo import load_demo

    async def go() -> list[tuple[str, str, str]]:
        reg = await _prepare(settings)
        return await load_demo(reg, FieldCipher.from_secret(settings.secret_key))

    logins = _run(go())
    print("demo logins (username / password):")
    for username, password, label in logins:
        print(f"  {username:<12} {password:<16} {label}")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from web.app import create_app

    _run(_prepare(settings))
    if args.demo:
        _load_demo(settings)
    app = create_app(settings)
    print(f"serving on http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, workers=1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fengqiao", description="Fengqiao (枫桥) people's-mediation platform")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="migrate, then serve the web app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--demo", action="store_true", help="load the demo organisation (idempotent) and print its logins")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("plugins", help="list loaded plugins, their versions and hooks").set_defaults(func=cmd_plugins)
    sub.add_parser("demo", help="load the demo data (idempotent) and print its logins").set_defaults(func=cmd_demo)

    rooms = sub.add_parser("rooms", help="manage dispatched rooms").add_subparsers(dest="rooms_cmd", required=True)
    p = rooms.add_parser("add", help="create a room")
    p.add_argument("room_id")
    p.add_argument("--name", required=True)
    p.add_argument("--channel", required=True)
    p.add_argument("--agency", help="the partner agency the room is placed in")
    p.add_argument("--prefix", default="人调", help="case number prefix, e.g. 郧西人调")
    p.add_argument("--organisation", help="organisation code (created if missing)")
    p.add_argument("--organisation-name")
    p.set_defaults(func=cmd_rooms_add)

    users = sub.add_parser("users", help="manage users").add_subparsers(dest="users_cmd", required=True)
    p = users.add_parser("add", help="create a user; the password is read from stdin")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=["mediator", "supervisor", "admin"])
    p.add_argument("--room", help="room id (required for mediators and supervisors)")
    p.add_argument("--display-name")
    p.set_defaults(func=cmd_users_add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI. Any failure is one line on stderr and exit status 1 (``FENGQIAO_DEBUG=1`` re-raises)."""
    args = build_parser().parse_args(argv)
    # Piccolo warns on stdout/stderr when PostgreSQL is unreachable; our own error line says it once.
    warnings.filterwarnings("ignore", message=r".*Unable to connect to database")
    try:
        settings = load_settings()
        logging.basicConfig(level=logging.INFO if settings.trace_plugins else logging.WARNING,
                            format="%(levelname)s %(name)s: %(message)s")
        args.func(args, settings)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one clear line, never a traceback
        if os.environ.get("FENGQIAO_DEBUG") == "1":
            raise
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if not isinstance(exc, CliError | SettingsError):
            detail = f"{type(exc).__name__}: {detail}"
        print(f"fengqiao: error: {detail}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
