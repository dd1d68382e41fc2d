"""Whitelist campaigns: upload (validate, store, start), read, pause/resume/cancel, the funnel, and the
customer's side (their offers, accept, decline).

An uploaded file is a campaign once: its SHA-256 is unique, so the same file uploaded again (or twice at
once) returns the first campaign and starts nothing. Rows are committed before the workflow starts; a
start that failed is retried by uploading the same file again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio.common import TypedSearchAttributes

from config.settings import Settings
from db.models import LoanApplication, WhitelistCampaign, WhitelistRow
from db.repositories import catalogue
from db.repositories import whitelist as store
from domain.identity import IdProblem, normalise_mobile, normalise_resident_id
from domain.products import ProductTerms
from domain.whitelist import (
    FIELD_ZH,
    HeaderProblem,
    KnownCustomer,
    Manager,
    ProductBounds,
    Reference,
    check_file,
    map_header,
)
from services import whitelist_files
from services.blocking import in_thread
from services.clock import business_date
from services.errors import ProblemError, field_error, forbidden, not_found
from services.gateway import WorkflowGateway
from services.principal import ADMIN, ALL_BRANCH_ROLES, CUSTOMER_MANAGER, Principal
from services.schemas.whitelist import (
    AcceptOfferIn,
    CampaignActionIn,
    CampaignView,
    Funnel,
    FunnelLine,
    OfferAnswer,
    OfferView,
)
from workflows import names
from workflows.messages import (
    AcceptOfferInput,
    CampaignActionInput,
    CampaignProgress,
    DeclineOfferInput,
    OfferState,
    WhitelistCampaignInput,
)

log = logging.getLogger(__name__)
UPLOADERS = frozenset({CUSTOMER_MANAGER, ADMIN})
Progress = Callable[[int, int], None]  # (rows checked, rows in the file)


def _refuse_role(principal: Principal, roles: frozenset[str]) -> None:
    if principal.is_customer or principal.role not in roles:
        raise forbidden("您的岗位不能办理白名单批次", "your role cannot handle whitelist campaigns", "ROLE_FORBIDDEN")


# ---- upload ---------------------------------------------------------------------------------------


async def upload(session: Session, workflows: WorkflowGateway, settings: Settings, principal: Principal, *,
                 data: bytes, filename: str, now: datetime, dry_run: bool = False,
                 progress: Progress | None = None) -> CampaignView:
    _refuse_role(principal, UPLOADERS)
    campaign, view = await in_thread(_validate_and_store, session, settings, principal, data=data, filename=filename,
                                     now=now, dry_run=dry_run, progress=progress)
    if campaign is not None and campaign.status == "validated" and campaign.rows_valid > 0:
        await _start(session, workflows, settings, campaign)
        view.status = campaign.status
    return view


def _validate_and_store(session: Session, settings: Settings, principal: Principal, *, data: bytes, filename: str,
                        now: datetime, dry_run: bool,
                        progress: Progress | None) -> tuple[WhitelistCampaign | None, CampaignView]:
    sha256 = hashlib.sha256(data).hexdigest()
    existing = store.by_sha256(session, sha256)
    if existing is not None:
        return existing, _view(session, existing, duplicate=True)
    sheet = whitelist_files.read(data, max_rows=settings.whitelist_max_rows)
    try:
        columns = map_header(sheet.header)
    except HeaderProblem as problem:
        raise ProblemError(422, "HEADER_MISSING", "缺少必需的列:" + "、".join(FIELD_ZH[c] for c in problem.missing),
                           "missing columns: " + ", ".join(problem.missing), problem.missing[0],
                           errors=[field_error(c, "COLUMN_MISSING", f"缺少“{FIELD_ZH[c]}”列", f"no {c} column")
                                   for c in problem.missing]) from problem
    rows = [(row_no, {name: (cells[i] if i < len(cells) else None) for name, i in columns.items()})
            for row_no, cells in sheet.rows]
    ref = _reference(session, principal, rows)
    reports, entries = check_file(_counting(rows, progress), ref)
    view = CampaignView(campaign_no="", workflow_id="", status="dry_run" if dry_run else "validated", dry_run=dry_run,
                        filename=filename, file_sha256=sha256, format=sheet.format, encoding=sheet.encoding,
                        rows_total=len(reports), rows_valid=len(entries), rows_refused=len(reports) - len(entries),
                        report=reports)
    if dry_run:
        return None, view
    assert principal.branch_code is not None
    try:
        campaign = store.insert_campaign(
            session, business_date=business_date(now), workflow_id_for=names.whitelist_campaign_workflow_id,
            file_sha256=sha256, filename=filename[:200], file_format=sheet.format, encoding=sheet.encoding,
            uploaded_by=principal.id, branch_code=principal.branch_code, rows_total=view.rows_total,
            rows_valid=view.rows_valid, rows_refused=view.rows_refused,
            report=[r.model_dump(mode="json") for r in reports], created_at=now, updated_at=now,
            status="validated" if entries else "completed")
        store.insert_rows(session, campaign, (e.model_dump(exclude={"manager_staff_id", "limit", "product_code"}) | {
            "manager_staff_id": e.manager_staff_id, "preapproved_limit": e.limit, "product_code": e.product_code}
            for e in entries), now)
        session.commit()
    except IntegrityError:
        # The same file, uploaded at the same moment by another request.
        session.rollback()
        existing = store.by_sha256(session, sha256)
        if existing is None:
            raise
        return existing, _view(session, existing, duplicate=True)
    view.campaign_no, view.workflow_id, view.status = campaign.campaign_no, campaign.workflow_id, campaign.status
    return campaign, view


def _counting(rows: list, progress: Progress | None) -> Iterator:
    for i, row in enumerate(rows, start=1):
        yield row
        if progress is not None:
            progress(i, len(rows))


def _reference(session: Session, principal: Principal, rows: list[tuple[int, Mapping[str, object]]]) -> Reference:
    products, branches, staff = store.reference_data(session)
    ids, mobiles = set(), set()
    for _, cells in rows:
        for key, normalise, bucket in (("resident_id", normalise_resident_id, ids), ("mobile", normalise_mobile, mobiles)):
            try:
                bucket.add(normalise(str(cells.get(key) or "")))
            except IdProblem:
                pass
    on_file = store.customers_by_resident_id(session, sorted(ids))
    by_mobile: dict[str, set[int]] = {}
    for mobile, customer_id in store.customers_by_mobile(session, sorted(mobiles)):
        by_mobile.setdefault(mobile, set()).add(customer_id)
    bounds = {}
    for p in products:
        terms = _terms(p)
        bounds[p.code] = ProductBounds(terms.min_amount, min(terms.max_amount, terms.cap_for("credit")))
    return Reference(
        products=bounds, branches=frozenset(branches),
        managers={s.username: Manager(s.id, s.branch_code, s.active, s.role) for s in staff if s.id is not None},
        customers_by_id={c.resident_id: KnownCustomer(c.id, c.name, c.mobile) for c in on_file if c.id is not None},
        customer_ids_by_mobile={m: frozenset(v) for m, v in by_mobile.items()},
        open_application_customer_ids=frozenset(store.customers_with_open_applications(
            session, [c.id for c in on_file if c.id is not None])),
        already_offered_ids=frozenset(store.resident_ids_with_open_rows(session, sorted(ids))),
        allowed_branches=None if principal.role in ALL_BRANCH_ROLES else frozenset({principal.branch_code or ""}))


def _terms(product) -> ProductTerms:
    return ProductTerms(**{**product.terms, "code": product.code, "version": product.version, "name": product.name})


async def _start(session: Session, workflows: WorkflowGateway, settings: Settings, campaign: WhitelistCampaign) -> None:
    start = await in_thread(_start_input, session, settings, campaign)
    try:
        await workflows.start(names.WHITELIST_CAMPAIGN, start, id=campaign.workflow_id,
                              search_attributes=TypedSearchAttributes.empty)
    except Exception as exc:
        await in_thread(_record_start, session, campaign, type(exc).__name__)
        log.warning("start of %s failed: %s", campaign.workflow_id, type(exc).__name__)
        raise ProblemError(503, "WORKFLOW_START_FAILED", "白名单已保存,但批次流程暂未启动;请重新上传同一文件重试",
                           "the whitelist was saved but its campaign did not start; upload the same file again",
                           headers={"Retry-After": "5"}, extra={"campaign_no": campaign.campaign_no}) from exc
    await in_thread(_record_start, session, campaign, None)


def _start_input(session: Session, settings: Settings, campaign: WhitelistCampaign) -> WhitelistCampaignInput:
    assert campaign.id is not None
    codes = {r["product_code"] for r in _product_codes(session, campaign.id)}
    products = {}
    for code in codes:
        row = catalogue.product(session, code)
        assert row is not None
        products[code] = _terms(row)
    return WhitelistCampaignInput(
        campaign_id=campaign.id, campaign_no=campaign.campaign_no, rows_total=campaign.rows_valid, products=products,
        window=settings.whitelist_window, offer_seconds=settings.whitelist_offer_days * 86400,
        public_base_url=settings.public_base_url)


def _product_codes(session: Session, campaign_id: int) -> list[dict[str, str]]:
    return [{"product_code": c} for c in session.exec(select(WhitelistRow.product_code).where(
        WhitelistRow.campaign_id == campaign_id).distinct()).all()]


def _record_start(session: Session, campaign: WhitelistCampaign, error: str | None) -> None:
    campaign.start_error = error[:256] if error else None
    if error is None and campaign.status == "validated":
        campaign.status = "running"
    session.add(campaign)
    session.commit()


# ---- reading and acting ---------------------------------------------------------------------------


def _view(session: Session, campaign: WhitelistCampaign, *, duplicate: bool = False,
          with_report: bool = True) -> CampaignView:
    assert campaign.id is not None
    return CampaignView(campaign_no=campaign.campaign_no, workflow_id=campaign.workflow_id, status=campaign.status,
                        duplicate=duplicate, filename=campaign.filename, file_sha256=campaign.file_sha256,
                        format=campaign.file_format, encoding=campaign.encoding, rows_total=campaign.rows_total,
                        rows_valid=campaign.rows_valid, rows_refused=campaign.rows_refused,
                        rows_by_status=store.counts_by_status(session, campaign.id),
                        report=campaign.report if with_report else None)


def _visible(session: Session, principal: Principal, campaign_no: str) -> WhitelistCampaign:
    campaign = store.by_no(session, campaign_no)
    if principal.is_customer or campaign is None or not principal.sees_branch(campaign.branch_code):
        raise not_found("CAMPAIGN", "未找到该白名单批次", "whitelist campaign not found", "campaign_no")
    return campaign


async def get(session: Session, workflows: WorkflowGateway, principal: Principal, campaign_no: str, *,
              with_report: bool) -> CampaignView:
    campaign = await in_thread(_visible, session, principal, campaign_no)
    view = await in_thread(_view, session, campaign, with_report=with_report)
    if campaign.status in ("running", "paused"):
        try:
            view.progress = await workflows.query(campaign.workflow_id, names.QUERY_PROGRESS,
                                                  result_type=CampaignProgress)
        except Exception as exc:  # noqa: BLE001 - the database view stands on its own
            log.info("progress of %s not available: %s", campaign.workflow_id, type(exc).__name__)
    return view


async def act(session: Session, workflows: WorkflowGateway, principal: Principal, campaign_no: str,
              body: CampaignActionIn, *, update_id: str | None) -> CampaignView:
    _refuse_role(principal, UPLOADERS | ALL_BRANCH_ROLES)
    campaign = await in_thread(_visible, session, principal, campaign_no)
    progress = await workflows.update(campaign.workflow_id, names.UPDATE_CAMPAIGN_ACTION,
                                      CampaignActionInput(staff_id=principal.id, action=body.action),  # type: ignore[arg-type]
                                      result_type=CampaignProgress, update_id=update_id)
    session.refresh(campaign)
    view = await in_thread(_view, session, campaign, with_report=False)
    view.progress = progress
    return view


def funnel(session: Session, principal: Principal, campaign_no: str) -> Funnel:
    campaign = _visible(session, principal, campaign_no)
    assert campaign.id is not None
    branch = None if principal.role in ALL_BRANCH_ROLES else principal.branch_code
    lines = [FunnelLine(branch_code=b, manager=u, manager_name=n, rows=rows, invited=int(i or 0), accepted=int(a or 0),
                        signed=int(s or 0), drawn=int(d or 0))
             for b, u, n, rows, i, a, s, d in store.funnel(session, campaign.id, branch)]
    total = FunnelLine(branch_code="*", manager="*", manager_name="合计", rows=sum(x.rows for x in lines),
                       invited=sum(x.invited for x in lines), accepted=sum(x.accepted for x in lines),
                       signed=sum(x.signed for x in lines), drawn=sum(x.drawn for x in lines))
    return Funnel(campaign_no=campaign.campaign_no, lines=lines, total=total)


# ---- the customer's side --------------------------------------------------------------------------


def my_offers(session: Session, principal: Principal) -> list[OfferView]:
    if not principal.is_customer:
        raise forbidden("只有客户本人可以查看邀请", "only customers have offers", "ROLE_FORBIDDEN")
    out = []
    for row, campaign in store.offers_of_customer(session, principal.id):
        app_no = None
        if row.application_id is not None:
            app = session.get(LoanApplication, row.application_id)
            app_no = app.app_no if app else None
        out.append(OfferView(offer_no=row.offer_no, campaign_no=campaign.campaign_no, status=row.status,
                             offer_limit=row.offer_limit, expires_at=row.expires_at, app_no=app_no,
                             reason_code=row.reason_code))
    return out


def _my_offer(session: Session, principal: Principal, offer_no: str) -> str:
    row = store.row_by_offer_no(session, offer_no)
    if not principal.is_customer or row is None or row.customer_id != principal.id:
        raise not_found("OFFER", "未找到该邀请", "offer not found", "offer_no")
    return names.whitelist_offer_workflow_id(row.offer_no)


async def accept(session: Session, workflows: WorkflowGateway, principal: Principal, offer_no: str,
                 body: AcceptOfferIn, *, update_id: str | None) -> OfferAnswer:
    workflow_id = await in_thread(_my_offer, session, principal, offer_no)
    state = await workflows.update(workflow_id, names.UPDATE_ACCEPT_OFFER, AcceptOfferInput(
        customer_id=principal.id, amount=Decimal(body.amount), term_months=body.term_months,
        repayment_method=body.repayment_method, purpose=body.purpose), result_type=OfferState, update_id=update_id)
    return OfferAnswer(offer_no=offer_no, state=state)


async def decline(session: Session, workflows: WorkflowGateway, principal: Principal, offer_no: str, *,
                  update_id: str | None) -> OfferAnswer:
    workflow_id = await in_thread(_my_offer, session, principal, offer_no)
    state = await workflows.update(workflow_id, names.UPDATE_DECLINE_OFFER, DeclineOfferInput(customer_id=principal.id),
                                   result_type=OfferState, update_id=update_id)
    return OfferAnswer(offer_no=offer_no, state=state)
