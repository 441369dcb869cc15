"""The rule data of criminal reconciliation (刑事和解) and the eligibility checker.

The data (offences with their chapter of the Criminal Law's special part and whether they are
negligent or dereliction offences, the thresholds, the citations and the terms the parties may not
negotiate) lives in ``rules/reconciliation.toml``. A deployment replaces the file
(``[channels.procuratorate] rules_file = "/etc/fengqiao/reconciliation.toml"``) or overrides single
thresholds (``[channels.procuratorate.thresholds] civil_dispute_max_years = 3``).

:func:`check_eligibility` is a pure function of the rules and the facts of a case (刑事诉讼法 第二百八
十八条): eligible when

1. the offence arose from a civil dispute (民间纠纷), is in chapter 4 or 5 of the special part and the
   likely sentence is at most three years; or
2. the offence is negligent, not a dereliction offence (渎职), and the likely sentence is at most
   seven years;

and the suspect has not committed an intentional crime within the five years before the offence
("以内" includes the boundary, 刑法 第九十九条). Nothing here does I/O except loading the TOML file.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from core.channels import RegistrationError

__all__ = [
    "DEFAULT_RULES_FILE",
    "ChannelSettings",
    "Eligibility",
    "EligibilityFacts",
    "Forbidden",
    "Offence",
    "ReconciliationRules",
    "Thresholds",
    "check_eligibility",
    "load_rules",
    "rules_for",
]

DEFAULT_RULES_FILE = Path(__file__).parent / "rules" / "reconciliation.toml"


class Offence(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: str
    article: str
    chapter: int
    negligent: bool = False
    dereliction: bool = False


class Thresholds(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    civil_dispute_chapters: tuple[int, ...] = (4, 5)
    civil_dispute_max_years: decimal.Decimal = decimal.Decimal(3)
    negligent_max_years: decimal.Decimal = decimal.Decimal(7)
    prior_intentional_years: int = 5
    dereliction_chapter: int = 9
    immediate_performance_days: int = 0


class Forbidden(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    pattern: str
    touches: str


class AgreementRules(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    forbidden: tuple[Forbidden, ...] = ()


class ReconciliationRules(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    version: str
    thresholds: Thresholds
    citations: dict[str, str]
    offences: tuple[Offence, ...]
    agreement: AgreementRules = AgreementRules()
    source: str = ""

    def offence(self, name: str) -> Offence | None:
        for o in self.offences:
            if o.name == name:
                return o
        return None

    @property
    def offence_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.offences)

    def cite(self, key: str) -> str:
        return self.citations.get(key, "")

    def forbidden_in(self, text: str) -> list[tuple[str, str]]:
        """``(matched text, what it touches)`` for every forbidden term found in ``text``."""
        out = []
        for f in self.agreement.forbidden:
            m = re.search(f.pattern, text)
            if m:
                out.append((m.group(0), f.touches))
        return out


REQUIRED_CITATIONS = ("scope", "exclusion", "negotiable", "agreement", "performance")


def load_rules(path: Path | str | None = None, thresholds: Mapping[str, Any] | None = None) -> ReconciliationRules:
    """Load and validate the rule data (the built-in file unless ``path``), then apply ``thresholds``.

    Raises:
        RegistrationError: the file is missing or malformed (a start-up error naming the file).
    """
    path = Path(path) if path else DEFAULT_RULES_FILE
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistrationError(f"procuratorate: rules_file {path} does not exist") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegistrationError(f"procuratorate: rules_file {path}: {exc}") from exc
    if thresholds:
        doc["thresholds"] = {**doc.get("thresholds", {}), **dict(thresholds)}
    try:
        rules = msgspec.convert({**doc, "source": str(path)}, ReconciliationRules, strict=False)
    except msgspec.ValidationError as exc:
        raise RegistrationError(f"procuratorate: rule data {path} is invalid: {exc}") from exc
    names = [o.name for o in rules.offences]
    if not names or len(set(names)) != len(names):
        raise RegistrationError(f"procuratorate: rule data {path} needs offences with unique names")
    missing = [k for k in REQUIRED_CITATIONS if not rules.citations.get(k)]
    if missing:
        raise RegistrationError(f"procuratorate: rule data {path} lacks citations {missing}")
    for f in rules.agreement.forbidden:
        try:
            re.compile(f.pattern)
        except re.error as exc:
            raise RegistrationError(f"procuratorate: rule data {path}: bad pattern {f.pattern!r}: {exc}") from exc
    return rules


class ChannelSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``[channels.procuratorate]`` in the deployment's settings."""

    rules_file: str | None = None
    thresholds: dict[str, Any] = {}


def rules_for(settings: Any) -> ReconciliationRules:
    """The rules of a deployment (``settings.channel_settings("procuratorate")``)."""
    raw = settings.channel_settings("procuratorate") if settings is not None else {}
    try:
        cs = msgspec.convert(raw, ChannelSettings, strict=False)
    except msgspec.ValidationError as exc:
        raise RegistrationError(f"[channels.procuratorate]: {exc}") from exc
    return load_rules(cs.rules_file, cs.thresholds)


@dataclass(frozen=True)
class EligibilityFacts:
    """What the checker looks at (from the intake, possibly corrected by the mediator)."""

    offence: str
    likely_sentence_years: decimal.Decimal
    from_civil_dispute: bool
    offence_on: dt.date | None = None
    prior_intentional_crime_on: dt.date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "offence": self.offence,
            "likely_sentence_years": str(self.likely_sentence_years),
            "from_civil_dispute": self.from_civil_dispute,
            "offence_on": self.offence_on.isoformat() if self.offence_on else None,
            "prior_intentional_crime_on": (
                self.prior_intentional_crime_on.isoformat() if self.prior_intentional_crime_on else None
            ),
        }


@dataclass(frozen=True)
class Eligibility:
    """The checker's result, recorded on the case with its citations and the rules' version."""

    eligible: bool
    clause: str
    """``civil_dispute`` (288 ¶1 (1)), ``negligent`` (288 ¶1 (2)) or ``""`` when not eligible."""
    reasons: tuple[str, ...]
    citations: tuple[str, ...]
    rules_version: str
    facts: EligibilityFacts
    checked_on: dt.date
    notes: tuple[str, ...] = field(default=())

    @property
    def citation(self) -> str:
        return "；".join(self.citations)

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "clause": self.clause,
            "reasons": list(self.reasons),
            "citation": self.citation,
            "citations": list(self.citations),
            "rules_version": self.rules_version,
            "facts": self.facts.as_dict(),
            "checked_on": self.checked_on.isoformat(),
        }


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _fmt_years(value: decimal.Decimal) -> str:
    return f"{value.normalize():f}"


def check_eligibility(rules: ReconciliationRules, facts: EligibilityFacts, *, today: dt.date) -> Eligibility:
    """Whether a public-prosecution case may be reconciled (刑事诉讼法 第二百八十八条)."""
    t = rules.thresholds
    reasons: list[str] = []
    citations: list[str] = [rules.cite("scope")]
    years = facts.likely_sentence_years
    offence = rules.offence(facts.offence)
    clause = ""
    if offence is None:
        reasons.append(f"罪名“{facts.offence}”未列入刑事和解规则数据，不能确认其所属章节及是否为过失犯罪，请报检察机关审查")
    else:
        where = f"{offence.name}（刑法{offence.article}，分则第{offence.chapter}章）"
        dereliction = offence.dereliction or offence.chapter == t.dereliction_chapter
        in_chapters = offence.chapter in t.civil_dispute_chapters
        civil_ok = in_chapters and facts.from_civil_dispute and years <= t.civil_dispute_max_years
        negligent_ok = offence.negligent and not dereliction and years <= t.negligent_max_years
        if civil_ok:
            clause = "civil_dispute"
            reasons.append(f"{where}因民间纠纷引起，属刑法分则第四章、第五章规定的犯罪，可能判处"
                           f"{_fmt_years(years)}年有期徒刑以下刑罚（不超过{_fmt_years(t.civil_dispute_max_years)}年）")
        elif negligent_ok:
            clause = "negligent"
            reasons.append(f"{where}为过失犯罪（非渎职犯罪），可能判处{_fmt_years(years)}年有期徒刑以下刑罚"
                           f"（不超过{_fmt_years(t.negligent_max_years)}年）")
        else:
            if dereliction:
                reasons.append(f"{where}属渎职犯罪，不适用刑事和解")
            elif offence.negligent:
                reasons.append(f"{where}为过失犯罪，但可能判处的刑罚{_fmt_years(years)}年超过"
                               f"{_fmt_years(t.negligent_max_years)}年")
            if not in_chapters and not offence.negligent:
                reasons.append(f"{where}不属于刑法分则第四章、第五章规定的犯罪，也不是过失犯罪")
            elif in_chapters:
                if not facts.from_civil_dispute:
                    reasons.append(f"{where}不是因民间纠纷引起")
                if years > t.civil_dispute_max_years:
                    reasons.append(f"可能判处的刑罚{_fmt_years(years)}年超过{_fmt_years(t.civil_dispute_max_years)}年")
        if (civil_ok or negligent_ok) and years in (t.civil_dispute_max_years, t.negligent_max_years):
            citations.append(rules.cite("boundary"))
    eligible = bool(clause)
    if facts.prior_intentional_crime_on is not None:
        reference = facts.offence_on or today
        limit = _years_before(reference, t.prior_intentional_years)
        citations.append(rules.cite("exclusion"))
        if facts.prior_intentional_crime_on >= limit:
            eligible = False
            reasons.append(f"犯罪嫌疑人于{facts.prior_intentional_crime_on.isoformat()}曾经故意犯罪，"
                           f"在本案案发前{t.prior_intentional_years}年以内，不适用刑事和解")
        else:
            reasons.append(f"犯罪嫌疑人前次故意犯罪（{facts.prior_intentional_crime_on.isoformat()}）"
                           f"已在本案案发前{t.prior_intentional_years}年以外")
    return Eligibility(
        eligible=eligible,
        clause=clause if eligible else "",
        reasons=tuple(reasons),
        citations=tuple(c for c in dict.fromkeys(citations) if c),
        rules_version=rules.version,
        facts=facts,
        checked_on=today,
    )
