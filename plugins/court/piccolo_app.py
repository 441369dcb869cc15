"""Piccolo app of the court channel's tables; its migrations run after core's."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.court.tables import COURT_TABLES

APP_CONFIG = AppConfig(
    app_name="court",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=list(COURT_TABLES),
    migration_dependencies=["core.tables.piccolo_app"],
    commands=[],
)
