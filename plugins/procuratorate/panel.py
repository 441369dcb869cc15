"""The channel's panel on the case page (a ``fengqiao_case_panels`` slot): the procuratorate's
references, the eligibility result with its citation, the agreement rules and the performance state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from core.i18n import setup_jinja
from core.registry import Registry
from core.queries import case_file
from plugins.procuratorate.forms import KIND_LABELS, PARTY_LABELS, STAGE_LABELS
from plugins.procuratorate.protocol import is_instalment
from plugins.procuratorate.service import get_rules, latest_check

__all__ = ["case_panel"]

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    extensions=["jinja2.ext.i18n"],
)
setup_jinja(_ENV)  # _() and | t follow the request's language

FULFILMENT_LABELS = {"pending": "待履行", "partial": "部分履行", "performed": "已履行", "breached": "未履行"}


async def case_panel(case: dict[str, Any], registry: Registry) -> dict[str, Any]:
    rules = get_rules(registry)
    criminal = case["kind"] == "criminal_reconciliation"
    check = await latest_check(case["id"]) if criminal else None
    file = await case_file(case["id"])  # on the case page: the file it read already
    agreement = file["agreement"]
    parties = [{"role": p["role"], "name": p["party"]["name"]} for p in file["parties"]]
    instalments = is_instalment(agreement)
    if agreement and agreement["fulfilment"] == "performed":
        next_step = "赔偿已履行，可以向检察机关报送和解及履行情况。"
    elif agreement and instalments and agreement["fulfilment"] == "partial":
        next_step = "分期履行已履行首期，可以向检察机关报送；后续各期继续回访。"
    else:
        next_step = "请在回访中记录赔偿履行情况；履行后方可向检察机关报送（人民检察院刑事诉讼规则 第四百九十九条）。"
    html = _ENV.get_template("procuratorate/_panel.html").render(
        case_id=int(case["id"]),
        state=case["state"],
        intake=case.get("intake") or {},
        criminal=criminal,
        kind_label=KIND_LABELS.get(case["kind"], case["kind"]),
        stage_labels=STAGE_LABELS,
        party_labels=PARTY_LABELS.get(case["kind"], {}),
        parties=parties,
        check=(check or {}).get("data"),
        checked_by=(check or {}).get("actor_label") or "",
        can_recheck=criminal and case["state"] in ("registered", "eligible"),
        citations={k: rules.cite(k) for k in ("negotiable", "agreement", "performance")},
        agreement=agreement,
        instalments=instalments,
        fulfilment_labels=FULFILMENT_LABELS,
        next_step=next_step,
    )
    return {"title": "检调对接", "html": Markup(html)}
