"""domain.servicing: end of day for one note, dues and payoff quotes, allocation, reversal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.money import to_fen
from domain.schedule import build_schedule
from domain.servicing import (
    InstallmentState,
    NoteState,
    ServicingRefused,
    allocate,
    apply,
    classify,
    close_day,
    dues,
    penalty_rate_for,
    project,
    quote,
    unapply,
)

D = Decimal
START = date(2026, 1, 10)


def note(amount: str = "12000", months: int = 12, method: str = "equal_principal", rate: str = "0.0480") -> NoteState:
    rows = build_schedule(D(amount), D(rate), months, method, START)
    return NoteState(method=method, annual_rate=D(rate), penalty_rate=penalty_rate_for(D(rate), D("0.5")),
                     start_date=START, outstanding_principal=D(amount),
                     installments=[InstallmentState(**r.model_dump()) for r in rows])


def test_classification_thresholds_of_2023():
    assert [classify(d) for d in (0, 1, 90, 91, 270, 271, 360, 361)] == [
        "normal", "special_mention", "special_mention", "substandard", "substandard", "doubtful", "doubtful", "loss"]
    assert classify(0, restructured=True) == "special_mention"
    assert classify(100, restructured=True) == "substandard"


def test_penalty_rate_is_contract_rate_plus_markup():
    assert penalty_rate_for(D("0.0480"), D("0.5")) == D("0.072000")


def test_end_of_day_before_the_due_date_only_accrues():
    s = project(note(), date(2026, 2, 9))  # 31 days: Jan 10 .. Feb 9
    assert s.dpd == 0 and s.overdue_principal == 0 and s.classification == "normal"
    assert s.accrual_base == D("12000") * 31
    assert s.accrued_interest == to_fen(D("12000") * 31 * D("0.048") / 360) == D("49.60")


def test_unpaid_on_its_due_date_is_one_day_past_due_and_penalty_starts():
    s = project(note(), date(2026, 2, 10))
    first = s.installments[0]
    assert first.status == "overdue" and s.dpd == 1 and s.classification == "special_mention"
    assert s.overdue_principal == D("1000.00") and s.overdue_interest == first.interest == D("48.00")
    assert s.penalty_base == D("1000.00") and s.compound_base == D("48.00")
    # the new period started on the due date: one day of principal not yet due
    assert s.accrual_base == D("11000.00")
    s = project(s, date(2026, 3, 11))  # 30 days after the first due date, second installment due Mar 10
    assert s.dpd == 30
    assert s.overdue_principal == D("2000.00")
    # 1,000 x 30 days, then the second 1,000 for 2 days (Mar 10, Mar 11)
    assert s.penalty_base == D("1000") * 30 + D("1000") * 2
    assert s.penalty_owed == to_fen(s.penalty_base * D("0.072") / 360) == D("6.40")


def test_dpd_reaches_each_class():
    s = project(note(months=1, method="bullet"), date(2026, 2, 10) + timedelta(days=361))
    assert s.dpd == 362 and s.classification == "loss"


def test_end_of_day_is_idempotent_per_date():
    s = project(note(), date(2026, 2, 12))
    assert close_day(s, date(2026, 2, 12)) == s
    assert close_day(s, date(2026, 2, 1)) == s


def test_paying_exactly_what_is_due_on_the_due_date():
    s = project(note(), date(2026, 2, 9))
    owed = dues(s, date(2026, 2, 10))
    assert owed.total_due == D("1048.00") and owed.penalty == 0
    alloc = allocate(s, D("1048.00"), date(2026, 2, 10))
    assert alloc.kind == "due"
    after = apply(s, alloc)
    assert after.installments[0].status == "paid" and after.outstanding_principal == D("11000.00")
    after = close_day(after, date(2026, 2, 10))
    assert after.dpd == 0 and after.penalty_base == 0


def test_partial_repayment_pays_penalty_then_interest_then_principal():
    s = project(note(), date(2026, 2, 19))  # 10 days overdue
    assert s.penalty_owed == to_fen(D("10000") * D("0.072") / 360) == D("2.00")
    alloc = allocate(s, D("30.00"), date(2026, 2, 20))
    assert alloc.kind == "partial"
    assert [(line.bucket, line.amount) for line in alloc.lines] == [
        ("penalty", D("2.00")), ("compound", D("0.10")), ("interest", D("27.90"))]
    after = apply(s, alloc)
    assert after.dpd == 10 and after.overdue_interest == D("20.10") and after.overdue_principal == D("1000.00")


def test_allocation_order_is_configurable():
    s = project(note(), date(2026, 2, 19))
    alloc = allocate(s, D("30.00"), date(2026, 2, 20), order="principal,interest,penalty,compound")
    assert [(line.bucket, line.amount) for line in alloc.lines] == [("principal", D("30.00"))]
    with pytest.raises(ValueError):
        allocate(s, D("1"), date(2026, 2, 20), order="principal,interest")


def test_clearing_the_oldest_installment_lowers_dpd_to_the_next_oldest():
    s = project(note(), date(2026, 3, 14))  # first due Feb 10, second Mar 10
    assert s.dpd == 33
    first, second = s.installments[:2]
    # bucket by bucket: both overdue installments' interest comes before the first one's principal
    amount = s.penalty_owed + s.compound_owed + first.interest + second.interest + first.principal
    alloc = allocate(s, amount, date(2026, 3, 15))
    after = apply(s, alloc)
    assert after.installments[0].status == "paid" and after.installments[1].status == "overdue"
    assert after.dpd == 5  # Mar 10 .. Mar 14


def test_payoff_charges_interest_only_for_the_days_used():
    s = project(note(), date(2026, 1, 24))
    q = quote(s, date(2026, 1, 25))  # 15 days used
    assert q.total_due == 0 and q.principal_not_due == D("12000")
    assert q.interest_to_date == to_fen(D("12000") * D("0.048") * 15 / 360) == D("24.00")
    assert q.payoff == D("12024.00")
    alloc = allocate(s, q.payoff, date(2026, 1, 25))
    assert alloc.kind == "payoff"
    after = apply(s, alloc)
    assert after.status == "settled" and after.settled_on == date(2026, 1, 25)
    assert after.outstanding_principal == 0
    assert sum(i.interest for i in after.installments) == D("24.00")
    assert close_day(after, date(2026, 1, 25)) == after  # nothing accrues on a settled note


def test_quote_projects_end_of_day_when_asked_about_a_later_date():
    s = project(note(), date(2026, 1, 24))
    later = quote(s, date(2026, 2, 20))
    assert later.overdue_principal == D("1000.00") and later.penalty > 0
    with pytest.raises(ServicingRefused) as refused:
        quote(s, date(2026, 1, 20))
    assert refused.value.code == "DATE_CLOSED"


def test_more_than_the_payoff_amount_is_refused_with_the_amount():
    s = project(note(), date(2026, 1, 24))
    with pytest.raises(ServicingRefused) as refused:
        allocate(s, D("12024.01"), date(2026, 1, 25))
    assert refused.value.code == "EXCEEDS_PAYOFF" and "12,024.00" in refused.value.message_zh
    with pytest.raises(ServicingRefused) as refused:
        allocate(s, D("12010.00"), date(2026, 1, 25))
    assert refused.value.code == "PAYOFF_AMOUNT"


@pytest.mark.parametrize("amount,code", [("0", "AMOUNT_INVALID"), ("-5", "AMOUNT_INVALID"), ("1.001", "AMOUNT_SUB_FEN")])
def test_bad_amounts_are_refused(amount, code):
    with pytest.raises(ServicingRefused) as refused:
        allocate(note(), D(amount), date(2026, 1, 25))
    assert refused.value.code == code


def test_a_settled_note_takes_no_repayment():
    s = note()
    s.status = "settled"
    with pytest.raises(ServicingRefused) as refused:
        allocate(s, D("1"), date(2026, 1, 25))
    assert refused.value.code == "NOTE_CLOSED"


@pytest.mark.parametrize("method", ["equal_installment", "equal_principal", "interest_monthly", "bullet"])
def test_partial_prepayment_lowers_principal_and_recomputes_the_rest(method):
    s = project(note(method=method), date(2026, 1, 24))
    alloc = allocate(s, D("6000.00"), date(2026, 1, 25))
    assert alloc.kind == "prepayment"
    after = apply(s, alloc)
    assert after.outstanding_principal == D("6000.00")
    assert sum(i.principal for i in after.installments) == D("6000.00")
    # the prepaid 6,000 pays 15 days of interest, in the current installment
    used = to_fen(D("6000") * D("0.048") * 15 / 360)
    first_full = build_schedule(D("6000"), D("0.048"), 12 if method != "bullet" else 12, method, START)[0].interest
    assert after.installments[0].interest == first_full + used
    assert [i.due_date for i in after.installments] == [i.due_date for i in s.installments]


def test_reversal_restores_the_note_exactly():
    s = project(note(), date(2026, 3, 14))
    for amount in (D("500.00"), s.penalty_owed + s.compound_owed + D("2096.00"), dues(s, date(2026, 3, 15)).payoff):
        alloc = allocate(s, amount, date(2026, 3, 15))
        before = [i for i in s.installments if alloc.rewrite_from and i.period >= alloc.rewrite_from]
        assert unapply(apply(s, alloc), alloc, before) == s


def test_reversal_after_end_of_day_charges_the_penalty_again():
    s = project(note(), date(2026, 2, 19))
    alloc = allocate(s, dues(s, date(2026, 2, 20)).total_due, date(2026, 2, 20))
    paid = project(apply(s, alloc), date(2026, 2, 24))  # five more days closed, nothing overdue
    assert paid.dpd == 0
    reversed_ = unapply(paid, alloc, [])
    never_paid = project(s, date(2026, 2, 24))
    assert reversed_.penalty_base == never_paid.penalty_base
    assert reversed_.dpd == never_paid.dpd == 15


def test_a_repayment_booked_after_end_of_day_closed_its_value_date_stops_penalty_from_that_date():
    s = project(note(), date(2026, 2, 19))
    alloc = allocate(s, dues(s, date(2026, 2, 20)).total_due, date(2026, 2, 20))
    raced = apply(close_day(s, date(2026, 2, 20)), alloc)   # end of day ran between allocation and booking
    assert raced.penalty_base == apply(s, alloc).penalty_base
    assert raced.dpd == 0


amounts = st.decimals(min_value=D("0.01"), max_value=D("3000"), places=2)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["equal_installment", "equal_principal", "interest_monthly", "interest_quarterly", "bullet"]),
       st.lists(st.tuples(st.integers(0, 40), amounts), max_size=8))
def test_invariants_over_any_days_and_repayments(method, steps):
    s = note(method=method)
    day = START - timedelta(days=1)
    for gap, amount in steps:
        day += timedelta(days=gap)
        s = project(s, day)
        if s.status != "disbursed":
            break
        value_date = s.value_date(START)
        try:
            alloc = allocate(s, amount, value_date)
        except ServicingRefused:
            continue
        assert alloc.total("penalty", "compound", "interest", "principal", "prepayment") == amount
        before = [i for i in s.installments if alloc.rewrite_from and i.period >= alloc.rewrite_from]
        after = apply(s, alloc)
        assert unapply(after, alloc, before) == s
        s = after
        assert s.outstanding_principal == sum(i.principal - i.paid_principal for i in s.installments)
        assert s.outstanding_principal >= 0 and s.overdue_principal >= 0 and s.overdue_interest >= 0
        assert all(i.paid_principal <= i.principal and i.paid_interest <= i.interest for i in s.installments)
        assert sum(i.principal for i in s.installments) + alloc.total("prepayment") >= 0
        # dpd counted by end of day equals dpd derived from the oldest overdue due date
        overdue = [i.due_date for i in s.installments if i.status == "overdue"]
        assert s.dpd == ((s.last_eod_date - min(overdue)).days + 1 if overdue else 0)


def test_a_payment_on_its_due_date_counts_even_before_the_night_before_is_closed():
    s = project(note(), date(2026, 2, 8))  # at 00:10 on Feb 10 end of day has not closed Feb 9 yet
    value_date = s.value_date(date(2026, 2, 10))
    assert value_date == date(2026, 2, 10)
    alloc = allocate(s.as_of(value_date), D("1048.00"), value_date)
    assert alloc.kind == "due"
    after = apply(s.as_of(value_date), alloc)
    # end of day for Feb 9 and Feb 10 then finds nothing overdue
    assert project(after, date(2026, 2, 10)).dpd == 0


def test_a_payoff_after_a_prepayment_in_the_same_period_still_owes_the_prepaid_days():
    s = project(note(), date(2026, 1, 24))
    after = apply(s, allocate(s, D("6000.00"), date(2026, 1, 25)))
    assert after.installments[0].prepaid_interest == D("12.00")  # 6,000 x 4.8 % x 15 / 360
    owed = dues(after, date(2026, 1, 25))
    assert owed.interest_to_date == D("24.00")  # 12.00 on the prepaid half + 12.00 on the rest
    assert owed.payoff == D("6024.00")
    settled = apply(after, allocate(after, owed.payoff, date(2026, 1, 25)))
    assert settled.status == "settled" and sum(i.interest for i in settled.installments) == D("24.00")
