"""Concurrent writers: every intake stored, numbers unique and gap-free, no "database is locked"."""

import asyncio

from core.cases import apply_transition, create_case
from core.intake import CaseIntake, PartyIn
from core.tables import Case, CaseEvent


def test_64_concurrent_intakes_and_transitions(registry, world, cipher, arun):
    room = world["rooms"]["a"]
    user = world["users"]["med-a"]
    form = registry.form("general", "walk_in")

    async def one(i: int) -> dict:
        created = await create_case(
            registry, room=room, form=form,
            intake=CaseIntake(summary=f"并发登记{i}", dispute_type="neighbour"),
            parties=[PartyIn(role="applicant", name=f"申请人{i}", id_number="110101199003071233"),
                     PartyIn(role="respondent", name=f"被申请人{i}")],
            fields=form.schema(), actor=user, cipher=cipher)
        await apply_transition(registry, created["id"], "accept", user)
        return created

    async def burst() -> list:
        return await asyncio.gather(*(one(i) for i in range(64)), return_exceptions=True)

    results = arun(burst())
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == [], errors[:3]
    assert arun(Case.count()) == 64
    seqs = sorted(r["seq"] for r in arun(Case.select(Case.seq)))
    assert seqs == list(range(1, 65)), "case numbers must be unique and gap-free"
    assert len({r["number"] for r in results}) == 64
    assert arun(Case.count().where(Case.status == "accepted")) == 64
    assert arun(CaseEvent.count()) == 128


def test_the_same_transition_raced_is_applied_once(registry, world, make_case, arun):
    from core.cases import Refused

    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user)

    async def race() -> list:
        return await asyncio.gather(*(apply_transition(registry, case["id"], "accept", user) for _ in range(8)),
                                    return_exceptions=True)

    results = arun(race())
    ok = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(ok) == 1 and len(refused) == 7, results
    assert arun(CaseEvent.count().where(CaseEvent.type == "case.accepted")) == 1
