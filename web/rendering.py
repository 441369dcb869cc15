"""The one place that decides between a full page and an htmx partial."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.enums import MediaType
from litestar.response import Template

__all__ = ["render", "wants_partial"]


def wants_partial(request: Request) -> bool:
    """An htmx request that is neither boosted nor a history restore gets the partial."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(
    request: Request,
    page: str,
    partial: str | None = None,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    """Render ``partial`` for htmx requests and ``page`` otherwise; always ``Vary: HX-Request``.

    Header values must stay latin-1 (no Chinese in HX-* headers).
    """
    name = partial if partial and wants_partial(request) else page
    return Template(
        template_name=name,
        context=context or {},
        status_code=status_code,
        media_type=MediaType.HTML,  # handlers typed ``-> Any`` would otherwise default to JSON
        headers={"Vary": "HX-Request", "Cache-Control": "no-store", **(headers or {})},
    )
