"""Repricing (利率重定价) of a floating-rate loan when the LPR changes.

`reprice_schedule(schedule, method, paid_periods=k, balance=B, new_annual_rate=R, effective=d)` takes a
schedule from domain.schedule.build_schedule (or an earlier repricing), the principal still outstanding
after period k and the new contract rate from date d, and returns a new schedule:

- Periods 1..k are returned unchanged (they are paid or at least fixed).
- `effective` must fall in period k+1's nominal interest period: accrual_start <= d < accrual_end.
  To reprice from a due date, pass the period that starts on it.
- Period k+1 is split by actual days: its interest is round(B x year_fraction x (old x days before d +
  new x days from d) / days in the period), year_fraction being the period's months / 12 + days / 360.
  For a bullet loan this is P x (old x days before + new x days from) / 360. If d is the period's first
  day the whole period is at the new rate.
- Later periods: interest at the new rate on the balance, counted as in build_schedule.
- Principal of the remaining m = n - k periods is recomputed from B:
  equal_installment: a new level payment M' over the m periods at the new rate, principal of each
  period M' - round(B_j x new / 12) (also for the split period); equal_principal: round(B / m) each;
  interest_monthly, interest_quarterly and bullet: B at maturity. The last installment absorbs rounding.
- Due dates (already moved off holidays, if they were) and interest periods stay as they are.
  `annual_rate` of a repriced installment is the new rate (the one in force on its due date).

B need not be the schedule's own balance after k (a partial prepayment changes it); it must be positive.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.money import ZERO, to_fen
from domain.schedule import METHODS, Installment, level_payment, period_interest


def reprice_schedule(schedule: list[Installment], method: str, *, paid_periods: int, balance: Decimal,
                     new_annual_rate: Decimal, effective: date) -> list[Installment]:
    if method not in METHODS:
        raise ValueError(f"unknown repayment method {method!r}")
    if not 0 <= paid_periods < len(schedule):
        raise ValueError(f"paid_periods must be 0..{len(schedule) - 1}")
    if balance <= 0:
        raise ValueError("nothing outstanding to reprice")
    if new_annual_rate < 0:
        raise ValueError("a rate cannot be negative")
    remaining = schedule[paid_periods:]
    for i in remaining:
        if i.accrual_start is None or i.accrual_end is None or i.annual_rate is None:
            raise ValueError(f"period {i.period} has no interest period or rate: rebuild it with build_schedule")
    current = remaining[0]
    assert current.accrual_start is not None and current.accrual_end is not None and current.annual_rate is not None
    if not current.accrual_start <= effective < current.accrual_end:
        raise ValueError(f"effective date {effective} is not in period {current.period} "
                         f"({current.accrual_start} to {current.accrual_end})")

    m = len(remaining)
    payment = level_payment(balance, new_annual_rate, m) if method == "equal_installment" else ZERO
    out = list(schedule[:paid_periods])
    left = balance
    for j, inst in enumerate(remaining):
        if j == 0 and effective > current.accrual_start:
            before = (effective - current.accrual_start).days
            total_days = (current.accrual_end - current.accrual_start).days
            basis = 30 * inst.accrual_months + inst.accrual_days   # year fraction x 360
            interest = to_fen(left * basis * (current.annual_rate * before + new_annual_rate * (total_days - before))
                              / (360 * total_days))
        else:
            interest = period_interest(left, new_annual_rate, inst.accrual_months, inst.accrual_days)
        if j == m - 1:
            part = left
        elif method == "equal_installment":
            part = payment - period_interest(left, new_annual_rate, 1, 0)
        elif method == "equal_principal":
            part = to_fen(balance / m)
        else:
            part = ZERO
        part = min(part, left)
        out.append(inst.model_copy(update={"principal": part, "interest": interest, "annual_rate": new_annual_rate}))
        left -= part
    return out
