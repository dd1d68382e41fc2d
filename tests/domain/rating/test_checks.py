"""A model's shipped test cases: the defaults pass their own; a case that expects otherwise is reported with
its index, name, what it expected and what the model answered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.rating.checks import ContributionCase, ScorecardCase, check_contribution, check_scorecard
from domain.rating.model import ContributionModel, default_scorecard

SHIPPED = Path(__file__).resolve().parents[3] / "rules" / "NONG_E_DAI"


def cases(kind: str, case_type):
    return [case_type.model_validate(c) for c in json.loads((SHIPPED / f"{kind}.tests.json").read_text())]


def test_the_shipped_models_pass_their_cases():
    assert check_scorecard(default_scorecard(), cases("scorecard", ScorecardCase)) == []
    assert check_contribution(ContributionModel(), cases("contribution", ContributionCase)) == []


def test_a_changed_scorecard_fails_the_case_that_pins_it():
    card = default_scorecard()
    card.grade_bands[0].min_score = 99  # AAA now needs 99: the 98-point household is AA
    failures = check_scorecard(card, cases("scorecard", ScorecardCase))
    assert [(f.index, f.got["grade"]) for f in failures] == [(0, "AA")]
    assert failures[0].expected["grade"] == "AAA" and failures[0].name.startswith("AAA")


def test_a_missing_reason_code_fails():
    case = ScorecardCase.model_validate({"name": "c", "facts": {"age": 22}, "expect": {"grade": "C",
                                                                                       "reasons": ["NO_SUCH_REASON"]}})
    assert len(check_scorecard(default_scorecard(), [case])) == 1


def test_given_stars_outside_the_scale_fail():
    case = ScorecardCase.model_validate({"name": "c", "facts": {"age": 22}, "stars": 2, "expect": {"grade": "C"}})
    assert check_scorecard(default_scorecard(), [case])[0].expected == {"stars": [0, 3, 4, 5, 6, 7]}


def test_contribution_cases_compare_points_and_indicators():
    model = ContributionModel(asset_weight=2)  # points double: 740 is 4 stars
    failures = check_contribution(model, cases("contribution", ContributionCase))
    assert failures and failures[0].name.startswith("3 stars") and failures[0].got["stars"] == 4


def test_cases_refuse_unknown_fields():
    with pytest.raises(ValidationError):
        ScorecardCase.model_validate({"name": "c", "facts": {"age": 22}, "expect": {"grade": "C", "colour": "red"}})


def test_a_scorecard_lists_each_prefilter_once():
    """The batch scorer keeps the hits in one byte, one bit per listed pre-filter: a repeated entry is refused."""
    content = default_scorecard().model_dump(mode="json")
    content["prefilters"] = ["BLACKLIST"] + ["AGE_OUT_OF_RANGE"] * 8
    with pytest.raises(ValidationError, match="each pre-filter may be listed once"):
        type(default_scorecard()).model_validate(content)


@pytest.mark.parametrize(("change", "field"), [
    (lambda c: c["features"][0].update(bins=c["features"][0]["bins"] + [
        {"lower": str(100 + i), "points": 1, "reason": f"R{i}"} for i in range(62)]), "features.0.bins"),
    (lambda c: c["features"][0]["bins"][0].update(points=10_001), "features.0.bins.0.points"),
    (lambda c: c.update(base_score=-10_001), "base_score"),
    (lambda c: c.update(max_score=0), "max_score"),
    (lambda c: c.update(min_age=-1), "min_age"),
    (lambda c: c.update(max_age=151), "max_age"),
])
def test_a_scorecard_stays_within_the_limits_the_batch_scorer_counts_on(change, field):
    """At most 64 bins a feature (a bin index is a byte), points and scores within +-10,000, ages 0-150."""
    content = default_scorecard().model_dump(mode="json")
    change(content)
    with pytest.raises(ValidationError) as refused:
        type(default_scorecard()).model_validate(content)
    assert field in {".".join(str(p) for p in e["loc"]) for e in refused.value.errors()}


def test_contribution_points_stay_within_the_limit():
    content = default_scorecard().model_dump(mode="json")
    content["contribution_points"]["7"] = 10_001
    with pytest.raises(ValidationError, match="contribution points lie between"):
        type(default_scorecard()).model_validate(content)
