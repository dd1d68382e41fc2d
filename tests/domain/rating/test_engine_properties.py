"""Properties of the engines over any household: more income or assets never lowers the score, grade or
limit (the shipped bins rise with them); any pre-filter hit is grade C with no line; stars follow the bands;
the limit is a whole thousand within the cap."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.products import nongedai_default
from domain.rating.engine import rate
from domain.rating.model import STARS, ContributionModel, default_scorecard
from domain.rating.scoring import HouseholdFacts, contribution

CARD, CONTRIB, TERMS = default_scorecard(), ContributionModel(), nongedai_default()
RANK = {"C": 0, "B": 1, "A": 2, "AA": 3, "AAA": 4}
FLAGS = ("blacklisted", "currently_overdue", "bad_history", "court_dishonest")


def yuan(most: int) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=0, max_value=most * 100).map(lambda n: Decimal(n).scaleb(-2))


households = st.builds(
    HouseholdFacts, customer_id=st.just(1), age=st.integers(18, 65), annual_income=yuan(400_000),
    annual_expenses=yuan(100_000), total_assets=yuan(2_000_000), total_liabilities=yuan(500_000),
    business_years=st.integers(0, 40), house_owned=st.booleans(), credit_village=st.booleans(),
    avg_daily_assets=yuan(5_000_000), avg_loan_balance=yuan(500_000), settlement_txns=st.integers(0, 5000))


def outcome(facts: HouseholdFacts, guarantee_type: str = "credit"):
    return rate(facts, CARD, CONTRIB, TERMS, guarantee_type, [])


@settings(max_examples=300, deadline=None)
@given(households, yuan(300_000))
def test_more_income_never_lowers_score_grade_or_limit(facts, more):
    before, after = outcome(facts), outcome(facts.model_copy(update={"annual_income": facts.annual_income + more}))
    assert after.scored.score >= before.scored.score
    assert RANK[after.scored.grade] >= RANK[before.scored.grade]
    assert after.limit.limit >= before.limit.limit


@settings(max_examples=300, deadline=None)
@given(households, yuan(1_000_000))
def test_more_assets_never_lower_score_grade_or_limit(facts, more):
    before, after = outcome(facts), outcome(facts.model_copy(update={"total_assets": facts.total_assets + more}))
    assert after.scored.score >= before.scored.score
    assert RANK[after.scored.grade] >= RANK[before.scored.grade]
    assert after.limit.limit >= before.limit.limit


@settings(max_examples=200, deadline=None)
@given(households, st.sets(st.sampled_from(FLAGS), min_size=1), st.sampled_from(["credit", "guaranteed"]))
def test_any_prefilter_hit_is_grade_c_with_no_line(facts, flags, guarantee_type):
    hit = outcome(facts.model_copy(update=dict.fromkeys(flags, True)), guarantee_type)
    assert (hit.scored.grade, hit.scored.score, hit.scored.items, hit.limit.limit) == ("C", 0, [], Decimal(0))
    assert len(hit.scored.prefilter_hits) == len(flags) and hit.reason_codes() == hit.scored.prefilter_hits


@settings(max_examples=100, deadline=None)
@given(households, st.one_of(st.integers(0, 17), st.integers(66, 100)))
def test_age_outside_the_window_is_a_prefilter_hit(facts, age):
    out = outcome(facts.model_copy(update={"age": age}))
    assert out.scored.prefilter_hits == ["AGE_OUT_OF_RANGE"] and out.limit.limit == 0


@settings(max_examples=300, deadline=None)
@given(households, st.sampled_from(["credit", "guaranteed"]))
def test_limit_is_whole_thousands_within_the_cap_and_items_add_up(facts, guarantee_type):
    out = outcome(facts, guarantee_type)
    assert 0 <= out.limit.limit <= TERMS.cap_for(guarantee_type) and out.limit.limit % 1000 == 0
    if not out.scored.prefilter_hits:
        total = CARD.base_score + sum(i.points for i in out.scored.items) + CARD.contribution_points[out.scored.stars]
        assert out.scored.score == max(0, min(CARD.max_score, total))


@settings(max_examples=300, deadline=None)
@given(households, yuan(5_000_000))
def test_stars_follow_the_bands_and_rise_with_deposits(facts, more):
    points, stars = contribution(facts, CONTRIB)
    assert stars in STARS
    bands = [s for floor, s in CONTRIB.star_bands if points >= floor]
    assert stars == (bands[-1] if bands else 0)
    richer = facts.model_copy(update={"avg_daily_assets": facts.avg_daily_assets + more})
    assert contribution(richer, CONTRIB)[1] >= stars


def test_the_star_band_edges():
    def stars_at(points: int) -> int:
        return contribution(HouseholdFacts(customer_id=1, age=40, avg_daily_assets=Decimal(points * 1000)), CONTRIB)[1]

    assert [stars_at(p) for p in (0, 49, 50, 499, 500, 1999, 2000, 9999, 10000, 79999, 80000)] == \
        [0, 0, 3, 3, 4, 4, 5, 5, 6, 6, 7]
