"""Issue 5 schedule engine: interest-quarterly, the fixed repayment day (broken first period), moving due
dates off non-working days; hand-computed examples and properties for every method and option."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.holidays import china_workday, china_workday_strict, next_workday
from domain.money import ZERO, to_fen
from domain.schedule import METHODS, build_schedule

D = Decimal
P, RATE = D("50000"), D("0.0435")


def half_up(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def plus_months(day: date, k: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + k, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


# --- the engine from before issue 5, verbatim but for one fix: interest is rounded from a single division
# (balance x annual / 12, not balance x (annual / 12), which is a hair under a true half fen at e.g. 3.85%).
# Without options nothing else may change.

def old_build_schedule(principal, annual_rate, term_months, method, start):
    r = annual_rate / 12
    dues = [plus_months(start, k) for k in range(1, term_months + 1)]
    if method == "bullet":
        days = (dues[-1] - start).days
        return [(1, dues[-1], principal, to_fen(principal * annual_rate * days / 360))]
    out, balance = [], principal
    if method == "equal_installment":
        payment = to_fen(principal * r * (1 + r) ** term_months / ((1 + r) ** term_months - 1)) if r else to_fen(principal / term_months)
    for k, due in enumerate(dues, start=1):
        interest = to_fen(balance * annual_rate / 12)
        last = k == term_months
        if method == "equal_installment":
            part = balance if last else payment - interest
        elif method == "equal_principal":
            part = balance if last else to_fen(principal / term_months)
        else:
            part = balance if last else ZERO
        part = min(part, balance)
        out.append((k, due, part, interest))
        balance -= part
    return out


def test_interest_is_rounded_from_the_exact_product():
    # 3,000 x 0.0385 / 12 = 9.625 exactly -> 9.63; 3,000 x (0.0385 / 12 = 0.0032083..33) would give 9.62.
    (only,) = build_schedule(D("3000"), D("0.0385"), 1, "interest_monthly", date(2025, 1, 15))
    assert only.interest == D("9.63")
    # bullet, by days: 36,000 x 0.0435 x 31 / 360 = 134.85
    assert build_schedule(D("36000"), D("0.0435"), 1, "bullet", date(2025, 1, 1))[0].interest == D("134.85")


# --- interest quarterly ---------------------------------------------------------------------------------

def test_interest_quarterly_whole_quarters():
    s = build_schedule(P, RATE, 12, "interest_quarterly", date(2025, 1, 15))
    # 50,000 x 0.0435 / 12 x 3 = 543.75 a quarter
    assert [(i.period, i.due_date, i.principal, i.interest) for i in s] == [
        (1, date(2025, 4, 15), D("0"), D("543.75")), (2, date(2025, 7, 15), D("0"), D("543.75")),
        (3, date(2025, 10, 15), D("0"), D("543.75")), (4, date(2026, 1, 15), D("50000"), D("543.75"))]
    assert sum(i.interest for i in s) == D("2175.00")                       # = 12 x 181.25, interest monthly


def test_interest_quarterly_short_last_period():
    s = build_schedule(P, RATE, 7, "interest_quarterly", date(2025, 1, 15))
    assert [(i.due_date, i.accrual_months, i.interest) for i in s] == [
        (date(2025, 4, 15), 3, D("543.75")), (date(2025, 7, 15), 3, D("543.75")), (date(2025, 8, 15), 1, D("181.25"))]
    assert s[-1].principal == P
    (only,) = build_schedule(P, RATE, 2, "interest_quarterly", date(2025, 1, 15))
    assert (only.due_date, only.principal, only.interest) == (date(2025, 3, 15), P, D("362.50"))


# --- fixed repayment day, broken first period -----------------------------------------------------------

def test_broken_first_period_equal_installment():
    # Start 2025-01-20, repayment day 10: Feb 10 leaves 21 days (>= 15), so it is the first due date.
    s = build_schedule(P, RATE, 12, "equal_installment", date(2025, 1, 20), repayment_day=10)
    assert [i.due_date for i in s] == [date(2025, m, 10) for m in range(2, 13)] + [date(2026, 1, 10)]
    first = s[0]
    assert (first.accrual_start, first.accrual_end, first.accrual_months, first.accrual_days) == (
        date(2025, 1, 20), date(2025, 2, 10), 0, 21)
    assert first.interest == D("126.88")          # 50,000 x 0.0435 / 360 x 21 = 126.875
    assert first.principal == D("4084.25")        # the ordinary split: 4,265.50 - 181.25
    assert (s[1].interest, s[1].principal) == (D("166.44"), D("4099.06"))   # 45,915.75 x 0.003625
    regular = build_schedule(P, RATE, 12, "equal_installment", date(2025, 1, 20))
    assert [i.principal for i in s] == [i.principal for i in regular]
    assert [i.interest for i in s[1:]] == [i.interest for i in regular[1:]]
    assert sum(i.interest for i in s) == D("1185.94") - D("181.25") + D("126.88")


def test_broken_first_period_too_short_moves_a_month():
    # Start 2025-01-28, day 5: Feb 5 leaves only 8 days, so Mar 5 (36 days): 50,000 x 0.0435 / 360 x 36.
    s = build_schedule(P, RATE, 3, "equal_principal", date(2025, 1, 28), repayment_day=5)
    assert [i.due_date for i in s] == [date(2025, 3, 5), date(2025, 4, 5), date(2025, 5, 5)]
    assert (s[0].accrual_days, s[0].interest, s[0].principal) == (36, D("217.50"), D("16666.67"))
    assert s[1].interest == D("120.83")           # 33,333.33 x 0.003625 = 120.8333


def test_broken_first_period_exactly_fifteen_days_is_kept():
    s = build_schedule(P, RATE, 2, "interest_monthly", date(2025, 1, 26), repayment_day=10)
    assert s[0].due_date == date(2025, 2, 10) and s[0].accrual_days == 15
    assert s[0].interest == D("90.63")            # 50,000 x 0.0435 / 360 x 15 = 90.625
    s = build_schedule(P, RATE, 2, "interest_monthly", date(2025, 1, 27), repayment_day=10)
    assert s[0].due_date == date(2025, 3, 10) and s[0].accrual_days == 42


def test_repayment_day_on_the_start_day_is_an_ordinary_month():
    s = build_schedule(P, RATE, 3, "interest_monthly", date(2025, 3, 10), repayment_day=10)
    assert s == build_schedule(P, RATE, 3, "interest_monthly", date(2025, 3, 10))
    assert (s[0].accrual_months, s[0].accrual_days, s[0].interest) == (1, 0, D("181.25"))


def test_broken_first_quarter_and_bullet():
    s = build_schedule(P, RATE, 7, "interest_quarterly", date(2025, 1, 20), repayment_day=10)
    assert [i.due_date for i in s] == [date(2025, 4, 10), date(2025, 7, 10), date(2025, 8, 10)]
    # 21 days + 2 months: 126.875 + 362.50 = 489.375
    assert (s[0].accrual_months, s[0].accrual_days, s[0].interest) == (2, 21, D("489.38"))
    assert [i.interest for i in s[1:]] == [D("543.75"), D("181.25")]
    (only,) = build_schedule(P, RATE, 12, "bullet", date(2025, 1, 28), repayment_day=5)
    # matures on the 12th repayment day, 2026-02-05: 373 days x 50,000 x 0.0435 / 360 = 2,253.5417
    assert (only.due_date, only.accrual_days, only.interest) == (date(2026, 2, 5), 373, D("2253.54"))


@pytest.mark.parametrize("day", [0, 29, 31, -1])
def test_repayment_day_out_of_range_is_refused(day):
    with pytest.raises(ValueError, match="repayment_day"):
        build_schedule(P, RATE, 12, "equal_installment", date(2025, 1, 20), repayment_day=day)


# --- moving due dates off non-working days --------------------------------------------------------------

def test_national_day_moves_to_october_9_with_the_real_calendar():
    s = build_schedule(P, RATE, 3, "equal_installment", date(2025, 9, 1), workday=china_workday)
    # Oct 1-8 2025 is the National Day + Mid-Autumn holiday; Nov 1 2025 is a Saturday; Dec 1 a Monday.
    assert [i.due_date for i in s] == [date(2025, 10, 9), date(2025, 11, 3), date(2025, 12, 1)]
    assert [i.accrual_end for i in s] == [date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)]
    plain = build_schedule(P, RATE, 3, "equal_installment", date(2025, 9, 1))
    assert [(i.principal, i.interest) for i in s] == [(i.principal, i.interest) for i in plain]


def test_spring_festival_and_a_make_up_working_sunday():
    (feb,) = build_schedule(P, RATE, 1, "bullet", date(2026, 1, 15), workday=china_workday)
    assert feb.due_date == date(2026, 2, 24)      # Feb 15-23 2026 off; not the make-up Saturday Feb 14
    assert feb.interest == D("187.29")            # still 31 days to the nominal Feb 15
    (sep,) = build_schedule(P, RATE, 1, "interest_monthly", date(2025, 8, 28), workday=china_workday)
    assert sep.due_date == date(2025, 9, 28)      # a Sunday, but a working day (调休) in 2025


def test_china_workday_beyond_the_package_data():
    assert china_workday(date(2030, 1, 5)) is False and china_workday(date(2030, 1, 7)) is True  # Sat, Mon
    with pytest.raises(ValueError, match="2030"):
        china_workday_strict(date(2030, 1, 7))
    assert china_workday_strict(date(2025, 10, 9)) is True


def test_a_calendar_that_merges_due_dates_is_refused():
    def quarter_firsts(d):
        return d.month % 3 == 0 and d.day == 1
    with pytest.raises(ValueError, match="collide"):    # Jan 15 and Feb 15 would both move to Mar 1
        build_schedule(P, RATE, 3, "equal_installment", date(2024, 12, 15), workday=quarter_firsts)
    with pytest.raises(ValueError, match="no working day"):
        next_workday(date(2025, 1, 1), lambda d: False)


# --- properties -----------------------------------------------------------------------------------------

principals = st.integers(min_value=1, max_value=100_000_000).map(lambda fen: D(fen) / 100)
rates = st.integers(min_value=0, max_value=2400).map(lambda bp: D(bp) / 10000)
terms = st.integers(min_value=1, max_value=120)
starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@st.composite
def calendars(draw):
    """Weekends (or not) plus a run of k holidays every m days: at most k + 4 <= 14 days off in a row."""
    weekends = draw(st.booleans())
    m = draw(st.integers(min_value=7, max_value=60))
    k = draw(st.integers(min_value=0, max_value=min(10, m - 4)))
    b = draw(st.integers(min_value=0, max_value=m - 1))

    def workday(d: date) -> bool:
        return not (weekends and d.weekday() >= 5) and (d.toordinal() + b) % m >= k
    return workday


def first_day_oracle(start: date, day: int) -> date:
    d = start + timedelta(days=1)
    while d.day != day or (d - start).days < 15:
        d += timedelta(days=1)
    return d


def exact_interest(balance: Decimal, rate: Decimal, months: int, days: int) -> Fraction:
    return Fraction(balance) * Fraction(rate) * (Fraction(months, 12) + Fraction(days, 360))


def check_schedule(s, principal, rate, term, start, method, repayment_day, workday):
    n = {"bullet": 1, "interest_quarterly": -(-term // 3)}.get(method, term)
    assert [i.period for i in s] == list(range(1, n + 1))
    assert sum(i.principal for i in s) == principal
    balance = principal
    for i in s:
        assert i.principal == half_up(i.principal) and i.interest == half_up(i.interest)
        assert i.principal >= 0 and i.interest >= 0
        # interest is the balance x rate x (months / 12 + days / 360), rounded to the fen
        assert abs(Fraction(i.interest) - exact_interest(balance, rate, i.accrual_months, i.accrual_days)) <= Fraction(1, 200)
        assert i.annual_rate == rate
        balance -= i.principal
        assert balance >= 0
    assert balance == 0

    # nominal grid and interest periods
    first = plus_months(start, 1) if repayment_day is None else first_day_oracle(start, repayment_day)
    grid = [plus_months(first, k) for k in range(term)] if repayment_day else [plus_months(start, k) for k in range(1, term + 1)]
    assert s[0].accrual_start == start and s[-1].accrual_end == grid[-1]
    assert all(a.accrual_end == b.accrual_start for a, b in zip(s, s[1:], strict=False))
    assert all(i.accrual_end in grid for i in s)
    broken = grid[0] != plus_months(start, 1)
    if method == "bullet":
        assert (s[0].accrual_months, s[0].accrual_days) == (0, (grid[-1] - start).days)
    else:
        assert sum(i.accrual_months for i in s) == term - broken
        assert s[0].accrual_days == ((grid[0] - start).days if broken else 0)
        assert all(i.accrual_days == 0 for i in s[1:])
        if method == "interest_quarterly":
            assert [i.accrual_months + (1 if i.accrual_days else 0) for i in s[:-1]] == [3] * (n - 1)
    if broken:
        assert grid[0].day == repayment_day and 15 <= (grid[0] - start).days <= 45

    # due dates: strictly increasing, each the first working day on or after its nominal date
    dues = [i.due_date for i in s]
    assert dues[0] > start
    assert all(a < b for a, b in zip(dues, dues[1:], strict=False))
    for i in s:
        if workday is None:
            assert i.due_date == i.accrual_end
        else:
            assert workday(i.due_date)
            assert all(not workday(i.accrual_end + timedelta(days=x)) for x in range((i.due_date - i.accrual_end).days))

    # principal: the methods' rules
    if method in ("interest_monthly", "interest_quarterly", "bullet"):
        assert [i.principal for i in s] == [0] * (n - 1) + [principal]


@settings(max_examples=400, deadline=None)
@given(principal=principals, rate=rates, term=terms, start=starts, method=st.sampled_from(METHODS),
       repayment_day=st.none() | st.integers(min_value=1, max_value=28), workday=st.none() | calendars())
def test_schedule_invariants_with_options(principal, rate, term, start, method, repayment_day, workday):
    s = build_schedule(principal, rate, term, method, start, repayment_day=repayment_day, workday=workday)
    check_schedule(s, principal, rate, term, start, method, repayment_day, workday)
    # moving off non-working days changes due dates only
    unmoved = build_schedule(principal, rate, term, method, start, repayment_day=repayment_day)
    assert [(i.principal, i.interest, i.accrual_end) for i in s] == [(i.principal, i.interest, i.accrual_end) for i in unmoved]
    # the broken period changes interest only: principal is that of the ordinary schedule
    ordinary = build_schedule(principal, rate, term, method, start)
    if method != "bullet":
        assert [i.principal for i in s] == [i.principal for i in ordinary]
        assert [i.interest for i in s[1:]] == [i.interest for i in ordinary[1:]]
    # no options: exactly the engine before issue 5
    if method != "interest_quarterly":
        assert [(i.period, i.due_date, i.principal, i.interest) for i in ordinary] == \
            old_build_schedule(principal, rate, term, method, start)


@settings(max_examples=150, deadline=None)
@given(principal=principals, rate=rates, term=st.integers(min_value=1, max_value=36),
       start=st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31)), method=st.sampled_from(METHODS),
       repayment_day=st.none() | st.integers(min_value=1, max_value=28))
def test_real_chinese_calendar_due_dates_are_working_days(principal, rate, term, start, method, repayment_day):
    s = build_schedule(principal, rate, term, method, start, repayment_day=repayment_day, workday=china_workday)
    check_schedule(s, principal, rate, term, start, method, repayment_day, china_workday)
    for i in s:
        if i.due_date.year <= 2026:
            assert chinese_calendar.is_workday(i.due_date)
