"""A realistic demo organisation, loaded idempotently by ``fengqiao serve --demo``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core import clock
from core.access import UserCtx
from core.cases import apply_transition, create_case, record_session, save_agreement
from core.crypto import FieldCipher
from core.documents.casefile import record_item
from core.intake import CaseIntake, PartyIn
from core.records import AgreementIn, SessionIn
from core.registry import Registry
from core.tables import Case, Organisation, Room
from core.users import create_organisation, create_room, create_user

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "load_demo"]

DEMO_PASSWORD = "fengqiao-demo"
DEMO_ORG = "yunxi-demo"
DEMO_ROOMS = (
    ("yx-chengguan", "城关镇人民调解委员会调解室", "general", "城关镇司法所", "郧西城关人调"),
    ("yx-shangjin", "上津镇人民调解委员会调解室", "general", "上津镇司法所", "郧西上津人调"),
)
DEMO_USERS = (
    ("mediator", "mediator", "yx-chengguan", "王秀兰（调解员）"),
    ("mediator2", "mediator", "yx-shangjin", "陈建国（调解员）"),
    ("supervisor", "supervisor", "yx-chengguan", "刘主任（督导）"),
    ("admin", "admin", None, "系统管理员"),
)

# (room, days ago registered, dispute type, summary, applicant, respondent, amount, path)
CASES = (
    ("yx-chengguan", 40, "neighbour", "楼上住户卫生间漏水，导致楼下天花板霉变，双方就维修费用争执不下", "李春花", "赵德明", "3200.00", "archived"),
    ("yx-chengguan", 40, "contract", "承租人拖欠三个月房租，出租人要求解除租赁合同并支付欠租", "周海燕", "孙立强", "9600.00", "overdue"),
    ("yx-chengguan", 28, "marriage_family", "子女对老人赡养费分担有分歧，老人申请调解", "吴桂英", "吴建军", "12000.00", "in_mediation"),
    ("yx-chengguan", 26, "damages", "电动车与行人发生碰撞致轻微伤，双方就医药费赔偿协商未果", "郑小红", "冯磊", "4500.00", "due_soon"),
    ("yx-chengguan", 12, "labour.wage_arrears", "装修工人被拖欠工资，包工头称业主未结清工程款", "黄大勇", "何志刚", "18600.00", "accepted"),
    ("yx-chengguan", 2, "housing_land", "宅基地界址争议，一方新建围墙越界约半米", "马玉兰", "杨树林", None, "registered"),
    ("yx-chengguan", 1, "consumer", "网购家电送货后发现破损，商家拒绝退换", "朱丽", "某某电器经营部", "2699.00", "registered"),
    ("yx-chengguan", 20, "neighbour", "邻居在公共楼道堆放杂物影响通行，多次沟通无果", "罗文", "高翠萍", None, "not_settled"),
    ("yx-shangjin", 15, "forest_land", "两户村民对山林承包地边界有争议，涉及林木采伐", "胡德才", "谢长江", "30000.00", "in_mediation"),
    ("yx-shangjin", 5, "damages", "邻居家犬只咬伤路人，医药费及误工费协商未果", "唐晓燕", "韩国栋", "3800.00", "accepted"),
)

_ID_BASES = ("42032219850312123", "42032219791105432", "42032219900220123", "42032219660808111")


def _valid_id(i: int) -> str:
    """A synthetic resident ID number with a correct check digit (郧西县 region code)."""
    from stdnum.cn import ric

    base = _ID_BASES[i % len(_ID_BASES)]
    return base + ric.calc_check_digit(base + "0")


async def load_demo(reg: Registry, cipher: FieldCipher) -> list[tuple[str, str, str]]:
    """Create the demo organisation, rooms, users and cases unless they exist; return the logins."""
    logins = [(u, DEMO_PASSWORD, label) for u, _, _, label in DEMO_USERS]
    if await Organisation.exists().where(Organisation.code == DEMO_ORG):
        return logins
    org = await create_organisation(DEMO_ORG, "郧西县人民调解委员会（演示）", kind="township", region="湖北省十堰市郧西县")
    for room_id, name, channel, agency, prefix in DEMO_ROOMS:
        if channel in reg.channels:
            await create_room(room_id, name=name, channel=channel, organisation=org["id"],
                              partner_agency=agency, number_prefix=prefix)
    users: dict[str, UserCtx] = {}
    for username, role, room_id, label in DEMO_USERS:
        row = await create_user(username, DEMO_PASSWORD, role=role, room_id=room_id, display_name=label,
                                organisation=org["id"] if role != "admin" else None)
        users[room_id or ""] = users.get(room_id or "") or UserCtx.from_row(row)
    form = reg.form("general", "walk_in")
    now = clock.now()
    try:
        for i, (room_id, days_ago, dtype, summary, applicant, respondent, amount, path) in enumerate(CASES):
            room = await Room.select().where(Room.room_id == room_id).first()
            user = users[room_id]
            start = now - dt.timedelta(days=days_ago)
            clock.freeze(start)
            respondent_kind = "organization" if "经营部" in respondent else "person"
            created = await create_case(
                reg, room=room, form=form,
                intake=CaseIntake(summary=summary, dispute_type=dtype, amount=Decimal(amount) if amount else None,
                                  source="application" if i % 3 else "self_initiated"),
                parties=[
                    PartyIn(role="applicant", name=applicant, id_number=_valid_id(i), phone=f"1387190{i:04d}",
                            address="湖北省郧西县城关镇"),
                    PartyIn(role="respondent", name=respondent, kind=respondent_kind),
                ],
                fields=form.schema(), actor=user, cipher=cipher, registered_at=start,
            )
            cid = created["id"]
            if path == "registered":
                continue
            clock.freeze(start + dt.timedelta(days=1))
            await apply_transition(reg, cid, "accept", user)
            if path == "accepted":
                continue
            await apply_transition(reg, cid, "start_mediation", user)
            if path in {"overdue", "due_soon"}:
                continue
            await record_session(reg, cid, user, SessionIn(
                held_at=clock.now(), place=room["name"], attendees=f"{applicant}、{respondent}、调解员",
                record="调解员告知双方权利义务；双方分别陈述事实和诉求；调解员释法说理，双方同意继续协商。"))
            if path == "in_mediation":
                continue
            if path == "not_settled":
                await apply_transition(reg, cid, "not_settle", user,
                                       {"reason": "被申请人拒绝继续调解", "route": "litigation"})
                continue
            await save_agreement(reg, cid, user, AgreementIn(
                form="written", facts="双方确认漏水系楼上卫生间防水层老化所致，楼上住户承担维修责任。",
                terms="赵德明于协议签订之日起十日内一次性支付李春花维修费人民币3200元，并负责修复卫生间防水。",
                amount=Decimal("3200.00"), performance_method="银行转账",
                performance_deadline=(clock.now() + dt.timedelta(days=10)).date(),
                signed_by_parties=True, signed_by_mediator=True, sealed=True, signed_on=clock.today()))
            await apply_transition(reg, cid, "settle", user)
            clock.freeze(start + dt.timedelta(days=15))
            await apply_transition(reg, cid, "close", user)
            # the paper identity documents are on file (卷宗 item 3), so the archive guard lets it pass
            await record_item(cid, user, "identity", note="双方身份证复印件")
            await apply_transition(reg, cid, "archive", user)
    finally:
        clock.freeze(None)
    assert await Case.count() >= len(CASES)
    return logins
