"""Rating simulator: the real engines in their own transaction, after its latency, unless an outage is
injected; a retried request (same key) gets the same rating back, recorded once."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest
from sqlmodel import Session, func, select

from adapters.errors import AdapterUnavailable
from adapters.rating.simulator import RatingSimulator
from db.models import CustomerRating, RatingRecord
from domain.products import nongedai_default
from tests import factories

PRODUCT = nongedai_default()


@pytest.fixture
def customer(engine):
    factories.ensure_reference_data(engine)
    # 41 years old, net income 120,000, net assets 580,000, debt ratio 0.03, no archive: the customer's columns.
    return factories.customer(engine)


def rate(sim: RatingSimulator, customer_id: int, key: str | None = None, guarantee_type: str = "credit"):
    return sim.rate(customer_id=customer_id, product=PRODUCT, guarantee_type=guarantee_type,
                    request_key=key or uuid.uuid4().hex)


def records(engine, customer_id: int) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(RatingRecord).where(RatingRecord.customer_id == customer_id)).one()


def test_rates_with_the_engines_and_records_the_rating(engine, customer):
    outcome = rate(RatingSimulator(engine), customer.id)
    # 30 base + 8 age + 20 income + 16 net assets + 12 debt ratio = 86 -> AA; (174,000 + 120,000) x 0.8 = 235,200
    # over the 200,000 credit cap.
    assert (outcome.score, outcome.grade, outcome.stars, outcome.credit_limit) == (86, "AA", 0, Decimal("200000.00"))
    assert outcome.model_version == "NONG_E_DAI_CREDIT@v1" and outcome.contribution_version == "NONG_E_DAI_CONTRIBUTION@v1"
    assert [i.code for i in outcome.items][:3] == ["BASE", "AGE_PRIME", "NET_INCOME_HIGH"]
    assert sum(i.points for i in outcome.items) == 86
    assert outcome.limit_breakdown["capped"] is True and outcome.policy_tags == []
    with Session(engine) as s:
        row = s.get(RatingRecord, outcome.rating_record_id)
        current = s.get(CustomerRating, customer.id)
    assert row.source == "realtime" and row.inputs["annual_income"] == "120000.00" and "name" not in row.inputs
    assert (current.rating_record_id, current.grade) == (row.id, "AA")


def test_the_same_key_rates_once(engine, customer):
    sim = RatingSimulator(engine)
    first = rate(sim, customer.id, "review-1")
    again = rate(sim, customer.id, "review-1")
    assert again == first and records(engine, customer.id) == 1
    assert rate(sim, customer.id, "review-2").rating_record_id != first.rating_record_id


def test_injected_outages_are_used_up_then_it_answers(engine, customer):
    sim = RatingSimulator(engine)
    sim.inject_fault(times=2)
    for _ in range(2):
        with pytest.raises(AdapterUnavailable):
            rate(sim, customer.id)
    assert records(engine, customer.id) == 0  # a call that did not answer recorded nothing
    assert rate(sim, customer.id).grade == "AA"
    sim.inject_fault(times=5)
    sim.clear_faults()
    assert rate(sim, customer.id).grade == "AA"


def test_only_unavailable_faults_exist(engine):
    with pytest.raises(ValueError):
        RatingSimulator(engine).inject_fault(kind="timeout_after_commit")
    with pytest.raises(ValueError):
        RatingSimulator(engine).inject_fault(times=0)
    with pytest.raises(ValueError):
        RatingSimulator(engine, latency_s=-1)


def test_latency(engine, customer):
    started = time.perf_counter()
    rate(RatingSimulator(engine, latency_s=0.05), customer.id)
    assert time.perf_counter() - started >= 0.05
