"""Repayment schedules: the DOMAIN.md worked examples to the fen, the simpler methods, month arithmetic,
and properties that must hold for every method and every input."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.schedule import Installment, add_months, build_schedule

D = Decimal
START = date(2025, 1, 15)


def half_up(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


# --- DOMAIN.md worked examples: 50,000, 12 months, 4.35% ----------------------------------------------

def test_equal_installment_worked_example():
    s = build_schedule(D("50000"), D("0.0435"), 12, "equal_installment", START)
    assert len(s) == 12
    assert [i.total for i in s[:11]] == [D("4265.50")] * 11
    assert (s[0].interest, s[0].principal) == (D("181.25"), D("4084.25"))   # 50,000 x 0.003625 = 181.25
    assert (s[1].interest, s[1].principal) == (D("166.44"), D("4099.06"))   # 45,915.75 x 0.003625 = 166.4446
    assert s[-1].total == D("4265.44")
    assert (s[-1].principal, s[-1].interest) == (D("4250.03"), D("15.41"))
    assert sum(i.interest for i in s) == D("1185.94")
    assert sum(i.principal for i in s) == D("50000")


def test_equal_principal_worked_example():
    s = build_schedule(D("50000"), D("0.0435"), 12, "equal_principal", START)
    assert [i.principal for i in s[:11]] == [D("4166.67")] * 11
    assert s[-1].principal == D("4166.63")                                  # 50,000 - 11 x 4,166.67
    assert s[0].total == D("4347.92")                                       # 4,166.67 + 181.25
    assert s[1].interest == D("166.15")                                     # 45,833.33 x 0.003625 = 166.1458
    assert s[-1].interest == D("15.10")                                     # 4,166.63 x 0.003625 = 15.1040
    assert sum(i.interest for i in s) == D("1178.12")
    assert sum(i.principal for i in s) == D("50000")


def test_interest_monthly_pays_principal_only_at_the_end():
    s = build_schedule(D("50000"), D("0.0435"), 12, "interest_monthly", START)
    assert [i.principal for i in s] == [D("0")] * 11 + [D("50000")]
    assert [i.interest for i in s] == [D("181.25")] * 12
    assert sum(i.interest for i in s) == D("2175.00")
    assert s[-1].total == D("50181.25")


@pytest.mark.parametrize(("start", "months", "due", "days", "interest"), [
    # 50,000 x 0.0435 / 360 x 365 = 2,205.2083 -> 2,205.21
    (date(2025, 1, 15), 12, date(2026, 1, 15), 365, "2205.21"),
    # a leap year in the term: 366 days -> 2,211.25 exactly
    (date(2024, 1, 15), 12, date(2025, 1, 15), 366, "2211.25"),
    # Jan 31 + 6 months = Jul 31, 181 days: 1,093.5417 -> 1,093.54
    (date(2025, 1, 31), 6, date(2025, 7, 31), 181, "1093.54"),
    # Aug 31 + 6 months = Feb 28 (clamped), 181 days
    (date(2025, 8, 31), 6, date(2026, 2, 28), 181, "1093.54"),
    # one month, 31 days: 50,000 x 0.0435 / 360 x 31 = 187.2917 -> 187.29
    (date(2025, 1, 1), 1, date(2025, 2, 1), 31, "187.29"),
])
def test_bullet_interest_is_actual_days_over_360(start, months, due, days, interest):
    (only,) = build_schedule(D("50000"), D("0.0435"), months, "bullet", start)
    assert (due - start).days == days
    assert (only.period, only.due_date, only.principal, only.interest) == (1, due, D("50000"), D(interest))


@pytest.mark.parametrize("method", ["equal_installment", "equal_principal"])
def test_rounded_parts_never_repay_more_than_is_outstanding(method):
    # 0.02 over 4 months: P/n = 0.005 rounds half-up to 0.01, and 3 x 0.01 would be more than the loan.
    s = build_schedule(D("0.02"), D("0"), 4, method, START)
    assert [i.principal for i in s] == [D("0.01"), D("0.01"), D("0"), D("0")]
    # 1.00 over 36 months: 0.0278 -> 0.03; 33 x 0.03 = 0.99, then the last fen, then nothing.
    s = build_schedule(D("1"), D("0"), 36, method, START)
    assert [i.principal for i in s] == [D("0.03")] * 33 + [D("0.01"), D("0"), D("0")]


def test_zero_rate_equal_installment_splits_evenly_and_last_absorbs():
    s = build_schedule(D("1000"), D("0"), 3, "equal_installment", START)
    assert [(i.principal, i.interest) for i in s] == [(D("333.33"), D("0")), (D("333.33"), D("0")),
                                                      (D("333.34"), D("0"))]


def test_single_month_schedule():
    (only,) = build_schedule(D("12000"), D("0.0600"), 1, "equal_installment", START)
    assert (only.due_date, only.principal, only.interest) == (date(2025, 2, 15), D("12000"), D("60.00"))


def test_installment_total():
    assert Installment(period=1, due_date=START, principal=D("4084.25"), interest=D("181.25")).total == D("4265.50")


@pytest.mark.parametrize(("principal", "term", "method"), [
    (D("0"), 12, "equal_installment"), (D("-1"), 12, "equal_principal"), (D("1000"), 0, "bullet"),
    (D("1000"), -3, "interest_monthly"),
])
def test_non_positive_principal_or_term_is_refused(principal, term, method):
    with pytest.raises(ValueError):
        build_schedule(principal, D("0.0435"), term, method, START)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="balloon"):
        build_schedule(D("1000"), D("0.0435"), 12, "balloon", START)


# --- month arithmetic ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2025, 1, 31), 1, date(2025, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2025, 1, 31), 2, date(2025, 3, 31)),    # from the start date, so no drift after February
    (date(2025, 1, 31), 3, date(2025, 4, 30)),
    (date(2025, 8, 31), 1, date(2025, 9, 30)),
    (date(2025, 11, 30), 3, date(2026, 2, 28)),
    (date(2025, 12, 15), 1, date(2026, 1, 15)),
    (date(2025, 1, 15), 12, date(2026, 1, 15)),
    (date(2025, 1, 15), 36, date(2028, 1, 15)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
    (date(2024, 2, 29), 48, date(2028, 2, 29)),
    (date(2025, 3, 10), 0, date(2025, 3, 10)),
])
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


def test_schedule_from_month_end_keeps_month_ends():
    s = build_schedule(D("12000"), D("0.0435"), 4, "equal_principal", date(2025, 1, 31))
    assert [i.due_date for i in s] == [date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30), date(2025, 5, 31)]


# --- properties for every method -----------------------------------------------------------------------

METHODS = ["equal_installment", "equal_principal", "interest_monthly", "bullet"]
principals = st.integers(min_value=1, max_value=100_000_000).map(lambda fen: D(fen) / 100)  # 0.01 .. 1,000,000.00
rates = st.integers(min_value=0, max_value=2400).map(lambda bp: D(bp) / 10000)              # 0% .. 24%
terms = st.integers(min_value=1, max_value=120)
starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


def expected_due(start: date, k: int) -> date:
    year, month = divmod(start.year * 12 + start.month - 1 + k, 12)
    return date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


@settings(max_examples=300, deadline=None)
@given(principal=principals, rate=rates, term=terms, start=starts, method=st.sampled_from(METHODS))
def test_schedule_invariants(principal, rate, term, start, method):
    s = build_schedule(principal, rate, term, method, start)
    n = 1 if method == "bullet" else term

    assert [i.period for i in s] == list(range(1, n + 1))
    assert sum(i.principal for i in s) == principal
    for i in s:
        assert i.principal == half_up(i.principal) and i.interest == half_up(i.interest)  # whole fen
        assert i.principal >= 0 and i.interest >= 0

    balance = principal
    for i in s:
        balance -= i.principal
        assert balance >= 0
    assert balance == 0

    dues = [i.due_date for i in s]
    assert dues[0] > start
    assert all(a < b for a, b in zip(dues, dues[1:], strict=False))
    assert dues[-1] == expected_due(start, term)

    if method == "bullet":
        days = (dues[0] - start).days
        assert s[0].interest == half_up(principal * rate * days / 360)
        return

    assert dues == [expected_due(start, k) for k in range(1, term + 1)]
    balance = principal
    for i in s:
        assert i.interest == half_up(balance * rate / 12)
        balance -= i.principal
    if method == "interest_monthly":
        assert [i.principal for i in s] == [0] * (term - 1) + [principal]
        return
    r = rate / 12
    if method == "equal_principal":
        level = half_up(principal / term)
    elif r:
        level = half_up(principal * r * (1 + r) ** term / ((1 + r) ** term - 1))
    else:
        level = half_up(principal / term)
    balance = principal
    for i in s[:-1]:
        # the level amount, but never more principal than is outstanding
        wanted = level if method == "equal_principal" else level - i.interest
        assert i.principal == min(wanted, balance)
        balance -= i.principal
    if method == "equal_installment":
        # what the last installment absorbs is rounding: at most a fen per period, compounded
        assert abs(s[-1].total - level) <= D("0.01") * term * (1 + r) ** term
