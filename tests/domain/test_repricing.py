"""Repricing a floating-rate schedule when the LPR changes: hand-computed examples and properties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.repricing import reprice_schedule
from domain.schedule import METHODS, Installment, build_schedule, level_payment

D = Decimal
P, RATE, NEW = D("50000"), D("0.0435"), D("0.0385")
START = date(2025, 1, 15)


def half_up(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def test_equal_installment_repriced_from_a_due_date():
    s = build_schedule(P, RATE, 12, "equal_installment", START)
    balance = P - sum(i.principal for i in s[:6])
    assert balance == D("25271.34")
    n = reprice_schedule(s, "equal_installment", paid_periods=6, balance=balance, new_annual_rate=NEW,
                         effective=date(2025, 7, 15))
    assert n[:6] == s[:6]
    # r' = 0.0385 / 12 = 0.00320833; M' = 25,271.34 r'(1+r')^6 / ((1+r')^6 - 1) = 4,259.31 (was 4,265.50)
    # month 7: interest 25,271.34 x r' = 81.0789 -> 81.08, principal 4,259.31 - 81.08 = 4,178.23
    # month 8: balance 21,093.11 x r' = 67.6737 -> 67.67, principal 4,191.64
    assert [(i.principal, i.interest) for i in n[6:8]] == [(D("4178.23"), D("81.08")), (D("4191.64"), D("67.67"))]
    assert [i.total for i in n[6:11]] == [D("4259.31")] * 5
    assert (n[-1].principal, n[-1].interest, n[-1].total) == (D("4245.70"), D("13.62"), D("4259.32"))
    assert sum(i.principal for i in n[6:]) == balance
    assert [i.due_date for i in n] == [i.due_date for i in s]
    assert {i.annual_rate for i in n[6:]} == {NEW}


def test_equal_installment_repriced_inside_a_period_splits_it_by_days():
    s = build_schedule(P, RATE, 12, "equal_installment", START)
    n = reprice_schedule(s, "equal_installment", paid_periods=6, balance=D("25271.34"), new_annual_rate=NEW,
                         effective=date(2025, 7, 25))
    # Jul 15 - Aug 15 is 31 days: 10 at 4.35%, 21 at 3.85%, on a month's interest (30/360):
    # 25,271.34 / 12 x (0.0435 x 10 + 0.0385 x 21) / 31 = 2,105.945 x 1.2435 / 31 = 84.4757 -> 84.48
    assert (n[6].interest, n[6].principal) == (D("84.48"), D("4178.23"))   # principal as from a due date
    assert n[7].interest == D("67.67")


def test_interest_only_and_equal_principal_repricing():
    s = build_schedule(P, RATE, 12, "interest_quarterly", START)
    n = reprice_schedule(s, "interest_quarterly", paid_periods=2, balance=P, new_annual_rate=NEW,
                         effective=date(2025, 7, 15))
    assert [i.interest for i in n] == [D("543.75"), D("543.75"), D("481.25"), D("481.25")]  # 50,000 x 0.0385 / 4
    s = build_schedule(D("12000"), RATE, 4, "equal_principal", START)
    n = reprice_schedule(s, "equal_principal", paid_periods=1, balance=D("9000"), new_annual_rate=NEW,
                         effective=date(2025, 2, 15))
    # 9,000 / 3 = 3,000 a month; interest 9,000 x 0.0385 / 12 = 28.875 -> 28.88, then 19.25, 9.63 (9.625)
    assert [(i.principal, i.interest) for i in n[1:]] == [(D("3000"), D("28.88")), (D("3000"), D("19.25")),
                                                          (D("3000"), D("9.63"))]


def test_bullet_repricing_by_actual_days():
    s = build_schedule(P, RATE, 12, "bullet", START)
    (only,) = reprice_schedule(s, "bullet", paid_periods=0, balance=P, new_annual_rate=NEW, effective=date(2025, 5, 20))
    # 125 days (Jan 15 - May 20) at 4.35% and 240 at 3.85%: 50,000 x (0.0435 x 125 + 0.0385 x 240) / 360
    # = 50,000 x 14.6775 / 360 = 2,038.5417
    assert (only.principal, only.interest) == (P, D("2038.54"))


def test_refusals():
    s = build_schedule(P, RATE, 12, "equal_installment", START)
    with pytest.raises(ValueError, match="not in period 7"):
        reprice_schedule(s, "equal_installment", paid_periods=6, balance=D("1"), new_annual_rate=NEW,
                         effective=date(2025, 8, 15))
    with pytest.raises(ValueError, match="not in period 7"):
        reprice_schedule(s, "equal_installment", paid_periods=6, balance=D("1"), new_annual_rate=NEW,
                         effective=date(2025, 7, 14))
    with pytest.raises(ValueError, match="paid_periods"):
        reprice_schedule(s, "equal_installment", paid_periods=12, balance=D("1"), new_annual_rate=NEW, effective=START)
    with pytest.raises(ValueError, match="outstanding"):
        reprice_schedule(s, "equal_installment", paid_periods=0, balance=D("0"), new_annual_rate=NEW, effective=START)
    with pytest.raises(ValueError, match="balloon"):
        reprice_schedule(s, "balloon", paid_periods=0, balance=P, new_annual_rate=NEW, effective=START)
    bare = [Installment(period=1, due_date=date(2025, 2, 15), principal=P, interest=D("181.25"))]
    with pytest.raises(ValueError, match="rebuild"):
        reprice_schedule(bare, "equal_installment", paid_periods=0, balance=P, new_annual_rate=NEW, effective=START)


# --- properties -----------------------------------------------------------------------------------------

principals = st.integers(min_value=1, max_value=100_000_000).map(lambda fen: D(fen) / 100)
rates = st.integers(min_value=0, max_value=2400).map(lambda bp: D(bp) / 10000)


@settings(max_examples=400, deadline=None)
@given(principal=principals, rate=rates, new_rate=rates, term=st.integers(min_value=1, max_value=120),
       start=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)), method=st.sampled_from(METHODS),
       repayment_day=st.none() | st.integers(min_value=1, max_value=28), data=st.data())
def test_repricing_invariants(principal, rate, new_rate, term, start, method, repayment_day, data):
    s = build_schedule(principal, rate, term, method, start, repayment_day=repayment_day)
    k = data.draw(st.integers(min_value=0, max_value=len(s) - 1), label="paid_periods")
    scheduled = principal - sum(i.principal for i in s[:k])
    balance = data.draw(st.just(scheduled) | st.integers(min_value=1, max_value=int(scheduled * 100)).map(lambda f: D(f) / 100)
                        if scheduled > 0 else st.just(principal), label="balance")
    current = s[k]
    span = (current.accrual_end - current.accrual_start).days
    offset = data.draw(st.integers(min_value=0, max_value=span - 1), label="days into the period")
    effective = current.accrual_start + timedelta(days=offset)

    n = reprice_schedule(s, method, paid_periods=k, balance=balance, new_annual_rate=new_rate, effective=effective)
    assert n[:k] == s[:k]
    assert [(i.period, i.due_date, i.accrual_start, i.accrual_end, i.accrual_months, i.accrual_days) for i in n] == \
        [(i.period, i.due_date, i.accrual_start, i.accrual_end, i.accrual_months, i.accrual_days) for i in s]
    rest = n[k:]
    assert sum(i.principal for i in rest) == balance
    left = balance
    for j, i in enumerate(rest):
        assert i.principal == half_up(i.principal) and i.interest == half_up(i.interest)
        assert i.principal >= 0 and i.interest >= 0 and i.annual_rate == new_rate
        year_fraction = Fraction(i.accrual_months, 12) + Fraction(i.accrual_days, 360)
        if j == 0:   # split by actual days between the old and the new rate
            days = (i.accrual_end - i.accrual_start).days
            blended = (Fraction(rate) * offset + Fraction(new_rate) * (days - offset)) / days
        else:
            blended = Fraction(new_rate)
        assert abs(Fraction(i.interest) - Fraction(left) * year_fraction * blended) <= Fraction(1, 200)
        left -= i.principal
        assert left >= 0
    assert left == 0

    m = len(rest)
    if method in ("interest_monthly", "interest_quarterly", "bullet"):
        assert [i.principal for i in rest] == [0] * (m - 1) + [balance]
    elif method == "equal_principal":
        left = balance
        for i in rest[:-1]:
            assert i.principal == min(half_up(balance / m), left)
            left -= i.principal
    else:
        payment, left = level_payment(balance, new_rate, m), balance
        for i in rest[:-1]:
            assert i.principal == min(payment - half_up(left * new_rate / 12), left)
            left -= i.principal
    if method in ("interest_monthly", "interest_quarterly", "bullet") and balance == scheduled and new_rate == rate:
        assert n == s   # nothing changed, nothing moves
