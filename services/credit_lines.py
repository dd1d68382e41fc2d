"""Credit lines (授信): reads from the read model, and drawdowns as an Update on CreditLineWorkflow."""

from __future__ import annotations

from sqlmodel import Session

from db.models import CreditLine
from db.repositories import credit_lines
from services.blocking import in_thread
from services.errors import not_found
from services.gateway import WorkflowGateway
from services.principal import Principal
from services.schemas.common import Page
from services.schemas.credit_lines import CreditLineView, DrawdownIn, InstallmentView, LoanNoteView
from workflows import names
from workflows.messages import DrawdownAccepted, DrawdownRequest


def visible(session: Session, principal: Principal, line_no: str) -> CreditLine:
    row = credit_lines.visible(session, principal.scope(), line_no)
    if row is None:
        raise not_found("CREDIT_LINE", "未找到该授信额度", "credit line not found", "line_no")
    return row


def search(session: Session, principal: Principal, *, status: str | None, limit: int,
           offset: int) -> Page[CreditLineView]:
    rows, total = credit_lines.search(session, principal.scope(), status=status, limit=limit, offset=offset)
    return Page(items=[CreditLineView.of(r) for r in rows], total=total, limit=limit, offset=offset)


def get(session: Session, principal: Principal, line_no: str) -> CreditLineView:
    return CreditLineView.of(visible(session, principal, line_no))


def notes(session: Session, principal: Principal, line_no: str) -> list[LoanNoteView]:
    line = visible(session, principal, line_no)
    assert line.id is not None
    rows = credit_lines.notes(session, line.id)
    by_note: dict[int, list[InstallmentView]] = {}
    for inst in credit_lines.installments(session, [n.id for n in rows if n.id is not None]):
        by_note.setdefault(inst.note_id, []).append(InstallmentView.of(inst))
    return [LoanNoteView.of(n, by_note.get(n.id or 0, [])) for n in rows]


async def drawdown(session: Session, workflows: WorkflowGateway, principal: Principal, line_no: str, body: DrawdownIn,
                   *, update_id: str | None = None) -> DrawdownAccepted:
    """The line's validator checks status, available amount and term; the drawdown then runs as its own workflow."""
    line = await in_thread(visible, session, principal, line_no)
    request = DrawdownRequest(amount=body.amount, term_months=body.term_months, repayment_method=body.repayment_method,
                              requested_by=principal.subject, payment_mode=body.payment_mode, payee_ref=body.payee_ref)
    return await workflows.update(names.credit_line_workflow_id(line.line_no), names.UPDATE_REQUEST_DRAWDOWN, request,
                                  result_type=DrawdownAccepted, update_id=update_id)
