"""Backup and restore of the deployment's database.

- SQLite: SQLite's online backup API copies a consistent snapshot while the app keeps serving
  (readers and writers are not stopped); restore copies the snapshot back over the database file
  (stop the app first — the CLI refuses nothing, but a running app would keep the old file open).
- PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists`` (the server's
  own tools; they must be on ``PATH``).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote

__all__ = ["BackupError", "backup", "restore"]


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why in one line."""


def _sqlite_path(url: str) -> Path:
    return Path(unquote(url.removeprefix("sqlite:///"))).expanduser().resolve()


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(f"{name} is not installed (Debian package postgresql-client)")
    return tool


def backup(database_url: str, target: Path) -> Path:
    """Write a backup of the database to ``target``; returns the file written."""
    target = target.expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if database_url.startswith("sqlite:///"):
        source = _sqlite_path(database_url)
        if not source.exists():
            raise BackupError(f"database file {source} does not exist")
        src = sqlite3.connect(source)
        dst = sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)  # consistent snapshot, concurrent with the running app
        finally:
            dst.close()
            src.close()
        return target
    out = subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", database_url],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise BackupError(f"pg_dump failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
    return target


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with the backup in ``source``."""
    source = source.expanduser().resolve()
    if not source.is_file():
        raise BackupError(f"backup file {source} does not exist")
    if database_url.startswith("sqlite:///"):
        target = _sqlite_path(database_url)
        src = sqlite3.connect(source)
        try:
            if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is not an intact SQLite database")
            dst = sqlite3.connect(target)
            try:
                with dst:
                    src.backup(dst)
            finally:
                dst.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite database: {exc}") from None
        finally:
            src.close()
        return
    out = subprocess.run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                          f"--dbname={database_url}", str(source)], capture_output=True, text=True)
    if out.returncode != 0:
        raise BackupError(f"pg_restore failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
