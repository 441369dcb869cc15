"""Append-only case event log: the database itself refuses UPDATE and DELETE on core_case_event."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-22T15:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "append-only case events"

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS core_case_event_no_update BEFORE UPDATE ON core_case_event
       BEGIN SELECT RAISE(ABORT, 'core_case_event is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS core_case_event_no_delete BEFORE DELETE ON core_case_event
       BEGIN SELECT RAISE(ABORT, 'core_case_event is append-only'); END""",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION core_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$""",
    """CREATE TRIGGER core_case_event_append_only BEFORE UPDATE OR DELETE ON core_case_event
       FOR EACH ROW EXECUTE FUNCTION core_append_only()""",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run():
        from core.tables import CaseEvent

        db = CaseEvent._meta.db
        for sql in SQLITE if isinstance(db, SQLiteEngine) else POSTGRES:
            await db.run_ddl(sql)

    manager.add_raw(run)
    return manager
