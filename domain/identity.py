"""Identifiers: resident ID (GB 11643), mobile numbers, and masking for lists and logs.

Real input is messy (full-width digits, spaces, a lower-case x, Excel's 3.50102E+17); we normalise
what is safe and refuse the rest with a reason code and a message in Chinese and English.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


@dataclass(frozen=True)
class IdProblem(Exception):
    code: str
    zh: str
    en: str


def _fold(raw: str) -> str:
    # NFKC turns full-width digits and letters into ASCII; spaces and dashes are typing noise.
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", raw or ""))


def normalise_resident_id(raw: str) -> str:
    """Return the canonical 18-character resident ID or raise IdProblem."""
    value = _fold(raw).upper()
    if _SCIENTIFIC.match(value):
        raise IdProblem("ID_SCIENTIFIC_NOTATION", "身份证号被表格软件转成了科学计数法,末位数字已丢失",
                        "the ID was turned into scientific notation by a spreadsheet; digits are lost")
    if len(value) != 18:
        raise IdProblem("ID_LENGTH", "身份证号应为18位", "a resident ID has 18 characters")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise IdProblem("ID_FORMAT", "身份证号格式错误", "the resident ID format is wrong")
    if value[-1] != ric.calc_check_digit(value):
        raise IdProblem("ID_CHECKSUM", "身份证号校验位错误", "the resident ID check digit is wrong")
    try:
        ric.get_birth_date(value)
    except InvalidComponent as exc:
        raise IdProblem("ID_BIRTH_DATE", "身份证号中的出生日期无效", "the birth date inside the ID is invalid") from exc
    # Only "is this a region code at all": stdnum also demands that the county existed in the birth
    # year, but IDs are first issued years after birth, so that check refuses real people.
    if not any("county" in props for _, props in numdb.get("cn/loc").info(value[:6])):
        raise IdProblem("ID_REGION", "身份证号中的地区码不存在", "the region code inside the ID does not exist")
    return value


def resident_id_for(region: str, birth: date, sequence: int) -> str:
    """A GB 11643 resident ID for demo and test people: region + birth date + sequence (odd = male) + its
    check character."""
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum reads the check position and ignores it


def birth_date_of(resident_id: str) -> date:
    return ric.get_birth_date(resident_id)


def region_of(resident_id: str) -> str:
    """The six-digit administrative region code of registration."""
    return resident_id[:6]


def age_on(birth: date, as_of: date) -> int:
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


def normalise_mobile(raw: str) -> str:
    value = _fold(raw)
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not _MOBILE.match(value):
        raise IdProblem("MOBILE_FORMAT", "手机号格式错误,应为11位大陆手机号", "not a mainland mobile number")
    return value


def mask_resident_id(value: str) -> str:
    return value[:3] + "*" * 11 + value[-4:] if len(value) == 18 else "*" * len(value)


def mask_mobile(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) == 11 else "*" * len(value)


def mask_name(value: str) -> str:
    return value[:1] + "*" * max(len(value) - 1, 1) if value else value
