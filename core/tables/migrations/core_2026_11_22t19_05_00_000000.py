"""A composite index for the case list's keyset pagination within a scope.

The case list orders by ``id`` (descending) and is scoped to a room (mediators) or to the rooms of an
organisation (supervisors). With an index on ``room`` alone, PostgreSQL either walks the primary key
backwards and filters by room (slow for deep pages of a small room) or fetches every case of the room
from the heap and sorts; the capped count (``LIMIT 10001``) had to visit the heap for every row.
``(room, id)`` serves the page as an ordered index range and the count as an index-only scan. SQLite
gets the same index (its ``room`` index already carries the rowid, so there it mainly keeps the two
engines' schemas alike). Plain ``CREATE INDEX`` — ``CONCURRENTLY`` cannot run inside the migration's
transaction.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T19:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case list index (room, id)"

STATEMENTS = ["CREATE INDEX IF NOT EXISTS core_case_room_id ON core_case (room, id)"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run():
        from core.tables import Case

        for sql in STATEMENTS:
            await Case._meta.db.run_ddl(sql)

    async def back():
        from core.tables import Case

        await Case._meta.db.run_ddl("DROP INDEX IF EXISTS core_case_room_id")

    manager.add_raw(run)
    manager.add_raw_backwards(back)
    return manager
