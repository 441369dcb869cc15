"""The case lifecycle through the general protocol: allowed and refused transitions, events, numbers."""

import datetime as dt
import re

import pytest

from core import clock
from core.cases import NotFound, Refused, apply_transition, record_session, save_agreement
from core.documents.casefile import record_item
from core.forms import FormErrors
from core.lifecycle import ALLOWED, CoreStatus
from core.records import AgreementIn, SessionIn
from core.tables import Case, CaseEvent


def _session():
    return SessionIn(held_at=dt.datetime(2026, 11, 20, 10, tzinfo=clock.TZ), place="调解室", attendees="双方",
                     record="双方陈述")


def _signed(**kw):
    base = dict(form="written", facts="事实", terms="赔偿500元", performance_method="现金",
                performance_deadline=dt.date(2026, 11, 30),
                signed_by_parties=True, signed_by_mediator=True, sealed=True, signed_on=dt.date(2026, 11, 20))
    return AgreementIn(**{**base, **kw})


def test_every_status_is_reachable_and_archived_is_final():
    seen, todo = {CoreStatus.REGISTERED}, [CoreStatus.REGISTERED]
    while todo:
        for nxt in ALLOWED[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(CoreStatus)
    assert ALLOWED[CoreStatus.ARCHIVED] == frozenset()


def test_full_path_and_events(registry, world, make_case, arun):
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user)
    assert re.fullmatch(r"（\d{4}）甲人调字第0001号", case["number"])
    arun(apply_transition(registry, case["id"], "accept", user))
    row = arun(Case.select().where(Case.id == case["id"]).first())
    assert row["status"] == "accepted" and row["accepted_at"] is not None
    assert row["deadline"] == clock.today() + dt.timedelta(days=30) or row["deadline"] > clock.today()
    arun(apply_transition(registry, case["id"], "start_mediation", user))
    arun(record_session(registry, case["id"], user, _session()))
    arun(save_agreement(registry, case["id"], user, _signed()))
    arun(record_item(case["id"], user, "identity"))  # the paper identity proof is on file (卷宗 item 3)
    event = arun(apply_transition(registry, case["id"], "settle", user))
    assert event["data"]["agreement"]["terms"] == "赔偿500元"
    arun(apply_transition(registry, case["id"], "close", user))
    arun(apply_transition(registry, case["id"], "archive", user))
    row = arun(Case.select().where(Case.id == case["id"]).first())
    assert (row["status"], row["outcome"]) == ("archived", "settled_written")
    assert row["closed_at"] is not None and row["archived_at"] is not None
    events = arun(CaseEvent.select(CaseEvent.type, CaseEvent.from_state, CaseEvent.to_state)
                  .where(CaseEvent.case == case["id"]).order_by(CaseEvent.id))
    assert [e["type"] for e in events][-3:] == ["case.settled", "case.closed", "case.archived"]
    assert events[1] == {"type": "case.accepted", "from_state": "registered", "to_state": "accepted"}


def test_refusals(registry, world, make_case, arun):
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user)
    with pytest.raises(Refused, match="不能执行"):
        arun(apply_transition(registry, case["id"], "settle", user))
    with pytest.raises(Refused, match="没有名为"):
        arun(apply_transition(registry, case["id"], "teleport", user))
    with pytest.raises(Refused, match="不能记录调解"):
        arun(record_session(registry, case["id"], user, _session()))
    arun(apply_transition(registry, case["id"], "accept", user))
    arun(apply_transition(registry, case["id"], "start_mediation", user))
    with pytest.raises(Refused, match="至少一次调解"):
        arun(apply_transition(registry, case["id"], "settle", user))
    arun(record_session(registry, case["id"], user, _session()))
    with pytest.raises(Refused, match="调解协议"):
        arun(apply_transition(registry, case["id"], "settle", user))
    arun(save_agreement(registry, case["id"], user, _signed(sealed=False)))
    with pytest.raises(Refused, match="加盖调解委员会印章"):
        arun(apply_transition(registry, case["id"], "settle", user))
    # an oral agreement settles without signatures (人民调解法 第三十条)
    arun(save_agreement(registry, case["id"], user, AgreementIn(form="oral", terms="当面道歉")))
    arun(apply_transition(registry, case["id"], "settle", user))
    assert arun(Case.select(Case.outcome).where(Case.id == case["id"]).first())["outcome"] == "settled_oral"
    # refused steps wrote nothing
    assert arun(CaseEvent.count().where(CaseEvent.case == case["id"], CaseEvent.type == "case.settled")) == 1


def test_decline_and_not_settled_need_reasons(registry, world, make_case, arun):
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user)
    with pytest.raises(FormErrors) as err:
        arun(apply_transition(registry, case["id"], "decline", user, {}))
    assert err.value.errors == {"reason": "此项为必填"}
    arun(apply_transition(registry, case["id"], "decline", user, {"reason": "已起诉至法院", "advice": "等待判决"}))
    row = arun(Case.select().where(Case.id == case["id"]).first())
    assert (row["status"], row["outcome"], row["outcome_reason"]) == ("declined", "declined", "已起诉至法院")

    other = make_case(world["rooms"]["a"], user)
    arun(apply_transition(registry, other["id"], "accept", user))
    with pytest.raises(FormErrors) as err:
        arun(apply_transition(registry, other["id"], "not_settle", user, {"reason": "对方拒绝", "route": "war"}))
    assert err.value.errors == {"route": "请从列表中选择"}
    arun(apply_transition(registry, other["id"], "not_settle", user, {"reason": "对方拒绝", "route": "arbitration"}))
    row = arun(Case.select().where(Case.id == other["id"]).first())
    assert (row["status"], row["suggested_route"]) == ("not_settled", "arbitration")


def test_roles_and_scope_on_transitions(registry, world, make_case, arun):
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    with pytest.raises(NotFound):
        arun(apply_transition(registry, case["id"], "accept", world["users"]["med-b"]))
    with pytest.raises(NotFound):
        arun(apply_transition(registry, case["id"], "accept", world["users"]["med-c"]))
    # the supervisor of the organisation and the admin may act
    arun(apply_transition(registry, case["id"], "accept", world["users"]["sup-1"]))
    arun(apply_transition(registry, case["id"], "start_mediation", world["users"]["admin"]))


def test_case_numbers_are_per_prefix_and_year(registry, world, make_case):
    a = world["rooms"]["a"]
    b = world["rooms"]["b"]
    numbers = [make_case(a, world["users"]["med-a"])["number"] for _ in range(3)]
    numbers_b = [make_case(b, world["users"]["med-b"])["number"]]
    assert [n[-6:] for n in numbers] == ["第0001号", "第0002号", "第0003号"]
    assert numbers_b[0].endswith("乙人调字第0001号")
    next_year = dt.datetime(clock.now().year + 1, 1, 2, 9, tzinfo=clock.TZ)
    n = make_case(a, world["users"]["med-a"], registered_at=next_year)["number"]
    assert n == f"（{next_year.year}）甲人调字第0001号"


def test_unknown_dispute_type_is_refused_and_nothing_is_stored(registry, world, make_case, arun):
    with pytest.raises(FormErrors) as err:
        make_case(world["rooms"]["a"], world["users"]["med-a"], dispute_type="alien")
    assert err.value.errors == {"dispute_type": "未知的纠纷类型代码"}
    assert arun(Case.count()) == 0


def test_event_log_is_append_only(registry, world, make_case, arun):
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    with pytest.raises(Exception, match="append-only"):
        arun(CaseEvent.update({CaseEvent.type: "forged"}).where(CaseEvent.case == case["id"]))
    with pytest.raises(Exception, match="append-only"):
        arun(CaseEvent.delete().where(CaseEvent.case == case["id"]))
    assert arun(CaseEvent.count().where(CaseEvent.case == case["id"])) == 1
