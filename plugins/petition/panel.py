"""The petition panel on the case page (a ``fengqiao_case_panels`` slot): the step, the grade, the team's
number, supervisor and deadline, the acceptance deadline — and, for those on the team, a link to the team's
working records. Others in the room see the summary only."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from core import clock
from core.access import UserCtx
from core.deadline_service import deadline_for

from plugins.petition.forms import MAJOR_CRITERIA
from plugins.petition.protocol import STEPS

__all__ = ["petition_panel"]


async def petition_panel(case: dict[str, Any], user: dict[str, Any], registry: Any) -> dict[str, Any]:
    from plugins.petition import service

    f = await service.petition_file(int(case["id"]))
    ctx = UserCtx(id=user["id"], username=user.get("username", ""), display_name=user.get("display_name", ""),
                  role=user["role"], room=user.get("room"), organisation=user.get("organisation"))
    allowed = await service.can_open_team(case, ctx)
    step = next((i for i, (_, states) in enumerate(STEPS) if case["state"] in states), 0)
    parts = [Markup('<ol class="steps">')]
    for i, (label, _) in enumerate(STEPS):
        cls = ' class="current" aria-current="step"' if i == step else (' class="done"' if i < step else "")
        parts.append(Markup("<li{}>{}. {}</li>").format(Markup(cls), i + 1, label))
    parts.append(Markup("</ol>"))
    if case["status"] == "registered":
        registered = case["registered_at"].astimezone(clock.TZ).date()
        due = deadline_for(registry, "petition_acceptance", registered)
        if due:
            late = Markup('<strong class="tag overdue">已超期</strong>') if clock.today() > due else ""
            parts.append(Markup("<p>决定是否受理期限：{}{}（《信访工作条例》第二十二条、第二十三条）</p>").format(
                due.isoformat(), late))
    if f:
        grade = "重大疑难复杂" if f["grade"] == "major" else "一般案件"
        reasons = "、".join(MAJOR_CRITERIA.get(c, c) for c in f["criteria"] or [])
        parts.append(Markup("<p>案件等级：<strong>{}</strong>{}</p>").format(grade, f"（{reasons}）" if reasons else ""))
        if f["number"]:
            parts.append(Markup("<p>专调小组：{} · 督办人：{} · 限时销号：{}</p>").format(
                f["number"], f["supervisor_name"] or "", f["team_deadline"].isoformat() if f["team_deadline"] else ""))
        else:
            parts.append(Markup('<p class="muted">尚未组建专调小组（一案一组、一案一策、一案一号）。</p>'))
    if allowed:
        parts.append(Markup('<p><a href="/channels/petition/cases/{}">专调小组与工作记录</a></p>').format(int(case["id"])))
    else:
        parts.append(Markup('<p class="muted">专调小组的工作记录仅对小组成员、督办人和督导人员开放。</p>'))
    parts.append(Markup('<p><a href="/channels/petition/">访调对接挂牌督办一览</a> · '
                        '<a href="/channels/petition/statistics">统计</a> · <a href="/channels/petition/report">个案补贴</a></p>'))
    return {"title": "访调对接", "html": Markup("").join(parts)}
