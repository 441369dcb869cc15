"""``core.sql``: plain-SQL reads give the same rows inside a transaction (straight to its connection)
as outside one (through Piccolo's ``Table.raw``), with the same Python types, on both engines."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from core import db
from core.sql import _compiled, fetch, fetch_one


def test_placeholders_become_the_drivers() -> None:
    sql = "SELECT {} AS a FROM t WHERE x = {} AND y IN ({}, {})"
    assert _compiled(sql, False) == "SELECT ? AS a FROM t WHERE x = ? AND y IN (?, ?)"
    assert _compiled(sql, True) == "SELECT $1 AS a FROM t WHERE x = $2 AND y IN ($3, $4)"


def test_rows_inside_and_outside_a_transaction_agree(world: Any, make_case: Any, arun: Any) -> None:
    from core.tables import Case

    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    arun(Case.update({Case.amount: decimal.Decimal("1234.50")}).where(Case.id == case["id"]))
    sql = "SELECT id, number, amount, registered_at, deadline, intake, {} AS label FROM core_case WHERE id = {}"

    async def both() -> tuple[Any, Any]:
        outside = await fetch(sql, "标签", case["id"], load_json=["intake"])
        async with db.read_transaction():
            inside = await fetch(sql, "标签", case["id"], load_json=["intake"])
            missing = await fetch_one(sql, "x", -1)
        assert missing is None
        return outside, inside

    outside, inside = arun(both())
    assert outside == inside and len(inside) == 1
    row = inside[0]
    assert row["label"] == "标签" and isinstance(row["intake"], dict)
    assert isinstance(row["registered_at"], dt.datetime) and row["registered_at"].tzinfo is not None
    assert row["amount"] == decimal.Decimal("1234.50")
