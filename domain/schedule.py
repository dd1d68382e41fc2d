"""Repayment schedules (还款计划): 等额本息, 等额本金, 按月付息到期还本, 利随本清.

Monthly rate = annual / 12, daily = annual / 360; half-up to the fen per installment; the last
installment absorbs rounding. Issue 5 extends this (broken periods, holidays, repricing).
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from domain.money import ZERO, to_fen


class Installment(BaseModel):
    period: int
    due_date: date
    principal: Decimal
    interest: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


def add_months(start: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's last day (Jan 31 + 1 -> Feb 28/29)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def build_schedule(principal: Decimal, annual_rate: Decimal, term_months: int, method: str, start: date) -> list[Installment]:
    if principal <= 0 or term_months <= 0:
        raise ValueError("principal and term must be positive")
    r = annual_rate / 12
    dues = [add_months(start, k) for k in range(1, term_months + 1)]
    if method == "bullet":
        days = (dues[-1] - start).days
        return [Installment(period=1, due_date=dues[-1], principal=principal,
                            interest=to_fen(principal * annual_rate / 360 * days))]
    out: list[Installment] = []
    balance = principal
    if method == "equal_installment":
        payment = to_fen(principal * r * (1 + r) ** term_months / ((1 + r) ** term_months - 1)) if r else to_fen(principal / term_months)
    for k, due in enumerate(dues, start=1):
        interest = to_fen(balance * r)
        last = k == term_months
        if method == "equal_installment":
            part = balance if last else payment - interest
        elif method == "equal_principal":
            part = balance if last else to_fen(principal / term_months)
        elif method == "interest_monthly":
            part = balance if last else ZERO
        else:
            raise ValueError(f"unknown repayment method {method!r}")
        # Rounded parts can add up to more than the loan (0.02 over 4 months: 0.01 x 3); never repay more
        # principal than is outstanding, so no balance or last installment goes negative.
        part = min(part, balance)
        out.append(Installment(period=k, due_date=due, principal=part, interest=interest))
        balance -= part
    return out
