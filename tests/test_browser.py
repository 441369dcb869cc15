"""Real-browser tests: Debian's Chromium driven by Playwright against ``fengqiao serve --demo``.

The server runs as a separate process on a free loopback port with its own data directory, so the
browser talks real HTTP to the real app (demo data, SQLite). Screenshots go to ``test-artifacts/``.

If ``/usr/bin/chromium`` is missing the tests are skipped, unless ``FENGQIAO_REQUIRE_BROWSER=1``
(CI), which turns that into a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
PASSWORD = "fengqiao-demo"
TIMEOUT_MS = 10_000
CASE_NUMBER = re.compile(r"^（\d{4}）郧西城关人调字第\d{4}号$")
CASE_URL = re.compile(r"/cases/(\d+)$")
TZ = ZoneInfo("Asia/Shanghai")  # deployments' wall clock (core.clock.TZ)
SERVER_ENV: dict[str, str] = {}  # the live server's environment (CLI commands against its data)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("FENGQIAO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"FENGQIAO_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(f"{reason}; set FENGQIAO_REQUIRE_BROWSER=1 to make this fail")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("FENGQIAO_REQUIRE_BROWSER") == "1":
            pytest.fail("FENGQIAO_REQUIRE_BROWSER=1 but the playwright package is not installed")
        pytest.skip("the playwright package is not installed")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_command(port: int) -> list[str]:
    script = Path(sys.executable).parent / "fengqiao"
    base = [str(script)] if script.exists() else [sys.executable, "-c", "from web.cli import main; raise SystemExit(main())"]
    return [*base, "serve", "--demo", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]


# Module scope, not session scope: sync Playwright leaves its asyncio loop marked as running in the
# main thread while it is started, which makes every later ``asyncio.run()`` (conftest's ``run``) fail
# with "cannot be called from a running event loop". Stopping it when this module ends avoids that.
@pytest.fixture(scope="module")
def live_server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory,
                request: pytest.FixtureRequest) -> Iterator[str]:
    """``fengqiao serve --demo`` in a subprocess; yields its base URL."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    log_path = data_dir / "server.log"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    env.update(FENGQIAO_DATA_DIR=str(data_dir), FENGQIAO_SECRET_KEY="browser-test-secret-key-0123456789abcdef",
               PYTHONUNBUFFERED="1")
    base = f"http://127.0.0.1:{port}"
    SERVER_ENV.clear()
    SERVER_ENV.update(env)
    failed_before = request.session.testsfailed
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(_server_command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"fengqiao serve exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(base + "/-/health", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"fengqiao serve did not answer /-/health within 30 s:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if request.session.testsfailed > failed_before:
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(log_path, ARTIFACTS / "browser-server.log")
            print(f"\n--- fengqiao serve output ---\n{log_path.read_text(errors='replace')}", file=sys.stderr)


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_page(browser: Any, live_server: str) -> Iterator[Any]:
    """``new_page(javascript=True)``: a page in a fresh context (own cookies) on the live server."""
    contexts = []

    def make(javascript: bool = True, *, locale: str = "zh-CN", bypass_csp: bool = False) -> Any:
        # bypass_csp: the accessibility checks inject axe-core as an inline script, which the app's
        # Content-Security-Policy (script-src 'self') rightly refuses
        ctx = browser.new_context(base_url=live_server, java_script_enabled=javascript, locale=locale,
                                  viewport={"width": 1280, "height": 900}, bypass_csp=bypass_csp)
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# --------------------------------------------------------------------------- helpers


def login(page: Any, username: str) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("h1")).to_contain_text("今日工作台")


def status_badge(page: Any) -> Any:
    return page.locator("#case-body .case-head .status")


def total_cases(page: Any, query: str = "") -> int:
    """The "共 N 件" count on /cases (a full page load)."""
    page.goto("/cases" + (f"?q={query}" if query else ""))
    text = page.locator("#case-table > p.muted").first.inner_text()
    m = re.search(r"共\s*(\d+)\s*件", text)
    assert m, text
    return int(m.group(1))


def fill_intake(page: Any, summary: str, applicant: str, id_number: str) -> None:
    form = page.locator("#intake-form")
    form.locator("#f-c-summary").fill(summary)
    form.locator("#f-c-dispute_type").select_option("neighbour")
    form.locator("#f-c-amount").fill("1200.50")
    form.locator("#f-c-people_count").fill("2")
    form.locator("#f-a-name").fill(applicant)
    form.locator("#f-a-id_number").fill(id_number)
    form.locator("#f-a-phone").fill("13800138000")
    form.locator("#f-r-name").fill("赵六")
    form.locator("#f-f-application_form").select_option("oral")


def open_intake(page: Any) -> None:
    from playwright.sync_api import expect

    page.goto("/intake/")
    page.get_by_role("link", name=re.compile("当事人申请")).click()
    expect(page).to_have_url(re.compile(r"/intake/general/walk_in$"))
    expect(page.locator("#intake-form")).to_be_visible()


def register_case(page: Any, summary: str, applicant: str) -> int:
    from playwright.sync_api import expect

    open_intake(page)
    fill_intake(page, summary, applicant, "110101199003071233")
    page.locator("#intake-form").get_by_role("button", name="登记", exact=True).click()
    expect(page).to_have_url(CASE_URL)
    expect(page.locator("#case-body h1")).to_have_text(CASE_NUMBER)
    expect(status_badge(page)).to_have_text("已登记")
    expect(page.locator("#case-body")).to_contain_text(summary)
    # the ID number is shown masked only
    expect(page.locator("#case-body")).to_contain_text("110101********1233")
    expect(page.locator("#case-body")).not_to_contain_text("110101199003071233")
    return int(CASE_URL.search(page.url).group(1))  # type: ignore[union-attr]


def click_transition(page: Any, label: str) -> None:
    page.locator("#case-body section.actions").get_by_role("button", name=label, exact=True).click()


def record_session(page: Any) -> str:
    """Fill and submit the session form; returns the held-at time as the case page shows it."""
    page.locator("#case-body summary", has_text="记录一次调解").click()
    form = page.locator("#case-body form[action$='/sessions']")
    held = dt.datetime.now(TZ).replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    form.locator("[name=held_at]").fill(held.strftime("%Y-%m-%dT%H:%M"))
    form.locator("[name=place]").fill("城关镇调解室")
    form.locator("[name=attendees]").fill("王五、赵六、调解员")
    form.locator("[name=record]").fill("双方陈述事实，调解员释法说理，双方同意赔偿方案。")
    form.locator("[name=outcome]").select_option("agreement")
    form.get_by_role("button", name="保存调解记录").click()
    return held.strftime("%Y-%m-%d %H:%M")


def record_agreement(page: Any, *, signed: bool) -> None:
    page.locator("#case-body summary", has_text=re.compile("(记录|修改)调解协议")).click()
    form = page.locator("#case-body form[action$='/agreement']")
    form.locator("[name=form]").select_option("written")
    form.locator("[name=facts]").fill("楼上管道老化导致楼下墙面受损，楼上住户承担维修责任。")
    form.locator("[name=terms]").fill("赵六于十日内赔偿王五维修费1200.50元。")
    form.locator("[name=amount]").fill("1200.50")
    form.locator("[name=performance_method]").fill("银行转账")
    today = dt.datetime.now(TZ).date()
    form.locator("[name=performance_deadline]").fill((today + dt.timedelta(days=10)).isoformat())
    for name in ("signed_by_parties", "signed_by_mediator", "sealed"):
        form.locator(f"[name={name}]").set_checked(signed)
    form.locator("[name=signed_on]").fill(today.isoformat())
    form.get_by_role("button", name="保存调解协议").click()


def record_identity_on_file(page: Any) -> None:
    """On the case's 卷宗 page, record the parties' identity documents as on file."""
    from playwright.sync_api import expect

    tab = page.context.new_page()
    tab.goto(CASE_URL.search(page.url).group(0) + "/file")  # type: ignore[union-attr]
    row = tab.locator("#item-identity")
    expect(row).to_contain_text("缺")
    row.locator("summary", has_text="登记附卷").click()
    row.locator("[name=note]").fill("双方身份证复印件")
    row.get_by_role("button", name="确认附卷").click()
    expect(tab.locator("#item-identity")).to_contain_text("已附卷")
    expect(tab.locator("#index")).to_contain_text("必备材料齐全")
    tab.close()


def walk_case_to_archive(page: Any, artifacts: Path, tag: str, *, htmx: bool, check: Any = lambda: None) -> None:
    """accept → start → session → [unsigned agreement, settle refused] → signed agreement → settle → close
    → archive, asserting the status badge after each step.

    ``check()`` runs after every step (the JS test uses it to prove no full page load happened).
    """
    from playwright.sync_api import expect

    body = page.locator("#case-body")
    notice = body.locator("p.notice")

    click_transition(page, "受理")
    expect(status_badge(page)).to_have_text("已受理")
    if htmx:  # the "done" notice is only rendered into htmx swaps; a redirect drops it
        expect(notice).to_have_text("已完成：受理")
    check()

    click_transition(page, "开始调解")
    expect(status_badge(page)).to_have_text("调解中")
    check()

    held = record_session(page)
    expect(body.locator("article.session")).to_have_count(1)
    expect(body.locator("article.session h3")).to_have_text(f"{held} · 城关镇调解室")
    check()

    # an unsigned written agreement does not allow settlement (a 409 page, with or without htmx)
    record_agreement(page, signed=False)
    expect(body).to_contain_text("当事人未签名")
    click_transition(page, "调解成功")
    expect(page.locator("#case-body").get_by_role("alert")).to_contain_text("书面调解协议须经各方当事人签名")
    expect(status_badge(page)).to_have_text("调解中")
    check()
    page.screenshot(path=str(artifacts / f"browser-case-{tag}-settle-refused.png"), full_page=True)

    record_agreement(page, signed=True)
    expect(body).to_contain_text("当事人已签名；调解员已签名；已盖章")
    expect(body).to_contain_text("协字第")
    check()

    click_transition(page, "调解成功")
    expect(status_badge(page)).to_have_text("调解成功")
    check()

    click_transition(page, "结案")
    expect(status_badge(page)).to_have_text("已结案")
    check()

    # 卷宗 item 3 (当事人身份证明) is paper the mediator records as on file before archiving; done in a
    # second tab so that the htmx test's case page is never reloaded
    record_identity_on_file(page)
    click_transition(page, "归档")
    expect(status_badge(page)).to_have_text("已归档")
    expect(body.locator("section.actions")).to_have_count(0)
    expect(body.locator("h1")).to_have_text(CASE_NUMBER)
    check()
    page.screenshot(path=str(artifacts / f"browser-case-{tag}-archived.png"), full_page=True)


# --------------------------------------------------------------------------- tests


def test_full_case_path_with_javascript(new_page: Any, artifacts: Path) -> None:
    """Intake (htmx post + HX-Redirect) and every case step swapped by htmx without a page load."""
    from playwright.sync_api import expect

    page = new_page(javascript=True)
    login(page, "mediator")
    page.screenshot(path=str(artifacts / "browser-dashboard.png"), full_page=True)

    summary = f"楼上装修噪音扰民（浏览器测试 {uuid.uuid4().hex[:6]}）"
    case_id = register_case(page, summary, "王五")
    page.screenshot(path=str(artifacts / "browser-case-js-registered.png"), full_page=True)
    case_url = page.url
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    page.evaluate("window.__marker = 1")

    def same_document() -> None:
        assert page.evaluate("window.__marker") == 1, "the case page was reloaded instead of swapped by htmx"

    walk_case_to_archive(page, artifacts, "js", htmx=True, check=same_document)
    assert navigations == [], navigations
    assert page.url == case_url

    # the swapped state is the stored state: a full reload shows the same
    page.reload()
    expect(status_badge(page)).to_have_text("已归档")
    expect(page.locator("ol.timeline li")).to_have_count(10)  # registered … archived, incl. 2 agreement saves
    #                                                         and the identity documents put on file
    assert f"/cases/{case_id}" in page.url


def test_full_case_path_without_javascript(new_page: Any, artifacts: Path) -> None:
    """The same path with JavaScript disabled: plain forms, 303 redirects, full pages, native <details>."""
    from playwright.sync_api import expect

    page = new_page(javascript=False)
    login(page, "mediator")
    summary = f"宠物犬夜间吠叫扰民（无脚本测试 {uuid.uuid4().hex[:6]}）"
    register_case(page, summary, "孙七")
    walk_case_to_archive(page, artifacts, "nojs", htmx=False)
    # every step was a full page load (303 back to the case page), so no htmx notice is shown
    expect(page).to_have_url(CASE_URL)
    expect(page.locator("#case-body p.notice")).to_have_count(0)


def test_case_list_filters_with_htmx(new_page: Any, artifacts: Path) -> None:
    """Typing in #q and changing #status swap #case-table in place and push the URL."""
    from playwright.sync_api import expect

    page = new_page(javascript=True)
    login(page, "mediator")
    page.goto("/cases")
    table = page.locator("#case-table")
    rows = table.locator("tbody tr")
    expect(rows.first).to_be_visible()
    all_count = rows.count()
    assert all_count >= 8  # the demo room has 8 cases
    page.evaluate("window.__marker = 1")

    def htmx_table(resp: Any) -> bool:
        return "/cases?" in resp.url and resp.request.headers.get("hx-request") == "true"

    # free text: a word of a demo summary (the keyup trigger with the 400 ms debounce)
    with page.expect_response(htmx_table) as info:
        page.fill("#q", "漏水")
        page.press("#q", "End")
    assert info.value.status == 200
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.summary")).to_contain_text("漏水")
    expect(table.locator("p.muted")).to_have_text(re.compile(r"共\s*1\s*件"))
    expect(page).to_have_url(re.compile(r"[?&]q="))
    page.screenshot(path=str(artifacts / "browser-cases-filtered.png"), full_page=True)

    # a party name (matched through the parties, not the summary)
    with page.expect_response(htmx_table):
        page.fill("#q", "周海燕")
        page.press("#q", "End")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.summary")).to_contain_text("拖欠三个月房租")

    # nothing matches
    with page.expect_response(htmx_table):
        page.fill("#q", "不存在的关键词")
        page.press("#q", "End")
    expect(rows).to_have_count(0)
    expect(table.locator("p.empty")).to_have_text("没有符合条件的案件。")

    # clear the search, then filter by status (a `change` on the select)
    with page.expect_response(htmx_table):
        page.fill("#q", "")
        page.press("#q", "End")
    expect(rows).to_have_count(all_count)
    with page.expect_response(htmx_table):
        page.select_option("#status", "registered")
    expect(page).to_have_url(re.compile(r"status=registered"))
    expect(rows.first).to_be_visible()
    statuses = rows.locator("td span.status").all_inner_texts()
    assert statuses and set(statuses) == {"已登记"}, statuses
    assert len(statuses) < all_count

    with page.expect_response(htmx_table):
        page.select_option("#status", "in_mediation")
    expect(rows.locator("td span.status").first).to_have_text("调解中")
    statuses = rows.locator("td span.status").all_inner_texts()
    assert set(statuses) == {"调解中"}, statuses

    assert page.evaluate("window.__marker") == 1, "filtering reloaded the page instead of swapping #case-table"
    page.screenshot(path=str(artifacts / "browser-cases-by-status.png"), full_page=True)

    # the pushed URL is a real, bookmarkable page
    page.reload()
    expect(page.locator("#status")).to_have_value("in_mediation")
    expect(rows.locator("td span.status").first).to_have_text("调解中")


@pytest.mark.parametrize("javascript", [
    True,
    pytest.param(False),
], ids=["js", "nojs"])
def test_intake_validation_errors(new_page: Any, artifacts: Path, javascript: bool) -> None:
    """An empty summary and a bad ID check digit give Chinese field errors and create nothing."""
    from playwright.sync_api import expect

    page = new_page(javascript=javascript)
    login(page, "mediator")
    applicant = f"校验测试{uuid.uuid4().hex[:6]}"
    before = total_cases(page)

    open_intake(page)
    fill_intake(page, "", applicant, "110101199003071234")  # wrong check digit (…1233 is valid)
    with page.expect_response(lambda r: r.request.method == "POST" and "/intake/" in r.url) as info:
        page.locator("#intake-form").get_by_role("button", name="登记", exact=True).click()
    assert info.value.status == 422
    if not javascript:  # the browser renders the page itself, so it must be HTML
        assert info.value.headers.get("content-type", "").startswith("text/html"), info.value.headers

    form = page.locator("#intake-form")
    expect(form.locator("p.error.banner")).to_contain_text("请检查标红的项目（共 2 处）")
    summary, id_number = form.locator("#f-c-summary"), form.locator("#f-a-id_number")
    expect(summary).to_have_attribute("aria-invalid", "true")
    expect(summary).to_have_attribute("aria-describedby", "f-c-summary-err")
    expect(form.locator("#f-c-summary-err")).to_have_text("此项为必填")
    expect(id_number).to_have_attribute("aria-invalid", "true")
    expect(form.locator("#f-a-id_number-err")).to_have_text("身份证号校验位不正确")
    # the error sits in the same field wrapper as its input
    expect(form.locator(".field.has-error", has=page.locator("#f-a-id_number"))
           .locator("p.error")).to_have_text("身份证号校验位不正确")
    # valid fields keep their values and are not marked
    expect(form.locator("#f-a-name")).to_have_value(applicant)
    expect(form.locator("#f-a-id_number")).to_have_value("110101199003071234")
    expect(form.locator("#f-c-dispute_type")).to_have_value("neighbour")
    expect(form.locator("#f-a-name")).not_to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(re.compile(r"/intake/general/walk_in$"))
    page.screenshot(path=str(artifacts / f"browser-intake-errors-{'js' if javascript else 'nojs'}.png"),
                    full_page=True)

    assert total_cases(page) == before
    assert total_cases(page, applicant) == 0


def test_mediator_cannot_open_another_rooms_case(new_page: Any) -> None:
    """mediator2 (上津) gets the 404 page for a case of mediator's room (城关), and does not list it."""
    from playwright.sync_api import expect

    page = new_page(javascript=True)
    login(page, "mediator")
    page.goto("/cases")
    link = page.locator("#case-table tbody tr td:first-child a").first
    number = link.inner_text()
    assert CASE_NUMBER.match(number), number
    href = link.get_attribute("href")
    assert href and CASE_URL.search(href), href
    page.goto(href)
    expect(page.locator("#case-body h1")).to_have_text(number)

    other = new_page(javascript=True)
    login(other, "mediator2")
    resp = other.goto(href)
    assert resp is not None and resp.status == 404
    expect(other.locator("h1")).to_have_text("出错了（404）")
    expect(other.locator("main")).to_contain_text("页面或案件不存在，或您无权查看。")
    expect(other.locator("#case-body")).to_have_count(0)
    assert number not in other.content()

    other.goto("/cases")
    expect(other.locator("#case-table tbody tr").first).to_be_visible()
    expect(other.locator("#case-table")).not_to_contain_text(number)
    expect(other.locator("#case-table")).not_to_contain_text("郧西城关人调")
    # a search for the number finds nothing either
    other.goto("/cases?q=" + number)
    expect(other.locator("#case-table tbody tr")).to_have_count(0)


def test_refused_transition_without_javascript_shows_html_message(new_page: Any, live_server: str) -> None:
    """Settling a case that has no agreement, with JS off: the 409 page must render as HTML with the reason."""
    from playwright.sync_api import expect

    page = new_page(javascript=False)
    login(page, "mediator")
    page.goto("/cases?status=in_mediation&q=吴桂英")  # demo case: in mediation, one session, no agreement
    page.locator("#case-table tbody tr td:first-child a").first.click()
    expect(status_badge(page)).to_have_text("调解中")
    with page.expect_response(lambda r: r.url.endswith("/transitions/settle")) as info:
        click_transition(page, "调解成功")
    assert info.value.status == 409
    assert info.value.headers.get("content-type", "").startswith("text/html"), info.value.headers
    expect(page.locator("#case-body").get_by_role("alert")).to_have_text("请先记录调解协议")
    expect(status_badge(page)).to_have_text("调解中")


# --------------------------------------------------------------------------- languages, accessibility,
# assisted entry (issue #14)

AXE = ROOT / "tests" / "vendor" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core, fetched and checksum-checked by ``scripts/build-assets`` (never served by the app)."""
    if not AXE.exists():
        if os.environ.get("FENGQIAO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{AXE} is missing: run scripts/build-assets")
        pytest.skip(f"{AXE} is missing: run scripts/build-assets")
    return AXE.read_text("utf-8")


def axe_check(page: Any, axe_source: str, artifacts: Path, name: str) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.x A/AA rules) on the page; fail on serious or critical violations."""
    import json

    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
                                           resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")
    (artifacts / f"axe-{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")
    page.screenshot(path=str(artifacts / f"axe-{name}.png"), full_page=True)
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: {json.dumps(bad, ensure_ascii=False, indent=1)}"
    return result


def test_axe_on_the_main_pages(new_page: Any, artifacts: Path, axe_source: str) -> None:
    """Login, dashboard, case list, intake form with errors, case page, read-back page, statistics,
    in Chinese, in English and in large text: no serious or critical axe-core violations."""
    from playwright.sync_api import expect

    page = new_page(javascript=True, bypass_csp=True)
    page.goto("/login")
    axe_check(page, axe_source, artifacts, "login")
    login(page, "mediator")
    axe_check(page, axe_source, artifacts, "dashboard")
    page.goto("/cases")
    expect(page.locator("#case-table tbody tr").first).to_be_visible()
    axe_check(page, axe_source, artifacts, "cases")

    open_intake(page)
    fill_intake(page, "", "无障碍测试", "110101199003071234")
    with page.expect_response(lambda r: r.request.method == "POST" and "/intake/" in r.url):
        page.locator("#intake-form").get_by_role("button", name="登记", exact=True).click()
    expect(page.locator("#intake-form p.error.banner")).to_be_visible()
    axe_check(page, axe_source, artifacts, "intake-errors")

    page.goto("/cases?status=in_mediation&q=吴桂英")
    page.locator("#case-table tbody tr td:first-child a").first.click()
    expect(page.locator("#case-body h1")).to_have_text(CASE_NUMBER)
    axe_check(page, axe_source, artifacts, "case")
    page.goto(page.url + "/readback")
    expect(page.locator("#readback-text")).to_be_visible()
    axe_check(page, axe_source, artifacts, "readback")

    page.goto("/statistics")
    expect(page.locator("main h1")).to_be_visible()
    axe_check(page, axe_source, artifacts, "statistics")

    # English and large text
    page.goto("/")
    page.locator("form.prefs").get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_contain_text("Today's desk")
    page.locator("form.prefs").get_by_role("button", name="Large text").click()
    expect(page.locator("html")).to_have_class("large-text")
    axe_check(page, axe_source, artifacts, "dashboard-en-large")
    page.goto("/cases")
    axe_check(page, axe_source, artifacts, "cases-en-large")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_language_switch(new_page: Any, artifacts: Path, javascript: bool) -> None:
    """Accept-Language is the first guess; the switch (a plain form) overrides it and stays."""
    from playwright.sync_api import expect

    page = new_page(javascript=javascript, locale="en-GB")
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Sign in")
    page.locator("form.prefs").get_by_role("button", name="中文").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("登录")
    login(page, "mediator")  # the choice outlives log-in
    page.goto("/cases?status=registered")
    page.locator("form.prefs").get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/cases\?status=registered$"))  # back to the same page
    expect(page.locator("h1")).to_have_text("Cases")
    expect(page.locator("#status")).to_have_value("registered")
    expect(page.locator("#case-table td span.status").first).to_have_text("Registered")
    expect(page.locator("#case-table thead")).to_contain_text("Case number")
    page.goto("/intake/general/walk_in")
    expect(page.locator("#intake-form")).to_contain_text("Dispute type")
    expect(page.locator("#f-c-dispute_type option[value=neighbour]")).to_have_text("Neighbours")
    page.screenshot(path=str(artifacts / f"browser-intake-en-{'js' if javascript else 'nojs'}.png"), full_page=True)
    page.locator("form.prefs").get_by_role("button", name="中文").click()
    expect(page.locator("#intake-form")).to_contain_text("纠纷类型")


def test_keyboard_only_login_and_case_step(new_page: Any) -> None:
    """Log in and accept a case with the keyboard alone (Tab, typing, Enter); focus stays visible."""
    from playwright.sync_api import expect

    page = new_page(javascript=True)
    page.goto("/login")

    def tab_to(selector: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
                outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
                assert outline not in ("none", ""), f"no visible focus on {selector}"
                return
        raise AssertionError(f"{selector} is not reachable with Tab")

    tab_to("#username")
    page.keyboard.type("mediator")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("今日工作台")
    # the skip link is the first stop and moves focus to the main content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))

    page.goto("/cases?status=registered")
    tab_to("#case-table tbody tr td:first-child a")
    page.keyboard.press("Enter")
    expect(page).to_have_url(CASE_URL)
    expect(status_badge(page)).to_have_text("已登记")
    tab_to("#case-body section.actions button")
    assert page.evaluate("document.activeElement.textContent.trim()") == "受理"
    page.keyboard.press("Enter")
    expect(status_badge(page)).to_have_text("已受理")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_assisted_entry_read_back(new_page: Any, artifacts: Path, javascript: bool) -> None:
    """The mediator registers for the party, reads the record back in large type, and records the
    party's confirmation (who, when, SHA-256 of the exact text) on the case."""
    import hashlib

    from playwright.sync_api import expect

    tag = "js" if javascript else "nojs"
    page = new_page(javascript=javascript)
    login(page, "mediator")
    applicant = f"代填{uuid.uuid4().hex[:4]}"
    open_intake(page)
    fill_intake(page, f"代为填写：邻居占用楼道堆放杂物（{tag}）", applicant, "110101199003071233")
    page.locator("#intake-form").get_by_role("button", name="登记并请当事人确认").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+/readback$"))
    case_url = page.url.removesuffix("/readback")
    text = page.locator("#readback-text")
    expect(text).to_contain_text(applicant)
    expect(text).to_contain_text("当事人在人民调解活动中享有下列权利")
    expect(text).to_contain_text("1,200.50 元")
    size = float(page.evaluate("parseFloat(getComputedStyle(document.getElementById('readback-text')).fontSize)"))
    assert size >= 1.3 * 16, size  # large type
    page.screenshot(path=str(artifacts / f"browser-readback-{tag}.png"), full_page=True)

    # nothing ticked: both errors, announced and tied to their fields
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/readback")) as info:
        page.get_by_role("button", name="记录当事人确认").click()
    assert info.value.status == 422
    expect(page.locator("#readback-status").get_by_role("alert")).to_contain_text("共 2 处")
    expect(page.locator("#rb-consent")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#rb-consent")).to_have_attribute("aria-describedby", "rb-consent-err")
    expect(page.locator("#rb-consent-err")).to_have_text("须经当事人确认内容无误并同意调解")
    expect(page.locator("#rb-party-err")).to_have_text("请选择确认内容的当事人")

    digest = page.locator("input[name=sha256]").get_attribute("value")
    shown = page.evaluate("document.getElementById('readback-text').textContent.replace(/\\s+/g, ' ').trim()")
    assert digest and len(digest) == 64
    page.get_by_label(re.compile("申请人 " + applicant)).check()
    page.locator("#rb-consent").check()
    page.get_by_role("button", name="记录当事人确认").click()
    expect(page).to_have_url(case_url)
    expect(page.locator("#case-body .readback-status")).to_contain_text("当事人已确认登记内容")
    expect(page.locator("#case-body .readback-status")).to_contain_text(applicant)
    expect(page.locator("ol.timeline")).to_contain_text("当事人确认登记内容")
    # the stored hash is the hash of what was shown
    page.goto(case_url + "/readback")
    expect(page.locator(".confirmations li")).to_have_count(1)
    expect(page.locator(".confirmations li")).to_contain_text(digest[:12])
    expect(page.locator(".confirmations li")).to_contain_text("与当前内容一致")
    # the hash covers exactly the text the party saw (whitespace collapsed)
    assert hashlib.sha256(shown.encode("utf-8")).hexdigest() == digest


def _cli(*args: str, stdin: str = "") -> str:
    res = subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=SERVER_ENV, input=stdin,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, f"{args}: {res.stdout}\n{res.stderr}"
    return res.stdout


def test_court_referral_from_the_api_appears_on_the_dashboard(new_page: Any, live_server: str,
                                                               artifacts: Path) -> None:
    """A court (plugins/court) sends a 委派调解 referral through the partner API; the court room's
    mediator sees it on the dashboard, opens it and can accept it."""
    import json

    import httpx
    from playwright.sync_api import expect

    _cli("rooms", "add", "yx-court", "--name", "郧西县人民法院诉调对接调解室", "--channel", "court",
         "--agency", "郧西县人民法院", "--prefix", "郧西法调")
    _cli("users", "add", "courtmed", "--role", "mediator", "--room", "yx-court", "--display-name", "法院调解员",
         stdin=PASSWORD + "\n")
    created = json.loads(_cli("partners", "add", "yx-court", "--channel", "court", "--room", "yx-court",
                              "--callback-url", "http://127.0.0.1:9/callbacks"))
    today = dt.datetime.now(TZ).date().isoformat()
    body = {
        "external_id": f"(2026)鄂0322诉前调{uuid.uuid4().hex[:6]}号", "channel": "court", "kind": "pre_filing",
        "referred_at": dt.datetime.now(TZ).isoformat(timespec="seconds"),
        "summary": "买卖合同纠纷，买方拖欠货款", "dispute_type": "contract", "amount": "56000.00", "people_count": 2,
        "parties": [
            {"role": "applicant", "kind": "person", "name": "钱玉兰", "id_number": "110101199003071233",
             "phone": "13800138000"},
            {"role": "respondent", "kind": "organization", "name": "郧西某商贸有限公司", "credit_code": "91110000100000000X"},
        ],
        "fields": {"court_name": "郧西县人民法院", "court_reference": "(2026)鄂0322诉前调123号",
                   "judge_contact": "李法官 0719-1234567", "received_on": today, "cause_of_action": "买卖合同纠纷"},
    }
    with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {created['token']}"},
                      trust_env=False, timeout=30) as partner:
        resp = partner.post("/api/v1/referrals", json=body)
    assert resp.status_code == 201, resp.text
    number = resp.json()["case_number"]

    page = new_page(javascript=True)
    login(page, "courtmed")
    row = page.locator("table.cases tbody tr", has_text=number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("买卖合同纠纷，买方拖欠货款")
    expect(page.locator(".tiles")).to_contain_text("待受理")
    page.screenshot(path=str(artifacts / "browser-dashboard-court-referral.png"), full_page=True)
    row.get_by_role("link", name=number).click()
    expect(page.locator("#case-body h1")).to_have_text(number)
    expect(page.locator("#case-body")).to_contain_text("郧西县人民法院")
