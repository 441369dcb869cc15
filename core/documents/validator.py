"""The agreement validator: what must be in an agreement before it may be marked signed.

人民调解法 第二十九条: a written agreement states the parties' particulars; the main facts, the issues
and each side's responsibility; the agreed terms; the manner and time limit of performance; and
takes effect when the parties sign (seal or fingerprint), the mediator signs and the committee seal
is affixed. Unclear content is a ground for a court to refuse judicial confirmation (民诉法解释
第三百五十八条), so vague wording ("尽快", "适当" …) and payments without an amount or a deadline are
refused. Channels add their own items (``fengqiao_register_agreement_requirements``).

Agreements in matters of personal relationships (marriage, adoption, inheritance) cannot be signed
electronically (电子签名法 第三条): a wet-signature record is required before they are marked signed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.codes import CodeLists
from core.documents.model import AgreementCheck, AgreementRequirement

if TYPE_CHECKING:
    from core.registry import Registry

__all__ = [
    "ESIGN_CITATION",
    "Finding",
    "VAGUE_TERMS",
    "agreement_findings",
    "check_before_signing",
    "is_personal_matter",
    "needs_wet_signature",
    "wet_signature_message",
    "vague_terms_in",
]

VAGUE_TERMS: tuple[str, ...] = (
    "尽快", "尽早", "早日", "适时", "近期", "有空时", "有钱时", "以后再说", "适当", "酌情", "大概", "大约",
    "差不多", "看情况", "视情况", "原则上", "争取", "尽量", "另行协商", "再行协商",
)
"""Wording that leaves an obligation unclear; a deployment adds its own with
``[documents] vague_terms = [...]``."""

PAYMENT_WORDS = ("赔偿", "支付", "补偿", "给付", "偿还", "返还", "付清", "赔付", "退还", "付款", "承担费用")
_AMOUNT = re.compile(
    r"(?:[0-9０-９][0-9０-９,，]*(?:\.[0-9０-９]+)?|[零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟]+)\s*(?:万元|元|块)"
)
ESIGN_CITATION = "《中华人民共和国电子签名法》第三条"
WET_SIGNATURE_DISPUTE_TYPES: tuple[str, ...] = ("marriage_family",)
ART_29 = "人民调解法 第二十九条"


@dataclass(frozen=True)
class Finding:
    """One problem with an agreement: ``field`` of the agreement form ("" = the whole form)."""

    field: str
    message: str
    blocking: bool = True


def _documents_settings(reg: Registry) -> Mapping[str, Any]:
    value = reg.settings.raw.get("documents", {})
    return value if isinstance(value, Mapping) else {}


def vague_terms_in(text: str, extra: Iterable[str] = ()) -> list[str]:
    """The vague words of :data:`VAGUE_TERMS` (and ``extra``) found in ``text``, in order of appearance."""
    found = [(text.find(w), w) for w in (*VAGUE_TERMS, *extra) if w and w in text]
    return [w for _, w in sorted(found)]


def needs_wet_signature(reg: Registry, dispute_type: str) -> bool:
    """Whether agreements of ``dispute_type`` concern personal relationships (电子签名法 第三条).

    The deployment's ``[documents] wet_signature_dispute_types`` (default ``["marriage_family"]``,
    whose code-list note covers support, inheritance and adoption) names the codes; their child codes
    are included.
    """
    types = _documents_settings(reg).get("wet_signature_dispute_types", WET_SIGNATURE_DISPUTE_TYPES)
    return is_personal_matter(reg.codes, tuple(types), dispute_type)


def is_personal_matter(codes: CodeLists, types: tuple[str, ...], dispute_type: str) -> bool:
    """``dispute_type`` or one of its parents is among ``types``."""
    seen = set()
    code = dispute_type
    while code and code not in seen:
        if code in types:
            return True
        seen.add(code)
        entry = codes.get("dispute_type", code)
        code = entry.parent if entry and entry.parent else code.rpartition(".")[0]
    return False


def _party_findings(parties: tuple[Mapping[str, Any], ...]) -> list[Finding]:
    from core.intake import PARTY_ROLES

    roles = {p["role"] for p in parties}
    out = []
    if "applicant" not in roles or "respondent" not in roles:
        out.append(Finding("", f"协议须载明双方当事人的基本情况（{ART_29}）：案件缺少申请人或被申请人"))
    for p in parties:
        if p["role"] == "representative":
            continue
        ident = p.get("credit_code") if p.get("kind") == "organization" else p.get("id_number_masked")
        if not ident and not p.get("address"):
            what = "统一社会信用代码" if p.get("kind") == "organization" else "身份证号"
            out.append(Finding("", f"{PARTY_ROLES.get(p['role'], p['role'])}{p['name']}未登记{what}或住址；"
                                   "申请司法确认须提交当事人身份证明（民诉法解释 第三百五十四条）", blocking=False))
    return out


def _content_findings(a: Mapping[str, Any], extra_vague: Iterable[str]) -> list[Finding]:
    out = []
    written = a.get("form", "written") == "written"
    facts = (a.get("facts") or "").strip()
    terms = (a.get("terms") or "").strip()
    method = (a.get("performance_method") or "").strip()
    if written and not facts:
        out.append(Finding("facts", f"书面协议须载明纠纷事实、争议事项及各方责任（{ART_29}）"))
    elif written and "责任" not in facts:
        out.append(Finding("facts", "纠纷事实中未写明各方责任", blocking=False))
    if not terms:
        out.append(Finding("terms", f"协议须载明当事人达成的协议内容（{ART_29}）"))
    vague = vague_terms_in(f"{terms}\n{method}", extra_vague)
    if vague:
        words = "、".join(f"“{w}”" for w in vague)
        out.append(Finding("terms", f"协议内容含有不明确的表述{words}，请写明具体的金额、期限或行为；"
                                    "内容不明确的协议可能不予司法确认（民诉法解释 第三百五十八条）"))
    amount = a.get("amount")
    pays = any(w in terms for w in PAYMENT_WORDS)
    if pays and amount is None and not _AMOUNT.search(terms):
        out.append(Finding("amount", "协议涉及给付，须写明具体金额"))
    if written and not method:
        out.append(Finding("performance_method", f"书面协议须载明履行方式（{ART_29}）"))
    deadline = a.get("performance_deadline")
    has_amount = amount is not None or bool(_AMOUNT.search(terms))
    if written and deadline is None:
        if has_amount or pays:
            out.append(Finding("performance_deadline", f"协议载有给付金额，须写明履行期限（{ART_29}）"))
        else:
            out.append(Finding("performance_deadline", f"书面协议宜写明履行期限（{ART_29}）", blocking=False))
    elif not written and deadline is None and (has_amount or pays):
        out.append(Finding("performance_deadline", "口头协议涉及给付，宜记录履行期限", blocking=False))
    signed_on = a.get("signed_on")
    if deadline is not None and signed_on is not None and deadline < signed_on:
        out.append(Finding("performance_deadline", "履行期限早于协议签订日期"))
    return out


def agreement_findings(
    reg: Registry,
    case: Mapping[str, Any],
    agreement: Mapping[str, Any],
    parties: tuple[Mapping[str, Any], ...],
    *,
    wet_signature_recorded: bool,
) -> list[Finding]:
    """Every problem that stands between ``agreement`` (as entered) and its signing.

    Blocking findings refuse marking it signed; the others are shown as advice.
    """
    settings = _documents_settings(reg)
    out = _party_findings(parties)
    out += _content_findings(agreement, settings.get("vague_terms", ()))
    check = AgreementCheck(case=case, agreement=agreement, parties=parties)
    requirements: Iterable[AgreementRequirement] = getattr(reg, "agreement_requirements", {}).values()
    for req in requirements:
        if req.applies_to(case):
            problem = req.check(check)
            if problem:
                out.append(Finding(req.field, problem))
    if (agreement.get("form", "written") == "written" and agreement.get("signed_by_parties")
            and needs_wet_signature(reg, case.get("dispute_type", "")) and not wet_signature_recorded):
        out.append(Finding("signed_by_parties", wet_signature_message(reg, case)))
    return out


def wet_signature_message(reg: Registry, case: Mapping[str, Any]) -> str:
    label = reg.codes.label("dispute_type", case.get("dispute_type", ""))
    return (f"本案为{label}纠纷，涉及婚姻、收养、继承等人身关系，依{ESIGN_CITATION}不适用电子签名："
            "当事人须当面亲笔签名（或按指印），请先在“卷宗”页登记书面签署记录，再标记当事人已签名")


async def check_before_signing(reg: Registry, case: Mapping[str, Any], agreement: Any) -> None:
    """Refuse to mark ``agreement`` (a ``core.records.AgreementIn``) signed while a blocking finding
    remains. Called inside the saving transaction.

    Raises:
        core.forms.FormErrors: field → message (several findings on one field are joined).
    """
    import msgspec

    from core.documents.facts import load_facts
    from core.forms import FormErrors

    facts = await load_facts(case)
    data = msgspec.structs.asdict(agreement) if isinstance(agreement, msgspec.Struct) else dict(agreement)
    findings = agreement_findings(reg, case, data, facts.parties, wet_signature_recorded=facts.has_wet_signature())
    errors: dict[str, str] = {}
    for f in findings:
        if f.blocking:
            errors[f.field] = f"{errors[f.field]}；{f.message}" if f.field in errors else f.message
    if errors:
        raise FormErrors(errors)
