"""Statistics pages and exports: page and htmx partial, no-JS filters, scope, XLSX and CSV checked cell by cell."""

from __future__ import annotations

import csv
import io
from urllib.parse import unquote

import pytest

from core.statistics.testing import at, register, settle, step


async def _small(reg, world, cipher):
    """Room A: one neighbour case settled 2026-09 (1200.00), one contract case declined 2026-10;
    room C: one self-initiated neighbour case accepted 2026-09."""
    u, r = world["users"], world["rooms"]
    a1 = await register(reg, r["a"], u["med-a"], cipher, when=at(2026, 9, 2))
    await step(reg, a1, "accept", u["med-a"], at(2026, 9, 3))
    await step(reg, a1, "start_mediation", u["med-a"], at(2026, 9, 4))
    await settle(reg, a1, u["med-a"], at(2026, 9, 9), amount="1200.00")
    a2 = await register(reg, r["a"], u["med-a"], cipher, when=at(2026, 10, 2), dispute_type="contract")
    await step(reg, a2, "decline", u["med-a"], at(2026, 10, 3), {"reason": "已经起诉"})
    c1 = await register(reg, r["c"], u["med-c"], cipher, when=at(2026, 9, 5), source="self_initiated")
    await step(reg, c1, "accept", u["med-c"], at(2026, 9, 6))
    return {"a1": a1, "a2": a2, "c1": c1}


@pytest.fixture
def small(registry, world, cipher, arun):
    return arun(_small(registry, world, cipher))


Q = "from=2026-09&to=2026-10"


def test_page_partial_and_no_js_filters(client, world, login, small):
    login(client, "admin")
    full = client.get(f"/statistics?{Q}")
    assert full.status_code == 200 and "<html" in full.text
    assert full.headers["vary"] == "HX-Request" and full.headers["content-type"].startswith("text/html")
    assert 'href="/statistics" aria-current="page"' in full.text  # the nav link
    assert 'id="stats-body"' in full.text and 'hx-get="/statistics"' in full.text and 'method="get"' in full.text
    assert "人民调解工作统计月报表" in full.text and "受理数" in full.text
    assert full.text.count("<svg") == 3 and "<script" not in full.text.split("</head>")[1]  # charts, no JS
    assert "kozea.github.io" not in full.text
    part = client.get(f"/statistics?{Q}", headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text and part.text.lstrip().startswith('<div id="stats-body"')
    assert part.headers["vary"] == "HX-Request"
    # a filtered request without htmx is a complete page with the filter applied
    room_c = world["rooms"]["c"]["id"]
    page = client.get(f"/statistics?{Q}&room={room_c}")
    assert "<html" in page.text and f'<option value="{room_c}" selected>' in page.text
    assert "丙调解室" in page.text


def test_page_numbers_are_scoped(client, world, login, small):
    login(client, "med-c")
    text = client.get(f"/statistics?{Q}").text
    assert "丙调解室" in text
    # the summary tiles: 1 registered, 1 accepted, 0 settled
    assert "登记数<strong>1</strong>" in text and "受理数<strong>1</strong>" in text
    assert "调解成功数<strong>0</strong>" in text
    # asking for room A gives room C's numbers still
    other = client.get(f"/statistics?{Q}&room={world['rooms']['a']['id']}").text
    assert "登记数<strong>1</strong>" in other and "1,200.00" not in other


def test_login_required(client, small):
    resp = client.get("/statistics", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    assert client.get("/statistics/report.xlsx", follow_redirects=False).status_code == 303


def _disposition(resp):
    value = resp.headers["content-disposition"]
    value.encode("latin-1")  # header values must stay latin-1
    star = value.split("filename*=UTF-8''", 1)[1]
    return unquote(star)


def test_xlsx_cell_by_cell(client, login, small):
    from openpyxl import load_workbook

    login(client, "sup-1")
    resp = client.get(f"/statistics/report.xlsx?{Q}")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert _disposition(resp) == "人民调解统计月报_一号调委会_202609-202610.xlsx"
    wb = load_workbook(io.BytesIO(resp.content))
    assert wb.sheetnames == ["月报表", "按月", "按渠道"]
    ws = wb["月报表"]
    assert ws["A1"].value == "人民调解工作统计月报表"
    assert ws["A2"].value == "填报单位：一号调委会"
    assert any(c.value == "统计期间：2026年9月至2026年10月" for c in ws[2])
    assert ws["A3"].value == "代码表版本：2026.1"
    header1 = [c.value for c in ws[4]]
    header2 = [c.value for c in ws[5]]
    assert header1[:4] == ["纠纷类型", "登记数", "受理数", None]
    assert header2[2:6] == ["合计", "主动调解", "申请调解", "接受委托移送调解"]
    assert "C4:F4" in {str(r) for r in ws.merged_cells.ranges} and "A4:A5" in {str(r) for r in ws.merged_cells.ranges}
    col = {name: i for i, name in enumerate(header1) if name}
    col.update({f"受理数-{n}": i for i, n in enumerate(header2) if n and 2 <= i <= 5})
    rows = {r[0].value: [c.value for c in r] for r in ws.iter_rows(min_row=6, max_row=6 + 17)}
    neighbour, contract, total = rows["邻里"], rows["合同"], rows["合计"]
    assert neighbour[col["登记数"]] == 1 and neighbour[col["受理数"]] == 1
    assert neighbour[col["受理数-申请调解"]] == 1 and neighbour[col["受理数-主动调解"]] == 0
    assert neighbour[col["调解成功数"]] == 1 and neighbour[col["调解成功率"]] == 1.0
    assert neighbour[col["协议涉及金额（元）"]] == 1200.0
    assert contract[col["登记数"]] == 1 and contract[col["受理数"]] == 0 and contract[col["调解成功率"]] == "—"
    assert total[col["登记数"]] == 2 and total[col["调解成功数"]] == 1 and total[col["协议涉及金额（元）"]] == 1200.0
    assert ws.cell(row=6, column=col["调解成功率"] + 1).number_format == "0.0%"
    assert ws.cell(row=6, column=col["协议涉及金额（元）"] + 1).number_format == "#,##0.00"
    labels = [r[0].value for r in ws.iter_rows(min_row=6)]
    assert "各渠道指标" in labels
    trend = wb["按月"]
    assert [c.value for c in trend[1]] == ["月份", "登记数", "受理数", "调解成功数", "调解成功率", "协议涉及金额（元）"]
    assert [c.value for c in trend[2]] == ["2026-09", 1, 1, 1, 1.0, 1200.0]
    assert [c.value for c in trend[3]] == ["2026-10", 1, 0, 0, "—", 0.0]


def test_csv_cell_by_cell(client, login, small):
    login(client, "admin")
    resp = client.get(f"/statistics/report.csv?{Q}")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert resp.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    assert _disposition(resp).endswith("_202609-202610.csv")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:7] == ["纠纷类型", "登记数", "受理数-合计", "受理数-主动调解", "受理数-申请调解", "受理数-接受委托移送调解",
                          "调解成功数"]
    assert "防止民间纠纷转化为刑事案件-件" in header and "协议履行数" == header[-1]
    body = {r[0]: dict(zip(header, r)) for r in rows[1:18]}
    assert body["邻里"]["登记数"] == "2" and body["邻里"]["受理数-主动调解"] == "1" and body["邻里"]["受理数-申请调解"] == "1"
    assert body["邻里"]["调解成功率"] == "50.0" and body["邻里"]["协议涉及金额（元）"] == "1200.00"
    assert body["合同"]["调解成功率"] == ""
    assert body["合计"]["登记数"] == "3" and body["合计"]["受理数-合计"] == "2"
    blank = rows.index([])
    assert rows[blank + 1] == ["指标", "渠道", "数值", "统计名"]
    assert any(r[-1] == "general_not_settled_cases" for r in rows[blank + 2:])


@pytest.fixture
def subsidy_client(settings, world, small):
    from litestar.testing import TestClient

    from web.app import create_app

    raw = {"subsidies": {"duty_day_rate": 150, "rules": [{"label": "一般案件", "amount": 100}]}}
    with TestClient(create_app(settings.with_(raw=raw), entry_points=False), base_url="https://testserver.local") as c:
        yield c


def test_subsidy_page_actions_and_exports(subsidy_client, world, login, csrf):
    from openpyxl import load_workbook

    client = subsidy_client
    login(client, "sup-1")
    page = client.get(f"/statistics/subsidies?{Q}")
    assert page.status_code == 200 and "调解员补贴" in page.text and "med-a" in page.text
    assert 'action="/statistics/subsidies/duty"' in page.text
    part = client.get(f"/statistics/subsidies?{Q}", headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith('<div id="subsidy-body"')
    med_a = world["users"]["med-a"].id
    resp = client.post("/statistics/subsidies/duty", data={"mediator": med_a, "day": "2026-09-20",
                                                           "_csrf_token": csrf(client), "back": f"/statistics/subsidies?{Q}"},
                       follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/statistics/subsidies?{Q}"
    assert client.post("/statistics/subsidies/duty", data={"mediator": med_a, "day": "2026-09-21"}).status_code == 403
    resp = client.get(f"/statistics/subsidies.xlsx?{Q}")
    ws = load_workbook(io.BytesIO(resp.content)).active
    assert ws["A1"].value == "调解员补贴表"
    assert [c.value for c in ws[3]][:6] == ["调解员", "调解室", "公职人员", "办结数", "调解成功数", "案件补贴（元）"]
    row = next([c.value for c in r] for r in ws.iter_rows(min_row=4) if r[0].value == "med-a")
    # med-a settled A1 (100) in September and had A2 declined (0); one duty day at 150
    assert row[1:9] == ["甲调解室", "否", 2, 1, 100.0, 1, 150.0, 250.0]
    text = client.get(f"/statistics/subsidies.csv?{Q}").content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("调解员,调解室,公职人员,办结数") and "med-a,甲调解室,否,2,1,100.00,1,150.00,250.00" in text
    # marking med-a a public employee removes the case subsidy
    client.post("/statistics/subsidies/public-employee",
                data={"mediator": med_a, "public_employee": "1", "_csrf_token": csrf(client)})
    text = client.get(f"/statistics/subsidies.csv?{Q}").content.decode("utf-8-sig")
    assert "med-a,甲调解室,是,2,1,0.00,1,150.00,150.00" in text


def test_mediators_cannot_record_duty(subsidy_client, world, login, csrf):
    login(subsidy_client, "med-a")
    page = subsidy_client.get(f"/statistics/subsidies?{Q}")
    assert page.status_code == 200 and "登记值班" not in page.text
    resp = subsidy_client.post("/statistics/subsidies/duty", data={"mediator": world["users"]["med-a"].id,
                                                                   "day": "2026-09-20", "_csrf_token": csrf(subsidy_client)})
    assert resp.status_code == 403
