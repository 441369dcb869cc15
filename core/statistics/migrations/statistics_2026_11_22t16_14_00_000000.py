"""Composite unique indexes of the statistics app (raw SQL that runs on SQLite and PostgreSQL alike).

The rollup upserts (``INSERT … ON CONFLICT … DO UPDATE``) need them as their conflict targets; their
column order also serves the page queries (breakdown, room or organisation level, then the period).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T16:14:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "statistics composite unique indexes"

SQL = [
    "CREATE UNIQUE INDEX IF NOT EXISTS stats_rollup_key ON stats_rollup "
    '("dim", "room", "organisation", "period", "channel", "v1", "v2")',
    "CREATE UNIQUE INDEX IF NOT EXISTS stats_indicator_key ON stats_indicator "
    '("statistic", "room", "organisation", "period", "channel")',
    'CREATE UNIQUE INDEX IF NOT EXISTS stats_duty_day_key ON stats_duty_day ("user", "day")',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="statistics", description=DESCRIPTION)

    async def run():
        from core.statistics.tables import Rollup

        db = Rollup._meta.db
        for sql in SQL:
            await db.run_ddl(sql)

    async def run_backwards():
        from core.statistics.tables import Rollup

        db = Rollup._meta.db
        for name in ("stats_rollup_key", "stats_indicator_key", "stats_duty_day_key"):
            await db.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
