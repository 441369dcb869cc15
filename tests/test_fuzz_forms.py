"""Hypothesis against every HTML form of the app, posted as a signed-in mediator.

The forms are discovered from the app itself, like the access matrix: every GET route is rendered
(path parameters filled with the mediator's own objects) and every ``<form method="post">`` on
those pages is parsed for its action and fields. Every POST route the app declares is fuzzed —
with the fields of the forms that post to it, or, for a route no page links to, with the field
names of any form (and random ones) — so a channel plugin's new form is covered the day it lands.

Expectations for each generated submission:
- never a 5xx;
- a 400/409/413/422 answer to a form that a page shows is a page that says what is wrong (an
  element with ``role="alert"`` or ``class="error"``), i.e. a field-level message rather than a bare
  status (routes posted without any page showing their form — a channel panel's action on another
  channel's case — are listed in the output instead);
- afterwards the mediator still sees only their own room's cases (no half-written case appears).

Run time is bounded: a fixed number of examples per route (``FENGQIAO_FUZZ_EXAMPLES``, default 6)
and no shrinking database between runs. The figures are printed (``-s``) for the report.
"""

from __future__ import annotations

import os
import re
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings as hsettings, strategies as st

EXAMPLES = int(os.environ.get("FENGQIAO_FUZZ_EXAMPLES", "6"))
PARAM = re.compile(r"\{(\w+):(\w+)\}")
SKIP_POST = {"/login", "/logout"}  # log-in throttling and session end have their own tests
EXCLUDED_PREFIXES = ("/static/", "/schema", "/api/")
FIXED = {"key": "accept", "event_id": "evt_000000", "name": "application", "item": "identity",
         "channel": "general", "kind": "walk_in"}


class FormParser(HTMLParser):
    """Collects ``<form method=post>``: action and fields (name → kind, options)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(), "fields": {},
                          "hx": a.get("hx-post", "")}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in {"input", "textarea", "select", "button"} and a.get("name"):
            name = a["name"]
            kind = tag if tag != "input" else a.get("type", "text").lower()
            field = self._form["fields"].setdefault(name, {"kind": kind, "options": []})
            if kind in {"checkbox", "radio", "hidden", "submit"} or tag == "button":
                field["options"].append(a.get("value", "on"))
            if tag == "select":
                self._select = name
            if "maxlength" in a:
                field["maxlength"] = a["maxlength"]
        elif tag == "option" and self._select:
            self._form["fields"][self._select]["options"].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _route_regex(path: str) -> re.Pattern[str]:
    out, pos = "", 0
    for m in PARAM.finditer(path):
        out += re.escape(path[pos:m.start()]) + (r"(\d+)" if m.group(2) == "int" else r"([^/]+)" if m.group(2) != "path" else r"(.+)")
        pos = m.end()
    return re.compile("^" + out + re.escape(path[pos:]) + "$")


def _fill(path: str, values: dict[str, Any]) -> str:
    def sub(m: re.Match[str]) -> str:
        name, kind = m.group(1), m.group(2)
        if name in values and values[name] is not None:
            return str(values[name])
        if name in FIXED:
            return FIXED[name]
        return "1" if kind == "int" else "x"

    return PARAM.sub(sub, path)


# -------------------------------------------------------------------------- value strategies

ID_LIKE = st.sampled_from(["110101199003071233", "11010119900307123X", "110101199003071234", "000000000000000000",
                           "1101011990030712", "11010119900230123X", "ＡＢＣ", "110101 19900307 1233"])
NASTY = st.sampled_from(["", " ", "0", "-1", "1e309", "NaN", "null", "[]", "{}", "<script>alert(1)</script>",
                         "' OR 1=1 --", "%00", "\x00", "\ufeff", "😀" * 3, "a" * 5000, "9" * 40, "2026-02-30",
                         "2026-13-01", "1900-01-01", "9999-12-31T23:59", "2026-11-22", "2026-11-22T10:00",
                         "../../etc/passwd", "true", "false", "on"])
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


def _value(field: dict[str, Any]) -> st.SearchStrategy[str]:
    opts = [o for o in field["options"] if o is not None]
    choices = [NASTY, TEXT, ID_LIKE, st.integers(-10**12, 10**12).map(str)]
    if opts:
        choices = [st.sampled_from(opts)] * 3 + choices
    if field["kind"] in {"date", "datetime-local"}:
        choices.append(st.dates().map(str))
    return st.one_of(*choices)


def _form_strategy(fields: dict[str, dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    names = [n for n in fields if n not in {"_csrf_token"}]
    per_field = {n: st.one_of(st.none(), _value(fields[n]), st.lists(_value(fields[n]), min_size=2, max_size=3))
                 for n in names}
    extra = st.dictionaries(st.sampled_from(["x", "c.zzz", "f.", "a.id_number", "room", "__proto__", "id"]), NASTY,
                            max_size=2)
    return st.tuples(st.fixed_dictionaries(per_field), extra).map(
        lambda t: {**t[1], **{k: v for k, v in t[0].items() if v is not None}})


# -------------------------------------------------------------------------- the test


@pytest.fixture
def own(world, make_case, registry, arun):
    from core.tables import CaseParty
    from core.warnings import set_flags

    u = world["users"]
    cases = [make_case(world["rooms"]["a"], u["med-a"]) for _ in range(2)]
    arun(set_flags(registry, cases[0]["id"], u["med-a"], ["may_escalate"], "测试"))
    party = arun(CaseParty.select(CaseParty.id).where(CaseParty.case == cases[0]["id"]).first())["id"]
    return {"case_id": cases[0]["id"], "party_id": party, "user_id": u["med-a"].id, "org_id": world["orgs"][0]["id"],
            "notice_id": None, "_other_case": make_case(world["rooms"]["b"], u["med-b"])["id"]}


def _is_page_error_with_message(resp: Any) -> bool:
    if "text/html" not in resp.headers.get("content-type", ""):
        return True  # JSON/plain refusals carry their own message
    return 'role="alert"' in resp.text or 'class="error' in resp.text


def test_every_html_form_survives_generated_input(settings, world, own, login, csrf, arun):
    from litestar.testing import TestClient

    from core.tables import Case
    from web.app import create_app

    # with the PostgreSQL connection pool on, as in production (and ~3× faster than a connection per
    # query); database assertions run after the client (and its pool's event loop) has closed
    app = create_app(settings.with_(db_pool=True), entry_points=False)
    with TestClient(app, base_url="https://testserver.local") as client:
        stats, problems, unshown, posts, forms_by_route, seen_forms, elapsed = _fuzz(app, client, own, login, csrf)
    room_b = arun(Case.count().where(Case.room == world["rooms"]["b"]["id"]))
    assert room_b == 1  # nothing written in another room's name
    print(f"\nform fuzzing: {stats['requests']} requests over {len(posts)} POST routes "
          f"({len(forms_by_route)} with a discovered form, {seen_forms} forms seen), 5xx: {stats['5xx']}, "
          f"statuses {dict(sorted(stats['by_status'].items()))}, {elapsed:.1f} s")
    if unshown:
        print("POST routes whose form no page showed for these objects, answering 4xx without a message:\n  "
              + "\n  ".join(f"{route}: {p}" for route, p in sorted(unshown.items())))
    assert not problems, "\n".join(f"{route}: {p}" for route, p in sorted(problems.items()))
    assert stats["5xx"] == 0
    assert stats["requests"] >= len(posts) * EXAMPLES // 2


def _fuzz(app: Any, client: Any, own: dict[str, Any], login: Any, csrf: Any) -> tuple[Any, ...]:
    login(client, "med-a")
    token = csrf(client)
    routes = [(r.path, m) for r in app.routes if not r.path.startswith(EXCLUDED_PREFIXES)
              for m in getattr(r, "methods", set())]
    gets = sorted({p for p, m in routes if m == "GET"})
    posts = sorted({p for p, m in routes if m == "POST" and p not in SKIP_POST})
    assert len(posts) >= 15, posts

    # discover forms by rendering every page the mediator can see
    forms_by_route: dict[str, dict[str, dict[str, Any]]] = {}
    seen_forms = 0
    regexes = {p: _route_regex(p) for p in posts}
    for path in gets:
        resp = client.get(_fill(path, own))
        assert resp.status_code < 500, (path, resp.status_code)
        if "text/html" not in resp.headers.get("content-type", ""):
            continue
        parser = FormParser()
        parser.feed(resp.text)
        for form in parser.forms:
            action = form["action"] or form["hx"] or urlsplit(str(resp.url)).path
            if form["method"] != "post" and not form["hx"]:
                continue
            target = urlsplit(urljoin(str(resp.url), action)).path
            for route, rx in regexes.items():
                if rx.match(target):
                    seen_forms += 1
                    forms_by_route.setdefault(route, {}).update(form["fields"])
    all_fields: dict[str, dict[str, Any]] = {}
    for fields in forms_by_route.values():
        all_fields.update(fields)
    assert forms_by_route, "no form found on any page"
    assert "/intake/{channel:str}/{kind:str}" in forms_by_route

    stats = {"requests": 0, "5xx": 0, "by_status": {}}
    problems: dict[str, str] = {}  # route → first problem seen (all routes run, then the test fails listing them)
    unshown: dict[str, str] = {}
    started = time.monotonic()
    for route in posts:
        shown = route in forms_by_route
        fields = forms_by_route.get(route) or dict(list(all_fields.items())[:12])
        url = _fill(route, own)

        @hsettings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                   phases=(Phase.explicit, Phase.generate),
                   suppress_health_check=list(HealthCheck))
        @given(data=_form_strategy(fields), htmx=st.booleans())
        def post_one(data: dict[str, Any], htmx: bool) -> None:
            headers = {"HX-Request": "true"} if htmx else {}
            resp = client.post(url, data={**data, "_csrf_token": token}, headers=headers, follow_redirects=False)
            stats["requests"] += 1
            stats["by_status"][resp.status_code] = stats["by_status"].get(resp.status_code, 0) + 1
            if resp.status_code >= 500:
                stats["5xx"] += 1
                problems.setdefault(route, f"{resp.status_code} for {data!r}")
            elif resp.status_code in {400, 409, 413, 422} and not htmx and not _is_page_error_with_message(resp):
                # a form a page shows must explain its rejection; a route posted without its form (a
                # channel's panel action on another channel's case) is noted for the report
                target = problems if shown else unshown
                target.setdefault(route, f"{resp.status_code} with no message on the page for {data!r}")

        post_one()

    elapsed = time.monotonic() - started
    return stats, problems, unshown, posts, forms_by_route, seen_forms, elapsed


def test_case_file_forms_name_problems_the_page_has_no_field_for(client, world, own, login, csrf):
    """Found by the fuzzer: an unknown paper item, or a signature form on a case that does not show
    that form, answered 422 with no message anywhere on the page."""
    login(client, "med-a")
    for path, data in ((f"/cases/{own['case_id']}/file/items", {}),
                       (f"/cases/{own['case_id']}/file/items", {"item": "no-such-item", "pages": "0"}),
                       (f"/cases/{own['case_id']}/file/signatures", {})):
        resp = client.post(path, data={**data, "_csrf_token": csrf(client)}, follow_redirects=False)
        assert resp.status_code == 422, (path, resp.status_code)
        assert 'role="alert"' in resp.text and "请检查" in resp.text, (path, data)
