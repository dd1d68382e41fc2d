"""Rating simulator: answers with the domain scorecard, after its latency, unless an outage is injected."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from adapters.errors import AdapterUnavailable
from adapters.rating.simulator import RatingSimulator
from domain import scorecard
from domain.scorecard import RatingFacts

FACTS = RatingFacts(age=40, customer_type="farmer", annual_income=Decimal("80000"),
                    total_assets=Decimal("300000"), total_liabilities=Decimal("50000"))


def test_rates_with_the_domain_scorecard() -> None:
    outcome = RatingSimulator().rate(facts=FACTS, limit_coefficient=Decimal("1.0"), cap=Decimal("200000"))
    assert outcome == scorecard.rate(FACTS, Decimal("1.0"), Decimal("200000"))
    # 30 base + 10 age + 18 income + 15 net assets + 15 debt ratio = 88 -> AA; (250000 x 0.3 + 80000) x 0.8.
    assert (outcome.score, outcome.grade, outcome.credit_limit) == (88, "AA", Decimal("124000.00"))


def test_injected_outages_are_used_up_then_it_answers() -> None:
    rating = RatingSimulator()
    rating.inject_fault(times=2)
    for _ in range(2):
        with pytest.raises(AdapterUnavailable):
            rating.rate(facts=FACTS, limit_coefficient=Decimal("1"), cap=Decimal("200000"))
    assert rating.rate(facts=FACTS, limit_coefficient=Decimal("1"), cap=Decimal("200000")).grade == "AA"
    rating.inject_fault(times=5)
    rating.clear_faults()
    assert rating.rate(facts=FACTS, limit_coefficient=Decimal("1"), cap=Decimal("200000")).grade == "AA"


def test_only_unavailable_faults_exist() -> None:
    with pytest.raises(ValueError):
        RatingSimulator().inject_fault(kind="timeout_after_commit")
    with pytest.raises(ValueError):
        RatingSimulator().inject_fault(times=0)


def test_latency() -> None:
    started = time.perf_counter()
    RatingSimulator(latency_s=0.05).rate(facts=FACTS, limit_coefficient=Decimal("1"), cap=Decimal("200000"))
    assert time.perf_counter() - started >= 0.05
