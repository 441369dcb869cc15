"""Fengqiao core: domain, engines, hookspecs and storage. Imports nothing from ``web`` or ``plugins``."""

from core.hookspecs import NAME, hookimpl

__all__ = ["NAME", "hookimpl"]
__version__ = "0.1.0"
