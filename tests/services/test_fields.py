"""Money and identifier field types: what is normalised and what is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from services.fields import Amount, Mobile, MoneyValue


class _Form(BaseModel):
    amount: Amount
    income: MoneyValue = Decimal("0")
    mobile: Mobile | None = None


@pytest.mark.parametrize(("raw", "expected"), [
    ("50000", Decimal("50000.00")), (50000, Decimal("50000.00")), ("  1234.5 ", Decimal("1234.50")),
    ("５００００.００", Decimal("50000.00")),
])
def test_amounts_are_normalised_to_fen(raw, expected):
    value = _Form(amount=raw).amount
    assert value == expected and value.as_tuple().exponent == -2


@pytest.mark.parametrize(("raw", "code"), [
    ("-1", "amount_not_positive"), ("0.00", "amount_not_positive"), ("0.001", "amount_sub_fen"),
    (1.5, "amount_not_string"), (True, "amount_not_string"), ("1e3", "amount_format"), ("1000000000.01", "amount_too_large"),
])
def test_bad_amounts_carry_a_code_and_chinese_text(raw, code):
    with pytest.raises(ValidationError) as info:
        _Form(amount=raw)
    [error] = info.value.errors()
    assert error["type"] == code and error["ctx"]["zh"]


def test_zero_is_a_valid_income_but_not_an_amount():
    assert _Form(amount="1", income="0").income == Decimal("0.00")
    with pytest.raises(ValidationError):
        _Form(amount="1", income="-0.01")


def test_mobiles_lose_their_country_code_and_spaces():
    assert _Form(amount="1", mobile="+86 139 0000 1111").mobile == "13900001111"
