"""Documents and the case file: generated DOCX / print HTML / PDF, the agreement validator, the
electronic-signature limit, the 卷宗 index, archive refusal, the sealed archive record."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from decimal import Decimal

import pytest
from docx import Document

from core import clock
from core.cases import Refused, apply_transition, record_session, save_agreement
from core.documents.archive import verify
from core.documents.casefile import build_index, record_item
from core.documents.catalogue import CORE_DOCUMENTS
from core.documents.context import build_context
from core.documents.docx import TEMPLATES_DIR, build_template, render_docx
from core.documents.facts import FileFacts, load_facts
from core.documents.signing import WetSignatureIn, record_signature
from core.documents.tables import ArchiveRecord
from core.forms import FormErrors
from core.records import AgreementIn, SessionIn
from core.tables import Agreement, FollowUp

ID_FULL = "110101199003071233"
ID_MASKED = "110101********1233"


def signed(**kw):
    base = dict(form="written", facts="楼上管道老化致楼下墙面受损，楼上住户承担全部维修责任。",
                terms="李四于2026年12月1日前赔偿张三维修费1200.50元。", amount=Decimal("1200.50"),
                performance_method="银行转账", performance_deadline=dt.date(2026, 12, 1),
                signed_by_parties=True, signed_by_mediator=True, sealed=True, signed_on=dt.date(2026, 11, 20))
    return AgreementIn(**{**base, **kw})


def to_mediation(reg, case_id, user, arun):
    arun(apply_transition(reg, case_id, "accept", user))
    arun(apply_transition(reg, case_id, "start_mediation", user))
    arun(record_session(reg, case_id, user, SessionIn(
        held_at=dt.datetime(2026, 11, 20, 14, 30, tzinfo=clock.TZ), place="甲调解室", attendees="张三、李四、调解员",
        record="双方陈述事实；调解员释法说理。\n双方同意赔偿方案。", outcome="agreement")))


def settled_case(reg, make_case, world, arun, agreement=None, **case_kw):
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user, **case_kw)
    to_mediation(reg, case["id"], user, arun)
    arun(save_agreement(reg, case["id"], user, agreement or signed()))
    arun(apply_transition(reg, case["id"], "settle", user))
    return case


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def pdf_font_names(data: bytes) -> bytes:
    """The /BaseFont names of a PDF whose object streams are Flate-compressed."""
    import re
    import zlib

    found = re.findall(rb"/BaseFont\s*/([^/\s>]+)", data)
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            found += re.findall(rb"/BaseFont\s*/([^/\s>]+)", zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return b" ".join(found)


# --------------------------------------------------------------------------- DOCX


REQUIRED_TEXT = {
    "application": ["人民调解申请书", "纠纷简要情况", "申请事项", "申请人（签名或按指印）", "申请日期：2026年"],
    "register": ["人民调解受理登记表", "纠纷类型", "邻里", "案件来源", "☑当事人申请", "☐主动调解", "予以受理",
                 "承办人民调解员", "med-a", "一号调委会（印章）"],
    "notice": ["人民调解当事人权利义务告知书", "选择或者接受人民调解员", "接受调解、拒绝调解或者要求终止调解",
               "如实陈述纠纷事实", "不收取任何费用", "三十日内共同向人民法院申请司法确认", "告知人（人民调解员）"],
    "record": ["人民调解记录", "第1次调解", "2026年11月20日 14时30分", "甲调解室", "张三、李四、调解员",
               "双方同意赔偿方案", "本次结果：达成协议", "调解结果", "记录人（签名）"],
    "agreement": ["人民调解协议书", "协字第", "纠纷主要事实、争议事项及各方责任", "承担全部维修责任",
                  "李四于2026年12月1日前赔偿张三维修费1200.50元", "人民币1,200.50元", "银行转账", "2026年12月1日",
                  "本协议一式3份", "申请人 张三（签名、盖章或按指印）", "被申请人 李四（签名、盖章或按指印）",
                  "人民调解员（签名）", "一号调委会（印章）", "2026年11月20日", "三十日内"],
    "follow_up": ["人民调解回访记录", "协议编号", "协字第", "协议履行情况", "已履行", "当事人满意程度", "满意",
                  "按期付清", "回访人（签名）"],
    "closing_report": ["人民调解结案报告表", "卷号", "承办单位", "甲调解室", "受案时间", "结案时间", "案件来源",
                       "纠纷简要事实", "调解成功（书面协议）", "协议履行情况"],
    "file_cover": ["人民调解卷宗", "卷名", "张三、李四邻里纠纷", "保管期限", "10年", "卷内目录", "当事人权利义务告知书",
                   "当事人身份证明", "必备", "视情况", "已附卷", "封底", "立卷人", "归档校验码（SHA-256）"],
}


def test_every_core_docx_holds_its_required_elements(registry, world, make_case, arun):
    user = world["users"]["med-a"]
    case = settled_case(registry, make_case, world, arun)
    arun(FollowUp.insert(FollowUp(case=case["id"], due_on=dt.date(2026, 12, 5), done_on=dt.date(2026, 12, 5),
                                  performance="performed", satisfaction="satisfied", notes="按期付清，双方满意。",
                                  visitor=user.id, created_at=clock.now())))
    arun(apply_transition(registry, case["id"], "close", user))
    arun(record_item(case["id"], user, "identity", note="身份证复印件", pages=2))
    arun(apply_transition(registry, case["id"], "archive", user))
    from core.cases import load_case

    row = arun(load_case(case["id"], user))
    ctx = arun(build_context(registry, row, documents=tuple(registry.documents_for(row))))
    sha = arun(ArchiveRecord.select(ArchiveRecord.sha256).where(ArchiveRecord.case == case["id"]).first())["sha256"]
    seen = set()
    for doc in CORE_DOCUMENTS:
        if doc.available is not None and not doc.available(ctx):
            continue
        text = docx_text(render_docx(doc, ctx))
        seen.add(doc.key)
        assert "{{" not in text and "{%" not in text, doc.key
        assert case["number"] in text or doc.key == "agreement", doc.key
        if doc.key not in {"record", "follow_up", "closing_report", "file_cover", "notice"}:
            assert ID_MASKED in text, doc.key
        assert ID_FULL not in text, doc.key
        for needle in REQUIRED_TEXT[doc.key]:
            assert needle in text, (doc.key, needle)
        if doc.key == "file_cover":
            assert sha in text and "3. " not in text  # the hash of the sealed file, no missing items listed
    assert seen == set(REQUIRED_TEXT)  # all but the oral register (that case had a written agreement)


def test_oral_agreement_register(registry, world, make_case, arun):
    case = settled_case(registry, make_case, world, arun,
                        agreement=AgreementIn(form="oral", terms="李四当面向张三赔礼道歉。"))
    from core.cases import load_case

    row = arun(load_case(case["id"], world["users"]["med-a"]))
    ctx = arun(build_context(registry, row))
    docs = {d.key: d for d in CORE_DOCUMENTS}
    assert not docs["agreement"].available(ctx) and docs["oral_register"].available(ctx)
    text = docx_text(render_docx(docs["oral_register"], ctx))
    for needle in ("人民调解口头协议登记表", case["number"], "李四当面向张三赔礼道歉", "张三、李四", "第三十条"):
        assert needle in text


def test_committed_templates_match_their_layouts():
    for doc in CORE_DOCUMENTS:
        committed = zipfile.ZipFile(TEMPLATES_DIR / f"{doc.key}.docx").read("word/document.xml")
        fresh = zipfile.ZipFile(io.BytesIO(build_template(doc.layout))).read("word/document.xml")
        assert committed == fresh, f"{doc.key}.docx is stale: run python -m core.documents.build_templates"


def test_a_deployment_template_overrides_the_built_in_one(tmp_path):
    from core.documents.policy import policy_from_settings
    from core.settings import load_settings

    local = Document()
    local.add_paragraph("某某县格式　{{ case.number }}　{{ party_names }}")
    path = tmp_path / "notice-local.docx"
    local.save(path)
    settings = load_settings(env={"FENGQIAO_DATA_DIR": str(tmp_path), "FENGQIAO_SECRET_KEY": "k" * 40}).with_(
        raw={"documents": {"templates": {"notice": str(path)}}})
    overrides = policy_from_settings(settings).templates
    notice = next(d for d in CORE_DOCUMENTS if d.key == "notice")
    text = docx_text(render_docx(notice, {"case": {"number": "（2026）甲人调字第0001号"}, "party_names": "张三、<李四>"},
                                 overrides))
    assert text == "某某县格式　（2026）甲人调字第0001号　张三、<李四>"


# --------------------------------------------------------------------------- print HTML, DOCX and PDF over HTTP


def test_print_pages_docx_and_pdf_over_http(client, world, make_case, registry, login, arun):
    case = settled_case(registry, make_case, world, arun, summary="噪音<script>alert(1)</script>扰民")
    login(client, "med-a")
    for key in ("application", "register", "notice", "record", "agreement", "follow_up", "closing_report",
                "file_cover"):
        resp = client.get(f"/cases/{case['id']}/documents/{key}")
        assert resp.status_code == 200, (key, resp.text[:500])
        assert resp.headers["content-type"].startswith("text/html")
        assert "@media print" in resp.text and "size: A4" in resp.text
        assert next(d.title for d in CORE_DOCUMENTS if d.key == key).split("（")[0] in resp.text
        assert "<script>alert" not in resp.text and "onclick" not in resp.text  # the CSP allows no inline script
    js = client.get("/-/documents/print.js")
    assert js.status_code == 200 and "window.print()" in js.text and "javascript" in js.headers["content-type"]
    page = client.get(f"/cases/{case['id']}/documents/agreement").text
    assert "人民币1,200.50元" in page and ID_MASKED in page and ID_FULL not in page
    assert client.get(f"/cases/{case['id']}/documents/oral_register").status_code == 409
    assert client.get(f"/cases/{case['id']}/documents/no_such").status_code == 404
    assert client.get(f"/cases/{case['id']}/documents/agreement.txt").status_code == 404

    resp = client.get(f"/cases/{case['id']}/documents/agreement.docx")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in resp.headers["content-disposition"]
    assert "李四于2026年12月1日前赔偿张三维修费1200.50元" in docx_text(resp.content)

    resp = client.get(f"/cases/{case['id']}/documents/notice.pdf")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF") and b"CJK" in pdf_font_names(resp.content)  # a CJK font embedded

    # another organisation's mediator sees none of it
    client.cookies.clear()
    login(client, "med-c")
    for path in ("documents/agreement", "documents/agreement.docx", "documents/notice.pdf", "file"):
        assert client.get(f"/cases/{case['id']}/{path}").status_code == 404, path


def test_case_page_panel_and_file_page(client, world, make_case, registry, login, arun):
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user)
    login(client, "med-a")
    page = client.get(f"/cases/{case['id']}").text
    assert "文书与卷宗" in page and "缺少必备材料" in page and "3. 当事人身份证明" in page
    assert f"/cases/{case['id']}/documents/register.docx" in page
    assert f"/cases/{case['id']}/documents/agreement" not in page  # no agreement yet
    # the panel speaks the page's language (it used to be Chinese on an English page)
    client.cookies.set("fq_lang", "en")
    english = client.get(f"/cases/{case['id']}").text
    assert re.search(r"Case file: \d+/\d+ items on file; required items missing: ", english) and "卷宗：" not in english
    assert "Manage the case file and generate all documents" in english
    client.cookies.delete("fq_lang")
    file = client.get(f"/cases/{case['id']}/file")
    assert file.status_code == 200 and "卷内目录" in file.text and "登记附卷" in file.text
    assert "不适用电子签名" not in file.text  # a neighbour dispute


# --------------------------------------------------------------------------- the validator


@pytest.fixture
def plain_registry(tmp_path):
    from core.registry import build_registry
    from core.settings import load_settings

    return build_registry(load_settings(env={"FENGQIAO_DATA_DIR": str(tmp_path), "FENGQIAO_SECRET_KEY": "k" * 40}),
                          entry_points=False)


PARTIES = ({"role": "applicant", "kind": "person", "name": "张三", "id_number_masked": ID_MASKED, "address": ""},
           {"role": "respondent", "kind": "person", "name": "李四", "id_number_masked": "", "address": "城关镇"})
CASE = {"id": 1, "channel": "general", "kind": "walk_in", "dispute_type": "neighbour", "intake": {}}


def _findings(reg, parties=PARTIES, case=CASE, wet=False, **changes):
    from core.documents.validator import agreement_findings

    import msgspec

    a = msgspec.structs.asdict(signed(**changes))
    return agreement_findings(reg, case, a, parties, wet_signature_recorded=wet)


def _blocking(findings):
    return {f.field: f.message for f in findings if f.blocking}


def test_complete_agreement_passes(plain_registry):
    assert _blocking(_findings(plain_registry)) == {}


@pytest.mark.parametrize("changes,field,text", [
    ({"facts": None}, "facts", "纠纷事实、争议事项及各方责任"),
    ({"terms": ""}, "terms", "协议内容"),
    ({"performance_method": None}, "performance_method", "履行方式"),
    ({"performance_deadline": None}, "performance_deadline", "须写明履行期限"),
    ({"performance_deadline": None, "amount": None}, "performance_deadline", "须写明履行期限"),  # amount in the terms
    ({"performance_deadline": dt.date(2026, 11, 1)}, "performance_deadline", "早于协议签订日期"),
    ({"terms": "李四尽快赔偿张三维修费1200元。"}, "terms", "“尽快”"),
    ({"terms": "李四近期适当补偿张三1200元。"}, "terms", "“近期”、“适当”"),
    ({"terms": "李四有空时酌情赔偿张三1200元。"}, "terms", "“有空时”、“酌情”"),
    ({"terms": "李四赔偿张三维修费，于下月底前付清。", "amount": None}, "amount", "须写明具体金额"),
    ({"performance_method": "尽量现金支付"}, "terms", "“尽量”"),
])
def test_validator_refusals(plain_registry, changes, field, text):
    blocking = _blocking(_findings(plain_registry, **changes))
    assert field in blocking and text in blocking[field], blocking


def test_parties_missing_refused_and_unidentified_party_is_advice(plain_registry):
    blocking = _blocking(_findings(plain_registry, parties=PARTIES[:1]))
    assert "缺少申请人或被申请人" in blocking[""]
    bare = ({**PARTIES[0]}, {**PARTIES[1], "address": ""})
    findings = _findings(plain_registry, parties=bare)
    assert _blocking(findings) == {}
    assert any("被申请人李四未登记身份证号或住址" in f.message and not f.blocking for f in findings)


def test_save_agreement_refuses_then_accepts(registry, world, make_case, arun):
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user)
    to_mediation(registry, case["id"], user, arun)
    # a draft (not signed) may be incomplete
    arun(save_agreement(registry, case["id"], user, signed(terms="李四尽快赔偿", signed_by_parties=False,
                                                            signed_by_mediator=False, sealed=False, amount=None)))
    with pytest.raises(FormErrors) as err:
        arun(save_agreement(registry, case["id"], user, signed(terms="李四尽快赔偿张三1200元。",
                                                                performance_deadline=None)))
    assert "“尽快”" in err.value.errors["terms"] and "履行期限" in err.value.errors["performance_deadline"]
    stored = arun(Agreement.select(Agreement.signed_by_parties).where(Agreement.case == case["id"]).first())
    assert stored["signed_by_parties"] is False  # the refused save wrote nothing
    arun(save_agreement(registry, case["id"], user, signed()))
    assert arun(Agreement.select(Agreement.signed_by_parties).where(Agreement.case == case["id"]).first())[
        "signed_by_parties"] is True


# --------------------------------------------------------------------------- electronic-signature limit


def test_marriage_family_agreement_needs_a_wet_signature_record(client, registry, world, make_case, login, csrf,
                                                                arun):
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user, dispute_type="marriage_family", summary="子女赡养费分担")
    to_mediation(registry, case["id"], user, arun)
    with pytest.raises(FormErrors) as err:
        arun(save_agreement(registry, case["id"], user, signed()))
    assert "电子签名法》第三条" in err.value.errors["signed_by_parties"]
    # the mediator may still save the unsigned text
    arun(save_agreement(registry, case["id"], user, signed(signed_by_parties=False)))

    login(client, "med-a")
    page = client.get(f"/cases/{case['id']}").text
    assert "不适用电子签名" in page and "《中华人民共和国电子签名法》第三条" in page and "尚未登记书面签署记录" in page
    refused = client.post(f"/cases/{case['id']}/agreement", data={
        "_csrf_token": csrf(client), "form": "written", "facts": "子女均有赡养义务，各自承担相应责任。",
        "terms": "吴建军每月5日前支付赡养费600元。", "amount": "600", "performance_method": "银行转账",
        "performance_deadline": "2026-12-05", "signed_by_parties": "1", "signed_on": "2026-11-20"})
    assert refused.status_code == 422 and "电子签名法》第三条" in refused.text
    assert "登记书面签署" in client.get(f"/cases/{case['id']}/file").text
    bad = client.post(f"/cases/{case['id']}/file/signatures", data={"_csrf_token": csrf(client), "signers": ""},
                      follow_redirects=False)
    assert bad.status_code == 422
    ok = client.post(f"/cases/{case['id']}/file/signatures", data={
        "_csrf_token": csrf(client), "signers": "吴桂英、吴建军", "signed_on": "2026-11-20", "place": "甲调解室",
        "note": "当面签名并按指印"}, follow_redirects=False)
    assert ok.status_code == 303
    assert "已登记书面签署记录" in client.get(f"/cases/{case['id']}").text
    arun(save_agreement(registry, case["id"], user, signed()))  # now accepted


def test_inheritance_child_codes_are_personal_matters(plain_registry):
    from core.documents.validator import needs_wet_signature

    assert needs_wet_signature(plain_registry, "marriage_family")
    assert needs_wet_signature(plain_registry, "marriage_family.inheritance")
    assert not needs_wet_signature(plain_registry, "neighbour")
    settings = plain_registry.settings.with_(raw={"documents": {"wet_signature_dispute_types": ["neighbour"]}})
    from core.registry import build_registry

    assert needs_wet_signature(build_registry(settings, entry_points=False), "neighbour")


# --------------------------------------------------------------------------- the 卷宗 index


def test_index_requirements_follow_the_case():
    base = {"id": 1, "channel": "general", "kind": "walk_in", "dispute_type": "neighbour", "intake": {},
            "accepted_at": None, "outcome": "not_settled"}
    statuses = {e.key: e.status for e in build_index(FileFacts(case=base))}
    assert statuses["application"] == "present" and statuses["back_cover"] == "present"
    assert statuses["identity"] == "missing"
    assert statuses["agreement"] == "not_applicable" and statuses["record"] == "not_applicable"
    assert statuses["notice"] == "not_applicable" and statuses["evidence"] == "optional"
    rep = FileFacts(case={**base, "accepted_at": clock.now(), "outcome": "settled_oral"}, sessions=2,
                    parties=({"role": "representative", "name": "王律师"},),
                    agreement={"form": "oral", "signed_by_parties": False, "signed_by_mediator": False, "sealed": False},
                    recorded={"identity": {"note": "身份证复印件", "pages": 2}})
    entries = {e.key: e for e in build_index(rep)}
    assert entries["power_of_attorney"].status == "missing"
    assert entries["agreement"].status == "present" and "口头协议登记表" in entries["agreement"].note
    assert entries["record"].status == "present" and entries["notice"].status == "present"
    assert entries["identity"].note == "身份证复印件（2 页）"


# --------------------------------------------------------------------------- archive: refusal, seal, immutability


def test_archive_refused_until_identity_on_file_then_sealed(client, registry, world, make_case, login, csrf, arun):
    from core.db import engine, is_sqlite

    user = world["users"]["med-a"]
    case = settled_case(registry, make_case, world, arun)
    arun(apply_transition(registry, case["id"], "close", user))
    with pytest.raises(Refused) as err:
        arun(apply_transition(registry, case["id"], "archive", user))
    assert "3. 当事人身份证明" in err.value.message and "不能归档" in err.value.message
    assert not arun(ArchiveRecord.exists().where(ArchiveRecord.case == case["id"]))

    login(client, "med-a")
    refused = client.post(f"/cases/{case['id']}/transitions/archive", data={"_csrf_token": csrf(client)})
    assert refused.status_code == 409 and "当事人身份证明" in refused.text
    bad = client.post(f"/cases/{case['id']}/file/items", data={"_csrf_token": csrf(client), "item": "back_cover"},
                      follow_redirects=False)
    assert bad.status_code == 409  # generated items are not recorded by hand
    ok = client.post(f"/cases/{case['id']}/file/items", data={
        "_csrf_token": csrf(client), "item": "identity", "note": "双方身份证复印件", "pages": "2"}, follow_redirects=False)
    assert ok.status_code == 303
    assert "必备材料齐全" in client.get(f"/cases/{case['id']}/file").text
    resp = client.post(f"/cases/{case['id']}/transitions/archive", data={"_csrf_token": csrf(client)},
                       follow_redirects=False)
    assert resp.status_code == 303

    record = arun(ArchiveRecord.select().where(ArchiveRecord.case == case["id"]).first())
    assert record["sha256"] == hashlib.sha256(record["manifest"].encode()).hexdigest()
    assert record["retention_years"] == 10 and record["case_number"] == case["number"]
    assert "双方身份证复印件" in record["manifest"] and ID_FULL not in record["manifest"]
    assert arun(verify(case["id"])).ok
    page = client.get(f"/cases/{case['id']}/file").text
    assert record["sha256"] in page and "校验通过" in page and "登记附卷" not in page
    assert record["sha256"][:16] in client.get(f"/cases/{case['id']}").text  # the case page panel

    # the sealed file cannot change: no more items, no signatures, and the database refuses edits
    with pytest.raises(Refused, match="已归档"):
        arun(record_item(case["id"], user, "evidence"))
    with pytest.raises(Refused, match="已归档"):
        arun(record_signature(case["id"], user, WetSignatureIn(signers="张三", signed_on=dt.date(2026, 11, 20))))
    with pytest.raises(Exception, match="append-only"):
        arun(ArchiveRecord.update({ArchiveRecord.retention_years: 1}).where(ArchiveRecord.case == case["id"]))
    with pytest.raises(Exception, match="append-only"):
        arun(ArchiveRecord.delete().where(ArchiveRecord.case == case["id"]))

    # tampering with the case after archiving is detected …
    arun(Agreement.update({Agreement.terms: "李四赔偿张三1元。"}).where(Agreement.case == case["id"]))
    result = arun(verify(case["id"]))
    assert not result.ok and result.changed == ("agreement",) and "归档后案件数据被修改" in result.problems[0]
    assert "归档后案件数据被修改" in client.get(f"/cases/{case['id']}/file").text
    # … and so is tampering with the record itself (triggers switched off by someone with DB access)
    db = engine()
    if is_sqlite():
        arun(db.run_ddl("DROP TRIGGER documents_archive_no_update"))
    else:
        arun(db.run_ddl("ALTER TABLE documents_archive DISABLE TRIGGER documents_archive_append_only"))
    try:
        arun(ArchiveRecord.update({ArchiveRecord.manifest: record["manifest"].replace("双方身份证复印件", "无")}).where(
            ArchiveRecord.case == case["id"]))
        assert any("归档记录被篡改" in p for p in arun(verify(case["id"])).problems)
    finally:
        if not is_sqlite():  # the PostgreSQL database is shared by the session's tests
            arun(db.run_ddl("ALTER TABLE documents_archive ENABLE TRIGGER documents_archive_append_only"))


def test_retention_comes_from_the_settings(settings, world, make_case, arun):
    from core.registry import build_registry

    raw = {"documents": {"retention_years": 30, "retention_by_dispute_type": {"marriage_family": 0}}}
    reg = build_registry(settings.with_(raw=raw), entry_points=False)
    user = world["users"]["med-a"]
    for dispute_type, years in (("neighbour", 30), ("marriage_family", 0)):
        case = make_case(world["rooms"]["a"], user, dispute_type=dispute_type)
        arun(apply_transition(reg, case["id"], "decline", user, {"reason": "不属于人民调解范围"}))
        arun(apply_transition(reg, case["id"], "close", user))
        arun(record_item(case["id"], user, "identity"))
        arun(apply_transition(reg, case["id"], "archive", user))
        row = arun(ArchiveRecord.select(ArchiveRecord.retention_years).where(ArchiveRecord.case == case["id"]).first())
        assert row["retention_years"] == years
        facts = arun(load_facts({"id": case["id"], "accepted_at": None, "outcome": "declined"}))
        assert "identity" in facts.recorded
