"""Run the Piccolo migrations of core (and of plugin apps) on the configured database."""

from __future__ import annotations

import contextlib
import io

from piccolo.apps.migrations.commands.forwards import run_forwards

__all__ = ["migrate"]


async def migrate(quiet: bool = True) -> None:
    """Apply every pending migration. Raises ``RuntimeError`` with Piccolo's message on failure."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf) if quiet else contextlib.nullcontext():
        result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}\n{buf.getvalue()[-2000:]}")
