"""The rating service on both databases: the models in force come from the database once a version is
activated (what the quarterly batch reads too), the archive hook rates in the caller's transaction, and a
rating never carries personal data."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from db.models import Customer, CustomerRating, Household, RatingRecord, Village
from db.repositories import rating_models as model_store
from domain.rating.model import default_scorecard
from services import rating_models, ratings
from services.principal import Principal
from services.schemas.ratings import RatingModelIn
from tests import factories

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OPS, ADMIN = Principal("staff", 1, "ops", "350322000"), Principal("staff", 2, "admin", "350322000")


def farmer(engine) -> Customer:
    factories.ensure_reference_data(engine)
    return factories.customer(engine, income="60000", assets="100000", liabilities="0")


def test_an_activated_version_is_what_the_next_rating_and_the_batch_use(own_engine):
    customer = farmer(own_engine)
    with Session(own_engine, expire_on_commit=False) as s:
        card, contrib = rating_models.active_models(s)
        assert (card, contrib.version) == (default_scorecard(), 1)  # nothing installed: the shipped defaults
        first, _ = ratings.rate_customer(s, customer.id, now=NOW)
        s.commit()
        assert (first.model_version, first.grade, first.score) == ("NONG_E_DAI_CREDIT@v1", "A", 70)

        content = default_scorecard().model_dump(mode="json")
        content["base_score"] = 40  # ten points more for everyone; the pinned scores move with it
        tests = copy.deepcopy(model_store.shipped()[0][2])
        for case in tests:
            expect = case["expect"]
            if expect.get("score"):
                expect["score"] = min(100, expect["score"] + 10)
            expect["grade"] = {"AA": "AAA", "B": "A"}.get(expect["grade"], expect["grade"])
        draft = rating_models.upload(s, OPS, RatingModelIn(kind="scorecard", content=content, tests=tests))
        assert rating_models.active_models(s)[0].version == 1  # a draft changes nothing
        rating_models.activate(s, ADMIN, draft.id)
        card, _ = rating_models.active_models(s)
        assert (card.version, card.base_score) == (2, 40)
        second, outcome = ratings.rate_customer(s, customer.id, now=NOW)
        s.commit()
        assert (second.model_version, second.grade, second.score) == ("NONG_E_DAI_CREDIT@v2", "AA", 80)
        assert outcome.model_version == "NONG_E_DAI_CREDIT@v2"
        assert [(m.version, m.status) for m in model_store.listing(s, kind="scorecard", code=None, limit=9, offset=0)] \
            == [(2, "active"), (1, "retired")]


def archive(s: Session, customer: Customer) -> None:
    if s.get(Village, "350322101299") is None:
        s.add(Village(code="350322101299", name="测试村", branch_code=factories.BRANCH, credit_village=True))
        s.flush()
    s.add(Household(customer_id=customer.id, village_code="350322101299", branch_code=factories.BRANCH,
                    status="archived", annual_income=Decimal("90000"), annual_expenses=Decimal("10000"),
                    total_assets=Decimal("300000"), total_liabilities=Decimal("30000"), house_owned=True,
                    business_years=6, created_at=NOW, updated_at=NOW, archived_at=NOW))
    s.flush()


def test_the_archive_hook_rates_in_the_callers_transaction(own_engine):
    customer = farmer(own_engine)
    with Session(own_engine, expire_on_commit=False) as s:
        archive(s, customer)
        ratings.on_archived(s, customer.id)
        s.rollback()  # the archive's submission failed: no rating stays behind either
    with Session(own_engine, expire_on_commit=False) as s:
        assert s.exec(select(RatingRecord).where(RatingRecord.customer_id == customer.id)).first() is None
        archive(s, customer)
        row = ratings.on_archived(s, customer.id)
        s.commit()
        current = s.get(CustomerRating, customer.id)
        assert (current.rating_record_id, current.source) == (row.id, "realtime")
        # 30 + 8 age + 14 net income 80,000 + 12 net assets 270,000 + 12 debt 0.1 + 4 six years + 3 house + 3 village
        assert (row.score, row.grade, row.detail["archived_household"], row.detail["policy_tags"]) == \
            (86, "AA", True, ["credit_village"])
        assert row.inputs["annual_expenses"] == "10000.00" and row.inputs["credit_village"] is True
        personal = {customer.name, customer.resident_id, customer.mobile}
        assert not personal & {str(v) for v in row.inputs.values()} and "name" not in row.inputs


def test_the_age_is_taken_on_the_rating_date(own_engine):
    customer = farmer(own_engine)  # born 1985-06-15
    with Session(own_engine, expire_on_commit=False) as s:
        senior, _ = ratings.rate_customer(s, customer.id, as_of=date(2050, 6, 15), now=NOW)
        too_old, _ = ratings.rate_customer(s, customer.id, as_of=date(2051, 6, 15), now=NOW)
        s.commit()
    # 65: 30 + 4 senior + 14 income + 6 net assets + 12 debt = 66 (B); 66 is outside the 18..65 window.
    assert (senior.inputs["age"], senior.score, senior.grade) == (65, 66, "B")
    assert (too_old.inputs["age"], too_old.grade, too_old.reasons, too_old.credit_limit) == \
        (66, "C", ["AGE_OUT_OF_RANGE", "NO_CONTRIBUTION_FACTS"], Decimal("0.00"))


def test_a_rating_without_contribution_facts_says_so_and_one_with_them_does_not(own_engine):
    from db.models import ContributionFacts
    customer = farmer(own_engine)
    with Session(own_engine, expire_on_commit=False) as s:
        without, _ = ratings.rate_customer(s, customer.id, now=NOW)
        s.commit()
        explained = ratings.explain(s, OPS, without.id)
        s.add(ContributionFacts(customer_id=customer.id, as_of=date(2026, 10, 31), avg_daily_assets=Decimal("600000")))
        s.commit()
        with_facts, _ = ratings.rate_customer(s, customer.id, now=NOW)
        s.commit()
        explained_with = ratings.explain(s, OPS, with_facts.id)
    assert (without.stars, without.reasons[-1], without.detail["contribution_facts"]) == \
        (0, "NO_CONTRIBUTION_FACTS", False)
    assert "数仓尚无该客户的贡献度数据" in explained.summary_zh and "no contribution figures" in explained.summary_en
    # 600,000 average daily assets: 600 points, 4 stars
    assert (with_facts.stars, with_facts.detail["contribution_facts"]) == (4, True)
    assert "NO_CONTRIBUTION_FACTS" not in with_facts.reasons and "数仓" not in explained_with.summary_zh


def test_two_first_ratings_at_once_leave_one_current_rating(engine):
    """PostgreSQL: the second insert waits for the first transaction, then updates its row instead."""
    import threading
    import time

    customer = farmer(engine)
    first = Session(engine, expire_on_commit=False)
    row_a, _ = ratings.rate_customer(first, customer.id, now=NOW)  # inserted, not committed
    done: dict[str, RatingRecord] = {}

    def second() -> None:
        with Session(engine, expire_on_commit=False) as s:
            done["b"], _ = ratings.rate_customer(s, customer.id, now=NOW)
            s.commit()

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)  # the second is now waiting on the first's uncommitted row
    first.commit()
    first.close()
    thread.join(timeout=30)
    with Session(engine) as s:
        current = s.get(CustomerRating, customer.id)
    assert current.rating_record_id == done["b"].id != row_a.id


def test_an_override_approved_on_a_batch_rating_holds_in_the_next_real_time_rating(own_engine):
    """A batch record keeps no detail and its own snapshot shape; the override must still be in force while
    the facts and models are the ones it was approved on, and lapse when the facts change."""
    from db import rating_batch
    from db.models import ContributionFacts
    from domain.rating.model import ContributionModel
    from services.schemas.ratings import OverrideDecisionIn, OverrideIn

    as_of = date(2026, 11, 30)
    customer = farmer(own_engine)
    with Session(own_engine, expire_on_commit=False) as s:
        archive(s, customer)
        s.add(ContributionFacts(customer_id=customer.id, as_of=as_of, avg_daily_assets=Decimal("20000"),
                                settlement_txns=10, months_as_customer=30, products_held=2))
        s.commit()
    plan = rating_batch.plan(own_engine, run_key="override/1", quarter="2026Q4", as_of=as_of,
                             card=default_scorecard(), contrib=ContributionModel(), chunk_size=10)
    for n in range(plan.chunks_total):
        rating_batch.rate_chunk(own_engine, plan.run_id, n)
    rating_batch.finish(own_engine, plan.run_id)
    manager = Principal("staff", 3, "customer_manager", factories.BRANCH)
    approver = Principal("staff", 4, "approver", factories.BRANCH)
    with Session(own_engine, expire_on_commit=False) as s:
        current = s.get(CustomerRating, customer.id)
        assert (current.source, current.grade) == ("batch", "AA")
        asked = ratings.request_override(s, manager, customer.id, OverrideIn(to_grade="AAA", reason="村委担保,信用良好"))
        ratings.decide_override(s, approver, asked.id, OverrideDecisionIn(decision="approve"))
        _, outcome = ratings.rate_customer(s, customer.id, as_of=as_of, now=NOW)
        s.commit()
    assert outcome.grade == "AAA" and "MANUAL_OVERRIDE" in outcome.reasons
    with Session(own_engine, expire_on_commit=False) as s:
        s.exec(select(Household).where(Household.customer_id == customer.id)).one().annual_income = Decimal("20000")
        s.commit()
        _, lapsed = ratings.rate_customer(s, customer.id, as_of=as_of, now=NOW)
        s.commit()
    assert lapsed.grade != "AAA" and "MANUAL_OVERRIDE" not in lapsed.reasons


def test_a_batch_rating_is_explained_item_by_item_from_its_snapshot_and_the_runs_models(own_engine):
    """A batch record stores reason codes and the input snapshot only: the explanation scores the snapshot
    again with the run's models, so its lines add up to the stored score, and it says the batch sets no limit."""
    from db import rating_batch
    from db.models import ContributionFacts
    from domain.rating.model import ContributionModel

    as_of = date(2026, 11, 30)
    customer = farmer(own_engine)
    card = default_scorecard().model_copy(update={"base_score": 25})  # the run's own model, not the one in force
    with Session(own_engine, expire_on_commit=False) as s:
        archive(s, customer)
        s.add(ContributionFacts(customer_id=customer.id, as_of=as_of, avg_daily_assets=Decimal("2500000"),
                                settlement_txns=10, months_as_customer=30, products_held=2))
        s.commit()
    plan = rating_batch.plan(own_engine, run_key="explain/1", quarter="2026Q4", as_of=as_of, card=card,
                             contrib=ContributionModel(), chunk_size=10)
    for n in range(plan.chunks_total):
        rating_batch.rate_chunk(own_engine, plan.run_id, n)
    with Session(own_engine, expire_on_commit=False) as s:
        record = s.exec(select(RatingRecord).where(RatingRecord.batch_run_id == plan.run_id)).one()
        explained = ratings.explain(s, ADMIN, record.id)
    assert explained.items and [i.code for i in explained.items] == record.reasons
    assert explained.contribution is not None and record.stars == 5
    assert explained.contribution.zh.startswith("贡献度积分 ") and f"{record.stars}星" in explained.contribution.zh
    assert 25 + sum(i.points for i in explained.items) + explained.contribution.points == record.score
    assert explained.summary_zh.startswith(f"季度批量评级(模型 NONG_E_DAI_CREDIT@v1):{record.score} 分")
    assert "不测算额度" in explained.summary_zh and "0.00" not in explained.summary_zh
    assert "grades only" in explained.summary_en and explained.limit == []
