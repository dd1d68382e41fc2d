"""db/rating_batch.py on PostgreSQL and SQLite: every archived household rated once, as the reference scorer
rates its stored input snapshot; drafts skipped; bad rows reported with every reason; the migration report;
a chunk rated again does nothing."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, select

from db import rating_batch
from db.models import CustomerRating, RatingBatchChunk, RatingBatchFailure, RatingRecord
from domain.rating.model import ContributionModel, default_scorecard
from domain.rating.scoring import HouseholdFacts, score
from tests.rating_households import AS_OF, archive, household, villages

CARD, CONTRIB = default_scorecard(), ContributionModel()


def run_all(engine, chunk_size: int = 3) -> int:
    plan = rating_batch.plan(engine, run_key="test/1", quarter="2026Q4", as_of=AS_OF, card=CARD, contrib=CONTRIB,
                             chunk_size=chunk_size)
    assert plan.chunks_done == []
    outcomes = [rating_batch.rate_chunk(engine, plan.run_id, n) for n in range(plan.chunks_total)]
    assert not any(o.already_done for o in outcomes)
    again = rating_batch.rate_chunk(engine, plan.run_id, 1)
    assert again.already_done and again.rated == outcomes[1].rated
    assert rating_batch.plan(engine, run_key="test/1", quarter="2026Q4", as_of=AS_OF, card=CARD, contrib=CONTRIB,
                             chunk_size=chunk_size).chunks_done == list(range(plan.chunks_total))
    run = rating_batch.finish(engine, plan.run_id)
    assert (run.status, run.households_rated, run.households_failed) == ("completed", 6, 4)
    return plan.run_id


def test_every_archived_household_is_rated_once_as_the_reference_rates_its_snapshot(own_engine):
    engine = own_engine
    h = archive(engine)
    run_id = run_all(engine)
    with Session(engine) as s:
        records = s.exec(select(RatingRecord).where(RatingRecord.source == "batch")).all()
        current = {r.customer_id: r for r in s.exec(select(CustomerRating)).all()}
    by_customer = {r.customer_id: r for r in records}
    assert len(records) == len(by_customer) == 6
    rated = {k: h[k].customer_id for k in ("new", "up", "down", "same", "black", "old")}
    assert set(by_customer) == set(rated.values())
    for record in records:
        facts = HouseholdFacts.model_validate(record.inputs)
        ref = score(facts, CARD, CONTRIB)
        assert (record.score, record.grade, record.stars) == (ref.score, ref.grade, ref.stars)
        assert record.reasons == (ref.prefilter_hits or [i.reason for i in ref.items])
        assert (record.batch_run_id, record.model_version) == (run_id, "NONG_E_DAI_CREDIT@v1")
        assert current[record.customer_id].rating_record_id == record.id
        assert current[record.customer_id].source == "batch"
    grades = {k: by_customer[c].grade for k, c in rated.items()}
    assert grades == {"new": "AA", "up": "AAA", "down": "A", "same": "AA", "black": "C", "old": "C"}
    assert by_customer[rated["new"]].score == 84 and by_customer[rated["new"]].stars == 3
    assert by_customer[rated["black"]].reasons == ["BLACKLIST"]
    assert by_customer[rated["old"]].reasons == ["AGE_OUT_OF_RANGE"]
    assert by_customer[rated["new"]].inputs["annual_income"] in ("90000.00", "90000")
    # the draft keeps its rating, untouched
    assert current[h["draft"].customer_id].grade == "B" and current[h["draft"].customer_id].source == "realtime"


def test_bad_rows_are_reported_with_every_reason_and_the_migrations_counted(own_engine):
    engine = own_engine
    h = archive(engine)
    run_id = run_all(engine)
    with Session(engine) as s:
        failures = {f.household_id: f for f in rating_batch.failures(s, run_id, limit=50, offset=0)}
        migrations = rating_batch.migrations_of(s, run_id)
        chunks = s.exec(select(RatingBatchChunk).where(RatingBatchChunk.run_id == run_id)).all()
    codes = {k: sorted((r["code"], r["field"]) for r in failures[h[k].id].reasons)
             for k in ("negative", "future", "no_facts", "labour")}
    assert codes == {"negative": [("NEGATIVE_VALUE", "annual_income")],
                     "future": [("BIRTH_DATE_IN_FUTURE", "birth_date")],
                     "no_facts": [("MISSING_CONTRIBUTION_FACTS", "contribution_facts")],
                     "labour": [("LABOUR_EXCEEDS_MEMBERS", "labour_count"), ("NEGATIVE_VALUE", "acreage_mu")]}
    assert len(failures) == 4 and all(r["zh"] and r["en"] for f in failures.values() for r in f.reasons)
    assert sum(c.rated for c in chunks) == 6 and sum(c.failed for c in chunks) == 4
    assert {(m.from_grade, m.to_grade, m.prefiltered): m.households for m in migrations} == {
        (None, "AA", False): 1, ("A", "AAA", False): 1, ("AA", "A", False): 1, ("AA", "AA", False): 1,
        ("AA", "C", True): 1, (None, "C", True): 1}
    summary = rating_batch.summarise(migrations)
    assert summary.model_dump() == {"upgrades": 1, "downgrades": 1, "unchanged": 1, "new": 1, "prefiltered": 2,
                                     "overrides_kept": 0}


def test_on_sqlite_a_money_field_that_is_not_a_number_is_reported_not_guessed(own_engine):
    engine = own_engine
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's NUMERIC column cannot hold one
    villages(engine)
    good = household(engine)
    bad = household(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE household SET annual_income = '12,000' WHERE id = :id"), {"id": bad.id})
    plan = rating_batch.plan(engine, run_key="t/nan", quarter="2026Q4", as_of=AS_OF, card=CARD, contrib=CONTRIB,
                             chunk_size=100)
    outcome = rating_batch.rate_chunk(engine, plan.run_id, 0)
    assert (outcome.rated, outcome.failed) == (1, 1)
    with Session(engine) as s:
        failure = s.exec(select(RatingBatchFailure)).one()
        assert failure.household_id == bad.id
        assert [(r["code"], r["field"]) for r in failure.reasons] == [("NOT_A_NUMBER", "annual_income")]
        assert s.exec(select(RatingRecord.customer_id)).all() == [good.customer_id]


def test_a_manual_override_stays_in_force_and_is_counted_apart(own_engine):
    engine = own_engine
    h = archive(engine)
    customer_id = h["down"].customer_id
    with Session(engine) as s:
        before = s.get(CustomerRating, customer_id)
        before.source, before.grade = "override", "AAA"
        s.add(before)
        s.commit()
        s.refresh(before)
        kept = before.model_dump()
    run_id = run_all(engine)
    with Session(engine) as s:
        assert s.get(CustomerRating, customer_id).model_dump() == kept
        batch = s.exec(select(RatingRecord).where(RatingRecord.customer_id == customer_id,
                                                  RatingRecord.batch_run_id == run_id)).one()
        migrations = rating_batch.migrations_of(s, run_id)
    assert batch.grade == "A"  # recorded all the same
    assert [(m.from_grade, m.to_grade, m.households) for m in migrations if m.override_kept] == [("AAA", "A", 1)]
    summary = rating_batch.summarise(migrations)
    assert (summary.overrides_kept, summary.downgrades) == (1, 0)


# ---- runs are exclusive ----


def _plan(engine, run_key: str, **kw):
    return rating_batch.plan(engine, run_key=run_key, quarter="2026Q4", as_of=AS_OF, card=CARD, contrib=CONTRIB,
                             chunk_size=3, **kw)


def _age(engine, run_id: int, minutes: int) -> None:
    """Move a run's start and its chunks' times `minutes` into the past (a run that stopped then)."""
    from datetime import timedelta

    from db.models import RatingBatchRun
    with Session(engine) as s:
        run = s.get(RatingBatchRun, run_id)
        run.started_at -= timedelta(minutes=minutes)
        s.add(run)
        for chunk in s.exec(select(RatingBatchChunk).where(RatingBatchChunk.run_id == run_id)):
            chunk.done_at -= timedelta(minutes=minutes)
            s.add(chunk)
        s.commit()


def test_a_new_run_waits_while_another_is_in_progress_and_alive(own_engine):
    from datetime import timedelta

    import pytest

    from db.models import RatingBatchRun
    engine = own_engine
    archive(engine)
    first = _plan(engine, "quarterly-rating-2026-12-31T18:00:00Z/a")
    with pytest.raises(rating_batch.RunInProgress) as refused:
        _plan(engine, "quarterly-rating/b")
    assert refused.value.other.run_id == first.run_id
    assert refused.value.other.workflow_id == "quarterly-rating-2026-12-31T18:00:00Z"
    with Session(engine) as s:
        assert [r.id for r in s.exec(select(RatingBatchRun))] == [first.run_id]  # nothing half-made
    # the blocking run itself carries on: its own plan (a retry, a continued workflow) is answered
    assert _plan(engine, "quarterly-rating-2026-12-31T18:00:00Z/a").run_id == first.run_id

    # its latest chunk keeps it alive past its start: 20 minutes after the start, a chunk 5 minutes ago
    rating_batch.rate_chunk(engine, first.run_id, 0)
    _age(engine, first.run_id, 20)
    rating_batch.rate_chunk(engine, first.run_id, 1)
    with Session(engine) as s:
        chunk = s.get(RatingBatchChunk, (first.run_id, 1))
        chunk.done_at -= timedelta(minutes=5)
        s.add(chunk)
        s.commit()
    with pytest.raises(rating_batch.RunInProgress):
        _plan(engine, "quarterly-rating/b", lease=timedelta(minutes=10))
    # ... until its lease runs out with nothing more done (it was terminated mid-way)
    second = _plan(engine, "quarterly-rating/b", lease=timedelta(minutes=4))
    assert second.run_id != first.run_id and second.chunks_done == []


def test_a_new_run_proceeds_once_the_other_is_completed(own_engine):
    import pytest
    engine = own_engine
    archive(engine)
    first = _plan(engine, "t/first")
    for n in range(first.chunks_total):
        rating_batch.rate_chunk(engine, first.run_id, n)
    with pytest.raises(rating_batch.RunInProgress):  # all chunks rated but not finished: still in progress
        _plan(engine, "t/second")
    rating_batch.finish(engine, first.run_id)
    second = _plan(engine, "t/second")
    assert second.run_id != first.run_id
    with Session(engine) as s:
        assert rating_batch.live_runs(s, lease=rating_batch.RUN_LEASE) == [
            rating_batch.LiveRun(run_id=second.run_id, run_key="t/second",
                                 last_active=rating_batch.get_run(s, second.run_id).started_at)]


def test_two_new_runs_planned_at_once_make_one_run(own_engine, monkeypatch):
    """Each plan inserts its run, then looks for others: without a lock each would miss the other's
    uncommitted run and both would start."""
    import threading
    import time

    from db.models import RatingBatchRun
    engine = own_engine
    archive(engine)
    real = rating_batch.live_runs

    def slow(*args, **kwargs):  # both have inserted their run before either looks
        time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(rating_batch, "live_runs", slow)
    outcomes: dict[str, object] = {}

    def plan(key: str) -> None:
        try:
            outcomes[key] = _plan(engine, key).run_id
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion
            outcomes[key] = exc

    threads = [threading.Thread(target=plan, args=(f"t/{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    made = [v for v in outcomes.values() if isinstance(v, int)]
    refused = [v for v in outcomes.values() if not isinstance(v, int)]
    assert len(made) == 1, outcomes
    # PostgreSQL: the second waits on the lock, then sees the first. SQLite: its insert waits for the
    # single writer, or its stale read is refused ("database is locked"); either way no second run.
    assert len(refused) == 1
    with Session(engine) as s:
        assert [r.id for r in s.exec(select(RatingBatchRun))] == made


def test_a_run_left_past_its_lease_is_abandoned_when_a_newer_run_starts(own_engine):
    """Should its workflow wake up again, it must not write its older ratings over the newer run's."""
    import pytest

    from db.models import RatingBatchRun
    engine = own_engine
    archive(engine)
    old = _plan(engine, "t/old")
    rating_batch.rate_chunk(engine, old.run_id, 0)
    _age(engine, old.run_id, 40)  # idle past the 30-minute lease: terminated, or its worker long gone
    new = _plan(engine, "t/new")
    with Session(engine) as s:
        assert s.get(RatingBatchRun, old.run_id).status == "abandoned"
        assert s.get(RatingBatchRun, new.run_id).status == "running"
        ratings_before = sorted((r.customer_id, r.rating_record_id) for r in s.exec(select(CustomerRating)))
    with pytest.raises(rating_batch.RunAbandoned):
        rating_batch.rate_chunk(engine, old.run_id, 1)
    with pytest.raises(rating_batch.RunAbandoned):
        rating_batch.finish(engine, old.run_id)
    with pytest.raises(rating_batch.RunAbandoned):  # a continued workflow's plan
        _plan(engine, "t/old")
    with Session(engine) as s:
        assert s.get(RatingBatchChunk, (old.run_id, 1)) is None  # nothing written for the abandoned run
        assert sorted((r.customer_id, r.rating_record_id) for r in s.exec(select(CustomerRating))) == ratings_before
    for n in range(new.chunks_total):
        rating_batch.rate_chunk(engine, new.run_id, n)
    assert rating_batch.finish(engine, new.run_id).status == "completed"


def test_a_new_plan_waits_for_an_old_runs_chunk_in_flight_and_then_sees_it_alive(own_engine, monkeypatch):
    """PostgreSQL: a chunk holds the run lock shared and a plan takes it exclusively, so a plan cannot mark
    the old run abandoned while one of its chunks is being written: it waits, then finds the old run active
    again (that chunk just committed) and refuses. Without the lock the new run would be created and the old
    chunk would commit after it. (SQLite: the next test.)"""
    import threading
    import time

    import pytest

    from db.models import RatingBatchRun
    engine = own_engine
    if engine.dialect.name != "postgresql":
        pytest.skip("the run lock is PostgreSQL's advisory lock")
    archive(engine)
    old = _plan(engine, "t/old")
    _age(engine, old.run_id, 40)  # idle past its lease ...
    real = rating_batch.load_facts

    def slow(*args, **kwargs):  # ... when it wakes up: its chunk is in its transaction as the new plan comes
        time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(rating_batch, "load_facts", slow)
    chunk = threading.Thread(target=rating_batch.rate_chunk, args=(engine, old.run_id, 0))
    chunk.start()
    time.sleep(0.3)
    with pytest.raises(rating_batch.RunInProgress) as refused:
        _plan(engine, "t/new")
    chunk.join(timeout=30)
    assert refused.value.other.run_id == old.run_id
    with Session(engine) as s:
        assert s.get(RatingBatchChunk, (old.run_id, 0)) is not None
        assert [(r.id, r.status) for r in s.exec(select(RatingBatchRun))] == [(old.run_id, "running")]


def test_on_sqlite_a_chunk_whose_run_was_abandoned_while_it_was_rated_writes_nothing(own_engine, monkeypatch):
    """SQLite has no advisory lock, and a chunk's first reads run before its transaction begins: a plan can
    abandon the run between the chunk's first look at it and its writes. The chunk looks again once it has
    written (then it holds the one write lock), and rolls back."""
    import pytest

    from db.models import RatingBatchRun
    engine = own_engine
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL keeps such a plan out with the run lock (the test before)")
    archive(engine)
    old = _plan(engine, "t/old")
    _age(engine, old.run_id, 40)
    real = rating_batch.run_models
    newer = []

    def plan_meanwhile(run):  # the chunk has read its run ('running'); a newer run is planned now
        if not newer:
            newer.append(_plan(engine, "t/new"))
        return real(run)

    monkeypatch.setattr(rating_batch, "run_models", plan_meanwhile)
    with pytest.raises(rating_batch.RunAbandoned):
        rating_batch.rate_chunk(engine, old.run_id, 0)
    with Session(engine) as s:
        assert s.get(RatingBatchChunk, (old.run_id, 0)) is None
        assert s.exec(select(RatingRecord).where(RatingRecord.source == "batch")).first() is None
        assert [(r.id, r.status) for r in s.exec(select(RatingBatchRun).order_by(RatingBatchRun.id))] == \
            [(old.run_id, "abandoned"), (newer[0].run_id, "running")]
