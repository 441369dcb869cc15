"""A statistic's ``when`` conditions, evaluated two ways that must agree: on one case in Python (the
rollup hooks) and as SQL over the case table aliased ``c`` (the from-scratch rebuild)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from core.statistics.dialect import Dialect

__all__ = ["predicate", "to_sql", "case_facts"]

_COLUMNS = {
    "channel": "c.channel",
    "kind": "c.kind",
    "dispute_type": "c.dispute_type",
    "source": "c.source",
    "outcome": "c.outcome",
    "suggested_route": "c.suggested_route",
    "people_count": "c.people_count",
}


def case_facts(row: dict[str, Any]) -> dict[str, Any]:
    """The fields conditions test, from a case row with ``risk_flags`` as a JSON text or a list."""
    import msgspec

    flags = row.get("risk_flags") or []
    if isinstance(flags, str | bytes):
        flags = msgspec.json.decode(flags or "[]")
    return {
        **{k: row.get(k) for k in _COLUMNS},
        "risk_flags": list(flags),
        "referred": row.get("partner_id") is not None,
    }


def _one(field: str, op: str, value: Any) -> Callable[[dict[str, Any]], bool]:
    def get(f: dict[str, Any]) -> Any:
        return f[field]

    if op == "=":
        return lambda f: get(f) == value
    if op == "!=":
        return lambda f: get(f) != value
    if op == "in":
        values = set(value)
        return lambda f: get(f) in values
    if op == ">=":
        return lambda f: get(f) is not None and get(f) >= value
    if op == "<=":
        return lambda f: get(f) is not None and get(f) <= value
    if op == "under":
        return lambda f: get(f) == value or str(get(f) or "").startswith(f"{value}.")
    if op == "has":
        return lambda f: value in get(f)
    if op == "has_any":
        values = set(value)
        return lambda f: bool(values & set(get(f)))
    raise ValueError(f"unknown op {op!r}")


def predicate(when: Sequence[tuple[str, str, Any]]) -> Callable[[dict[str, Any]], bool]:
    """A function of :func:`case_facts` that is true when every condition holds."""
    checks = [_one(*cond) for cond in when]
    return lambda facts: all(check(facts) for check in checks)


def _lit(value: Any) -> str:
    """An SQL literal for a condition value (plugin data; quoted, never user input)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def to_sql(when: Sequence[tuple[str, str, Any]], d: Dialect) -> str:
    """The conditions as one SQL boolean expression over ``c`` (``TRUE`` when there are none)."""
    parts = []
    for field, op, value in when:
        if field == "risk_flags":
            text = "CAST(c.risk_flags AS TEXT)"
            if op == "has":
                parts.append(d.contains(text, _lit(f'"{value}"')))
            elif op == "has_any":
                parts.append("(" + " OR ".join(d.contains(text, _lit(f'"{v}"')) for v in value) + ")")
            else:
                raise ValueError(f"risk_flags supports has / has_any, not {op!r}")
            continue
        col = "(c.partner_id IS NOT NULL)" if field == "referred" else _COLUMNS[field]
        if op == "=":
            parts.append(f"COALESCE({col} = {_lit(value)}, FALSE)")
        elif op == "!=":  # like Python, a missing value differs from every value
            parts.append(f"COALESCE({col} <> {_lit(value)}, TRUE)")
        elif op in {">=", "<="}:
            parts.append(f"COALESCE({col} {op} {_lit(value)}, FALSE)")
        elif op == "in":
            parts.append(f"{col} IN ({', '.join(_lit(v) for v in value) or 'NULL'})")
        elif op == "under":
            prefix = f"{value}."
            parts.append(f"({col} = {_lit(value)} OR substr({col}, 1, {len(prefix)}) = {_lit(prefix)})")
        else:
            raise ValueError(f"{field} does not support {op!r}")
    return "(" + " AND ".join(parts) + ")" if parts else "TRUE"
