"""Core features registered as a plugin, like any other (datasette's default plugins)."""

from core.deadlines import CORE_RULES
from core.hookspecs import hookimpl

NAME = "builtin"


@hookimpl
def fengqiao_register_deadline_rules(settings):
    return list(CORE_RULES)
