"""``web.templating.PageEnvironment``: its short way to a dict's keys gives what Jinja's own lookup gives."""

from __future__ import annotations

import functools
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


def test_calls_match_jinjas() -> None:
    """Plain functions, functions taking the context / eval context / environment, callable objects and
    macros, inside and outside loops, with keyword arguments: the same output as Jinja's own context."""
    import jinja2

    @jinja2.pass_context
    def with_context(ctx: Any, name: str) -> str:
        return f"{name}={ctx.get(name)}"

    @jinja2.pass_eval_context
    def with_eval(eval_ctx: Any, value: Any) -> str:
        return f"{value}:{eval_ctx.autoescape}"

    @jinja2.pass_environment
    def with_env(env: Any, value: Any) -> str:
        return f"{value}:{type(env).__mro__[-2].__name__}"

    class Callable:
        def __call__(self, value: Any, *, sep: str = "-") -> str:
            return f"obj{sep}{value}"

    def stops() -> Any:
        raise StopIteration

    class Methods:
        def plain(self, value: Any) -> str:
            return f"m{value}"

        @jinja2.pass_context
        def with_context(self, ctx: Any, name: str) -> str:
            return f"mc:{ctx.get(name)}"

        @jinja2.pass_eval_context
        def with_eval(self, eval_ctx: Any) -> str:
            return f"me:{eval_ctx.autoescape}"

    source = ("{% macro m(x) %}<{{ x }}>{% endmacro %}"
              "{% for i in range(2) %}{% set local = i * 10 %}{{ plain(i, k='v') }} {{ with_context('local') }} "
              "{{ with_eval(i) }} {{ with_env(i) }} {{ obj(i, sep='+') }} {{ m(i) }} "
              "{{ stops() is undefined }} {{ row.get('k', i) }} {{ 'abc'.startswith('a') }} {{ part(i) }} "
              "{{ methods.plain(i) }} {{ methods.with_context('local') }} {{ methods.with_eval() }}|{% endfor %}{{ with_context('top') }}")
    context = {"plain": lambda value, k="": f"{value}{k}", "with_context": with_context, "with_eval": with_eval,
               "with_env": with_env, "obj": Callable(), "stops": stops, "top": "T",
               "row": {"k": "v"}, "part": functools.partial(lambda a, b: f"{a}{b}", "p"), "methods": Methods()}
    ours = PageEnvironment(autoescape=True).from_string(source).render(context)
    jinjas = Environment(autoescape=True).from_string(source).render(context)
    assert ours == jinjas
    assert "local=10" in ours and "True" in ours and ours.endswith("top=T")
    assert "mc:10" in ours and "me:True" in ours and " v " in ours and "p1" in ours


def test_template_globals_overlay_the_environments() -> None:
    env = PageEnvironment()
    env.globals.update(shared="env", who="env")
    t = env.from_string("{{ shared }}/{{ who }}", globals={"who": "template"})
    assert t.render() == "env/template" and env.globals["who"] == "env"
    assert env.from_string("{{ who }}").render() == "env"


def test_output_escaping_matches_jinjas() -> None:
    """Output expressions escape to plain text (``_escape_text``): the same page as Jinja's, including
    in macros, ``{% set %}`` and filter blocks, includes, ``|safe`` and objects with ``__html__``."""
    from jinja2 import DictLoader
    from markupsafe import Markup

    class Html:
        def __html__(self) -> str:
            return "<b>html</b>"

    templates = {
        "page": ("{% macro m(x) %}<i>{{ x }}</i>{% endmacro %}{% set block %}<{{ lt }}>{% endset %}"
                 "{{ text }}|{{ markup }}|{{ html }}|{{ number }}|{{ none }}|{{ missing }}|{{ text | safe }}|"
                 "{{ m(text) }}|{{ m(markup) }}|{{ block }}|{{ block | length }}|{% filter upper %}{{ text }}{% endfilter %}|"
                 "{{ text ~ markup }}|{% include 'part' %}|{{ m(text) | length }}"),
        "part": "<{{ text }}>",
    }
    context = {"text": "<a href='x'>&\"</a>", "markup": Markup("<em>ok</em>"), "html": Html(), "number": 3.5,
               "none": None, "lt": "<"}
    ours = PageEnvironment(loader=DictLoader(templates), autoescape=True).get_template("page").render(context)
    jinjas = Environment(loader=DictLoader(templates), autoescape=True).get_template("page").render(context)
    assert ours == jinjas
    assert "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;" in ours and "<em>ok</em>" in ours and "<b>html</b>" in ours
