"""The set-based scorer (domain/rating/vector.py) against the reference scorer (domain/rating/scoring.py):
same score, grade, stars, contribution points, pre-filter hits and reasons for every household, on the
default scorecard and on random ones, with values drawn on and around every bin bound."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.identity import age_on
from domain.rating.model import (
    STARS,
    Bin,
    ContributionModel,
    CreditScorecard,
    GradeBand,
    ScoredFeature,
    default_scorecard,
)
from domain.rating.scoring import HouseholdFacts, score
from domain.rating.vector import (
    GRADES,
    ScoredArrays,
    ages_on,
    arrays_from_facts,
    distinct_codes,
    reason_codes,
    reason_lists,
    reasons_of,
    score_arrays,
)

D = Decimal
FEN = D("0.01")
CARD = default_scorecard()


def near(*bounds: str | int, step: D = FEN, lo: D = D(-10**7), hi: D = D(10**9)) -> st.SearchStrategy[D]:
    """Bounds themselves and one step either side, or anything in [lo, hi] in whole steps."""
    around = [D(str(b)) + k * step for b in bounds for k in (-1, 0, 1)]
    anywhere = st.integers(int(lo / step), int(hi / step)).map(lambda i: i * step)
    return st.one_of(st.sampled_from(around), anywhere)


@st.composite
def households(draw: st.DrawFn, customer_id: int = 1) -> HouseholdFacts:
    assets = draw(near(0, 50_000, 200_000, 500_000, lo=D(0)))
    # liabilities on and around every debt-ratio bound of this asset figure, or anything
    on_ratio = [(assets * D(r)).quantize(FEN) + k * FEN for r in ("0.3", "0.6", "1") for k in (-1, 0, 1)]
    liabilities = draw(st.one_of(st.sampled_from([x for x in on_ratio if x >= 0] or [D(0)]),
                                 near(0, 50_000, lo=D(0))))
    income = draw(near(30_000, 60_000, 120_000, lo=D(0)))
    expenses = draw(st.one_of(st.just(D(0)), near(0, 30_000, lo=D(0), hi=D(10**6)),
                              st.sampled_from([income - D(b) + k * FEN for b in (30_000, 60_000, 120_000)
                                               for k in (-1, 0, 1)])).filter(lambda x: x >= 0))
    return HouseholdFacts(
        customer_id=customer_id, age=draw(st.integers(10, 90)),
        annual_income=income, annual_expenses=expenses, total_assets=assets, total_liabilities=liabilities,
        acreage_mu=draw(near(0, 1, 10, lo=D(0), hi=D(10_000))), livestock_heads=draw(st.integers(0, 5000)),
        business_years=draw(st.integers(0, 60)), labour_count=draw(st.integers(0, 9)),
        house_owned=draw(st.booleans()), credit_village=draw(st.booleans()),
        blacklisted=draw(st.booleans().filter(lambda _: True)) and draw(st.integers(0, 9)) == 0,
        currently_overdue=draw(st.integers(0, 19)) == 0, bad_history=draw(st.integers(0, 19)) == 0,
        court_dishonest=draw(st.integers(0, 19)) == 0,
        avg_daily_assets=draw(near(50_000, 500_000, 2_000_000, 10_000_000, 80_000_000, lo=D(0), hi=D(10**9))),
        avg_loan_balance=draw(near(0, 100_000, lo=D(0), hi=D(10**8))),
        settlement_txns=draw(st.one_of(st.integers(0, 400_000), st.sampled_from([0, 249, 250, 251, 2500])))
    )


@st.composite
def scorecards(draw: st.DrawFn) -> CreditScorecard:
    """A random valid card: some features, bounds with 0 to 6 decimals (debt ratio as fractions)."""
    features = []
    names = draw(st.lists(st.sampled_from(["age", "net_income", "net_assets", "debt_ratio", "acreage_mu",
                                           "livestock_heads", "business_years", "labour_count", "house_owned",
                                           "credit_village"]), min_size=1, max_size=10, unique=True))
    for name in names:
        places = draw(st.integers(0, 6))
        span = 2 if name == "debt_ratio" else 10**6
        # up to 9 bounds: the compiled pass takes them four at a time, so some features need three passes
        raw = draw(st.lists(st.integers(-span * 10**places, span * 10**places), max_size=9, unique=True))
        lowers = sorted(D(r).scaleb(-places) for r in raw)
        bins = [Bin(lower=None, points=draw(st.integers(-10, 30)), reason=f"{name}_0")]
        bins += [Bin(lower=lo, points=draw(st.integers(-10, 30)), reason=f"{name}_{i + 1}") for i, lo in enumerate(lowers)]
        features.append(ScoredFeature(feature=name, bins=bins))
    bands = sorted(draw(st.lists(st.integers(0, 120), min_size=1, max_size=4, unique=True)), reverse=True)
    return CreditScorecard(base_score=draw(st.integers(-20, 60)), max_score=draw(st.integers(50, 150)),
                           min_age=draw(st.integers(16, 30)), max_age=draw(st.integers(50, 75)),
                           prefilters=draw(st.lists(st.sampled_from(["BLACKLIST", "CURRENT_OVERDUE", "BAD_HISTORY",
                                                                     "COURT_DISHONEST", "AGE_OUT_OF_RANGE"]),
                                                    unique=True)),
                           features=features, contribution_points={s: draw(st.integers(0, 10)) for s in STARS},
                           grade_bands=[GradeBand(min_score=m, grade=g) for m, g in zip(bands, GRADES, strict=False)])


@st.composite
def star_bands(draw: st.DrawFn) -> list[tuple[D, int]]:
    """One to five bands; floors with up to 7 decimals, so two can round up to the same integer floor."""
    stars = sorted(draw(st.lists(st.sampled_from(STARS[1:]), min_size=1, max_size=5, unique=True)))
    floors = sorted(draw(st.lists(st.sampled_from([D(50), D("50.0000001"), D("50.0000002"), D(500), D("1999.99"), D(2000), D(10_000),
                                                   D("80000.5"), D(80_000)]),
                                  min_size=len(stars), max_size=len(stars), unique=True)))
    return list(zip(floors, stars, strict=True))


contribution_models = st.builds(
    ContributionModel,
    asset_weight=st.sampled_from([D("1"), D("0.5"), D("1.25"), D("0.003")]),
    loan_weight=st.sampled_from([D("0.5"), D("0"), D("2"), D("0.125")]),
    settlement_weight=st.sampled_from([D("0.2"), D("0.05"), D("1")]),
    star_bands=st.one_of(st.just(ContributionModel().star_bands), star_bands()))


def assert_same(batch: list[HouseholdFacts], card: CreditScorecard, contrib: ContributionModel) -> None:
    # Both scorers: the compiled pass (taken for every household drawn here: their products fit in int64)
    # and the numpy one it falls back to.
    for compiled in (True, False):
        scored = score_arrays(arrays_from_facts(batch), card, contrib, compiled=compiled)
        assert scored.compiled is compiled
        assert_scored_as_reference(scored, batch, card, contrib)


def assert_scored_as_reference(scored: ScoredArrays, batch: list[HouseholdFacts], card: CreditScorecard,
                               contrib: ContributionModel) -> None:
    codes = reason_codes(scored, card)
    present = distinct_codes(codes)
    lists = dict(zip(present.tolist(), reason_lists(present, card), strict=True))
    for row, facts in enumerate(batch):
        ref = score(facts, card, contrib)
        got = {"score": int(scored.score[row]), "grade": GRADES[scored.grade[row]], "stars": int(scored.stars[row]),
               "points": D(int(scored.contribution_cents[row])).scaleb(-2),
               "hits": [c for c, h in zip(card.prefilters, scored.hit_columns, strict=True) if h[row]]}
        want = {"score": ref.score, "grade": ref.grade, "stars": ref.stars, "points": ref.contribution_points,
                "hits": ref.prefilter_hits}
        assert got == want, facts
        reasons = ref.prefilter_hits or [i.reason for i in ref.items]
        assert reasons_of(scored, card, row) == reasons
        assert lists[int(codes[row])] == reasons


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(households(), min_size=1, max_size=40))
def test_the_default_card_scores_every_household_as_the_reference_does(batch):
    assert_same(batch, CARD, ContributionModel())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scorecards(), contribution_models, st.lists(households(), min_size=1, max_size=20))
def test_random_cards_and_contribution_models_score_as_the_reference_does(card, contrib, batch):
    assert_same(batch, card, contrib)


# Six bounds per feature: the compiled pass compares them in two groups of four, so every slot of a group
# is checked with a value on its bound and one step below.
BOUNDS = {"age": [20, 30, 40, 50, 60, 70], "net_income": ["-0.01", "0", "100.10", "3000", "45000.55", "90000"],
          "net_assets": ["-5000", "0", "0.01", "20000", "80000.80", "300000"],
          "debt_ratio": ["0.1", "0.25", "0.5", "0.75", "1", "1.5"],
          "acreage_mu": ["0.5", "1", "2.25", "5", "10", "50"], "livestock_heads": [1, 5, 10, 50, 100, 500],
          "business_years": [1, 2, 3, 5, 10, 20], "labour_count": [1, 2, 3, 4, 5, 6]}


def on_and_below(feature: str, bound: D) -> list[HouseholdFacts]:
    """Households whose `feature` is exactly `bound` and one step below it (a fen, a year, 1/100 mu)."""
    base = HouseholdFacts(customer_id=1, age=40, total_assets=D("1000000.00"))
    if feature == "debt_ratio":  # liabilities over the assets above
        return [base.model_copy(update={"total_liabilities": v}) for v in (D("1000000.00") * bound,
                                                                             D("1000000.00") * bound - FEN)]
    if feature in ("net_income", "net_assets"):
        plus, minus = ("annual_income", "annual_expenses") if feature == "net_income" else \
            ("total_assets", "total_liabilities")
        return [base.model_copy(update={plus: D(10**6) + v, minus: D(10**6)}) for v in (bound, bound - FEN)]
    step = FEN if feature == "acreage_mu" else 1
    cast = D if feature == "acreage_mu" else int
    return [base.model_copy(update={feature: cast(v)}) for v in (bound, bound - step)]


def test_values_on_and_just_below_every_bound_score_as_the_reference_does():
    for feature, bounds in BOUNDS.items():
        card = CARD.model_copy(update={"features": [ScoredFeature(feature=feature, bins=[
            Bin(lower=None if lo is None else D(str(lo)), points=i, reason=f"B{i}")
            for i, lo in enumerate([None, *bounds])])], "prefilters": []})
        batch = [h for lo in bounds for h in on_and_below(feature, D(str(lo)))]
        assert_same(batch, card, ContributionModel())


@pytest.mark.parametrize("bands", [1, 2, 3, 4, 5])
def test_every_number_of_star_bands_gives_the_reference_stars(bands):
    contrib = ContributionModel(star_bands=ContributionModel().star_bands[:bands])
    # average daily assets on each band's floor and a fen below it (points = assets / 1,000)
    batch = [HouseholdFacts(customer_id=1, age=40, avg_daily_assets=floor * 1000 + k * FEN)
             for floor, _ in ContributionModel().star_bands for k in (-1, 0)]
    assert_same(batch, CARD, contrib)


def test_debt_ratio_bounds_are_compared_exactly_not_in_floats():
    # 0.3 x 1,000,000.10 = 300,000.03: in floats 300000.03 / 1000000.1 < 0.3 at least on some platforms; exact is equal
    on = HouseholdFacts(customer_id=1, age=40, total_assets=D("1000000.10"), total_liabilities=D("300000.03"))
    below = on.model_copy(update={"total_liabilities": D("300000.02")})
    empty = on.model_copy(update={"total_assets": D(0), "total_liabilities": D(0)})
    debt = [f.feature for f in CARD.features].index("debt_ratio")
    for compiled in (True, False):
        scored = score_arrays(arrays_from_facts([on, below, empty]), CARD, ContributionModel(), compiled=compiled)
        assert scored.bin_columns[debt].tolist() == [1, 0, 2]  # DEBT_MID, DEBT_LOW, no assets = ratio 1 = DEBT_HIGH
    assert [score(f, CARD, ContributionModel()).items[3].reason for f in (on, below, empty)] == \
        ["DEBT_MID", "DEBT_LOW", "DEBT_HIGH"]


def test_contribution_too_large_for_int64_is_scored_on_python_integers():
    # 0.003 x 1000 scales the settlement weight to 200 x 100,000 per transaction: 10^13 of them overflow int64
    contrib = ContributionModel(asset_weight=D("0.003"), settlement_weight=D("0.2"))
    busy = HouseholdFacts(customer_id=1, age=40, settlement_txns=10**13)
    scored = score_arrays(arrays_from_facts([busy]), CARD, contrib)
    assert not scored.compiled
    assert int(scored.stars[0]) == score(busy, CARD, contrib).stars == 7


def test_a_net_income_beyond_int64_is_scored_on_python_integers():
    # 2^62 fen of income less -2^62 fen of expenses is 2^63 fen: one more than int64 holds
    wide = HouseholdFacts(customer_id=1, age=40, annual_income=D(2**62) / 100, annual_expenses=-D(2**62) / 100)
    for compiled in (True, False):
        scored = score_arrays(arrays_from_facts([wide]), CARD, ContributionModel(), compiled=compiled)
        assert not scored.compiled
        assert_scored_as_reference(scored, [wide], CARD, ContributionModel())


def test_bounds_no_value_or_every_value_reaches_score_as_the_reference_does():
    """Thresholds beyond int64 (in fen: bounds of 10^17 yuan and more) are never or always reached."""
    card = CARD.model_copy(update={"features": [ScoredFeature(feature="net_assets", bins=[
        Bin(lower=None, points=1, reason="N0"), Bin(lower=D("-1E+20"), points=2, reason="N1"),
        Bin(lower=D(0), points=3, reason="N2"), Bin(lower=D("1E+20"), points=4, reason="N3")])]})
    batch = [HouseholdFacts(customer_id=1, age=40, total_assets=D(a)) for a in ("0", "5", "90000000000000")]
    assert_same(batch, card, ContributionModel())


def test_amounts_too_large_for_int64_products_still_compare_exactly():
    huge = HouseholdFacts(customer_id=1, age=40, total_assets=D("90000000000000.00"),
                          total_liabilities=D("27000000000000.00"), avg_daily_assets=D("90000000000000.00"))
    card = CARD.model_copy(deep=True)
    card.features[3].bins[1].lower = D("0.300000001")  # den 10^9: 9e15 fen x 1e9 overflows int64
    scored = score_arrays(arrays_from_facts([huge]), card, ContributionModel())
    assert not scored.compiled  # the compiled pass would overflow: the numpy path compares on Python integers
    assert scored.bin_columns[3][0] == 0 and np.issubdtype(scored.score.dtype, np.integer)
    assert int(scored.score[0]) == score(huge, card, ContributionModel()).score


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)), min_size=1, max_size=50),
       st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)))
def test_ages_are_counted_as_domain_identity_counts_them(births, as_of):
    # leap-day births and birthdays on the rating date are in the range hypothesis draws from
    got = ages_on(np.array(births, dtype="datetime64[D]"), as_of)
    assert got.tolist() == [age_on(b, as_of) for b in births]


def test_a_leap_day_birth_turns_a_year_older_on_the_first_of_march_in_common_years():
    births = np.array([date(2000, 2, 29)] * 3, dtype="datetime64[D]")
    assert [int(ages_on(births[:1], d)[0]) for d in (date(2025, 2, 28), date(2025, 3, 1), date(2028, 2, 29))] == \
        [24, 25, 28]


def test_without_the_compiled_pass_chunks_are_scored_by_numpy_with_a_warning(monkeypatch):
    """numba missing, or no writable place for its cache: the batch goes on, slower."""
    import sys

    import domain.rating
    from domain.rating import vector

    monkeypatch.setitem(sys.modules, "domain.rating.vector_kernel", None)  # the import fails
    monkeypatch.delattr(domain.rating, "vector_kernel", raising=False)
    with pytest.warns(RuntimeWarning, match="compiled batch scorer is unavailable"):
        assert vector._kernel.__wrapped__() is None
    monkeypatch.setattr(vector, "_kernel", lambda: None)
    batch = [HouseholdFacts(customer_id=1, age=40, annual_income=D(90_000), total_assets=D(300_000))]
    scored = score_arrays(arrays_from_facts(batch), CARD, ContributionModel())
    assert not scored.compiled
    assert_scored_as_reference(scored, batch, CARD, ContributionModel())
