"""Intake forms of the general channel."""

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from core.channels import IntakeForm

__all__ = ["WalkInFields", "INTAKE_FORMS"]


class WalkInFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Channel-specific fields of a walk-in application (人民调解申请)."""

    application_form: Annotated[
        Literal["written", "oral"],
        Meta(title="申请方式", extra={"labels": {"written": "书面申请", "oral": "口头申请（调解员记录）"}}),
    ] = "oral"
    public_session: Annotated[bool, Meta(title="当事人同意公开调解")] = False
    found_by_screening: Annotated[bool, Meta(title="经排查发现（主动调解）")] = False


INTAKE_FORMS = (
    IntakeForm(
        channel="general",
        kind="walk_in",
        label="当事人申请 / 主动调解",
        label_en="Walk-in application",
        schema=WalkInFields,
        deadline_rule="general_mediation",
        description="当事人到调解室申请，或调解委员会排查发现后主动调解（人民调解法 第十七条）",
    ),
)
