"""``web.templating.PageEnvironment``: its short way to a dict's keys gives what Jinja's own lookup gives."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import Environment, StrictUndefined, UndefinedError

from web.templating import PageEnvironment

SOURCE = ("{{ row.name }}|{{ row.items() | list | length }}|{{ row.missing }}|{{ row.get('name') }}|"
          "{{ obj.real }}|{{ obj.name }}|{{ nested.inner.name }}|{{ row.keys | default('x') is callable }}")


class _Obj:
    real = "attr"

    def __getitem__(self, key: str) -> str:
        return f"item:{key}"


@pytest.mark.parametrize("row", [{"name": "甲", "items": "shadowed", "keys": 1}, {"name": "乙"}])
def test_lookups_match_jinjas(row: dict[str, Any]) -> None:
    context = {"row": row, "obj": _Obj(), "nested": {"inner": {"name": "内"}}}
    ours = PageEnvironment(autoescape=True).from_string(SOURCE).render(context)
    jinjas = Environment(autoescape=True).from_string(SOURCE).render(context)
    assert ours == jinjas
    # a dict's methods still win over its keys (``row.items`` is the method even with an "items" key)
    assert ours.split("|")[1] == str(len(row))


def test_a_missing_key_is_undefined() -> None:
    env = PageEnvironment(undefined=StrictUndefined)
    with pytest.raises(UndefinedError, match="missing"):
        env.from_string("{{ row.missing }}").render(row={"name": "甲"})
    assert env.from_string("{{ row.name }}").render(row={"name": "甲"}) == "甲"
