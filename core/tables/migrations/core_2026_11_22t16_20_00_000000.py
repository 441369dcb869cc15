"""The audit log is append-only: the database refuses UPDATE and DELETE on core_audit."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-22T16:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "append-only audit log"

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS core_audit_no_update BEFORE UPDATE ON core_audit
       BEGIN SELECT RAISE(ABORT, 'core_audit is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS core_audit_no_delete BEFORE DELETE ON core_audit
       BEGIN SELECT RAISE(ABORT, 'core_audit is append-only'); END""",
]
POSTGRES = [
    # core_append_only() was created by the case-event migration
    """CREATE TRIGGER core_audit_append_only BEFORE UPDATE OR DELETE ON core_audit
       FOR EACH ROW EXECUTE FUNCTION core_append_only()""",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run():
        from core.tables import AuditEntry

        db = AuditEntry._meta.db
        for sql in SQLITE if isinstance(db, SQLiteEngine) else POSTGRES:
            await db.run_ddl(sql)

    manager.add_raw(run)
    return manager
