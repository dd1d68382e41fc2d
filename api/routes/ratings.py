"""Customer rating for staff: rate now, the current rating and its history, a rating explained in Chinese
and English, manual overrides approved by a second person, the rating models (upload, activate) and the
data warehouse's contribution feed."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, UploadFile

from api.deps import RulesChecker, RulesMaker, SessionDep, StaffMember, require_role
from api.errors import responses
from services import contribution_facts, rating_models, ratings
from services.clock import utcnow
from services.contribution_facts import ContributionLoadReport
from services.principal import ADMIN, APPROVER, CUSTOMER_MANAGER, Principal
from services.schemas.ratings import (
    CurrentRatingView,
    OverrideDecisionIn,
    OverrideIn,
    OverrideView,
    RateIn,
    RatingExplanation,
    RatingModelIn,
    RatingModelSummary,
    RatingModelView,
    RatingRecordView,
    RatingResult,
)

router = APIRouter(tags=["ratings"])
CustomerId = Annotated[int, Path(ge=1)]
# A manager (or approver, admin) asks for a grade change; an approver or admin other than them decides.
OverrideMaker = Annotated[Principal, Depends(require_role(CUSTOMER_MANAGER, APPROVER, ADMIN))]
OverrideChecker = Annotated[Principal, Depends(require_role(APPROVER, ADMIN))]


@router.post("/v1/customers/{customer_id}/rating", status_code=201, response_model=RatingResult,
             responses=responses(403, 404, 422))
def rate_now(customer_id: CustomerId, user: StaffMember, session: SessionDep, body: RateIn | None = None) -> RatingResult:
    """Rate the customer now with the models in force: the archive's facts (or the customer's own figures when
    no household is archived), grade, stars, reason codes and the limit for the product with its breakdown."""
    return ratings.rate_now(session, user, customer_id, body or RateIn())


@router.get("/v1/customers/{customer_id}/rating", response_model=CurrentRatingView, responses=responses(403, 404))
def current(customer_id: CustomerId, user: StaffMember, session: SessionDep) -> CurrentRatingView:
    return ratings.current(session, user, customer_id)


@router.get("/v1/customers/{customer_id}/ratings", response_model=list[RatingRecordView], responses=responses(403, 404))
def history(customer_id: CustomerId, user: StaffMember, session: SessionDep,
            limit: Annotated[int, Query(ge=1, le=200)] = 50,
            offset: Annotated[int, Query(ge=0)] = 0) -> list[RatingRecordView]:
    """Every rating of the customer, newest first: real-time, quarterly batch and approved overrides."""
    return ratings.history(session, user, customer_id, limit=limit, offset=offset)


@router.get("/v1/ratings/{record_id}/explanation", response_model=RatingExplanation, responses=responses(403, 404))
def explanation(record_id: Annotated[int, Path(ge=1)], user: StaffMember, session: SessionDep) -> RatingExplanation:
    """Why: model versions, the input snapshot, pre-filters, each item's points, stars, the limit, any override."""
    return ratings.explain(session, user, record_id)


@router.post("/v1/customers/{customer_id}/rating/overrides", status_code=201, response_model=OverrideView,
             responses=responses(403, 404, 409, 422))
def request_override(customer_id: CustomerId, body: OverrideIn, user: OverrideMaker, session: SessionDep) -> OverrideView:
    """Ask to change the current grade by hand, with the reason; nothing changes until a second person approves."""
    return ratings.request_override(session, user, customer_id, body)


@router.get("/v1/rating-overrides", response_model=list[OverrideView], responses=responses(403))
def overrides(user: StaffMember, session: SessionDep,
              status: Annotated[Literal["pending", "approved", "rejected"] | None, Query()] = None,
              limit: Annotated[int, Query(ge=1, le=200)] = 50,
              offset: Annotated[int, Query(ge=0)] = 0) -> list[OverrideView]:
    return ratings.overrides(session, user, status=status, limit=limit, offset=offset)


@router.post("/v1/rating-overrides/{override_id}/decision", response_model=OverrideView,
             responses=responses(403, 404, 409))
def decide_override(override_id: Annotated[int, Path(ge=1)], body: OverrideDecisionIn, user: OverrideChecker,
                    session: SessionDep) -> OverrideView:
    """Approve (a rating record with source `override` becomes the current rating) or reject; never by the requester."""
    return ratings.decide_override(session, user, override_id, body)


@router.post("/v1/rating-models", status_code=201, response_model=RatingModelView, responses=responses(403, 422))
def upload_model(body: RatingModelIn, user: RulesMaker, session: SessionDep) -> RatingModelView:
    """A new draft version of a scorecard or contribution model. Refused (422) field by field when the model is
    malformed (`RATING_MODEL_INVALID`), a test case is (`RATING_TEST_INVALID`) or fails (`RATING_TEST_FAILED`)."""
    return rating_models.upload(session, user, body)


@router.get("/v1/rating-models", response_model=list[RatingModelSummary], responses=responses(403))
def list_models(user: RulesMaker, session: SessionDep,
                kind: Annotated[Literal["scorecard", "contribution"] | None, Query()] = None,
                code: Annotated[str | None, Query(max_length=32)] = None,
                limit: Annotated[int, Query(ge=1, le=200)] = 50,
                offset: Annotated[int, Query(ge=0)] = 0) -> list[RatingModelSummary]:
    return rating_models.listing(session, kind=kind, code=code, limit=limit, offset=offset)


@router.get("/v1/rating-models/{model_id}", response_model=RatingModelView, responses=responses(403, 404))
def get_model(model_id: Annotated[int, Path(ge=1)], user: RulesMaker, session: SessionDep) -> RatingModelView:
    return rating_models.get(session, model_id)


@router.post("/v1/rating-models/{model_id}/activation", response_model=RatingModelView,
             responses=responses(403, 404, 409, 422))
def activate_model(model_id: Annotated[int, Path(ge=1)], user: RulesChecker, session: SessionDep) -> RatingModelView:
    """Put a draft in force (an administrator other than its uploader); the code's previous version retires."""
    return rating_models.activate(session, user, model_id)


@router.post("/v1/contribution-facts", response_model=ContributionLoadReport, responses=responses(403, 422))
async def load_contribution_facts(file: UploadFile, user: RulesMaker, session: SessionDep,
                                  dry_run: Annotated[bool, Query()] = False) -> ContributionLoadReport:
    """The data warehouse's contribution extract (CSV, UTF-8 or GBK, or XLSX; columns `customer_no`, `as_of`,
    `avg_daily_assets`, `avg_daily_assets_prev`, `avg_loan_balance`, `settlement_txns`, `months_as_customer`,
    `products_held`, or their Chinese headings): valid rows replace the customers' facts, refused rows come back
    with every reason."""
    data = await file.read()
    return contribution_facts.load(session, data=data, filename=file.filename or "upload", dry_run=dry_run,
                                   now=utcnow())
