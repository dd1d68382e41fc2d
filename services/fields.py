"""Request field types that normalise safe input and refuse the rest with a code and Chinese/English text."""

# A refusal is a PydanticCustomError whose type is the code and whose context carries `zh`; the API's
# validation handler turns it into one entry of the problem's `errors`, naming the field.

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from domain.identity import IdProblem, normalise_mobile, normalise_resident_id
from domain.money import FEN, is_whole_fen

_PLAIN_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
MAX_AMOUNT = Decimal("1000000000")


def refuse(code: str, zh: str, en: str) -> PydanticCustomError:
    return PydanticCustomError(code.lower(), en, {"zh": zh})


def _money(value: Any, *, positive: bool) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        # A JSON number with a fraction has already passed through a binary float: fen may be lost.
        raise refuse("AMOUNT_NOT_STRING", "金额请以字符串传递,例如 \"50000.00\"",
                     "send amounts as decimal strings, e.g. \"50000.00\"")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        # Chinese input methods type full-width digits; NFKC folds them to ASCII.
        value = unicodedata.normalize("NFKC", value)
    if not isinstance(value, str) or not _PLAIN_DECIMAL.match(value.strip()):
        raise refuse("AMOUNT_FORMAT", "金额格式错误,只能包含数字和小数点", "an amount is digits with an optional decimal point")
    try:
        amount = Decimal(value.strip())
    except InvalidOperation as exc:
        raise refuse("AMOUNT_FORMAT", "金额格式错误", "the amount is not a number") from exc
    if amount < 0 or (positive and amount == 0):
        raise refuse("AMOUNT_NOT_POSITIVE", "金额必须大于零" if positive else "金额不能为负数",
                     "the amount must be positive" if positive else "the amount cannot be negative")
    if not is_whole_fen(amount):
        raise refuse("AMOUNT_SUB_FEN", "金额最多精确到分(两位小数)", "amounts have at most two decimals (fen)")
    if amount > MAX_AMOUNT:
        raise refuse("AMOUNT_TOO_LARGE", "金额超出系统上限", "the amount exceeds the system maximum")
    return amount.quantize(FEN)


def _identity(normalise: Any) -> Any:
    def validate(value: Any) -> str:
        if not isinstance(value, str):
            raise refuse("STRING_REQUIRED", "请以字符串填写", "send this value as a string")
        try:
            return normalise(value)
        except IdProblem as problem:
            raise refuse(problem.code, problem.zh, problem.en) from problem

    return validate


_MONEY_SCHEMA = {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["50000.00"]}

Amount = Annotated[Decimal, BeforeValidator(lambda v: _money(v, positive=True)), WithJsonSchema(_MONEY_SCHEMA)]
"""A positive amount of yuan in whole fen, sent as a decimal string."""

MoneyValue = Annotated[Decimal, BeforeValidator(lambda v: _money(v, positive=False)), WithJsonSchema(_MONEY_SCHEMA)]
"""A non-negative amount of yuan in whole fen (incomes, assets)."""

ResidentId = Annotated[str, PlainValidator(_identity(normalise_resident_id)),
                       WithJsonSchema({"type": "string", "minLength": 18, "maxLength": 18, "examples": ["350102199001011234"]})]

Mobile = Annotated[str, PlainValidator(_identity(normalise_mobile)),
                   WithJsonSchema({"type": "string", "pattern": r"^1[3-9]\d{9}$", "examples": ["13800000000"]})]

PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]

OtpCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{6}$")]
