"""Money arithmetic: Decimal yuan, rounded half-up to the fen at defined points."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def to_fen(value: Decimal | int | str) -> Decimal:
    """Round half-up to the fen (0.01 yuan)."""
    if isinstance(value, float):
        raise TypeError("money is never a float: pass Decimal, int or str")
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def is_whole_fen(value: Decimal) -> bool:
    """True for a finite amount with nothing below the fen. Read from the digits, not by quantize():
    quantize raises InvalidOperation once the result needs more than the context's 28 digits (1e26+)."""
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # NaN or infinity
        return False
    below_fen = -exponent - 2
    return below_fen <= 0 or not any(digits[-below_fen:])


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """Round down to a multiple of `step` (limits are rounded down to 1,000 yuan)."""
    return ((value / step).to_integral_value(rounding=ROUND_DOWN) * step).quantize(FEN)


def amount_band(amount: Decimal) -> str:
    """A coarse band for ops search attributes: the exact amount stays out of the UI filters."""
    bands = ((10_000, "<10k"), (50_000, "10k-50k"), (100_000, "50k-100k"), (200_000, "100k-200k"))
    for limit, label in bands:
        if amount < limit:
            return label
    return ">=200k"
