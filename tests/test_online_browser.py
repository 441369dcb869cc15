"""The party's side in a real browser at a phone-sized viewport (Debian Chromium via Playwright).

A person applies on a phone, the room's mediator reads the text messages out from the outbox page,
the person follows the link, proves who they are and books a session — against ``fengqiao serve
--demo`` in its own process, with and without JavaScript. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
ID_NUMBER = "110101199003071233"
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("FENGQIAO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"FENGQIAO_REQUIRE_BROWSER=1 but {CHROMIUM} is not installed")
        pytest.skip(f"{CHROMIUM} is not installed")
    data = tmp_path_factory.mktemp("online-browser")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    env.update(FENGQIAO_DATA_DIR=str(data), FENGQIAO_SECRET_KEY="online-browser-secret-0123456789abcdef")
    log = open(data / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-c", "from web.cli import main; raise SystemExit(main())", "serve",
                             "--demo", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (data / "server.log").read_text(errors="replace")
            try:
                with urllib.request.urlopen(base + "/-/health", timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline, (data / "server.log").read_text(errors="replace")
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        yield b
        b.close()


def _context(browser: Any, server: str, *, phone: bool, javascript: bool = True) -> Any:
    ctx = browser.new_context(base_url=server, locale="zh-CN", java_script_enabled=javascript,
                              viewport=PHONE if phone else {"width": 1280, "height": 900},
                              is_mobile=phone, has_touch=phone)
    ctx.set_default_timeout(10_000)
    return ctx


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"online-{name}.png"), full_page=True)


def _last_message(staff: Any, pattern: str) -> str:
    staff.goto("/online/messages")
    text = staff.locator("td.message-body").first.inner_text()
    m = re.search(pattern, text)
    assert m, text
    return m.group(1)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_apply_follow_verify_and_book_on_a_phone(browser: Any, server: str, javascript: bool) -> None:
    from playwright.sync_api import expect

    phone_ctx = _context(browser, server, phone=True, javascript=javascript)
    staff_ctx = _context(browser, server, phone=False)
    party, staff = phone_ctx.new_page(), staff_ctx.new_page()
    try:
        # the mediator of 城关 room opens a slot for tomorrow
        staff.goto("/login")
        staff.fill("#username", "mediator")
        staff.fill("#password", "fengqiao-demo")
        staff.get_by_role("button", name="登录").click()
        expect(staff).to_have_url(re.compile(r"/$"))
        staff.goto("/online/slots")
        tomorrow = (dt.datetime.now(TZ) + dt.timedelta(days=1)).replace(hour=15, minute=0)
        staff.fill("#f-starts_at", tomorrow.strftime("%Y-%m-%dT%H:%M"))
        staff.fill("#f-place", "城关调解室二号桌" + ("J" if javascript else "N"))
        staff.get_by_role("button", name="开放时段").click()
        expect(staff.locator("table.slots")).to_contain_text("城关调解室二号桌")
        room_name = staff.locator("table.slots tbody tr").first.locator("td").nth(1).inner_text()

        # a person applies on a phone; the page fits the screen (no sideways scrolling)
        party.goto("/apply")
        assert party.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        party.locator("#f-room").select_option(label=room_name)
        party.get_by_role("button", name="提交申请").click()  # empty: clear errors, nothing registered
        expect(party.locator("#f-consent-err")).to_contain_text("请阅读权利义务告知并勾选同意")
        expect(party.locator("#f-a_name")).to_have_attribute("aria-invalid", "true")
        party.locator("#f-a_name").fill("钱十一")
        party.locator("#f-a_id_number").fill(ID_NUMBER)
        party.locator("#f-a_phone").fill("13912345678")
        party.locator("#f-r_name").fill("孙十二")
        party.locator("#f-dispute_type").select_option("neighbour")
        party.locator("#f-summary").fill("邻居在楼道堆放杂物，影响通行")
        party.get_by_label("我已阅读上述权利义务告知，自愿申请人民调解").check()
        _shot(party, f"apply-{'js' if javascript else 'nojs'}")
        party.get_by_role("button", name="提交申请").click()
        expect(party.locator("h1")).to_have_text("申请已提交")
        number = party.locator(".case-number").inner_text()

        # the message with the link waits on the room's outbox page; the mediator reads it out
        link = _last_message(staff, r"(/p/l/[A-Za-z0-9_-]+)")
        expect(staff.locator("td.message-body").first).to_contain_text(number)
        party.goto(link)
        party.get_by_role("button", name="获取验证码").click()
        expect(party.locator("p.notice[role=status]")).to_contain_text("验证码已发送")
        code = _last_message(staff, r"验证码 (\d{6})")
        party.get_by_label("短信验证码（6位数字）").fill(code)
        party.get_by_label("身份证号码后4位").fill(ID_NUMBER[-4:])
        party.get_by_role("button", name="验证并查看案件").click()
        expect(party.locator(".case-number")).to_have_text(number)
        expect(party.locator(".case-status")).to_have_text("已登记")
        assert ID_NUMBER not in party.content() and "13912345678" not in party.content()

        # book the slot
        party.locator("label.slot", has_text="城关调解室二号桌").locator("input").check()
        party.get_by_role("button", name="预约", exact=True).click()
        expect(party.locator("p.notice[role=status]")).to_contain_text("已预约")
        expect(party.locator("ul.booked")).to_contain_text("城关调解室二号桌")
        _shot(party, f"home-{'js' if javascript else 'nojs'}")
        assert party.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        staff.goto("/online/slots")
        expect(staff.locator("table.slots")).to_contain_text(number)
    finally:
        phone_ctx.close()
        staff_ctx.close()
