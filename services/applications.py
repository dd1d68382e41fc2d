"""Submitting a loan application (self-service or staff proxy): insert the row, then start its workflow."""

# The row is committed before the start, so a failed start leaves a record (start_error) that a retry
# with the same Idempotency-Key picks up instead of inserting a second application.

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError

from config.settings import Settings
from db.models import Customer, LoanApplication
from db.repositories import applications, catalogue, customers, staff
from domain.money import amount_band
from domain.products import ProductTerms
from services import customers as customer_service
from services.blocking import in_thread
from services.clock import business_date
from services.errors import ProblemError, not_found
from services.gateway import TemporalUnavailable, WorkflowGateway
from services.principal import CUSTOMER_MANAGER, Principal
from services.schemas.applications import ApplicationCreated, ApplicationIn
from workflows import names
from workflows import search_attributes as sa
from workflows.messages import LoanApplicationInput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Plan:
    app: LoanApplication
    start_input: LoanApplicationInput
    attributes: TypedSearchAttributes


async def create(session: Session, workflows: WorkflowGateway, settings: Settings, principal: Principal,
                 body: ApplicationIn, *, now: datetime, prior: dict | None = None) -> ApplicationCreated:
    """`prior` is the stored answer of an earlier attempt with the same Idempotency-Key that failed to start."""
    prior_app_no = (prior or {}).get("app_no")
    plan = await in_thread(_prepare, session, principal, body, now=now, prior_app_no=prior_app_no)
    app = plan.app
    try:
        await workflows.start(names.LOAN_APPLICATION, plan.start_input, id=app.workflow_id,
                              search_attributes=plan.attributes)
    except Exception as exc:
        # The type and RPC status say what failed without copying a message that might quote a payload.
        status = getattr(exc, "status", None)
        await in_thread(_record_start_error, session, app, type(exc).__name__ + (f" ({status.name})" if status else ""))
        if isinstance(exc, TemporalUnavailable | RPCError):
            log.warning("start of %s failed: %s", app.workflow_id, type(exc).__name__)
            raise ProblemError(503, "WORKFLOW_START_FAILED", "申请已保存,但流程暂未启动;请使用相同的幂等键重试",
                               "the application was saved but its workflow did not start; retry with the same "
                               "Idempotency-Key", headers={"Retry-After": "5"}, extra={"app_no": app.app_no}) from exc
        raise
    if app.start_error is not None:
        await in_thread(_record_start_error, session, app, None)
    return ApplicationCreated(app_no=app.app_no, workflow_id=app.workflow_id, customer_id=app.customer_id,
                              channel=app.channel, stage=app.stage, status=app.status)


def _prepare(session: Session, principal: Principal, body: ApplicationIn, *, now: datetime,
             prior_app_no: str | None) -> _Plan:
    borrower, channel = _borrower(session, principal, body, now)
    guarantors = _guarantors(session, body, borrower, now)
    product = catalogue.product(session, body.product_code)
    if product is None or not product.active:
        raise ProblemError(422, "PRODUCT_UNKNOWN", "该贷款产品不存在或已停办", "no such active product", "product_code")
    terms = ProductTerms(**{**product.terms, "code": product.code, "version": product.version, "name": product.name})
    branch_code = principal.branch_code if channel == "staff_proxy" else borrower.branch_code
    assert branch_code is not None and borrower.id is not None
    if prior_app_no:
        app = applications.visible(session, principal.scope(), prior_app_no)
        if app is None:
            raise not_found("APPLICATION", "未找到该贷款申请", "application not found", "app_no")
    else:
        app = applications.insert(
            session, business_date=business_date(now), workflow_id_for=names.application_workflow_id,
            customer_id=borrower.id, product_code=product.code, product_version=product.version, amount=body.amount,
            term_months=body.term_months, repayment_method=body.repayment_method, guarantee_type=body.guarantee_type,
            purpose=body.purpose, channel=channel, branch_code=branch_code,
            initiator_staff_id=principal.id if channel == "staff_proxy" else None, stage="submitted", status="open",
            created_at=now, updated_at=now)
    session.commit()
    branch = catalogue.branch(session, app.branch_code)
    assert app.id is not None
    start_input = LoanApplicationInput(
        application_id=app.id, app_no=app.app_no, customer_id=app.customer_id, product=terms, amount=app.amount,
        term_months=app.term_months, repayment_method=app.repayment_method,
        guarantee_type=app.guarantee_type,  # type: ignore[arg-type]
        channel=app.channel,  # type: ignore[arg-type]
        branch_code=app.branch_code, escalation_branch_code=branch.parent_code if branch else None,
        # Above what the branch's approvers may approve on this product, the county decides at once.
        branch_approval_limit=terms.authority_limit("approver", staff.highest_authority(session, app.branch_code)),
        initiator_staff_id=app.initiator_staff_id, guarantor_customer_ids=[g.id for g in guarantors if g.id])
    attributes = TypedSearchAttributes([
        SearchAttributePair(sa.STAGE, "submitted"), SearchAttributePair(sa.BRANCH, app.branch_code),
        SearchAttributePair(sa.PRODUCT, app.product_code), SearchAttributePair(sa.CHANNEL, app.channel),
        SearchAttributePair(sa.AMOUNT_BAND, amount_band(app.amount)), SearchAttributePair(sa.ASSIGNEE, "")])
    return _Plan(app=app, start_input=start_input, attributes=attributes)


def _borrower(session: Session, principal: Principal, body: ApplicationIn, now: datetime) -> tuple[Customer, str]:
    if principal.is_customer:
        if body.customer_id is not None or body.customer is not None:
            raise ProblemError(422, "FIELD_NOT_ALLOWED", "客户自助申请不能代填他人资料",
                               "self-service applications are for the signed-in customer only",
                               "customer_id" if body.customer_id is not None else "customer")
        me = customers.get(session, principal.id)
        if me is None:
            raise not_found("CUSTOMER", "未找到客户档案", "customer not found", "customer_id")
        return me, "self_service"
    if principal.role != CUSTOMER_MANAGER:
        raise ProblemError(403, "ROLE_FORBIDDEN", "只有客户经理可以代客申请", "only customer managers apply by proxy")
    assert principal.branch_code is not None
    if body.customer_id is not None:
        row = customers.visible(session, principal.scope(), body.customer_id)
        if row is None:
            raise not_found("CUSTOMER", "未找到该客户", "customer not found", "customer_id")
        return row, "staff_proxy"
    if body.customer is None:
        raise ProblemError(422, "CUSTOMER_REQUIRED", "代客申请须填写客户编号或客户资料",
                           "a proxy application names the customer (customer_id or customer)", "customer")
    row = customer_service.find_or_create(session, body.customer, branch_code=principal.branch_code, now=now,
                                          field="customer")
    if row.branch_code != principal.branch_code:
        raise ProblemError(422, "CUSTOMER_OTHER_BRANCH", "该客户在其他网点建档,请由其所属网点办理",
                           "the customer belongs to another branch", "customer.resident_id")
    return row, "staff_proxy"


def _guarantors(session: Session, body: ApplicationIn, borrower: Customer, now: datetime) -> list[Customer]:
    found: list[Customer] = []
    for i, person in enumerate(body.guarantors):
        field = f"guarantors[{i}]"
        row = customer_service.find_or_create(session, person, branch_code=borrower.branch_code, now=now, field=field)
        if row.id == borrower.id or any(row.id == g.id for g in found):
            raise ProblemError(422, "GUARANTOR_DUPLICATE", "保证人不能是借款人本人,也不能重复",
                               "a guarantor cannot be the borrower or appear twice", f"{field}.resident_id")
        found.append(row)
    return found


def _record_start_error(session: Session, app: LoanApplication, error: str | None) -> None:
    app.start_error = error[:256] if error else None
    session.add(app)
    session.commit()
