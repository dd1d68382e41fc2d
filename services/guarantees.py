"""Guarantors: the guarantees asked of the signed-in customer, and their consent as an Update."""

from __future__ import annotations

from sqlmodel import Session

from db.models import Guarantee
from db.repositories import applications, guarantees
from domain.identity import mask_name
from services.blocking import in_thread
from services.errors import not_found
from services.gateway import WorkflowGateway
from services.principal import Principal
from services.schemas.applications import DocumentView
from services.schemas.guarantees import ConsentIn, GuaranteeInvitation
from workflows import names
from workflows.messages import ConsentInput, GuarantorState


def mine(session: Session, principal: Principal) -> list[GuaranteeInvitation]:
    out = []
    for guarantee, app, borrower_name in guarantees.of_guarantor(session, principal.id):
        assert guarantee.id is not None and app.id is not None
        docs = [DocumentView.of(d) for d in applications.documents(session, app.id)
                if d.signer_customer_id == principal.id and d.kind == "guarantee_contract"]
        out.append(GuaranteeInvitation(
            id=guarantee.id, app_no=app.app_no, slot=guarantee.slot, attempt=guarantee.attempt, status=guarantee.status,
            borrower_name=mask_name(borrower_name), amount=app.amount, term_months=app.term_months,
            updated_at=guarantee.updated_at, documents=docs))
    return out


def _own(session: Session, principal: Principal, guarantee_id: int) -> Guarantee:
    row = guarantees.get(session, guarantee_id)
    if row is None or row.guarantor_customer_id != principal.id:
        raise not_found("GUARANTEE", "未找到该担保邀请", "guarantee not found", "guarantee_id")
    return row


async def consent(session: Session, workflows: WorkflowGateway, principal: Principal, guarantee_id: int,
                  body: ConsentIn, *, update_id: str | None = None) -> GuarantorState:
    row = await in_thread(_own, session, principal, guarantee_id)
    return await workflows.update(row.workflow_id, names.UPDATE_CONSENT,
                                  ConsentInput(customer_id=principal.id, accept=body.accept),
                                  result_type=GuarantorState, update_id=update_id)
