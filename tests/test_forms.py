"""One schema per form: describe → HTML → validation (Chinese field errors) → JSON Schema."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
import pytest
from msgspec import Meta

from core.forms import FormErrors, describe, json_schema, translate_error, validate_data, validate_form
from core.intake import CaseIntake, PartyIn


class Sample(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, Meta(title="姓名", min_length=1, max_length=5)]
    count: Annotated[int, Meta(title="人数", ge=1, le=10)] = 2
    amount: Annotated[Decimal, Meta(title="金额")] | None = None
    day: Annotated[dt.date, Meta(title="日期")] | None = None
    kind: Annotated[Literal["b", "a"], Meta(title="类别", extra={"labels": {"a": "甲", "b": "乙"}})] = "a"
    agreed: Annotated[bool, Meta(title="同意")] = False
    note: Annotated[str, Meta(title="备注", extra={"widget": "textarea"})] | None = None

    def check(self):
        return [("note", "备注里不能写“尽快”")] if self.note and "尽快" in self.note else []


def test_describe_gives_widgets_titles_and_constraints():
    specs = {s.name: s for s in describe(Sample)}
    assert specs["name"].title == "姓名" and specs["name"].required and specs["name"].max_length == 5
    assert specs["count"].widget == "integer" and (specs["count"].minimum, specs["count"].maximum) == (1, 10)
    assert specs["amount"].widget == "decimal" and not specs["amount"].required
    assert specs["day"].widget == "date"
    assert specs["kind"].widget == "select" and specs["kind"].choices == (("a", "甲"), ("b", "乙"))
    assert specs["agreed"].widget == "checkbox"
    assert specs["note"].widget == "textarea"


def test_form_validation_reports_every_field_in_chinese():
    with pytest.raises(FormErrors) as err:
        validate_form(Sample, {"name": "", "count": "0", "amount": "abc", "day": "2026-02-30", "kind": "z"})
    assert err.value.errors == {
        "name": "此项为必填",
        "count": "不能小于 1",
        "amount": "请输入有效的金额，如 35000.00",
        "day": "请输入有效日期（年-月-日）",
        "kind": "请从列表中选择",
    }


def test_form_validation_converts_strings_and_checkboxes():
    obj = validate_form(Sample, {"name": "张三", "count": "3", "amount": "12.50", "day": "2026-11-20",
                                 "kind": "b", "agreed": "1"})
    assert obj == Sample(name="张三", count=3, amount=Decimal("12.50"), day=dt.date(2026, 11, 20), kind="b", agreed=True)
    assert validate_form(Sample, {"name": "张三"}).agreed is False


def test_cross_field_check_and_length_limit():
    with pytest.raises(FormErrors) as err:
        validate_form(Sample, {"name": "张三", "note": "请尽快处理"})
    assert err.value.errors == {"note": "备注里不能写“尽快”"}
    with pytest.raises(FormErrors) as err:
        validate_form(Sample, {"name": "一二三四五六"})
    assert err.value.errors == {"name": "不能超过 5 个字"}


def test_json_api_validation_is_strict_and_lists_unknown_fields():
    with pytest.raises(FormErrors) as err:
        validate_data(Sample, {"name": "张三", "count": "3", "extra": 1})
    assert err.value.errors == {"count": "请输入整数", "extra": "不接受此字段"}


def test_json_schema_comes_from_the_same_declaration():
    schema = json_schema(Sample)
    assert schema["required"] == ["name"]
    assert schema["properties"]["name"] == {"title": "姓名", "type": "string", "minLength": 1, "maxLength": 5}
    assert schema["properties"]["kind"]["enum"] == ["a", "b"] or set(schema["properties"]["kind"]["enum"]) == {"a", "b"}
    assert schema["additionalProperties"] is False


def test_party_checks_id_number_and_phone():
    with pytest.raises(FormErrors) as err:
        validate_form(PartyIn, {"name": "张三", "id_number": "110101199003071234", "phone": "12345"})
    assert err.value.errors == {"id_number": "身份证号校验位不正确", "phone": "请输入有效的手机号或固定电话（含区号）"}
    ok = validate_form(PartyIn, {"name": "张三", "id_number": "11010119900307002x", "phone": "13800138000"})
    assert ok.name == "张三"


def test_case_intake_amount_rules():
    with pytest.raises(FormErrors) as err:
        validate_form(CaseIntake, {"summary": "纠纷", "dispute_type": "neighbour", "amount": "-5"})
    assert err.value.errors == {"amount": "金额不能为负数"}
    with pytest.raises(FormErrors) as err:
        validate_form(CaseIntake, {"summary": "纠纷", "dispute_type": "neighbour", "amount": "1.234"})
    assert err.value.errors == {"amount": "金额最多保留两位小数"}


def test_unknown_msgspec_message_falls_back_to_generic_text():
    assert translate_error("something odd") == "格式不正确"


def test_intake_form_renders_from_schema_and_shows_errors_with_aria(client, world, login, csrf, arun):
    from core.tables import Case

    login(client, "med-a")
    page = client.get("/intake/general/walk_in")
    assert page.status_code == 200
    for label in ("纠纷简要情况", "纠纷类型", "申请人", "被申请人", "身份证号", "申请方式"):
        assert label in page.text
    assert '<option value="neighbour"' in page.text
    resp = client.post("/intake/general/walk_in", data={
        "_csrf_token": csrf(client), "c.summary": "", "c.dispute_type": "neighbour",
        "a.name": "张三", "a.id_number": "110101199003071234", "r.name": "李四"})
    assert resp.status_code == 422
    assert "此项为必填" in resp.text and "身份证号校验位不正确" in resp.text
    assert 'id="f-c-summary"' in resp.text and 'aria-describedby="f-a-id_number-err"' in resp.text
    assert arun(Case.count()) == 0, "a rejected intake must store nothing"


def test_describe_keeps_no_schema_alive() -> None:
    """``describe`` caches by schema class without keeping the class alive: schemas built at run time
    (the procuratorate's re-check form, built per registry) must go with their registry. A cache that
    held them made the catalogue check see forms of registries long gone, depending on test order."""
    import gc
    import weakref

    schema = msgspec.defstruct("Temporary", [("note", Annotated[str, Meta(title="临时说明")])])
    first = describe(schema)
    assert [s.title for s in first] == ["临时说明"] and describe(schema) == first
    first.clear()  # callers may change the list they get; the cache keeps its own
    assert [s.title for s in describe(schema)] == ["临时说明"]
    gone = weakref.ref(schema)
    del schema
    gc.collect()
    assert gone() is None
