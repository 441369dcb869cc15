"""Piccolo app of the documents tables; its migrations run after core's."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.documents.tables import DOCUMENTS_TABLES

APP_CONFIG = AppConfig(
    app_name="documents",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=list(DOCUMENTS_TABLES),
    migration_dependencies=["core.tables.piccolo_app"],
    commands=[],
)
