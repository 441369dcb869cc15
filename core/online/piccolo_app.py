"""Piccolo app of the online-services tables; its migrations run after core's."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.online.tables import ONLINE_TABLES

APP_CONFIG = AppConfig(
    app_name="online",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=list(ONLINE_TABLES),
    migration_dependencies=["core.tables.piccolo_app"],
    commands=[],
)
