"""Composite indexes of the handoff app (raw SQL that runs on SQLite and PostgreSQL alike).

- ``(partner, external_id)`` is unique: a partner's reference names one referral (idempotency);
- ``(case, id)`` serves the per-case ordering check of the outbox claim query;
- ``(status, next_attempt_at)`` serves the search for due events.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T16:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "handoff composite indexes"

SQL = [
    'CREATE UNIQUE INDEX IF NOT EXISTS handoff_referral_partner_external ON handoff_referral ("partner", "external_id")',
    'CREATE INDEX IF NOT EXISTS handoff_outbox_case_id ON handoff_outbox ("case", "id")',
    'CREATE INDEX IF NOT EXISTS handoff_outbox_due ON handoff_outbox ("status", "next_attempt_at")',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="handoff", description=DESCRIPTION)

    async def run():
        from core.handoff.tables import Referral

        db = Referral._meta.db
        for sql in SQL:
            await db.run_ddl(sql)

    manager.add_raw(run)
    return manager
