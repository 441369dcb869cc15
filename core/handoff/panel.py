"""The deliveries panel on a referred case's page (a ``fengqiao_case_panels`` slot)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from markupsafe import Markup

from core import clock
from core.handoff.outbox import deliveries_for_case

__all__ = ["deliveries_panel", "render_panel", "STATUS_LABELS"]

STATUS_LABELS = {
    "pending": "待发送",
    "delivered": "已送达",
    "failing": "发送失败，将重试",
    "failed": "发送失败（已停止重试）",
}


def _time(value: dt.datetime | None) -> str:
    return value.astimezone(clock.TZ).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def render_panel(case: dict[str, Any], rows: list[dict[str, Any]], csrf_token: str = "") -> Markup:
    """HTML of the panel; every value is escaped."""
    if not rows:
        return Markup('<p class="empty" id="handoff-deliveries">尚无需要通知合作方（{}）的事件。</p>').format(
            case.get("partner_id") or ""
        )
    body = []
    for r in rows:
        label = STATUS_LABELS.get(r["status"], r["status"])
        if r.get("waiting"):
            label = "等待前一事件送达"
        detail = ""
        if r["status"] == "delivered":
            detail = "送达于 " + _time(r["delivered_at"])
        elif r["status"] == "failing":
            detail = f"最近错误：{r['last_error']}；下次重试 {_time(r['next_attempt_at'])}"
        elif r["status"] == "failed":
            detail = f"最近错误：{r['last_error']}"
        action = Markup("")
        if r["status"] == "failed":
            url = f"/cases/{int(case['id'])}/deliveries/{r['event_id']}/resend"
            action = Markup(
                '<form method="post" action="{0}" hx-post="{0}" hx-target="#case-body" hx-swap="outerHTML"'
                ' class="inline"><input type="hidden" name="_csrf_token" value="{1}">'
                '<button type="submit">重新发送</button></form>'
            ).format(url, csrf_token)
        body.append(
            Markup(
                '<tr class="delivery d-{status}" data-event-id="{eid}"><td><code>{eid}</code></td><td>{type}</td>'
                "<td>{occurred}</td><td>{label}</td><td>{attempts}</td><td>{detail}</td><td>{action}</td></tr>"
            ).format(status=r["status"], eid=r["event_id"], type=r["type"], occurred=_time(r["occurred_at"]),
                     label=label, attempts=r["attempts"], detail=detail, action=action)
        )
    return Markup(
        '<table id="handoff-deliveries"><caption>合作方 {partner} 的结果通知</caption><thead><tr>'
        '<th scope="col">事件编号</th><th scope="col">类型</th><th scope="col">发生时间</th><th scope="col">状态</th>'
        '<th scope="col">尝试次数</th><th scope="col">详情</th><th scope="col">操作</th></tr></thead>'
        "<tbody>{rows}</tbody></table>"
    ).format(partner=case.get("partner_id") or "", rows=Markup("").join(body))


async def deliveries_panel(case: dict[str, Any], csrf_token: str = "") -> dict[str, Any]:
    rows = await deliveries_for_case(int(case["id"]))
    return {"title": "合作方通知（回调）", "html": render_panel(case, rows, csrf_token)}

