"""Piccolo app of the handoff tables; its migrations run after core's."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.handoff.tables import HANDOFF_TABLES

APP_CONFIG = AppConfig(
    app_name="handoff",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=list(HANDOFF_TABLES),
    migration_dependencies=["core.tables.piccolo_app"],
    commands=[],
)
