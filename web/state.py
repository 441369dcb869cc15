"""Objects the app keeps for its lifetime, reachable from handlers via ``request.app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from core.crypto import FieldCipher
from core.registry import Registry
from core.settings import Settings

__all__ = ["AppState", "app_state"]


@dataclass(frozen=True)
class AppState:
    settings: Settings
    registry: Registry
    cipher: FieldCipher


def app_state(request) -> AppState:  # noqa: ANN001 - any ASGIConnection
    return request.app.state["fq"]
