"""Piccolo configuration module (``PICCOLO_CONF=core.piccolo_conf``).

``DB`` is replaced by :func:`core.db.configure`; on plain import it follows the settings so that the
``piccolo`` CLI works too.
"""

from piccolo.conf.apps import AppRegistry

from core.settings import load_settings

DB = None  # set below or by core.db.configure

APP_REGISTRY = AppRegistry(apps=[
    "core.tables.piccolo_app",
    "core.handoff.piccolo_app",
    "core.documents.piccolo_app",
    "core.statistics.piccolo_app",
    "core.online.piccolo_app",
    # built-in channel plugins with tables of their own (one line each)
    "plugins.industry.piccolo_app",
    "plugins.court.piccolo_app",
    "plugins.petition.piccolo_app",
])


def _init() -> None:
    from core import db

    if db._engine is None:  # noqa: SLF001 - first import outside the app
        db.configure(load_settings().database_url)


_init()
