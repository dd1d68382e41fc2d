"""Credit lines (授信) and loan notes (借据): activation, drawdown rules, note and schedule, settlement."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.clock import business_today, utcnow
from activities.decisions import decide
from adapters.core_banking.port import CoreBanking
from db import lpr_store, rule_store
from db.application_store import get_application, get_customer
from db.engine import session_scope
from db.line_store import get_line, line_for_application, note_by_no, signed_line_expiry
from db.models import CreditLine, LoanNote, ScheduleInstallment
from domain import drawdown, pricing
from domain.schedule import add_months, build_schedule
from domain.servicing import penalty_rate_for
from workflows.messages import (
    ActivateLineInput,
    CreateNoteInput,
    LineActivated,
    LineStatusUpdate,
    NoteCreated,
    SettleNoteInput,
)
from workflows.names import credit_line_workflow_id


def _refuse(code: str, message: str) -> ApplicationError:
    return ApplicationError(message, {"code": code}, type="DrawdownRefused", non_retryable=True)


class CreditLineActivities:
    def __init__(self, engine: Engine, core_banking: CoreBanking) -> None:
        self._engine = engine
        self._cb = core_banking

    @activity.defn
    def activate_line(self, request: ActivateLineInput) -> LineActivated:
        with session_scope(self._engine) as session:
            line = line_for_application(session, request.application_id)
            if line is None:
                app = get_application(session, request.application_id)
                start = business_today()
                line_no = "CL" + app.app_no[2:]
                # The expiry the borrower and guarantors signed, not one recomputed days later.
                expiry = signed_line_expiry(session, app.id) or add_months(start, request.validity_months)
                line = CreditLine(line_no=line_no, workflow_id=credit_line_workflow_id(line_no),
                                  application_id=app.id, customer_id=app.customer_id, branch_code=app.branch_code,
                                  product_code=app.product_code, amount=request.approved_amount,
                                  revolving=request.revolving, annual_rate=request.annual_rate, start_date=start,
                                  expiry_date=expiry,
                                  max_term_months=request.max_term_months, created_at=utcnow())
                session.add(line)
                session.flush()
            return LineActivated(line_id=line.id, line_no=line.line_no, workflow_id=line.workflow_id,
                                 amount=line.amount, revolving=line.revolving, expiry_date=line.expiry_date,
                                 max_term_months=line.max_term_months)

    @activity.defn
    def update_line(self, update: LineStatusUpdate) -> None:
        with session_scope(self._engine) as session:
            line = get_line(session, update.line_id)
            line.status, line.drawn_total = update.status, update.drawn_total
            line.outstanding_principal = update.outstanding_principal
            session.add(line)

    @activity.defn
    def create_note(self, request: CreateNoteInput) -> NoteCreated:
        """Drawdown rules, then the note priced on today's LPR with its schedule; idempotent by note_no."""
        today = business_today()
        with session_scope(self._engine) as session:
            existing = note_by_no(session, request.note_no)
            customer = get_customer(session, request.customer_id)
            if existing is not None:
                paid_to = existing.payee_account or customer.settlement_account or ""
                return NoteCreated(note_id=existing.id, note_no=existing.note_no, annual_rate=existing.annual_rate,
                                   account_tail=paid_to[-4:], payment_mode=existing.payment_mode)
            line = get_line(session, request.line_id)
            if line.status != "active":
                raise _refuse("LINE_NOT_ACTIVE", f"credit line is {line.status}")
            app = get_application(session, line.application_id)
            grade = app.grade or "B"
            customer_no = customer.customer_no
            lpr_table = lpr_store.table(session)
            # Stars and policy tags as the application was priced with them (its latest pricing decision).
            priced_with = [d.inputs for d in rule_store.decisions_of(session, app.id) if d.scenario == "pricing"]
            price_facts = pricing.rule_facts(request.product, app.guarantee_type, grade, customer.customer_type,
                                             stars=priced_with[-1].get("stars") if priced_with else None,
                                             policy_tags=priced_with[-1].get("policy_tags") if priced_with else None)
            facts = drawdown.rule_facts(blacklisted=customer.blacklisted, currently_overdue=customer.currently_overdue,
                                        amount=request.amount, term_months=request.term_months,
                                        repayment_method=request.repayment_method, payment_mode=request.payment_mode,
                                        grade=grade)
        try:
            decided = decide(self._engine, application_id=app.id, product_code=request.product.code,
                             scenario="drawdown", inputs=facts, as_of=today, read=drawdown.outcome,
                             key=f"{request.note_no}:drawdown")
            if decided.outcome == "allow":
                priced = decide(self._engine, application_id=app.id, product_code=request.product.code,
                                scenario="pricing", inputs=price_facts, as_of=today, read=pricing.outcome,
                                key=f"{request.note_no}:pricing")
        except ApplicationError as err:
            if err.type != "RuleEvaluationFailed":
                raise
            # Recorded as an error decision; the drawdown ends refused instead of failing its workflow.
            raise _refuse("RULE_EVALUATION_FAILED", str(err)) from err
        if decided.outcome != "allow":
            raise _refuse(decided.reason_codes[0], f"refused by {decided.rule_set_version}: "
                          f"{', '.join(decided.reason_codes)}")
        account = self._cb.open_deposit_account(customer_no=customer_no)
        payee_account = (self._cb.open_counterparty_account(counterparty_ref=request.payee_ref)
                         if request.payment_mode == "entrusted" and request.payee_ref else None)
        rate = pricing.price(request.product, app.guarantee_type, grade, today, lpr_table,
                             pricing.adjustments_of(priced.result)).annual_rate
        schedule = build_schedule(request.amount, rate, request.term_months, request.repayment_method, today)
        with session_scope(self._engine) as session:
            customer = get_customer(session, request.customer_id)
            customer.settlement_account = account
            note = LoanNote(note_no=request.note_no, line_id=request.line_id, customer_id=request.customer_id,
                            amount=request.amount, term_months=request.term_months,
                            repayment_method=request.repayment_method, annual_rate=rate, start_date=today,
                            maturity_date=schedule[-1].due_date, created_at=utcnow(),
                            penalty_rate=penalty_rate_for(rate, request.product.penalty_markup),
                            allocation_order=request.product.allocation_order,
                            payment_mode=request.payment_mode, payee_account=payee_account)
            session.add_all([customer, note])
            session.flush()
            session.add_all([ScheduleInstallment(note_id=note.id, **i.model_dump()) for i in schedule])
            return NoteCreated(note_id=note.id, note_no=note.note_no, annual_rate=rate,
                               account_tail=(payee_account or account)[-4:], payment_mode=request.payment_mode)

    @activity.defn
    def settle_note(self, request: SettleNoteInput) -> None:
        with session_scope(self._engine) as session:
            note = note_by_no(session, request.note_no)
            if note is None:
                raise LookupError(f"note {request.note_no} not found")
            if note.status in ("reversed", "failed") and request.status == "disbursed":
                # Someone closed the note while the money moved: the workflow must compensate.
                raise ApplicationError(f"note is {note.status}", type="NoteStateConflict", non_retryable=True)
            note.status, note.failure_code = request.status, request.failure_code
            if request.posting_id:
                note.disbursement_ref = request.posting_id
            if request.status == "disbursed" and note.disbursed_at is None:
                note.disbursed_at = utcnow()
                note.outstanding_principal = note.amount  # servicing starts: end of day picks the note up
            session.add(note)
