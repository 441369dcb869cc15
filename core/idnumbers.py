"""Validation and masking of resident ID numbers (身份证号) and phone numbers.

Uses python-stdnum; its ``cn.ric.is_valid`` raises ``KeyError('county')`` for region codes missing
from its table (about a third of random prefixes), so a number whose region stdnum does not know is
judged by birth date and check digit alone.
"""

from __future__ import annotations

import re

from stdnum import exceptions as stdnum_exc
from stdnum.cn import ric

__all__ = ["id_number_problem", "mask_id_number", "mask_phone", "phone_problem", "normalise_id_number"]

_PHONE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def normalise_id_number(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def id_number_problem(value: str) -> str | None:
    """``None`` if ``value`` is a valid 18-character resident ID number, else a Chinese message."""
    n = normalise_id_number(value)
    if not re.fullmatch(r"\d{17}[\dX]", n):
        return "身份证号应为18位（最后一位可为X）"
    try:
        ric.get_birth_date(n)
    except (stdnum_exc.ValidationError, ValueError):
        return "身份证号中的出生日期无效"
    if ric.calc_check_digit(n) != n[-1]:
        return "身份证号校验位不正确"
    try:
        ric.validate(n)
    except KeyError:
        pass  # region unknown to stdnum's table: birth date and check digit already verified
    except stdnum_exc.ValidationError:
        return "身份证号的地区码无效"
    return None


def phone_problem(value: str) -> str | None:
    v = value.strip().replace(" ", "")
    if not _PHONE.match(v):
        return "请输入有效的手机号或固定电话（含区号）"
    return None


def mask_id_number(value: str) -> str:
    """``110101199003071233`` → ``110101********1233``."""
    n = normalise_id_number(value)
    if len(n) < 10:
        return "*" * len(n)
    return n[:6] + "*" * (len(n) - 10) + n[-4:]


def mask_phone(value: str) -> str:
    """``13800138000`` → ``138****8000``."""
    v = value.strip().replace(" ", "")
    if len(v) < 7:
        return "*" * len(v)
    return v[:3] + "*" * (len(v) - 7) + v[-4:]
