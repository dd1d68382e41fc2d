"""Servicing a loan note after disbursement (贷后): end of day, what is owed, payoff quotes, and the
allocation of a repayment and its reversal. Pure functions over a NoteState; db/servicing_store.py
maps it to rows and db/eod.py runs `close_day` as set-based SQL over every note.

Day counting. End of day for business date D covers day D:
- installments still unpaid with due_date <= D become overdue (their unpaid principal and interest
  move into the overdue buckets);
- 积数 (balance x days, yuan-days) grow by one day: penalty_base by the overdue principal, compound_base
  by the overdue interest, accrual_base by the principal not yet due (reset when a period ends);
- days past due (dpd) count the days an overdue amount has stood, the due date itself included: a
  loan unpaid at the end of its due date is 1 day past due. Regular interest covers the days before
  the due date (the first day of a period counted, not the last), so penalty starts on the due date.
- the five-category class follows from dpd (2023 rule): >= 1 关注, > 90 次级, > 270 可疑, > 360 损失;
  a restructured loan is at best 关注 until `restructured_until`.

Penalty (罚息) owed = round(penalty_base x penalty_rate / 360) - penalty_paid; compound (复利) likewise on
compound_base at the same penalty rate. Accumulating balance-days and rounding once keeps small daily
amounts from rounding away and makes every figure re-computable by an auditor.

A repayment on value date X (the note's first day not yet closed) pays, in the note's allocation order
(penalty, compound, interest, principal by default), the penalty and compound owed and the interest
and principal of overdue installments and of those due on X, oldest first. Anything beyond that is
early repayment: exactly the payoff remainder (principal not yet due plus interest for the days used in
the current period) settles the loan (提前结清); less is a partial prepayment (提前部分还款) that
reduces principal, whose interest for the days used is added to the current installment, and the rest
of the schedule is recomputed on the lower balance (domain.repricing, same rate, same due dates).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel

from domain.money import ZERO, is_whole_fen, to_fen
from domain.repricing import reprice_schedule
from domain.schedule import Installment

BUCKETS = ("penalty", "compound", "interest", "principal")
DEFAULT_ALLOCATION_ORDER = ",".join(BUCKETS)
CLASSIFICATION_ZH = {"normal": "正常", "special_mention": "关注", "substandard": "次级", "doubtful": "可疑",
                     "loss": "损失"}
# (more than this many days past due, class): the 2023 rule, checked from the worst down.
CLASS_THRESHOLDS = ((360, "loss"), (270, "doubtful"), (90, "substandard"), (0, "special_mention"))


class ServicingRefused(ValueError):
    """A repayment the note cannot take; `code` is stable, `message_zh` is for the customer."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code, self.message_zh, self.message_en = code, message_zh, message_en


class InstallmentState(BaseModel):
    period: int
    due_date: date
    principal: Decimal
    interest: Decimal
    paid_principal: Decimal = ZERO
    paid_interest: Decimal = ZERO
    status: str = "pending"  # pending | overdue | paid
    paid_on: date | None = None
    accrual_start: date | None = None
    accrual_end: date | None = None
    accrual_months: int = 0
    accrual_days: int = 0
    annual_rate: Decimal | None = None
    # Interest for the days used on principal prepaid in this period (part of `interest`): a payoff in
    # the same period still owes it.
    prepaid_interest: Decimal = ZERO

    @property
    def unpaid_principal(self) -> Decimal:
        return self.principal - self.paid_principal

    @property
    def unpaid_interest(self) -> Decimal:
        return self.interest - self.paid_interest

    def as_installment(self) -> Installment:
        return Installment(period=self.period, due_date=self.due_date, principal=self.principal,
                           interest=self.interest, accrual_start=self.accrual_start, accrual_end=self.accrual_end,
                           accrual_months=self.accrual_months, accrual_days=self.accrual_days,
                           annual_rate=self.annual_rate)


class NoteState(BaseModel):
    status: str = "disbursed"  # disbursed (being repaid) | settled
    method: str
    annual_rate: Decimal
    penalty_rate: Decimal
    start_date: date
    outstanding_principal: Decimal
    overdue_principal: Decimal = ZERO
    overdue_interest: Decimal = ZERO
    accrual_base: Decimal = ZERO
    penalty_base: Decimal = ZERO
    compound_base: Decimal = ZERO
    penalty_paid: Decimal = ZERO
    compound_paid: Decimal = ZERO
    dpd: int = 0
    classification: str = "normal"
    restructured_until: date | None = None
    last_eod_date: date | None = None
    settled_on: date | None = None
    installments: list[InstallmentState]

    @property
    def penalty_owed(self) -> Decimal:
        return max(to_fen(self.penalty_base * self.penalty_rate / 360) - self.penalty_paid, ZERO)

    @property
    def compound_owed(self) -> Decimal:
        return max(to_fen(self.compound_base * self.penalty_rate / 360) - self.compound_paid, ZERO)

    @property
    def accrued_interest(self) -> Decimal:
        """Interest earned in the current period and not yet due (应计利息), by actual days."""
        return to_fen(self.accrual_base * self.annual_rate / 360)

    def value_date(self, business_date: date) -> date:
        """The date a repayment takes effect: today's business date, never a day end of day has already
        closed for this note nor one before it started. The note is first brought up to the day before
        (`as_of`), in case end of day has not closed that yet (it runs after midnight, or catches up)."""
        after_close = self.last_eod_date + timedelta(days=1) if self.last_eod_date else self.start_date
        return max(business_date, after_close, self.start_date)

    def as_of(self, value_date: date) -> NoteState:
        """The note as end of day will have it when `value_date` opens (see close_day)."""
        return project(self, value_date - timedelta(days=1))


def penalty_rate_for(annual_rate: Decimal, markup: Decimal) -> Decimal:
    """罚息 rate: the contract rate x (1 + markup), markup 30%-50% by contract."""
    return (annual_rate * (1 + markup)).quantize(Decimal("0.000001"))


def classify(dpd: int, restructured: bool = False) -> str:
    for above, cls in CLASS_THRESHOLDS:
        if dpd > above:
            return cls
    return "special_mention" if restructured else "normal"


def close_day(state: NoteState, day: date) -> NoteState:
    """End of day for one note: the reference for the set-based SQL in db/eod.py (tests hold them equal)."""
    if state.status != "disbursed" or day < state.start_date or (
            state.last_eod_date is not None and state.last_eod_date >= day):
        return state
    s = state.model_copy(deep=True)
    newly_due = [i for i in s.installments if i.status == "pending" and i.due_date <= day]
    for inst in newly_due:
        inst.status = "overdue"
        s.overdue_principal += inst.unpaid_principal
        s.overdue_interest += inst.unpaid_interest
    if newly_due:
        s.accrual_base = ZERO  # a period ended: day `day` belongs to the next one
    s.penalty_base += s.overdue_principal
    s.compound_base += s.overdue_interest
    s.accrual_base += s.outstanding_principal - s.overdue_principal
    s.dpd = s.dpd + 1 if s.overdue_principal + s.overdue_interest > 0 else 0
    s.classification = classify(s.dpd, s.restructured_until is not None and s.restructured_until >= day)
    s.last_eod_date = day
    return s


class Dues(BaseModel):
    """What a note owes on a value date, and what settling it in full would take."""

    value_date: date
    penalty: Decimal
    compound: Decimal
    overdue_interest: Decimal
    overdue_principal: Decimal
    due_today_interest: Decimal
    due_today_principal: Decimal
    principal_not_due: Decimal
    interest_to_date: Decimal  # interest for the days used in the current period, on principal not due

    @property
    def total_due(self) -> Decimal:
        return (self.penalty + self.compound + self.overdue_interest + self.overdue_principal
                + self.due_today_interest + self.due_today_principal)

    @property
    def payoff(self) -> Decimal:
        return self.total_due + self.principal_not_due + self.interest_to_date


def _due_installments(state: NoteState, value_date: date) -> list[InstallmentState]:
    """Overdue and due-today installments, oldest first."""
    return [i for i in state.installments
            if i.status != "paid" and (i.status == "overdue" or i.due_date <= value_date)]


def _current(state: NoteState, value_date: date) -> InstallmentState | None:
    """The installment whose period runs on the value date: the first one not yet due."""
    return next((i for i in state.installments if i.status == "pending" and i.due_date > value_date), None)


def _interest_to_date(state: NoteState, value_date: date) -> Decimal:
    """Interest for the days used in the current period on the principal not yet due. Never more than the
    installment's own scheduled interest: a 31-day month is billed as 30 days, and a due date moved off a
    holiday gives the borrower days for free (domain.schedule), so early repayment must not charge them."""
    current = _current(state, value_date)
    if current is None or current.accrual_start is None:
        return ZERO
    not_due = sum((i.unpaid_principal for i in state.installments
                   if i.status == "pending" and i.due_date > value_date), ZERO)
    end = min(value_date, current.accrual_end or value_date)
    days = max((end - current.accrual_start).days, 0)
    return min(to_fen(not_due * state.annual_rate * days / 360) + current.prepaid_interest,
               current.unpaid_interest)


def dues(state: NoteState, value_date: date) -> Dues:
    due = _due_installments(state, value_date)
    overdue = [i for i in due if i.status == "overdue"]
    today = [i for i in due if i.status != "overdue"]
    return Dues(
        value_date=value_date, penalty=state.penalty_owed, compound=state.compound_owed,
        overdue_interest=sum((i.unpaid_interest for i in overdue), ZERO),
        overdue_principal=sum((i.unpaid_principal for i in overdue), ZERO),
        due_today_interest=sum((i.unpaid_interest for i in today), ZERO),
        due_today_principal=sum((i.unpaid_principal for i in today), ZERO),
        principal_not_due=sum((i.unpaid_principal for i in state.installments
                               if i.status == "pending" and i.due_date > value_date), ZERO),
        interest_to_date=_interest_to_date(state, value_date))


def project(state: NoteState, through: date) -> NoteState:
    """The note as end of day would leave it after closing every date up to `through` (for quotes)."""
    day = state.last_eod_date + timedelta(days=1) if state.last_eod_date else state.start_date
    while day <= through:
        state = close_day(state, day)
        day += timedelta(days=1)
    return state


def quote(state: NoteState, on: date) -> Dues:
    """Payoff quote (提前结清试算) for a repayment on `on`, projecting end of day up to the day before."""
    if state.status != "disbursed":
        raise ServicingRefused("NOTE_CLOSED", "该借据已结清或未放款", "the note is not being repaid")
    first = state.value_date(on)
    if on < first:
        raise ServicingRefused("DATE_CLOSED", f"试算日期不得早于{first:%Y-%m-%d}",
                               f"the quote date must be on or after {first}")
    return dues(project(state, on - timedelta(days=1)), on)


class Line(BaseModel):
    period: int | None
    bucket: str  # penalty | compound | interest | principal | prepayment
    amount: Decimal


class Allocation(BaseModel):
    kind: str  # due (everything due paid) | partial | prepayment | payoff
    value_date: date
    lines: list[Line]
    # For prepayment and payoff, the rows from `rewrite_from` on as they will be after the repayment.
    rewrite_from: int | None = None
    rewritten: list[InstallmentState] = []

    def total(self, *buckets: str) -> Decimal:
        return sum((line.amount for line in self.lines if line.bucket in buckets), ZERO)


def parse_order(order: str) -> list[str]:
    buckets = [b.strip() for b in order.split(",")]
    if sorted(buckets) != sorted(BUCKETS):
        raise ValueError(f"allocation order must name each of {', '.join(BUCKETS)} once")
    return buckets


def check_amount(amount: Decimal) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise ServicingRefused("AMOUNT_INVALID", "还款金额须大于零", "amount must be positive")
    if not is_whole_fen(amount):
        raise ServicingRefused("AMOUNT_SUB_FEN", "还款金额须精确到分", "amount must be in whole fen")


def allocate(state: NoteState, amount: Decimal, value_date: date,
             order: str = DEFAULT_ALLOCATION_ORDER) -> Allocation:
    check_amount(amount)
    if state.status != "disbursed":
        raise ServicingRefused("NOTE_CLOSED", "该借据已结清或未放款", "the note is not being repaid")
    owed = dues(state, value_date)
    due = _due_installments(state, value_date)
    lines: list[Line] = []
    left = amount

    def take(period: int | None, bucket: str, available: Decimal) -> None:
        nonlocal left
        part = min(left, available)
        if part > 0:
            lines.append(Line(period=period, bucket=bucket, amount=part))
            left -= part

    for bucket in parse_order(order):
        if bucket == "penalty":
            take(None, "penalty", owed.penalty)
        elif bucket == "compound":
            take(None, "compound", owed.compound)
        else:
            for inst in due:
                take(inst.period, bucket,
                     inst.unpaid_interest if bucket == "interest" else inst.unpaid_principal)
    if left == 0:
        return Allocation(kind="due" if amount == owed.total_due else "partial", value_date=value_date,
                          lines=lines)
    return _early(state, owed, value_date, lines, left)


def _early(state: NoteState, owed: Dues, value_date: date, lines: list[Line], left: Decimal) -> Allocation:
    current = _current(state, value_date)
    rest = owed.principal_not_due + owed.interest_to_date
    if current is None or left > rest:
        raise ServicingRefused("EXCEEDS_PAYOFF", f"还款金额超过结清所需{owed.payoff:,.2f}元",
                               f"amount exceeds the payoff amount {owed.payoff}")
    later = [i for i in state.installments if i.period >= current.period]
    if left == rest:  # 提前结清: this period's interest for the days used, all principal, nothing after
        rewritten = [i.model_copy(update={"interest": i.paid_interest + (owed.interest_to_date if i is current
                                                                         else ZERO)}) for i in later]
        if owed.interest_to_date:
            lines.append(Line(period=current.period, bucket="interest", amount=owed.interest_to_date))
        lines.extend(Line(period=i.period, bucket="principal", amount=i.unpaid_principal)
                     for i in later if i.unpaid_principal)
        return Allocation(kind="payoff", value_date=value_date, lines=lines, rewrite_from=current.period,
                          rewritten=rewritten)
    if left >= owed.principal_not_due:
        raise ServicingRefused("PAYOFF_AMOUNT", f"提前结清请按{owed.payoff:,.2f}元还款",
                               f"to settle early, repay exactly {owed.payoff}")
    # 提前部分还款: all of `left` is principal; its interest for the days used joins this period's interest.
    assert current.accrual_start is not None
    days = max((min(value_date, current.accrual_end or value_date) - current.accrual_start).days, 0)
    used = to_fen(left * state.annual_rate * days / 360)
    balance = owed.principal_not_due - left
    paid_before = state.installments.index(current)
    repriced = reprice_schedule([i.as_installment() for i in state.installments], state.method,
                                paid_periods=paid_before, balance=balance, new_annual_rate=state.annual_rate,
                                effective=current.accrual_start)[paid_before:]
    rewritten = [old.model_copy(update={"principal": new.principal,
                                        "interest": new.interest + (used + old.prepaid_interest if old is current
                                                                    else ZERO),
                                        "prepaid_interest": old.prepaid_interest + used if old is current else ZERO})
                 for old, new in zip(later, repriced, strict=True)]
    lines.append(Line(period=current.period, bucket="prepayment", amount=left))
    return Allocation(kind="prepayment", value_date=value_date, lines=lines, rewrite_from=current.period,
                      rewritten=rewritten)


def _days_accrued_since(value_date: date, due_date: date, last_eod: date | None) -> int:
    """Days end of day has already charged penalty on an amount that was in fact paid on `value_date`."""
    if last_eod is None:
        return 0
    return max((last_eod - max(value_date, due_date)).days + 1, 0)


def apply(state: NoteState, allocation: Allocation) -> NoteState:
    """The note after a repayment. If end of day has closed the value date since the allocation (a
    repayment racing midnight), the penalty it charged on the paid amounts is taken back."""
    s = state.model_copy(deep=True)
    by_period = {i.period: i for i in s.installments}
    if allocation.rewrite_from is not None:
        _rewrite(s, allocation.rewritten)
        by_period = {i.period: i for i in s.installments}
    for line in allocation.lines:
        if line.bucket == "penalty":
            s.penalty_paid += line.amount
        elif line.bucket == "compound":
            s.compound_paid += line.amount
        elif line.bucket in ("interest", "principal"):
            inst = by_period[line.period]  # type: ignore[index]
            days = _days_accrued_since(allocation.value_date, inst.due_date, s.last_eod_date)
            if line.bucket == "interest":
                inst.paid_interest += line.amount
                s.compound_base = max(s.compound_base - line.amount * days, ZERO)
            else:
                inst.paid_principal += line.amount
                s.penalty_base = max(s.penalty_base - line.amount * days, ZERO)
    return _refresh(s, allocation.value_date)


def unapply(state: NoteState, allocation: Allocation, before: list[InstallmentState]) -> NoteState:
    """The note after reversing its latest repayment: `before` are the rows a prepayment or payoff rewrote,
    as they were. Penalty for the days the reversed money had stopped it is charged again."""
    s = state.model_copy(deep=True)
    by_period = {i.period: i for i in s.installments}
    for line in allocation.lines:
        if line.bucket == "penalty":
            s.penalty_paid -= line.amount
        elif line.bucket == "compound":
            s.compound_paid -= line.amount
        elif line.bucket in ("interest", "principal"):
            inst = by_period[line.period]  # type: ignore[index]
            if line.bucket == "interest":
                inst.paid_interest -= line.amount
            else:
                inst.paid_principal -= line.amount
    if allocation.rewrite_from is not None:
        _rewrite(s, before)
        by_period = {i.period: i for i in s.installments}
    for line in allocation.lines:
        if line.bucket in ("interest", "principal"):
            inst = by_period[line.period]  # type: ignore[index]
            days = _days_accrued_since(allocation.value_date, inst.due_date, s.last_eod_date)
            if line.bucket == "interest":
                s.compound_base += line.amount * days
            else:
                s.penalty_base += line.amount * days
    if s.status == "settled":
        s.status, s.settled_on = "disbursed", None
    return _refresh(s, allocation.value_date)


def _rewrite(state: NoteState, rows: list[InstallmentState]) -> None:
    replaced = {r.period: r for r in rows}
    state.installments = [replaced.get(i.period, i).model_copy(deep=True) for i in state.installments]


def _refresh(s: NoteState, value_date: date) -> NoteState:
    """Derive statuses, buckets, dpd and class from the installments, as end of day would have them."""
    for inst in s.installments:
        if inst.unpaid_principal == 0 and inst.unpaid_interest == 0:
            if inst.status != "paid":
                inst.status, inst.paid_on = "paid", value_date
        else:
            overdue = s.last_eod_date is not None and inst.due_date <= s.last_eod_date
            inst.status, inst.paid_on = ("overdue" if overdue else "pending"), None
    overdue = [i for i in s.installments if i.status == "overdue"]
    s.overdue_principal = sum((i.unpaid_principal for i in overdue), ZERO)
    s.overdue_interest = sum((i.unpaid_interest for i in overdue), ZERO)
    s.outstanding_principal = sum((i.unpaid_principal for i in s.installments), ZERO)
    assert s.last_eod_date is not None or not overdue
    s.dpd = (s.last_eod_date - min(i.due_date for i in overdue)).days + 1 if overdue else 0  # type: ignore[operator]
    restructured = s.restructured_until is not None and s.last_eod_date is not None and \
        s.restructured_until >= s.last_eod_date
    s.classification = classify(s.dpd, restructured)
    settled = all(i.status == "paid" for i in s.installments) and not s.penalty_owed and not s.compound_owed
    if settled and s.status == "disbursed":
        s.status, s.settled_on = "settled", value_date
    return s

