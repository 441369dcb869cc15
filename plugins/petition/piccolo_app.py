"""Piccolo app of the petition channel's tables; its migrations run after core's."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.petition.tables import PETITION_TABLES

APP_CONFIG = AppConfig(
    app_name="petition",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=list(PETITION_TABLES),
    migration_dependencies=["core.tables.piccolo_app"],
    commands=[],
)
