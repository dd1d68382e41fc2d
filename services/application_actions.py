"""Updates on a running application: confirm, withdraw, cancel, supply information, replace a guarantor."""

# The workflow's validators have the last word; their refusals reach the caller through
# services.temporal_errors with the workflow's own code and Chinese/English text.

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session

from adapters.sms.port import SmsGateway
from config.settings import Settings
from db.models import LoanApplication
from db.repositories import customers
from services import customers as customer_service
from services import otp
from services.application_views import visible
from services.blocking import in_thread
from services.errors import ProblemError, not_found
from services.gateway import WorkflowGateway
from services.principal import Principal
from services.schemas.applications import ActionResult, CancelIn, GuarantorIn, SupplementIn, WithdrawIn
from services.schemas.common import CodeIn, CodeSent
from workflows import names
from workflows.messages import (
    ApplicationState,
    CancelInput,
    ConfirmInput,
    ReplaceGuarantorInput,
    SupplyInfoInput,
    WithdrawInput,
)


def confirm_purpose(app_no: str) -> str:
    return f"confirm:{app_no}"


async def send_update(workflows: WorkflowGateway, app: LoanApplication, update: str, arg: BaseModel,
                  update_id: str | None) -> ActionResult:
    state = await workflows.update(app.workflow_id, update, arg, result_type=ApplicationState, update_id=update_id)
    return ActionResult(app_no=app.app_no, action=update, state=state)


async def confirm(session: Session, workflows: WorkflowGateway, settings: Settings, principal: Principal, app_no: str,
                  body: CodeIn, *, now: datetime, update_id: str | None = None) -> ActionResult:
    """The customer read the SMS code to the manager (or typed it): proof they agree to the proxy application."""
    app = await in_thread(visible, session, principal, app_no)
    ref = await in_thread(otp.check_code, session, settings, customer_id=app.customer_id,
                          purpose=confirm_purpose(app.app_no), code=body.code, now=now)
    try:
        return await send_update(workflows, app, names.UPDATE_CONFIRM,
                                 ConfirmInput(customer_id=app.customer_id, otp_ref=ref), update_id)
    except BaseException:
        # The workflow did not take the confirmation: the customer may use the same code again.
        await in_thread(otp.release_code, session, ref)
        raise


def resend_confirmation_code(session: Session, settings: Settings, sms: SmsGateway, principal: Principal,
                             app_no: str, now: datetime) -> CodeSent:
    app = visible(session, principal, app_no)
    if app.stage != "awaiting_confirmation":
        raise ProblemError(409, "INVALID_STATE", "该申请当前无需确认", "this application is not awaiting confirmation")
    customer = customers.get(session, app.customer_id)
    assert customer is not None
    return otp.send_code(session, settings, sms, customer=customer, purpose=confirm_purpose(app.app_no),
                         template="otp_confirm", params={"app_no": app.app_no, "amount": f"{app.amount:,.2f}"}, now=now)


async def withdraw(session: Session, workflows: WorkflowGateway, principal: Principal, app_no: str, body: WithdrawIn,
                   *, update_id: str | None = None) -> ActionResult:
    app = await in_thread(visible, session, principal, app_no)
    return await send_update(workflows, app, names.UPDATE_WITHDRAW,
                         WithdrawInput(customer_id=principal.id, reason=body.reason), update_id)


async def cancel(session: Session, workflows: WorkflowGateway, principal: Principal, app_no: str, body: CancelIn,
                 *, update_id: str | None = None) -> ActionResult:
    app = await in_thread(visible, session, principal, app_no)
    request = CancelInput(staff_id=principal.id, staff_role=principal.role, reason_code=body.reason_code,
                          comment=body.comment)
    return await send_update(workflows, app, names.UPDATE_CANCEL, request, update_id)


async def supply_info(session: Session, workflows: WorkflowGateway, principal: Principal, app_no: str,
                      body: SupplementIn, *, update_id: str | None = None) -> ActionResult:
    app = await in_thread(visible, session, principal, app_no)
    return await send_update(workflows, app, names.UPDATE_SUPPLY_INFO,
                         SupplyInfoInput(actor=principal.subject, note=body.note), update_id)


async def replace_guarantor(session: Session, workflows: WorkflowGateway, principal: Principal, app_no: str,
                            slot: int, body: GuarantorIn, *, now: datetime,
                            update_id: str | None = None) -> ActionResult:
    app, guarantor_id = await in_thread(_replacement, session, principal, app_no, body, now)
    request = ReplaceGuarantorInput(slot=slot, guarantor_customer_id=guarantor_id, actor=principal.subject)
    return await send_update(workflows, app, names.UPDATE_REPLACE_GUARANTOR, request, update_id)


def _replacement(session: Session, principal: Principal, app_no: str, body: GuarantorIn,
                 now: datetime) -> tuple[LoanApplication, int]:
    app = visible(session, principal, app_no)
    if body.person is not None:
        borrower = customers.get(session, app.customer_id)
        assert borrower is not None
        row = customer_service.find_or_create(session, body.person, branch_code=borrower.branch_code, now=now,
                                              field="person")
        session.commit()
    else:
        assert body.customer_id is not None
        if principal.is_customer:
            # A borrower names a new guarantor by name, ID and mobile, as on the application: picking a
            # bare customer id would let them probe and invite people they do not know.
            raise ProblemError(422, "PERSON_REQUIRED", "请填写新保证人的姓名、身份证号和手机号",
                               "give the new guarantor's name, resident ID and mobile", "person")
        # Staff pick from the customers their branch can see; the workflow refuses the borrower or a duplicate.
        row = customers.visible(session, principal.scope(), body.customer_id)
        if row is None:
            raise not_found("CUSTOMER", "未找到该保证人", "guarantor not found", "customer_id")
    assert row.id is not None
    return app, row.id
