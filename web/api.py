"""The partner JSON API, version 1 (``/api/v1``), as ``shared/protocol/HANDOFF.md`` specifies it.

- ``GET /api/v1/channels`` — the partner's enabled channel(s), kinds, ``fields`` JSON Schemas and
  deadline rules.
- ``POST /api/v1/referrals`` — refer a dispute (201; 200 on an identical repeat; 409 on a different
  body for the same ``external_id``).
- ``GET /api/v1/referrals/{external_id}`` — the partner's own referral (another partner's → 404).

Every error is ``{"error": {"code", "message", "fields"?}}``. The body is read and decoded here (not by
Litestar) so that an oversized body is 413 and a non-JSON body 400 before any parsing, and so that
validation reports every offending field as a JSON path. Validation uses the same schemas as the HTML
intake form (``core.handoff.referrals``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import Components, Operation, RequestBody, SecurityScheme
from litestar.openapi.spec import OpenAPIMediaType
from litestar.params import FromPath

from core.deadlines import citation_text
from core.forms import json_schema
from core.handoff import referrals
from core.handoff.partners import PartnerCtx, authenticate
from core.registry import Registry
from web.state import app_state

__all__ = ["api_router", "openapi_config", "MAX_BODY_BYTES"]

MAX_BODY_BYTES = 1024 * 1024
"""Largest accepted request body (1 MiB); larger bodies get 413."""

SECURITY = [{"bearerAuth": []}]


# --------------------------------------------------------------------------- response shapes (OpenAPI)


class FieldError(msgspec.Struct):
    field: str
    message: str


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    code: str
    message: str
    fields: list[FieldError] | None = None


class ErrorBody(msgspec.Struct):
    """Every error response of the API."""

    error: ErrorDetail


class ReferralCreated(msgspec.Struct):
    case_number: str
    status: str
    deadline: str | None
    url: str


class EventState(msgspec.Struct):
    id: str
    type: str
    occurred_at: str
    state: str
    attempts: int
    delivered_at: str | None


class ReferralState(msgspec.Struct, omit_defaults=True):
    external_id: str
    case_number: str
    status: str
    deadline: str | None
    events: list[EventState]
    outcome: dict[str, Any] | None = None


class DeadlineInfo(msgspec.Struct):
    key: str
    label: str
    limit: int
    unit: str
    starts_on: str
    citation: str


class KindInfo(msgspec.Struct):
    kind: str
    label: str
    label_en: str
    description: str
    fields_schema: dict[str, Any]
    deadline: DeadlineInfo | None


class ChannelInfo(msgspec.Struct):
    key: str
    label: str
    label_en: str
    description: str
    kinds: list[KindInfo]


class ChannelList(msgspec.Struct):
    channels: list[ChannelInfo]


def _err(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=ErrorBody, description=description)


COMMON_ERRORS = {
    401: _err("Missing or wrong bearer token (`unauthorized`)."),
}


# --------------------------------------------------------------------------- errors


class ApiError(HTTPException):
    """An API refusal rendered as the contract's error body."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None):
        super().__init__(status_code=status, detail=message)
        self.code = code
        self.message = message
        self.fields = fields


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "payload_too_large", 422: "validation_failed", 500: "internal_error"}


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> Response[dict[str, Any]]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        error["fields"] = [{"field": k, "message": v} for k, v in fields.items()]
    if status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="fengqiao"', **(headers or {})}
    return Response({"error": error}, status_code=status, headers=headers, media_type="application/json")


def _api_exception_handler(request: Request, exc: Exception) -> Response[Any]:
    if isinstance(exc, ApiError):
        return error_response(exc.status_code, exc.code, exc.message, exc.fields)
    if isinstance(exc, HTTPException):
        status = exc.status_code
        return error_response(status, _CODES.get(status, "error"), str(exc.detail or _CODES.get(status, "error")))
    request.logger.exception("unhandled API error", exc_info=exc)
    return error_response(500, "internal_error", "internal error")


# --------------------------------------------------------------------------- helpers


async def _partner(request: Request) -> PartnerCtx:
    partner = await authenticate(request.headers.get("authorization"))
    if partner is None:
        raise ApiError(401, "unauthorized", "missing or invalid bearer token")
    return partner


async def _read_json(request: Request) -> Any:
    """The decoded body: 413 beyond :data:`MAX_BODY_BYTES`, 400 unless it is UTF-8 JSON."""
    declared = request.headers.get("content-length", "")
    too_big = declared.isdigit() and int(declared) > MAX_BODY_BYTES
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            too_big = True
        if not too_big:
            chunks.append(chunk)
    if too_big:  # the body was drained (bounded by the route's request_max_body_size) to answer cleanly
        raise ApiError(413, "payload_too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")
    raw = b"".join(chunks)
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise ApiError(400, "invalid_json", "the body is not valid UTF-8 JSON") from None


def _channel_info(reg: Registry, key: str) -> dict[str, Any]:
    channel = reg.channels[key]
    kinds = []
    for form in reg.forms_for(key):
        rule = reg.deadline_rules.get(form.deadline_rule) if form.deadline_rule else None
        deadline = None
        if rule is not None:
            deadline = {
                "key": rule.key,
                "label": rule.label,
                "limit": rule.limit,
                "unit": str(rule.unit.value if hasattr(rule.unit, "value") else rule.unit),
                "starts_on": str(rule.starts_on),
                "citation": citation_text(rule),
            }
        kinds.append({
            "kind": form.kind,
            "label": form.label,
            "label_en": form.label_en,
            "description": form.description,
            "fields_schema": json_schema(form.schema),
            "deadline": deadline,
        })
    return {"key": channel.key, "label": channel.label, "label_en": channel.label_en,
            "description": channel.description, "kinds": kinds}


def _referral_url(request: Request, external_id: str) -> str:
    base = str(request.base_url).rstrip("/")
    return f"{base}/api/v1/referrals/{quote(external_id, safe='')}"


# --------------------------------------------------------------------------- OpenAPI request body


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """Resolve ``#/$defs/…`` references in place (the API's schemas have no cycles)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inline(copy.deepcopy(defs[ref.rsplit("/", 1)[-1]]), defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def referral_request_schema(reg: Registry) -> dict[str, Any]:
    """JSON Schema of the ``POST /api/v1/referrals`` body, from the same declarations that validate it."""
    doc = msgspec.json.schema(referrals.ReferralRequest)
    defs = doc.get("$defs", {})
    schema = _inline(doc, defs)
    variants = []
    for (channel, kind), form in sorted(reg.forms.items()):
        s = json_schema(form.schema)
        s = _inline(s, s.get("$defs", {}))
        s["title"] = f"{channel}/{kind}"
        variants.append(s)
    fields = dict(schema["properties"]["fields"])
    fields.pop("type", None)
    fields.pop("additionalProperties", None)
    if variants:
        fields["anyOf"] = variants
    schema["properties"]["fields"] = fields
    schema["properties"]["amount"] = {**schema["properties"].get("amount", {}),
                                      "description": 'Yuan as a decimal string, e.g. "35000.00" (never a number).'}
    return schema


def _operation_with_body(reg: Registry) -> type[Operation]:
    body_schema = referral_request_schema(reg)

    @dataclass
    class ReferralOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                content={"application/json": OpenAPIMediaType(schema=body_schema)},  # type: ignore[arg-type]
                required=True,
                description="One referral. Every invalid field is reported as a JSON path in `error.fields`.",
            )

    return ReferralOperation


# --------------------------------------------------------------------------- handlers


@get("/channels", name="api_channels", security=SECURITY, responses=COMMON_ERRORS,
     summary="Channels this partner may refer to",
     description="Each enabled channel the partner is registered for, with its referral kinds, the JSON "
                 "Schema of each kind's `fields` and the deadline rule that applies.")
async def list_channels(request: Request) -> ChannelList:
    partner = await _partner(request)
    reg = app_state(request).registry
    keys = [partner.channel] if partner.channel in reg.channels else []
    return msgspec.convert({"channels": [_channel_info(reg, k) for k in keys]}, ChannelList)


REFERRAL_ERRORS = {
    200: ResponseSpec(data_container=ReferralCreated, description="An identical repeat of an earlier referral: "
                      "the same case, nothing created."),
    400: _err("The body is not JSON (`invalid_json`)."),
    401: COMMON_ERRORS[401],
    403: _err("The partner is not registered for this channel (`forbidden`)."),
    404: _err("The channel is not enabled on this deployment (`channel_disabled`)."),
    409: _err("The `external_id` was referred before with a different body (`conflict`)."),
    413: _err("The body is larger than 1 MiB (`payload_too_large`)."),
    422: _err("Invalid referral (`validation_failed`); `error.fields` lists every offending field."),
}


def _referral_handlers(reg: Registry) -> list[Any]:
    @post("/referrals", name="api_referral_create", security=SECURITY, status_code=201,
          responses=REFERRAL_ERRORS, operation_class=_operation_with_body(reg),
          request_max_body_size=8 * MAX_BODY_BYTES, summary="Refer a dispute",
          response_description="Created: the case registered in the partner's room.")
    async def create_referral(request: Request) -> Response[ReferralCreated]:
        partner = await _partner(request)
        st = app_state(request)
        body = await _read_json(request)
        try:
            referrals.check_channel(st.registry, partner, body)
            valid = referrals.validate_referral(st.registry, body)
            created, summary = await referrals.submit_referral(st.registry, partner, valid, st.cipher)
        except referrals.ReferralProblem as exc:
            raise ApiError(exc.status, exc.code, exc.message, exc.fields if exc.status == 422 else None) from None
        url = _referral_url(request, valid.request.external_id)
        content = ReferralCreated(case_number=summary["case_number"], status=summary["status"],
                                  deadline=summary["deadline"], url=url)
        return Response(content, status_code=201 if created else 200, headers={"Location": url})

    return [create_referral]


@get("/referrals/{external_id:path}", name="api_referral_get", security=SECURITY,
     responses={**COMMON_ERRORS, 400: _err("Malformed request (`bad_request`)."),
                404: _err("No referral with this `external_id` from this partner (`not_found`).")},
     summary="The state of one of this partner's referrals")
async def get_referral(request: Request, external_id: FromPath[str]) -> ReferralState:
    partner = await _partner(request)
    state = await referrals.referral_state(partner, external_id.lstrip("/"))
    if state is None:
        raise ApiError(404, "not_found", "no such referral")
    return msgspec.convert(state, ReferralState)


def api_router(reg: Registry) -> Router:
    """All ``/api/v1`` routes, with the contract's error bodies."""
    return Router(
        path="/api/v1",
        route_handlers=[list_channels, *_referral_handlers(reg), get_referral],
        exception_handlers={HTTPException: _api_exception_handler, Exception: _api_exception_handler},
        tags=["partner API v1"],
        include_in_schema=True,
    )


def openapi_config() -> OpenAPIConfig:
    """OpenAPI for the partner API (``/schema/openapi.json``)."""
    return OpenAPIConfig(
        title="Fengqiao partner API",
        version="1",
        description="Referral API of the handoff protocol v1. Callbacks are signed per Standard Webhooks.",
        components=Components(security_schemes={"bearerAuth": SecurityScheme(type="http", scheme="bearer")}),
        path="/schema",
    )
