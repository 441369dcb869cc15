"""Signing records: a wet (hand-written) signature the mediator witnessed, kept append-only.

Where electronic signatures do not apply (电子签名法 第三条: documents concerning marriage, adoption,
inheritance and other personal relationships), an agreement may only be marked signed by the
parties once such a record exists (see :mod:`core.documents.validator`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from msgspec import Meta

from core import clock
from core.access import UserCtx
from core.documents.tables import SignatureRecord

__all__ = ["WetSignatureIn", "record_signature"]


class WetSignatureIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The form of a wet-signature record."""

    signers: Annotated[str, Meta(title="签名人（与协议书上的签名一致）", min_length=1, max_length=500)]
    signed_on: Annotated[dt.date, Meta(title="签署日期")]
    place: Annotated[str, Meta(title="签署地点", max_length=200)] | None = None
    note: Annotated[str, Meta(title="说明（如：当面签名并按指印，原件已附卷）", max_length=1000,
                              extra={"widget": "textarea"})] | None = None

    def check(self) -> list[tuple[str, str]]:
        if self.signed_on > clock.today():
            return [("signed_on", "签署日期不能晚于今天")]
        return []


async def record_signature(case_id: int, user: UserCtx, data: WetSignatureIn, *, method: str = "wet") -> int:
    """Record a signing of the case's agreement.

    Raises:
        core.cases.NotFound: out of the user's scope.
        core.cases.Refused: the case is archived.
    """
    from core.cases import Refused, load_case, write_event
    from core.db import write_transaction

    async with write_transaction():
        case = await load_case(case_id, user, for_update=True)
        if case["status"] == "archived":
            raise Refused("案件已归档，卷宗不可再修改")
        rows = await SignatureRecord.insert(SignatureRecord(
            case=case_id, method=method, signers=data.signers.strip(), signed_on=data.signed_on,
            place=(data.place or "").strip(), note=(data.note or "").strip(), recorded_by=user.id,
            recorded_at=clock.now(),
        )).returning(SignatureRecord.id)
        await write_event(case_id, "documents.signature_recorded", actor=user,
                          data={"method": method, "signers": data.signers.strip(),
                                "signed_on": data.signed_on.isoformat(),
                                "reason": f"书面签署：{data.signers.strip()}"})
    return int(rows[0]["id"])
