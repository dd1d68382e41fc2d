"""Activities of LoanApplicationWorkflow: acceptance, review, the read model, guarantees, confirmation codes."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from activities.clock import business_today, utcnow
from activities.decisions import decide
from activities.rating import rating_request_key
from adapters.rating.port import RatingService
from adapters.sms.port import SmsGateway
from adapters.sms.texts import render_sms
from db import lpr_store, otp_codes
from db.application_store import (
    apply_stage,
    count_other_open,
    get_application,
    get_customer,
    upsert_guarantee,
)
from db.engine import session_scope
from db.models import LoanApplication
from domain import acceptance, admission, approval, pricing
from domain.acceptance import ApplicationFacts
from domain.admission import CustomerFacts
from domain.identity import IdProblem, normalise_resident_id
from domain.refusals import Refusal
from workflows.messages import (
    AcceptanceResult,
    ApplicationRef,
    ConfirmationCodeRequest,
    GuaranteeRecord,
    ReviewResult,
    StageUpdate,
)


class ApplicationActivities:
    def __init__(self, engine: Engine, rating: RatingService, sms: SmsGateway, otp_secret: str) -> None:
        self._engine = engine
        self._rating = rating
        self._sms = sms
        self._otp_secret = otp_secret

    @activity.defn
    def record_stage(self, update: StageUpdate) -> None:
        with session_scope(self._engine) as session:
            _apply(session, get_application(session, update.application_id), update)

    @activity.defn
    def accept(self, ref: ApplicationRef) -> AcceptanceResult:
        """准入 then 受理: the product's admission rule set decides whether this customer may borrow on it at all
        (type served, age window, region, blacklist and court list, a valid resident ID, no other open
        application); only an admitted customer's application goes to the acceptance rule set (amount, term,
        repayment method, guarantee). Each is recorded as a decision."""
        today = business_today()
        with session_scope(self._engine) as session:
            app = get_application(session, ref.application_id)
            customer = get_customer(session, app.customer_id)
            id_problem: IdProblem | None = None
            try:
                normalise_resident_id(customer.resident_id)
            except IdProblem as problem:
                id_problem = problem
            who = CustomerFacts(customer_type=customer.customer_type, birth_date=customer.birth_date,
                                residence_region=customer.region_code, blacklisted=customer.blacklisted,
                                court_dishonest=customer.court_dishonest,
                                id_problem=id_problem.code if id_problem else None,
                                other_open_applications=count_other_open(session, app))
            asked = ApplicationFacts(
                amount=app.amount, term_months=app.term_months, repayment_method=app.repayment_method,
                guarantee_type=app.guarantee_type, borrower_id=app.customer_id, guarantor_ids=ref.guarantor_customer_ids)
        facts = admission.rule_facts(who, ref.product, today)
        admitted = decide(self._engine, application_id=ref.application_id, product_code=ref.product.code,
                          scenario="admission", inputs=facts, as_of=today, read=admission.outcome,
                          key=_key(ref, "admission"))
        if admitted.outcome != "admit":
            refusals = [Refusal(code=id_problem.code, zh=id_problem.zh, en=id_problem.en, field=r.field)
                        if id_problem is not None and r.code == id_problem.code else r
                        for r in admission.refusals(admitted.result, facts)]
            return AcceptanceResult(accepted=False, refusals=refusals, rule_set_version=admitted.rule_set_version,
                                    decision_id=admitted.decision_id)
        inputs = acceptance.rule_facts(asked, ref.product, today)
        decided = decide(self._engine, application_id=ref.application_id, product_code=ref.product.code,
                         scenario="acceptance", inputs=inputs, as_of=today, read=acceptance.outcome,
                         key=_key(ref, "acceptance"))
        refusals = acceptance.refusals(decided.result, inputs)
        return AcceptanceResult(accepted=not refusals, refusals=refusals, rule_set_version=decided.rule_set_version,
                                decision_id=decided.decision_id)

    @activity.defn
    def review(self, ref: ApplicationRef) -> ReviewResult:
        """审查: rating and limit through the rating adapter, price, and the approval rule set's decision."""
        today = business_today()
        with session_scope(self._engine) as session:
            app = get_application(session, ref.application_id)
            customer = get_customer(session, app.customer_id)
            customer_id, amount, guarantee_type = customer.id, app.amount, app.guarantee_type
            customer_type = customer.customer_type
            lpr_table = lpr_store.table(session)
        # No transaction is open across the call: the rating system records its rating in its own (SQLite
        # has one writer). The key is this activity's, so a retry after a lost answer rates once.
        outcome = self._rating.rate(customer_id=customer_id, product=ref.product, guarantee_type=guarantee_type,
                                    request_key=rating_request_key(), application_id=ref.application_id)
        decided = decide(self._engine, application_id=ref.application_id, product_code=ref.product.code,
                         scenario="approval", inputs=approval.rule_facts(ref.product, amount, guarantee_type, outcome),
                         as_of=today, read=approval.outcome, key=_key(ref, "approval"))
        price = None
        if decided.outcome != "reject":
            priced = decide(self._engine, application_id=ref.application_id, product_code=ref.product.code,
                            scenario="pricing", as_of=today, read=pricing.outcome, key=_key(ref, "pricing"),
                            inputs=pricing.rule_facts(ref.product, guarantee_type, outcome.grade, customer_type,
                                                      stars=outcome.stars, policy_tags=outcome.policy_tags))
            price = pricing.price(ref.product, guarantee_type, outcome.grade, today, lpr_table,
                                  pricing.adjustments_of(priced.result))
        with session_scope(self._engine) as session:
            app = get_application(session, ref.application_id)
            app.score, app.grade, app.credit_limit = outcome.score, outcome.grade, outcome.credit_limit
            app.annual_rate = price.annual_rate if price else None
            session.add(app)
        return ReviewResult(model_version=outcome.model_version, score=outcome.score, grade=outcome.grade,
                            credit_limit=outcome.credit_limit, decision=decided.outcome,
                            reason_codes=decided.reason_codes, price=price,
                            rule_set_version=decided.rule_set_version, decision_id=decided.decision_id)

    @activity.defn
    def record_decision(self, update: StageUpdate) -> None:
        """The approved amount and approver, then the stage change, in one transaction."""
        with session_scope(self._engine) as session:
            app = get_application(session, update.application_id)
            if "approved_amount" in update.detail:
                app.approved_amount = Decimal(str(update.detail["approved_amount"]))
            # Amended terms: the contracts about to be reissued read them from the application.
            if update.detail.get("term_months"):
                app.term_months = int(update.detail["term_months"])
            if update.detail.get("repayment_method"):
                app.repayment_method = update.detail["repayment_method"]
            if update.detail.get("approver_id"):
                app.decided_by = int(update.detail["approver_id"])
            _apply(session, app, update)

    @activity.defn
    def issue_confirmation_code(self, request: ConfirmationCodeRequest) -> str:
        """Send the customer a one-time code for a staff-proxy application; returns the code's reference."""
        with session_scope(self._engine) as session:
            app = get_application(session, request.application_id)
            customer = get_customer(session, request.customer_id)
            ref, code = otp_codes.issue(session, customer_id=customer.id, purpose=request.purpose,
                                        ttl_minutes=request.ttl_minutes, now=utcnow(), secret=self._otp_secret)
            body = render_sms("otp_confirm", {"app_no": app.app_no, "amount": f"{app.amount:,.2f}", "code": code,
                                              "ttl_minutes": str(request.ttl_minutes)})
            mobile = customer.mobile
        # The key is the code's own reference: a retry after a lost answer re-sends nothing twice.
        self._sms.send(idempotency_key=f"otp:{ref}", mobile=mobile, template="otp_confirm", body=body)
        return ref

    @activity.defn
    def record_guarantee(self, record: GuaranteeRecord) -> None:
        with session_scope(self._engine) as session:
            upsert_guarantee(session, application_id=record.application_id, slot=record.slot, attempt=record.attempt,
                             guarantor_customer_id=record.guarantor_customer_id, workflow_id=record.workflow_id,
                             status=record.status, now=utcnow())


def _key(ref: ApplicationRef, scenario: str) -> str | None:
    return f"{ref.decision_key}:{scenario}" if ref.decision_key else None


def _apply(session: Session, app: LoanApplication, update: StageUpdate) -> None:
    apply_stage(session, app, seq=update.seq, stage=update.stage, status=update.status, actor=update.actor,
                reason_codes=update.reason_codes, assignee=update.assignee, sla_due_at=update.sla_due_at,
                detail=update.detail, now=utcnow())
