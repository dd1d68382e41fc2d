"""Human approval: an approver's queue, their decision sent as the `decide` Update, and an amendment of
the terms while the contracts await signatures (`amend_terms`)."""

# Role, authority limit and branch come from the StaffUser row, never from the request or the token;
# the workflow's validator checks them (maker != checker, limit, queue).

from __future__ import annotations

from sqlmodel import Session

from db.models import LoanApplication, StaffUser
from db.repositories import applications, staff
from services.application_actions import send_update
from services.application_views import visible
from services.blocking import in_thread
from services.errors import forbidden
from services.gateway import WorkflowGateway
from services.principal import Principal
from services.schemas.applications import ActionResult, AmendIn, ApplicationSummary, DecisionIn
from services.schemas.common import Page
from workflows import names
from workflows.messages import AmendTermsInput, ApprovalDecisionInput


def queue_of(principal: Principal) -> str:
    return f"approver@{principal.branch_code}"


def inbox(session: Session, principal: Principal, *, limit: int, offset: int) -> Page[ApplicationSummary]:
    rows, total = applications.approval_queue(session, queue_of(principal), limit=limit, offset=offset)
    return Page(items=[ApplicationSummary.of(app, name) for app, name in rows], total=total, limit=limit, offset=offset)


async def decide(session: Session, workflows: WorkflowGateway, principal: Principal, app_no: str, body: DecisionIn,
                 *, update_id: str | None = None) -> ActionResult:
    app, approver = await in_thread(_load, session, principal, app_no)
    assert approver.id is not None
    decision = ApprovalDecisionInput(
        approver_id=approver.id, approver_role=approver.role, authority_limit=approver.authority_limit,
        approver_branch=approver.branch_code, decision=body.decision, reason_codes=body.reason_codes,
        comment=body.comment, approved_amount=body.approved_amount)
    return await send_update(workflows, app, names.UPDATE_DECIDE, decision, update_id)


async def amend(session: Session, workflows: WorkflowGateway, principal: Principal, app_no: str, body: AmendIn,
                *, update_id: str | None = None) -> ActionResult:
    app, approver = await in_thread(_load, session, principal, app_no)
    assert approver.id is not None
    request = AmendTermsInput(
        approver_id=approver.id, approver_role=approver.role, authority_limit=approver.authority_limit,
        approver_branch=approver.branch_code, approved_amount=body.approved_amount, reason_code=body.reason_code,
        term_months=body.term_months, repayment_method=body.repayment_method, annual_rate=body.annual_rate)
    return await send_update(workflows, app, names.UPDATE_AMEND_TERMS, request, update_id)


def _load(session: Session, principal: Principal, app_no: str) -> tuple[LoanApplication, StaffUser]:
    approver = staff.get(session, principal.id)
    if approver is None or not approver.active:
        raise forbidden("账号已停用", "this staff account is not active", "STAFF_INACTIVE")
    return visible(session, principal, app_no), approver
