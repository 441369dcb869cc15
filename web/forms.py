"""Helpers between posted HTML forms and ``core.forms``."""

from __future__ import annotations

from typing import Any

__all__ = ["form_items", "sub_form"]


def form_items(form: Any) -> dict[str, Any]:
    """A posted form as a dict; a key sent several times maps to the list of its values."""
    out: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key == "_csrf_token":
            continue
        if key in out:
            prev = out[key]
            out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[key] = value
    return out


def sub_form(form: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The fields named ``<prefix><name>``, with the prefix removed."""
    return {k[len(prefix):]: v for k, v in form.items() if k.startswith(prefix)}
