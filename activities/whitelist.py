"""Activities of the whitelist workflows: the window's next rows, the customer and the offer, the row's
record, and the loan application an accepted offer opens. Each is idempotent: a retry finds its own work."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from temporalio import activity

from activities.clock import business_today, utcnow
from activities.decisions import decide
from activities.rating import rating_request_key
from adapters.rating.port import RatingService
from db.engine import session_scope
from db.models import Customer, LoanApplication, WhitelistCampaign, WhitelistRow
from db.repositories import applications, catalogue, customers, staff
from db.repositories import whitelist as store
from domain import approval
from domain.identity import birth_date_of, region_of
from workflows import names
from workflows.messages import (
    ApplicationOpened,
    CampaignStatusUpdate,
    CancelPendingRowsInput,
    LoanApplicationInput,
    NextRowsInput,
    OfferPrepared,
    OpenApplicationInput,
    RowRef,
    RowStatusUpdate,
    WhitelistOfferInput,
)


class WhitelistActivities:
    def __init__(self, engine: Engine, rating: RatingService) -> None:
        self._engine = engine
        self._rating = rating

    @activity.defn
    def next_rows(self, request: NextRowsInput) -> list[RowRef]:
        with session_scope(self._engine) as session:
            return [RowRef(row_id=i, product_code=p)
                    for i, p in store.next_rows(session, request.campaign_id, request.after_row_id, request.limit)]

    @activity.defn
    def record_campaign_status(self, update: CampaignStatusUpdate) -> None:
        with session_scope(self._engine) as session:
            campaign = session.get(WhitelistCampaign, update.campaign_id)
            assert campaign is not None
            campaign.status, campaign.updated_at = update.status, utcnow()
            session.add(campaign)

    @activity.defn
    def cancel_pending_rows(self, request: CancelPendingRowsInput) -> int:
        with session_scope(self._engine) as session:
            return store.cancel_pending(session, request.campaign_id, request.after_row_id, utcnow())

    @activity.defn
    def prepare_offer(self, inp: WhitelistOfferInput) -> OfferPrepared:
        """The customer (created from the row when not on file), the rating, and the offer: the pre-approved
        limit capped by the computed one. Refusals follow domain.approval's pre-filters and grade floor."""
        now = utcnow()
        # Three steps, each on its own: the rule decision records itself in its own transaction, and on
        # SQLite (one writer) it must not wait behind ours.
        with session_scope(self._engine) as session:
            row = _row(session, inp.row_id)
            if row.grade is not None and row.customer_id is not None:  # a retry after the commit
                return _prepared(row, inp)
            customer = _customer_for(session, row, now)
            customer_id, preapproved = customer.id, row.preapproved_limit
        # The rating system records the rating itself, in its own transaction (none of ours is open).
        outcome = self._rating.rate(customer_id=customer_id, product=inp.product, guarantee_type="credit",
                                    request_key=rating_request_key())
        offer = min(preapproved, outcome.credit_limit)
        decided = decide(self._engine, application_id=None, product_code=inp.product.code, scenario="approval",
                         inputs=approval.rule_facts(inp.product, offer, "credit", outcome), as_of=business_today(),
                         read=approval.outcome, key=f"{inp.offer_no}:approval")
        with session_scope(self._engine) as session:
            row = _row(session, inp.row_id)
            row.customer_id, row.grade, row.offer_limit = customer_id, outcome.grade, offer
            if decided.outcome == "reject":
                row.status, row.reason_code = "refused", decided.reason_codes[0]
            elif row.offer_limit < inp.product.min_amount:
                row.status, row.reason_code = "refused", "LIMIT_BELOW_PRODUCT_MINIMUM"
            row.updated_at = now
            session.add(row)
            session.flush()
            return _prepared(row, inp)

    @activity.defn
    def record_row(self, update: RowStatusUpdate) -> None:
        now = utcnow()
        with session_scope(self._engine) as session:
            row = _row(session, update.row_id)
            if row.status in ("accepted",):
                return
            row.status, row.reason_code, row.updated_at = update.status, update.reason_code, now
            if update.status == "invited":
                row.invited_at = row.invited_at or now
                row.expires_at = update.expires_at
            session.add(row)

    @activity.defn
    def open_application(self, inp: OpenApplicationInput) -> ApplicationOpened:
        """The accepted offer becomes a loan application on the whitelist channel (once, however often called)."""
        now = utcnow()
        with session_scope(self._engine) as session:
            row = _row(session, inp.row_id)
            if row.application_id is not None:
                app = session.get(LoanApplication, row.application_id)
                assert app is not None
            else:
                product = catalogue.product(session, row.product_code)
                assert product is not None and row.customer_id is not None
                app = applications.insert(
                    session, business_date=business_today(), workflow_id_for=names.application_workflow_id,
                    customer_id=row.customer_id, product_code=product.code, product_version=product.version,
                    amount=inp.amount, term_months=inp.term_months, repayment_method=inp.repayment_method,
                    guarantee_type="credit", purpose=inp.purpose, channel="whitelist", branch_code=row.branch_code,
                    initiator_staff_id=None, stage="submitted", status="open", created_at=now, updated_at=now)
                row.application_id, row.status, row.reason_code = app.id, "accepted", None
                row.accepted_at = row.updated_at = now
                session.add(row)
                session.flush()
            branch = catalogue.branch(session, app.branch_code)
            assert app.id is not None
            start = LoanApplicationInput(
                application_id=app.id, app_no=app.app_no, customer_id=app.customer_id, product=inp.product,
                amount=app.amount, term_months=app.term_months, repayment_method=app.repayment_method,
                guarantee_type="credit", channel="whitelist", branch_code=app.branch_code,
                escalation_branch_code=branch.parent_code if branch else None,
                branch_approval_limit=inp.product.authority_limit("approver",
                                                                  staff.highest_authority(session, app.branch_code)))
            return ApplicationOpened(app_no=app.app_no, workflow_id=app.workflow_id, start=start)


def _row(session, row_id: int) -> WhitelistRow:
    row = session.get(WhitelistRow, row_id)
    if row is None:
        raise LookupError(f"whitelist row {row_id} not found")
    return row


def _customer_for(session, row: WhitelistRow, now: datetime) -> Customer:
    """The customer on file with the row's resident ID, or a new one from the row (and its optional figures)."""
    found = customers.by_resident_id(session, row.resident_id)
    if found is not None:
        return found
    extra = {k: v for k, v in (("annual_income", row.annual_income), ("total_assets", row.total_assets),
                               ("total_liabilities", row.total_liabilities)) if v is not None}
    return customers.insert(session, resident_id=row.resident_id, name=row.name, mobile=row.mobile,
                            birth_date=birth_date_of(row.resident_id), region_code=region_of(row.resident_id),
                            branch_code=row.branch_code, created_at=now.astimezone(UTC), **extra)


def _prepared(row: WhitelistRow, inp: WhitelistOfferInput) -> OfferPrepared:
    assert row.customer_id is not None and row.grade is not None and row.offer_limit is not None
    refused = row.status == "refused"
    return OfferPrepared(customer_id=row.customer_id, offer=not refused, offer_limit=row.offer_limit, grade=row.grade,
                         reason_codes=[row.reason_code] if refused and row.reason_code else [],
                         limit_capped=row.offer_limit < row.preapproved_limit)
