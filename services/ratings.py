"""Real-time rating (the rating system the collection system and the loan workflows call): the household's
facts from the archive, the models in force, the limit for a product with its breakdown, a rating record
and the customer's current rating. Also reading and explaining ratings, and manual overrides of a grade,
which a second staff member approves.

Every function here flushes and leaves the commit to its caller, except the API-facing ones, which commit.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, get_args

from sqlmodel import Session

from db import rating_batch
from db.models import Customer, Product, RatingBatchRun, RatingOverride, RatingRecord
from db.repositories import catalogue, customers
from db.repositories import ratings as store
from domain.products import ProductTerms
from domain.rating.contribution import ContributionRating, points_text
from domain.rating.engine import PREFILTER_TEXT, Rating, item_text, rate
from domain.rating.limits import LimitBreakdown, credit_limit
from domain.rating.model import CreditScorecard, Prefilter
from domain.rating.scoring import FeatureScore, HouseholdFacts, score
from domain.scorecard import RatingOutcome
from services import customers as customer_service
from services.clock import business_date, utcnow
from services.errors import ProblemError, not_found
from services.principal import ADMIN, APPROVER, Principal
from services.rating_models import active_models
from services.schemas.ratings import (
    CurrentRatingView,
    ExplanationLine,
    LimitLine,
    OverrideDecisionIn,
    OverrideIn,
    OverrideView,
    RateIn,
    RatingExplanation,
    RatingRecordView,
    RatingResult,
)
from services.unique_requests import insert_unless

DEFAULT_PRODUCT = "NONG_E_DAI"
NO_CONTRIBUTION_FACTS = "NO_CONTRIBUTION_FACTS"  # a reason code: rated with no data-warehouse contribution figures
OVERRIDE_APPROVERS = frozenset({APPROVER, ADMIN})


def rate_customer(session: Session, customer_id: int, *, terms: ProductTerms | None = None,
                  guarantee_type: str = "credit", source: str = "realtime", application_id: int | None = None,
                  request_key: str | None = None, as_of: date | None = None,
                  now: datetime | None = None) -> tuple[RatingRecord, RatingOutcome]:
    """Rate one customer now and record it; the caller commits. A request_key seen before returns the
    record it made, so a retried call rates once. An approved override still holds while the facts and
    models it was made on are unchanged."""
    if request_key is not None:
        found = store.by_request_key(session, request_key)
        if found is not None:
            return found, outcome_of(found)
    now = now or utcnow()
    customer = customers.get(session, customer_id)
    if customer is None:
        raise not_found("CUSTOMER", "未找到该客户", "customer not found", "customer_id")
    terms = terms or product_terms(session, DEFAULT_PRODUCT)
    facts, tags, archived, has_contribution = store.household_facts(session, customer, as_of or business_date(now))
    card, contrib = active_models(session)
    rating = rate(facts, card, contrib, terms, guarantee_type, tags)
    override = _override_in_force(session, customer_id, facts, rating)
    if override is not None:
        limit = credit_limit(facts, override.to_grade, terms, guarantee_type)
        rating = rating.model_copy(update={"limit": limit, "scored": rating.scored.model_copy(
            update={"grade": override.to_grade})})
    detail = _detail(rating, card, archived=archived, contribution_facts=has_contribution, override=override)
    # Said, not guessed: 0 stars from a customer without deposits look the same as from a feed that has not
    # reached him yet. (The quarterly batch reports such a household instead of rating it: there a gap in
    # the feed must not downgrade thousands at once; here a customer is waiting for an answer.)
    reasons = rating.reason_codes() + ([] if has_contribution else [NO_CONTRIBUTION_FACTS]) \
        + (["MANUAL_OVERRIDE"] if override else [])
    row = store.insert_record(
        session, customer_id=customer_id, application_id=application_id, model_version=rating.model_version,
        score=rating.scored.score, grade=rating.scored.grade, credit_limit=rating.limit.limit,
        stars=rating.scored.stars, reasons=reasons, inputs=facts.model_dump(mode="json"), detail=detail,
        source=source, now=now, request_key=request_key)
    return row, outcome_of(row)


def on_archived(session: Session, customer_id: int, *, now: datetime | None = None) -> RatingRecord:
    """The hook the archive service calls when a household is submitted (archived): rate it in real time
    for 农e贷's credit limit, in the caller's transaction (the caller commits)."""
    row, _ = rate_customer(session, customer_id, source="realtime", now=now)
    return row


def product_terms(session: Session, code: str) -> ProductTerms:
    product = catalogue.product(session, code)
    if product is None:
        raise ProblemError(422, "PRODUCT_UNKNOWN", "没有该贷款产品", "no such product", "product_code")
    return _terms(product)


def outcome_of(row: RatingRecord) -> RatingOutcome:
    """The rating port's answer, rebuilt from a stored record."""
    detail = row.detail or {}
    card = detail.get("scorecard", {})
    items = [] if detail.get("prefilter_hits") else (
        [{"code": "BASE", "points": card.get("base_score", 0)}]
        + [{"code": i["reason"], "points": i["points"]} for i in detail.get("items", [])]
        + [{"code": f"CONTRIBUTION_{row.stars}_STARS", "points": card.get("contribution_points", 0)}])
    return RatingOutcome.model_validate({
        "model_version": row.model_version, "score": row.score, "grade": row.grade, "credit_limit": row.credit_limit,
        "items": items, "prefilter_hits": detail.get("prefilter_hits", []), "stars": row.stars,
        "policy_tags": detail.get("policy_tags", []), "contribution_version": detail.get("contribution_version"),
        "reasons": [r for r in row.reasons if isinstance(r, str)], "limit_breakdown": detail.get("limit"),
        "rating_record_id": row.id})


# ---- the API's side: rate now, read, explain --------------------------------------------------------------


def rate_now(session: Session, principal: Principal, customer_id: int, body: RateIn) -> RatingResult:
    customer_service.visible_row(session, principal, customer_id)
    terms = product_terms(session, body.product_code)
    if body.guarantee_type not in terms.guarantee_types:
        raise ProblemError(422, "GUARANTEE_TYPE_NOT_OFFERED", "该产品不提供此担保方式",
                           "the product does not offer this guarantee type", "guarantee_type")
    row, _ = rate_customer(session, customer_id, terms=terms, guarantee_type=body.guarantee_type)
    view = _result(row)
    session.commit()
    return view


def current(session: Session, principal: Principal, customer_id: int) -> CurrentRatingView:
    customer_service.visible_row(session, principal, customer_id)
    found = store.current(session, customer_id)
    if found is None:
        raise not_found("RATING", "该客户尚未评级", "this customer has not been rated", "customer_id")
    return CurrentRatingView.of(found)


def history(session: Session, principal: Principal, customer_id: int, *, limit: int, offset: int) -> list[RatingRecordView]:
    customer_service.visible_row(session, principal, customer_id)
    return [RatingRecordView.of(r) for r in store.history(session, customer_id, limit=limit, offset=offset)]


def explain(session: Session, principal: Principal, record_id: int) -> RatingExplanation:
    row = _record(session, principal, record_id)
    detail = row.detail or _batch_detail(session, row)
    hits = detail.get("prefilter_hits", [])
    prefilters = [ExplanationLine(code=h, zh=PREFILTER_TEXT.get(h, (h, h))[0], en=PREFILTER_TEXT.get(h, (h, h))[1])
                  for h in hits]
    items = []
    for raw in detail.get("items", []):
        item = FeatureScore.model_validate(raw)
        zh, en = item_text(item)
        items.append(ExplanationLine(code=item.reason, points=item.points, zh=zh, en=en))
    contribution = None
    if detail.get("contribution"):
        rated = ContributionRating.model_validate(detail["contribution"])
        zh, en = rated.summary()
        contribution = ExplanationLine(code=f"CONTRIBUTION_{rated.stars}_STARS",
                                       points=detail.get("scorecard", {}).get("contribution_points"), zh=zh, en=en)
    elif detail.get("contribution_points") is not None:
        zh, en = points_text(Decimal(detail["contribution_points"]), row.stars or 0)
        contribution = ExplanationLine(code=f"CONTRIBUTION_{row.stars or 0}_STARS",
                                       points=detail.get("scorecard", {}).get("contribution_points"), zh=zh, en=en)
    limit = [LimitLine(zh=zh, en=en) for zh, en in LimitBreakdown.model_validate(detail["limit"]).lines()] \
        if detail.get("limit") else []
    source_zh = {"realtime": "实时评级", "batch": "季度批量评级", "override": "人工调整"}.get(row.source, row.source)
    summary_zh = f"{source_zh}(模型 {row.model_version}):{row.score} 分,等级 {row.grade}"
    summary_en = f"{row.source} rating (model {row.model_version}): score {row.score}, grade {row.grade}"
    if hits:
        summary_zh += ",命中前置过滤:" + "、".join(p.zh for p in prefilters) + ",不评级、不授信"
        summary_en += "; pre-filters hit: " + ", ".join(p.en for p in prefilters) + ", so no grade and no line"
    if row.source == "batch":
        summary_zh += ";批量评级只定等级,不测算额度(额度在申请贷款时按产品测算)。"
        summary_en += "; the batch grades only: a limit is worked out per product when the customer applies."
    else:
        summary_zh += f";额度 {row.credit_limit:,.2f} 元。"
        summary_en += f"; limit {row.credit_limit:,.2f}."
    if detail.get("contribution_facts") is False:
        summary_zh += "数仓尚无该客户的贡献度数据,贡献星级按无星计。"
        summary_en += " The data warehouse has no contribution figures for this customer yet: stars count as none."
    override = detail.get("override")
    if override:
        summary_zh += f"等级经人工调整({override['from_grade']}→{override['to_grade']}):{override['reason']}。"
        summary_en += f" Grade changed by hand ({override['from_grade']} -> {override['to_grade']}): {override['reason']}."
    return RatingExplanation(record=RatingRecordView.of(row), summary_zh=summary_zh, summary_en=summary_en,
                             prefilters=prefilters, items=items, contribution=contribution, limit=limit,
                             override=override, inputs=row.inputs)


def _batch_detail(session: Session, row: RatingRecord) -> dict[str, Any]:
    """A batch record stores its reason codes and input snapshot, not the real-time detail: the items are
    scored again from the snapshot with the run's own models (the same exact arithmetic the batch's vector
    scorer is tested equal to). The batch reads no loyalty or growth indicators, so the contribution line
    gives points and stars only."""
    run = session.get(RatingBatchRun, row.batch_run_id) if row.batch_run_id is not None else None
    if run is None:
        return {}
    card, contrib = rating_batch.run_models(run)
    facts = HouseholdFacts.model_validate(row.inputs)
    scored = score(facts, card, contrib)
    return {"scorecard": {"base_score": card.base_score, "contribution_points": card.contribution_points[scored.stars]},
            "prefilter_hits": list(scored.prefilter_hits), "items": [i.model_dump(mode="json") for i in scored.items],
            "contribution_points": str(scored.contribution_points)}


# ---- manual override: request, then a second person approves or rejects -----------------------------------


def request_override(session: Session, principal: Principal, customer_id: int, body: OverrideIn) -> OverrideView:
    customer_service.visible_row(session, principal, customer_id)
    current_rating = store.current(session, customer_id)
    if current_rating is None:
        raise ProblemError(409, "RATING_MISSING", "该客户尚未评级,无法调整", "the customer has no rating to change",
                           "customer_id")
    base = store.record(session, current_rating.rating_record_id)
    assert base is not None
    if _prefiltered(base):
        raise ProblemError(409, "RATING_PREFILTERED", "命中前置过滤的客户不能人工调整等级",
                           "a customer who hit a pre-filter cannot have the grade changed by hand", "customer_id")
    if base.grade == body.to_grade:
        raise ProblemError(422, "OVERRIDE_SAME_GRADE", "调整后的等级与当前等级相同", "that is the current grade already",
                           "to_grade")
    row = insert_unless(  # one pending override per customer (uq_rating_override_pending)
        session, lambda: _override_pending(session, customer_id),
        lambda: store.insert_override(session, customer_id=customer_id, base_record_id=base.id, from_grade=base.grade,
                                      to_grade=body.to_grade, reason=body.reason, requested_by=principal.subject,
                                      requested_at=utcnow()))
    view = OverrideView.of(row)
    session.commit()  # the view first: a session that expires on commit would leave it empty
    return view


def _override_pending(session: Session, customer_id: int) -> ProblemError | None:
    if store.pending_override(session, customer_id) is None:
        return None
    return ProblemError(409, "OVERRIDE_PENDING", "该客户已有待审批的等级调整", "an override is already waiting for approval",
                        "customer_id")


def decide_override(session: Session, principal: Principal, override_id: int, body: OverrideDecisionIn) -> OverrideView:
    row = store.override(session, override_id, lock=True)
    if row is None or _visible_customer(session, principal, row.customer_id) is None:
        raise not_found("OVERRIDE", "未找到该等级调整申请", "override request not found", "override_id")
    if row.status != "pending":
        raise ProblemError(409, "OVERRIDE_DECIDED", "该申请已处理", "this request has been decided already")
    if principal.role not in OVERRIDE_APPROVERS:
        raise ProblemError(403, "ROLE_FORBIDDEN", "您的岗位无权审批等级调整", "this needs the approver or admin role")
    if row.requested_by == principal.subject:
        raise ProblemError(409, "MAKER_CHECKER", "等级调整须由申请人以外的人员审批",
                           "an override is approved by someone other than who asked for it")
    now = utcnow()
    row.decided_by, row.decided_at, row.decision_note = principal.subject, now, body.note
    if body.decision == "reject":
        row.status = "rejected"
    else:
        current_rating = store.current(session, row.customer_id)
        if current_rating is None or current_rating.rating_record_id != row.base_record_id:
            raise ProblemError(409, "RATING_CHANGED", "客户评级已更新,请基于最新评级重新申请",
                               "the customer was rated again since; ask again on the new rating")
        base = store.record(session, row.base_record_id)
        assert base is not None
        row.status = "approved"
        result = _override_record(session, base, row, now)
        row.result_record_id = result.id
    session.add(row)
    view = OverrideView.of(row)
    session.commit()  # the view first: a session that expires on commit would leave it empty
    return view


def overrides(session: Session, principal: Principal, *, status: str | None, limit: int, offset: int) -> list[OverrideView]:
    rows = store.overrides(session, status=status, branch_code=principal.scope().branch_code, limit=limit,
                           offset=offset)
    return [OverrideView.of(r) for r in rows]


def _override_record(session: Session, base: RatingRecord, override: RatingOverride, now: datetime) -> RatingRecord:
    """The base rating with the grade changed and the limit recomputed for that grade (same product)."""
    detail = dict(base.detail or {})
    facts = HouseholdFacts.model_validate(base.inputs)
    limit_before = LimitBreakdown.model_validate(detail["limit"]) if detail.get("limit") else None
    terms = product_terms(session, limit_before.product_code if limit_before else DEFAULT_PRODUCT)
    limit = credit_limit(facts, override.to_grade, terms, limit_before.guarantee_type if limit_before else "credit")
    detail["limit"] = limit.model_dump(mode="json")
    detail["override"] = _override_detail(override)
    return store.insert_record(
        session, customer_id=base.customer_id, model_version=base.model_version, score=base.score,
        grade=override.to_grade, credit_limit=limit.limit, stars=base.stars or 0,
        reasons=[r for r in base.reasons if isinstance(r, str)] + ["MANUAL_OVERRIDE"], inputs=base.inputs,
        detail=detail, source="override", now=now)


def _override_in_force(session: Session, customer_id: int, facts: HouseholdFacts, rating: Rating) -> RatingOverride | None:
    """The latest approved override, when it was made on these very facts and models (else it lapsed)."""
    latest = store.latest_approved_override(session, customer_id)
    if latest is None or rating.scored.prefilter_hits:
        return None
    base = store.record(session, latest.base_record_id)
    if base is None or base.model_version != rating.model_version \
            or _scored_facts(HouseholdFacts.model_validate(base.inputs)) != _scored_facts(facts) \
            or _contribution_version_of(session, base) != rating.contribution_version:
        return None
    return latest


PREFILTERS = frozenset(get_args(Prefilter))


# Loyalty and growth indicators never change a score, so they do not decide whether an override still holds;
# comparing models (not JSON) also makes a batch record's snapshot ("96000", 0/1 flags) compare equal.
_INDICATOR_FIELDS = {"avg_daily_assets_prev", "months_as_customer", "products_held"}


def _scored_facts(facts: HouseholdFacts) -> dict[str, Any]:
    return facts.model_dump(exclude=_INDICATOR_FIELDS)


def _contribution_version_of(session: Session, record: RatingRecord) -> str | None:
    """A real-time record keeps it in its detail; a batch record's run holds the models it scored with."""
    if record.detail and record.detail.get("contribution_version"):
        return str(record.detail["contribution_version"])
    run = session.get(RatingBatchRun, record.batch_run_id) if record.batch_run_id is not None else None
    return f"{run.contribution_code}@v{run.contribution_version}" if run is not None else None


def _prefiltered(record: RatingRecord) -> bool:
    """A batch record has no detail: its reasons are then the pre-filter codes it hit."""
    hits = (record.detail or {}).get("prefilter_hits") or {r for r in record.reasons if isinstance(r, str)} & PREFILTERS
    return bool(hits)


def _override_detail(override: RatingOverride) -> dict[str, Any]:
    return {"id": override.id, "from_grade": override.from_grade, "to_grade": override.to_grade,
            "reason": override.reason, "requested_by": override.requested_by, "approved_by": override.decided_by}


def _detail(rating: Rating, card: CreditScorecard, *, archived: bool, contribution_facts: bool,
            override: RatingOverride | None) -> dict[str, Any]:
    detail: dict[str, Any] = {
        # With the items these add up to the score before its 0..max clamp.
        "scorecard": {"base_score": card.base_score, "contribution_points": card.contribution_points[rating.scored.stars]},
        "contribution_version": rating.contribution_version,
        "prefilter_hits": list(rating.scored.prefilter_hits),
        "items": [i.model_dump(mode="json") for i in rating.scored.items],
        "contribution": rating.contribution.model_dump(mode="json"),
        "limit": rating.limit.model_dump(mode="json"),
        "policy_tags": rating.policy_tags,
        "archived_household": archived,
        "contribution_facts": contribution_facts,
    }
    if override is not None:
        detail["override"] = _override_detail(override)
    return detail


def _result(row: RatingRecord) -> RatingResult:
    detail = row.detail or {}
    lines = LimitBreakdown.model_validate(detail["limit"]).lines() if detail.get("limit") else []
    return RatingResult(**RatingRecordView.of(row).model_dump(), inputs=row.inputs, limit_breakdown=detail.get("limit"),
                        limit_lines=[LimitLine(zh=zh, en=en) for zh, en in lines])


def _terms(product: Product) -> ProductTerms:
    return ProductTerms(**{**product.terms, "code": product.code, "version": product.version, "name": product.name})


def _visible_customer(session: Session, principal: Principal, customer_id: int) -> Customer | None:
    return customers.visible(session, principal.scope(), customer_id)




def _record(session: Session, principal: Principal, record_id: int) -> RatingRecord:
    row = store.record(session, record_id)
    if row is None or _visible_customer(session, principal, row.customer_id) is None:
        raise not_found("RATING_RECORD", "未找到该评级记录", "rating record not found", "record_id")
    return row
