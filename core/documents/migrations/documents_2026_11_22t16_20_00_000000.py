"""Append-only documents tables and a unique (case, item) index.

The database itself refuses UPDATE and DELETE on ``documents_archive`` (the sealed case file) and
``documents_signature`` (signing records). On PostgreSQL the trigger function ``core_append_only``
comes from core's migration (this app depends on core).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-22T16:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "documents append-only triggers"

APPEND_ONLY = ("documents_archive", "documents_signature")

COMMON = [
    'CREATE UNIQUE INDEX IF NOT EXISTS documents_file_item_case_item ON documents_file_item ("case", "item")',
]
SQLITE = [
    sql
    for table in APPEND_ONLY
    for sql in (
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
    )
]
POSTGRES = [
    f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION core_append_only()"""
    for table in APPEND_ONLY
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

    async def run():
        from core.documents.tables import ArchiveRecord

        db = ArchiveRecord._meta.db
        for sql in [*COMMON, *(SQLITE if isinstance(db, SQLiteEngine) else POSTGRES)]:
            await db.run_ddl(sql)

    manager.add_raw(run)
    return manager
