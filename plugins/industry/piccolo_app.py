"""Piccolo app of the industry host's tables; its migrations run after core's."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.industry.tables import INDUSTRY_TABLES

APP_CONFIG = AppConfig(
    app_name="industry",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=list(INDUSTRY_TABLES),
    migration_dependencies=["core.tables.piccolo_app"],
    commands=[],
)
