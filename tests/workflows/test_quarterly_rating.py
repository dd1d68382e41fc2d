"""QuarterlyRatingWorkflow on the dev server and a PostgreSQL database of its own: every archived household
rated once (across continue-as-new), drafts skipped, bad rows reported, the migration summary; a chunk
that crashed after committing is not rated twice; the quarterly Schedule."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import Session, select
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus

from activities.rating_batch import RatingBatchActivities
from db import rating_batch
from db.engine import make_engine
from db.metadata import metadata
from db.models import RatingBatchChunk, RatingBatchFailure, RatingBatchRun, RatingRecord
from services.schedules import ensure_schedules
from tests.conftest import scratch_database
from tests.rating_households import AS_OF, archive
from tests.workflows.support import running_worker
from workflows import names
from workflows.messages import (
    QuarterlyRatingInput,
    QuarterlyRatingProgress,
    RatingChunkInput,
    RatingChunkResult,
    RatingRunResult,
)


@pytest.fixture
def own_pg():
    with scratch_database() as url:
        eng = make_engine(url)
        metadata.create_all(eng)
        yield eng
        eng.dispose()


def batch_records(engine) -> Counter:
    with Session(engine) as s:
        return Counter(s.exec(select(RatingRecord.customer_id).where(RatingRecord.source == "batch")).all())


async def test_a_run_rates_every_archived_household_once_and_reports_migrations(dev_env, own_pg, settings):
    engine = own_pg
    h = archive(engine)
    configured = settings.model_copy(update={"database_url": str(engine.url), "rating_batch_chunk_size": 3})
    async with running_worker(dev_env.client, engine, configured) as (queue, _):
        # two chunks per execution: the 11 households' four chunks take two continue-as-new hops
        handle = await dev_env.client.start_workflow(
            names.QUARTERLY_RATING, QuarterlyRatingInput(as_of=AS_OF, chunks_per_execution=2),
            id=f"{names.QUARTERLY_RATING_WORKFLOW_ID}-t1", task_queue=queue, result_type=RatingRunResult)
        result: RatingRunResult = await handle.result()
        progress = await handle.query(names.QUERY_PROGRESS, result_type=QuarterlyRatingProgress)
        first = dev_env.client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
        first_status = (await first.describe()).status
    assert (result.quarter, result.chunks, result.rated, result.failed) == ("2026Q4", 4, 6, 4)
    assert result.migrations.model_dump() == {"upgrades": 1, "downgrades": 1, "unchanged": 1, "new": 1,
                                              "prefiltered": 2}
    assert progress.chunks_done == progress.chunks_total == 4 and progress.finished == result
    assert (progress.rated, progress.failed) == (6, 4)
    records = batch_records(engine)
    assert set(records.values()) == {1} and len(records) == 6
    assert h["draft"].customer_id not in records
    with Session(engine) as s:
        run = s.exec(select(RatingBatchRun)).one()
        assert (run.status, run.model_version, run.contribution_version, run.quarter) == ("completed", 1, 1, "2026Q4")
        assert {f.household_id for f in s.exec(select(RatingBatchFailure))} == {
            h[k].id for k in ("negative", "future", "no_facts", "labour")}
    # the first execution continued as new; the last one of the chain finished the run
    assert first_status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED


async def test_a_chunk_that_crashed_after_committing_is_not_rated_twice(dev_env, own_pg, settings):
    engine = own_pg
    archive(engine)
    real = RatingBatchActivities(engine, chunk_size=3, parallel_chunks=2, lease=rating_batch.RUN_LEASE)
    crashes: list[int] = []

    @activity.defn(name="rate_chunk")
    def crash_once(request: RatingChunkInput) -> RatingChunkResult:
        result = real.rate_chunk(request)  # committed...
        if request.chunk_no == 1 and not crashes:
            crashes.append(request.chunk_no)
            raise RuntimeError("worker lost after the commit")  # ...but the answer never arrived
        return result

    configured = settings.model_copy(update={"database_url": str(engine.url), "rating_batch_chunk_size": 3})
    async with running_worker(dev_env.client, engine, configured, replace={"rate_chunk": crash_once}) as (queue, _):
        result = await dev_env.client.execute_workflow(
            names.QUARTERLY_RATING, QuarterlyRatingInput(as_of=AS_OF),
            id=f"{names.QUARTERLY_RATING_WORKFLOW_ID}-t2", task_queue=queue, result_type=RatingRunResult)
    assert crashes == [1]
    assert (result.rated, result.failed) == (6, 4)  # the retried chunk's counts come from its chunk row
    records = batch_records(engine)
    assert set(records.values()) == {1} and len(records) == 6
    with Session(engine) as s:
        chunks = s.exec(select(RatingBatchChunk)).all()
        assert sorted(c.chunk_no for c in chunks) == [0, 1, 2, 3]
        assert len(s.exec(select(RatingBatchFailure)).all()) == 4


async def test_the_worker_keeps_a_quarterly_schedule_at_the_configured_beijing_time(dev_env, settings):
    await ensure_schedules(dev_env.client, settings.model_copy(update={"rating_batch_schedule_time": "09:30"}))
    await ensure_schedules(dev_env.client, settings)  # the default, 02:00 Beijing
    described = await dev_env.client.get_schedule_handle(names.QUARTERLY_RATING_SCHEDULE_ID).describe()
    fires = sorted((c.month[0].start, c.day_of_month[0].start, c.hour[0].start, c.minute[0].start)
                   for c in described.schedule.spec.calendars)
    # 02:00 Beijing on the first day of each quarter is 18:00 UTC on the last day of the quarter before
    assert fires == [(3, 31, 18, 0), (6, 30, 18, 0), (9, 30, 18, 0), (12, 31, 18, 0)]
    assert described.schedule.action.workflow == names.QUARTERLY_RATING
    assert described.schedule.action.id == names.QUARTERLY_RATING_WORKFLOW_ID
    upcoming = described.info.next_action_times
    assert upcoming and all((t.month, t.day, t.hour) in {(3, 31, 18), (6, 30, 18), (9, 30, 18), (12, 31, 18)}
                            for t in upcoming)


async def test_a_second_run_waits_for_the_one_in_progress_then_rates_after_it(dev_env, own_pg, settings):
    """A scheduled run and an ops run never rate at once: the second's plan fails retryably while the first is in
    progress, and the second starts its run once the first has completed."""
    import threading

    from tests.workflows.support import until
    engine = own_pg
    archive(engine)
    real = RatingBatchActivities(engine, chunk_size=3, parallel_chunks=2, lease=rating_batch.RUN_LEASE)
    gate = threading.Event()

    @activity.defn(name="rate_chunk")
    def held(request: RatingChunkInput) -> RatingChunkResult:
        gate.wait(timeout=60)  # the first run stays in progress until the test lets it go
        return real.rate_chunk(request)

    def runs() -> list[RatingBatchRun]:
        with Session(engine) as s:
            return list(s.exec(select(RatingBatchRun).order_by(RatingBatchRun.id)).all())

    configured = settings.model_copy(update={"database_url": str(engine.url), "rating_batch_chunk_size": 3})
    async with running_worker(dev_env.client, engine, configured, replace={"rate_chunk": held}) as (queue, _):
        first = await dev_env.client.start_workflow(
            names.QUARTERLY_RATING, QuarterlyRatingInput(as_of=AS_OF),
            id=f"{names.QUARTERLY_RATING_WORKFLOW_ID}-2026-12-31T18:00:00Z", task_queue=queue,
            result_type=RatingRunResult)
        await until(runs)
        second = await dev_env.client.start_workflow(
            names.QUARTERLY_RATING, QuarterlyRatingInput(as_of=AS_OF), id=names.QUARTERLY_RATING_WORKFLOW_ID,
            task_queue=queue, result_type=RatingRunResult)

        async def waiting() -> bool:
            pending = (await second.describe()).raw_description.pending_activities
            return bool(pending) and pending[0].attempt >= 2 and \
                "RatingRunInProgress" in pending[0].last_failure.application_failure_info.type
        await until(waiting, timeout=30)
        assert len(runs()) == 1  # the second made no run while the first is going
        gate.set()
        done_first: RatingRunResult = await first.result()
        done_second: RatingRunResult = await second.result()
    assert (done_first.rated, done_second.rated) == (6, 6)
    a, b = runs()
    assert (a.id, b.id) == (done_first.run_id, done_second.run_id)
    assert a.status == b.status == "completed" and b.started_at >= a.finished_at
    assert a.run_key.startswith(first.id + "/") and b.run_key.startswith(second.id + "/")
    records = batch_records(engine)
    assert set(records.values()) == {2} and len(records) == 6  # each run rated every household once


async def test_a_run_that_wakes_up_after_being_abandoned_fails_without_rating(dev_env, own_pg, settings):
    """A run idle past its lease is abandoned when a newer run starts; if its workflow resumes (here: a
    continued workflow planning with its run key) it fails for good instead of writing older ratings."""
    from temporalio.client import WorkflowFailureError
    from temporalio.exceptions import ActivityError, ApplicationError

    from domain.rating.model import ContributionModel, default_scorecard
    engine = own_pg
    archive(engine)
    plan = rating_batch.plan(engine, run_key="old-run/1", quarter="2026Q4", as_of=AS_OF, card=default_scorecard(),
                             contrib=ContributionModel(), chunk_size=3)
    with Session(engine) as s:  # idle for a year, far past the 30-minute lease
        run = s.get(RatingBatchRun, plan.run_id)
        run.started_at = run.started_at.replace(year=run.started_at.year - 1)
        s.add(run)
        s.commit()
    newer = rating_batch.plan(engine, run_key="new-run/1", quarter="2026Q4", as_of=AS_OF, card=default_scorecard(),
                              contrib=ContributionModel(), chunk_size=3)
    configured = settings.model_copy(update={"database_url": str(engine.url), "rating_batch_chunk_size": 3})
    async with running_worker(dev_env.client, engine, configured) as (queue, _):
        handle = await dev_env.client.start_workflow(
            names.QUARTERLY_RATING, QuarterlyRatingInput(as_of=AS_OF, run_key="old-run/1"),
            id=f"{names.QUARTERLY_RATING_WORKFLOW_ID}-old", task_queue=queue, result_type=RatingRunResult)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    assert isinstance(failed.value.cause, ActivityError)
    cause = failed.value.cause.cause
    assert isinstance(cause, ApplicationError) and cause.type == "RatingRunAbandoned" and cause.non_retryable
    with Session(engine) as s:
        assert [(r.id, r.status) for r in s.exec(select(RatingBatchRun).order_by(RatingBatchRun.id))] == \
            [(plan.run_id, "abandoned"), (newer.run_id, "running")]
    assert batch_records(engine) == Counter()
