"""Reading applications: lists and details from the database read model, live state from a query."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlmodel import Session
from temporalio.client import WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError

from db.models import LoanApplication
from db.repositories import applications, customers
from db.repositories.applications import ApplicationFilter
from services.blocking import in_thread
from services.clock import BEIJING
from services.errors import not_found
from services.gateway import TemporalUnavailable, WorkflowGateway
from services.principal import Principal
from services.schemas.applications import (
    ApplicationDetail,
    ApplicationSummary,
    DocumentView,
    EventView,
    GuaranteeView,
)
from services.schemas.common import Page
from workflows import names
from workflows.messages import ApplicationState

log = logging.getLogger(__name__)
RUNNING_STATUSES = frozenset({"open", "approved"})


def visible(session: Session, principal: Principal, app_no: str) -> LoanApplication:
    app = applications.visible(session, principal.scope(), app_no)
    if app is None:
        raise not_found("APPLICATION", "未找到该贷款申请", "application not found", "app_no")
    return app


async def get(session: Session, workflows: WorkflowGateway, principal: Principal, app_no: str) -> ApplicationDetail:
    app, name, guarantees, line_no = await in_thread(_read, session, principal, app_no)
    live = None
    if app.status in RUNNING_STATUSES and app.start_error is None:
        live = await live_state(workflows, app.workflow_id)
    return ApplicationDetail.of_row(app, name, guarantees, live, line_no)


def _read(session: Session, principal: Principal,
          app_no: str) -> tuple[LoanApplication, str, list[GuaranteeView], str | None]:
    app = visible(session, principal, app_no)
    borrower = customers.get(session, app.customer_id)
    assert app.id is not None and borrower is not None
    guarantees = [GuaranteeView.of(g, name) for g, name in applications.guarantees(session, app.id)]
    return app, borrower.name, guarantees, applications.line_no_of(session, app.id)


async def live_state(workflows: WorkflowGateway, workflow_id: str) -> ApplicationState | None:
    """The workflow's own view, or None when it cannot answer now: the read model still stands."""
    try:
        return await workflows.query(workflow_id, names.QUERY_STATE, result_type=ApplicationState)
    except (TemporalUnavailable, RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError) as exc:
        log.info("state query for %s not answered: %s", workflow_id, type(exc).__name__)
        return None


def day_start(day: date) -> datetime:
    """Dates in filters are business (Beijing) dates."""
    return datetime.combine(day, time.min, tzinfo=BEIJING)


def search(session: Session, principal: Principal, *, stage: str | None = None, status: str | None = None,
           channel: str | None = None, branch_code: str | None = None, product_code: str | None = None,
           created_from: date | None = None, created_to: date | None = None, limit: int = 50,
           offset: int = 0) -> Page[ApplicationSummary]:
    flt = ApplicationFilter(
        stage=stage, status=status, channel=channel, branch_code=branch_code, product_code=product_code,
        created_from=day_start(created_from) if created_from else None,
        created_before=day_start(created_to + timedelta(days=1)) if created_to else None)
    rows, total = applications.search(session, principal.scope(), flt, limit=limit, offset=offset)
    return Page(items=[ApplicationSummary.of(app, name) for app, name in rows], total=total, limit=limit, offset=offset)


def events(session: Session, principal: Principal, app_no: str) -> list[EventView]:
    app = visible(session, principal, app_no)
    assert app.id is not None
    return [EventView.of(e) for e in applications.events(session, app.id)]


def documents(session: Session, principal: Principal, app_no: str) -> list[DocumentView]:
    app = visible(session, principal, app_no)
    assert app.id is not None
    return [DocumentView.of(d) for d in applications.documents(session, app.id)]
