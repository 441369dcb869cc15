"""The deployment's documents policy (``[documents]`` in the settings).

Settings keys: ``retention_years`` (保管期限, 0 = permanent), ``retention_by_dispute_type``,
``templates`` (document key → path of a local ``.docx``), ``wet_signature_dispute_types``,
``vague_terms``.

Code that has the registry reads :func:`policy_from_settings`. The case-page panel hook receives no
registry, so — like :func:`core.db.configure` — the policy is also kept as process state, set when the
plugin's registration hook runs (:func:`current`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.codes import CodeLists, load_code_lists
from core.documents.archive import DEFAULT_RETENTION_YEARS
from core.settings import Settings, SettingsError

__all__ = ["DocumentsPolicy", "configure", "current", "policy_from_settings"]


@dataclass(frozen=True)
class DocumentsPolicy:
    retention_years: int = DEFAULT_RETENTION_YEARS
    """保管期限 of archived case files (0 = permanent)."""
    retention_by_dispute_type: Mapping[str, int] | None = None
    templates: Mapping[str, str] | None = None
    """Document key → path of a deployment's own ``.docx`` template."""
    wet_signature_dispute_types: tuple[str, ...] = ("marriage_family",)
    codes: CodeLists | None = None

    def needs_wet_signature(self, dispute_type: str) -> bool:
        from core.documents.validator import is_personal_matter

        return is_personal_matter(self.codes or load_code_lists(), self.wet_signature_dispute_types, dispute_type)

    def retention_for(self, case: Mapping[str, Any]) -> int:
        by_type = self.retention_by_dispute_type or {}
        code = str(case.get("dispute_type", ""))
        while code:
            if code in by_type:
                return int(by_type[code])
            code = code.rpartition(".")[0]
        return self.retention_years


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SettingsError(f"{name} must be a whole number of years (0 = permanent), got {value!r}")
    return value


def policy_from_settings(settings: Settings) -> DocumentsPolicy:
    section = settings.raw.get("documents", {}) or {}
    if not isinstance(section, Mapping):
        raise SettingsError("[documents] must be a table")
    by_type = section.get("retention_by_dispute_type", {}) or {}
    templates = section.get("templates", {}) or {}
    return DocumentsPolicy(
        retention_years=_int("documents.retention_years", section.get("retention_years", DEFAULT_RETENTION_YEARS)),
        retention_by_dispute_type={k: _int(f"documents.retention_by_dispute_type.{k}", v) for k, v in by_type.items()},
        templates={str(k): str(v) for k, v in templates.items()},
        wet_signature_dispute_types=tuple(section.get("wet_signature_dispute_types", ("marriage_family",))),
        codes=load_code_lists(settings.raw.get("codes")),
    )


_policy = DocumentsPolicy()


def configure(settings: Settings) -> DocumentsPolicy:
    global _policy
    _policy = policy_from_settings(settings)
    return _policy


def current() -> DocumentsPolicy:
    return _policy
