"""Repayment schedules (还款计划): 等额本息, 等额本金, 按月/按季付息到期还本, 利随本清.

Monthly rate r = annual / 12, daily = annual / 360; half-up to the fen per installment; the last
installment absorbs rounding. Methods:

- ``equal_installment`` 等额本息: level payment M = P r (1+r)^n / ((1+r)^n - 1), rounded to the fen.
- ``equal_principal`` 等额本金: principal round(P / n) each month.
- ``interest_monthly`` 按月付息到期还本: interest every month, all principal at maturity.
- ``interest_quarterly`` 按季付息到期还本: interest every 3 months (months 3, 6, 9, ...) and at maturity
  when the term is not a multiple of 3 (the last period is then 1 or 2 months); principal at maturity.
- ``bullet`` 利随本清: one payment at maturity, interest = P x annual / 360 x actual days.

Interest of an installment is round(B x annual x (accrual_months / 12 + accrual_days / 360)) on the
balance B at the start of the period: whole months at the monthly rate, days at the daily rate. Each
installment records its nominal interest period (accrual_start, accrual_end), its accrual_months and
accrual_days and the annual_rate, so a schedule can be audited and repriced (domain.repricing).
The product is divided once, last (balance x annual x 30 / 360 for a month), so a true half fen rounds up.

Options (keyword-only; without them the schedule is exactly what it always was):

``repayment_day`` (1-28), a fixed repayment day (固定还款日) and a broken first period:
  the first due date is the first `repayment_day` after `start` that leaves at least 15 days
  (MIN_FIRST_PERIOD_DAYS); so the first period is 15-45 days. Later due dates are that day of each
  following month, and the loan matures on the `term_months`-th due date (which may be up to half a
  month before or after start + term). If the first due date is exactly one month after `start`, the
  period is an ordinary month. Otherwise the first period's interest is by actual days at the daily
  rate (first day counted, not the last). Principal is not affected: for equal installments the level
  payment M is the ordinary n-period one and the first principal part is M - round(P r) (what it would
  be in an ordinary first month); every later period is ordinary. Interest-quarterly: the first quarter
  is the broken first period plus two months.

``workday`` (a Callable[[date], bool], e.g. domain.holidays.china_workday), holiday moving (节假日顺延):
  a due date that is not a working day moves to the next working day. Interest is unchanged: it is
  computed on the nominal (unmoved) dates for every method, including the day counts of the broken
  period and of bullet loans, and the next period still starts on the nominal date. So the borrower
  pays nothing for the days gained and the next period is not shortened: moving changes due dates
  only, never amounts. A calendar that would make two due dates coincide is refused (ValueError).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from domain.holidays import next_workday
from domain.money import ZERO, to_fen

METHODS = ("equal_installment", "equal_principal", "interest_monthly", "interest_quarterly", "bullet")
MIN_FIRST_PERIOD_DAYS = 15


class Installment(BaseModel):
    period: int
    due_date: date
    principal: Decimal
    interest: Decimal
    # The interest period on nominal (unmoved) dates and how it is counted; None on hand-made rows.
    accrual_start: date | None = None
    accrual_end: date | None = None
    accrual_months: int = 0
    accrual_days: int = 0
    annual_rate: Decimal | None = None  # the rate in force on the due date

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


def add_months(start: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's last day (Jan 31 + 1 -> Feb 28/29)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def first_repayment_date(start: date, repayment_day: int) -> date:
    """The first `repayment_day` after `start` leaving at least MIN_FIRST_PERIOD_DAYS days."""
    if not 1 <= repayment_day <= 28:
        raise ValueError("repayment_day must be 1-28")
    candidate = date(start.year, start.month, repayment_day)
    if candidate <= start:
        candidate = add_months(candidate, 1)
    if (candidate - start).days < MIN_FIRST_PERIOD_DAYS:
        candidate = add_months(candidate, 1)
    return candidate


def period_interest(balance: Decimal, annual_rate: Decimal, months: int, days: int) -> Decimal:
    """round(balance x annual x (months / 12 + days / 360)), half-up to the fen.

    One division, last: balance x (annual / 12) would round annual / 12 first (0.0385 / 12 =
    0.0032083...33), and 3,000 x that is 9.62499..., not the 9.625 -> 9.63 the contract means."""
    return to_fen(balance * annual_rate * (30 * months + days) / 360)


def level_payment(principal: Decimal, annual_rate: Decimal, periods: int) -> Decimal:
    """The 等额本息 monthly payment, rounded half-up to the fen."""
    r = annual_rate / 12
    if not r:
        return to_fen(principal / periods)
    return to_fen(principal * r * (1 + r) ** periods / ((1 + r) ** periods - 1))


def build_schedule(principal: Decimal, annual_rate: Decimal, term_months: int, method: str, start: date, *,
                   repayment_day: int | None = None,
                   workday: Callable[[date], bool] | None = None) -> list[Installment]:
    if principal <= 0 or term_months <= 0:
        raise ValueError("principal and term must be positive")
    if method not in METHODS:
        raise ValueError(f"unknown repayment method {method!r}")
    if repayment_day is None:
        grid = [add_months(start, k) for k in range(1, term_months + 1)]
    else:
        first = first_repayment_date(start, repayment_day)
        grid = [add_months(first, k) for k in range(term_months)]
    broken_days = 0 if grid[0] == add_months(start, 1) else (grid[0] - start).days

    # Each installment: (accrual start, accrual end, whole months, days at the daily rate).
    periods: list[tuple[date, date, int, int]] = []
    if method == "bullet":
        periods.append((start, grid[-1], 0, (grid[-1] - start).days))
    else:
        step = 3 if method == "interest_quarterly" else 1
        ends = list(range(step - 1, term_months, step))
        if not ends or ends[-1] != term_months - 1:
            ends.append(term_months - 1)
        begin = 0
        for end in ends:
            months = end - begin + 1
            days = broken_days if begin == 0 and broken_days else 0
            periods.append((start if begin == 0 else grid[begin - 1], grid[end], months - (1 if days else 0), days))
            begin = end + 1

    payment = level_payment(principal, annual_rate, term_months) if method == "equal_installment" else ZERO
    out: list[Installment] = []
    balance = principal
    for k, (a_start, a_end, months, days) in enumerate(periods, start=1):
        interest = period_interest(balance, annual_rate, months, days)
        last = k == len(periods)
        if last:
            part = balance
        elif method == "equal_installment":
            part = payment - period_interest(balance, annual_rate, 1, 0)   # the ordinary month's split, also if broken
        elif method == "equal_principal":
            part = to_fen(principal / term_months)
        else:
            part = ZERO
        # Rounded parts can add up to more than the loan (0.02 over 4 months: 0.01 x 3); never repay more
        # principal than is outstanding, so no balance or last installment goes negative.
        part = min(part, balance)
        due = next_workday(a_end, workday) if workday is not None else a_end
        if out and due <= out[-1].due_date:
            raise ValueError(f"due dates {out[-1].due_date} and {due} collide after moving off non-working days")
        out.append(Installment(period=k, due_date=due, principal=part, interest=interest,
                               accrual_start=a_start, accrual_end=a_end, accrual_months=months,
                               accrual_days=days, annual_rate=annual_rate))
        balance -= part
    return out
