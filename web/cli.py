"""The ``fengqiao`` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import warnings
from pathlib import Path
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


def cmd_seed(args: argparse.Namespace, settings: Settings) -> None:
    from core.statistics.seed import parse_years, seed_with_progress

    if args.cases < 1:
        raise CliError("--cases must be at least 1")
    try:
        parse_years(args.years)
    except ValueError as exc:
        raise CliError(str(exc)) from None

    async def go() -> Any:
        reg = await _prepare(settings)
        return await seed_with_progress(reg, settings.database_url, args.cases, args.years, args.seed)

    result = _run(go())
    print(f"seeded {result.cases} cases in {result.seconds:.1f} s (statistics rebuilt in {result.rebuild_seconds:.1f} s); "
          f"{result.organisations} organisations, {result.rooms} rooms")
    for username, password, label in result.logins:
        print(f"  {username:<18} {password:<16} {label}")


def _load_demo(settings: Settings) -> None:
    from core.crypto import FieldCipher
    from core.demo import load_demo

    async def go() -> list[tuple[str, str, str]]:
        reg = await _prepare(settings)
        return await load_demo(reg, FieldCipher.from_settings(settings))

    logins = _run(go())
    print("demo logins (username / password):")
    for username, password, label in logins:
        print(f"  {username:<12} {password:<16} {label}")


def _cipher(settings: Settings) -> Any:
    from core.crypto import FieldCipher

    return FieldCipher.from_settings(settings)


def _partner_call(settings: Settings, action: Any) -> Any:
    """Run ``action(registry)`` on a migrated database, turning a PartnerError into a one-line error."""
    from core.handoff.partners import PartnerError

    async def go() -> Any:
        reg = await _prepare(settings)
        try:
            return await action(reg)
        except PartnerError as exc:
            raise CliError(str(exc)) from None

    return _run(go())


def cmd_partners_add(args: argparse.Namespace, settings: Settings) -> None:
    import json

    from core.handoff.partners import create_partner

    created = _partner_call(settings, lambda reg: create_partner(
        args.partner_id, channel=args.channel, room_id=args.room, callback_url=args.callback_url,
        cipher=_cipher(settings), known_channels=set(reg.channels), name=args.name or ""))
    print(json.dumps(created, ensure_ascii=False))


def cmd_partners_list(args: argparse.Namespace, settings: Settings) -> None:
    import json

    from core.handoff.partners import list_partners

    rows = _partner_call(settings, lambda reg: list_partners())
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    for p in rows:
        state = "disabled" if p["disabled"] else "enabled"
        print(f"{p['partner_id']:<20} {p['channel']:<10} {p['room'] or '-':<16} {state:<8} {p['callback_url']}")
    if not rows:
        print("no partners")


def cmd_partners_rotate_secret(args: argparse.Namespace, settings: Settings) -> None:
    import json

    from core.handoff.partners import rotate_secret

    secret = _partner_call(settings, lambda reg: rotate_secret(args.partner_id, _cipher(settings)))
    print(json.dumps({"partner": args.partner_id, "secret": secret}))


def cmd_partners_rotate_token(args: argparse.Namespace, settings: Settings) -> None:
    import json

    from core.handoff.partners import rotate_token

    token = _partner_call(settings, lambda reg: rotate_token(args.partner_id))
    print(json.dumps({"partner": args.partner_id, "token": token}))


def cmd_partners_disable(args: argparse.Namespace, settings: Settings) -> None:
    from core.handoff.partners import set_disabled

    _partner_call(settings, lambda reg: set_disabled(args.partner_id, True))
    print(f"partner {args.partner_id} disabled (its token is refused; callbacks are held)")


def cmd_partners_enable(args: argparse.Namespace, settings: Settings) -> None:
    from core.handoff.partners import set_disabled

    _partner_call(settings, lambda reg: set_disabled(args.partner_id, False))
    print(f"partner {args.partner_id} enabled")


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    import signal
    from dataclasses import replace

    from core.handoff.outbox import OutboxConfig, OutboxWorker

    try:
        cfg = OutboxConfig.from_settings(settings)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.concurrency:
        cfg = replace(cfg, concurrency=args.concurrency)

    async def go() -> None:
        await _prepare(settings)
        await db.start(pool=settings.db_pool)
        worker = OutboxWorker(_cipher(settings), cfg)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, worker.stop)
        print(f"outbox worker {worker.name} running", flush=True)
        try:
            await worker.run(until_idle=args.once)
        finally:
            await db.stop()
        print(f"outbox worker stopped ({worker.delivered} delivered)", flush=True)

    _run(go())


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from core.handoff.outbox import OutboxConfig
    from web.app import create_app

    try:
        OutboxConfig.from_settings(settings)  # a malformed [outbox] setting is a one-line error, not a lifespan crash
    except ValueError as exc:
        raise CliError(str(exc)) from None
    _run(_prepare(settings))
    if args.demo:
        _load_demo(settings)
    app = create_app(settings, outbox_worker=not args.no_worker, deadline_sweeper=not args.no_worker)
    print(f"serving on http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, workers=1)


def cmd_deadlines_sweep(args: argparse.Namespace, settings: Settings) -> None:
    """Write ``case.deadline_passed`` for every open case past its due date (idempotent; cron-able)."""
    from core.case_clocks import run_sweep_hooks, sweep_overdue

    async def go() -> int:
        reg = await _prepare(settings)
        written = await sweep_overdue(reg)
        await run_sweep_hooks(reg)  # plugins' periodic work (reminders …)
        return written

    print(f"{_run(go())} case(s) newly past their deadline")


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> None:
    """Walk the audit chain; exit 1 naming the first broken link."""
    from core.audit import verify

    async def go() -> Any:
        await _prepare(settings)
        return await verify()

    result = _run(go())
    if not result.ok:
        raise CliError(f"audit chain broken at entry #{result.broken_at}: {result.reason} "
                       f"({result.checked} entries verified before it)")
    print(f"audit chain intact: {result.checked} entries")


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> None:
    """Re-encrypt every personal-data field to the current key; recompute blind indexes."""
    from core.keyrotation import rotate

    async def go() -> Any:
        await _prepare(settings)
        return await rotate(_cipher(settings), batch=args.batch)

    report = _run(go())
    print(report.summary())
    if report.failed:
        raise CliError(f"{report.failed} value(s) could not be decrypted with any configured key; "
                       "keep the old keys in settings and see the log")


def cmd_keys_status(args: argparse.Namespace, settings: Settings) -> None:
    """Count stored values per algorithm and key id (what a rotation would still touch)."""
    from core.keyrotation import key_usage

    async def go() -> Any:
        await _prepare(settings)
        return await key_usage(_cipher(settings))

    cipher = _cipher(settings)
    usage = _run(go())
    print(f"current: {cipher.algorithm} key {cipher.current}")
    for (algorithm, kid), count in sorted(usage.items()):
        print(f"  {algorithm:<12} {kid:<16} {count}")


def cmd_backup(args: argparse.Namespace, settings: Settings) -> None:
    from core.backup import backup

    _run(_prepare(settings))
    print(f"backup written to {backup(settings.database_url, Path(args.file))}")


def cmd_restore(args: argparse.Namespace, settings: Settings) -> None:
    from core.backup import restore

    restore(settings.database_url, Path(args.file))
    _run(_prepare(settings))  # a backup from an older version gets the newer migrations
    print(f"database restored from {Path(args.file).resolve()}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fengqiao", description="Fengqiao (枫桥) people's-mediation platform")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="migrate, then serve the web app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--demo", action="store_true", help="load the demo organisation (idempotent) and print its logins")
    p.add_argument("--log-level", default="info")
    p.add_argument("--no-worker", action="store_true", help="no background work in-process (outbox worker, deadline sweep)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run an outbox worker alone (delivers partner callbacks)")
    p.add_argument("--concurrency", type=int, help="deliveries in flight (default 32)")
    p.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    p.set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(func=cmd_migrate)
    p = sub.add_parser("backup", help="write a consistent backup (SQLite: online, while serving; PostgreSQL: pg_dump)")
    p.add_argument("file")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="replace the database with a backup (stop the app first)")
    p.add_argument("file")
    p.set_defaults(func=cmd_restore)
    audit_cmd = sub.add_parser("audit", help="the hash-chained audit log").add_subparsers(dest="audit_cmd", required=True)
    audit_cmd.add_parser("verify", help="check every link of the audit chain").set_defaults(func=cmd_audit_verify)
    keys = sub.add_parser("keys", help="personal-data encryption keys").add_subparsers(dest="keys_cmd", required=True)
    p = keys.add_parser("rotate", help="re-encrypt stored ID numbers, phones and partner secrets to the current key "
                        "and recompute blind indexes (safe while serving)")
    p.add_argument("--batch", type=int, default=200, help="rows per transaction (default 200)")
    p.set_defaults(func=cmd_keys_rotate)
    keys.add_parser("status", help="how many stored values each key still protects").set_defaults(func=cmd_keys_status)
    deadlines = sub.add_parser("deadlines", help="legal-calendar maintenance").add_subparsers(
        dest="deadlines_cmd", required=True)
    deadlines.add_parser("sweep", help="record passed deadlines (serve does this hourly)").set_defaults(
        func=cmd_deadlines_sweep)
    sub.add_parser("plugins", help="list loaded plugins, their versions and hooks").set_defaults(func=cmd_plugins)
    sub.add_parser("demo", help="load the demo data (idempotent) and print its logins").set_defaults(func=cmd_demo)
    p = sub.add_parser("seed", help="generate realistic bulk cases (channels, types, rooms, years) and rebuild statistics")
    p.add_argument("--cases", type=int, required=True, help="number of cases to add")
    p.add_argument("--years", help="registration years, e.g. 2022-2026 (default: the last three)")
    p.add_argument("--seed", type=int, default=20261122, help="random seed (same seed, same data)")
    p.set_defaults(func=cmd_seed)

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

    partners = sub.add_parser("partners", help="manage partner systems (referral API and callbacks)").add_subparsers(
        dest="partners_cmd", required=True)
    p = partners.add_parser("add", help="create a partner; prints its token and signing secret once, as JSON")
    p.add_argument("partner_id")
    p.add_argument("--channel", required=True)
    p.add_argument("--room", required=True, help="room id the partner's referrals land in")
    p.add_argument("--callback-url", required=True)
    p.add_argument("--name", help="display name of the partner agency")
    p.set_defaults(func=cmd_partners_add)
    p = partners.add_parser("list", help="list partners (never their token or secret)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_partners_list)
    p = partners.add_parser("rotate-secret", help="new signing secret, printed once as JSON")
    p.add_argument("partner_id")
    p.set_defaults(func=cmd_partners_rotate_secret)
    p = partners.add_parser("rotate-token", help="new bearer token, printed once as JSON")
    p.add_argument("partner_id")
    p.set_defaults(func=cmd_partners_rotate_token)
    p = partners.add_parser("disable", help="refuse the partner's token and hold its callbacks")
    p.add_argument("partner_id")
    p.set_defaults(func=cmd_partners_disable)
    p = partners.add_parser("enable", help="re-enable a disabled partner")
    p.add_argument("partner_id")
    p.set_defaults(func=cmd_partners_enable)
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
