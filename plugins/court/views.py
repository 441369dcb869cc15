"""HTML of the court channel: the record fragment (case-page panel and record page) and the report.

Fragments are rendered with the plugin's own Jinja environment (``templates/court/``, autoescaped,
gettext markers); full pages extend the app's ``base.html`` through ``Template(template_str=…)``, so
the plugin needs no change to the app's template directories.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jinja2
from litestar.enums import MediaType
from litestar.response import Template
from markupsafe import Markup

from core.i18n import setup_jinja
from core import clock
from core.deadlines import citation_text
from core.registry import Registry
from core.queries import case_file

from plugins.court.forms import PROCEDURE_LABELS, RETURN_REASONS, TERMINATION_GROUNDS
from plugins.court.protocol import ACCEPTANCE_RULE
from plugins.court.records import EXCLUSIONS, confirmation_due, exclusion_flags, load_record, packet_status

__all__ = ["render", "record_fragment", "page"]

TEMPLATES = Path(__file__).parent / "templates"


def _fdate(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(clock.TZ).strftime("%Y-%m-%d %H:%M")
    return value.strftime("%Y-%m-%d")


_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                          extensions=["jinja2.ext.i18n"], undefined=jinja2.StrictUndefined)
setup_jinja(_ENV)  # _() and | t follow the request's language
_ENV.filters["fdate"] = _fdate

_PAGE = (TEMPLATES / "court" / "page.html").read_text(encoding="utf-8")

RESULT_LABELS = {"settled": "调解成功", "terminated": "调解终止", "returned": "退回法院", "withdrawn": "当事人撤回"}
FOLLOW_UP_LABELS = {"filed": "调解协议已送法院备案", "document_requested": "已申请法院出具调解书",
                    "withdrawal_requested": "原告已申请撤诉"}
DECISION_LABELS = {"confirmed": "裁定确认调解协议有效", "rejected": "裁定驳回申请"}


def render(name: str, **context: Any) -> Markup:
    return Markup(_ENV.get_template(name).render(**context))


async def record_fragment(reg: Registry, case: dict[str, Any], csrf_token: str, *, errors: dict[str, str] | None = None,
                          error_form: str = "", values: dict[str, Any] | None = None, message: str = "") -> Markup:
    record = await load_record(int(case["id"]))
    ctx: dict[str, Any] = {"case": case, "record": record, "csrf_token": csrf_token, "errors": errors or {},
                           "error_form": error_form, "values": values or {}, "message": message,
                           "today": clock.today()}
    if record is not None:
        agreement = (await case_file(case["id"]))["agreement"]  # on the case page: read already
        ground = record["result_ground"]
        rule = reg.deadline_rules.get(case.get("deadline_rule") or "")
        acceptance = reg.deadline_rules.get(ACCEPTANCE_RULE)
        ctx.update({
            "intake": case.get("intake") or {},
            "kind_label": (reg.form("court", record["kind"]).label if reg.form("court", record["kind"]) else record["kind"]),
            "procedure_labels": PROCEDURE_LABELS,
            "result_labels": RESULT_LABELS,
            "follow_up_labels": FOLLOW_UP_LABELS,
            "decision_labels": DECISION_LABELS,
            "ground_label": TERMINATION_GROUNDS.get(ground) or RETURN_REASONS.get(ground) or ground,
            "rule_label": f"{rule.label}（{citation_text(rule)}）" if rule else "",
            "acceptance_cite": citation_text(acceptance) if acceptance else "",
            # stored flags (intake, settlement) plus what the agreement being drafted says now
            "exclusions": [EXCLUSIONS[c][0] for c in sorted(set(record["exclusions"] or []) | set(
                exclusion_flags(agreement["terms"], agreement["facts"]) if agreement else [])) if c in EXCLUSIONS],
            "confirmation_applicable": record["kind"] == "pre_filing" and record["result"] == "settled",
            "confirmation_due": confirmation_due(reg, agreement),
            "packet": packet_status(record, agreement),
        })
    return render("court/_record.html", **ctx)


def page(title: str, body: Markup, user: Any, *, status_code: int = 200) -> Template:
    """A full page in the app's shell."""
    return Template(template_str=_PAGE, context={"page_title": title, "body": body, "user": user},
                    status_code=status_code, media_type=MediaType.HTML,
                    headers={"Vary": "HX-Request", "Cache-Control": "no-store"})
