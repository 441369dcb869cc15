"""Piccolo app of the statistics tables; its migrations run after core's."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.statistics.tables import STATS_TABLES

APP_CONFIG = AppConfig(
    app_name="statistics",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=list(STATS_TABLES),
    migration_dependencies=["core.tables.piccolo_app"],
    commands=[],
)
