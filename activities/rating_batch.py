"""Quarterly rating activities: plan a run with the models in force, rate one chunk of households
(db/rating_batch.py), finish the run with its migration report."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db import rating_batch
from services.rating_models import active_models
from workflows.messages import (
    RatingBatchPlan,
    RatingChunkInput,
    RatingChunkResult,
    RatingMigrationSummary,
    RatingPlanInput,
    RatingRunResult,
)

PLAN_ATTEMPTS = 10  # ~9 minutes of RATING_PLAN's backoff (1 s, doubling): rides out a database restart


def _ends_the_workflow(abandoned: rating_batch.RunAbandoned) -> ApplicationError:
    """A run abandoned for a newer one ends its workflow: retrying would never succeed."""
    return ApplicationError(str(abandoned), type="RatingRunAbandoned", non_retryable=True)


@contextmanager
def _abandoned_ends_the_workflow() -> Iterator[None]:
    try:
        yield
    except rating_batch.RunAbandoned as abandoned:
        raise _ends_the_workflow(abandoned) from abandoned


class RatingBatchActivities:
    def __init__(self, engine: Engine, *, chunk_size: int, parallel_chunks: int, lease: timedelta) -> None:
        self._engine = engine
        self._chunk_size = chunk_size
        self._lease = lease
        # SQLite has one writer: chunks in parallel would only queue on its lock.
        self._parallel = 1 if engine.dialect.name == "sqlite" else parallel_chunks

    @activity.defn
    def plan_rating_run(self, request: RatingPlanInput) -> RatingBatchPlan:
        """The run for this workflow, created on first call with the models in force now; a resumed or
        continued workflow gets the same run, its models and the chunks already rated. While another run is
        in progress and alive it fails retryably (RatingRunInProgress): the retry policy makes it wait. Any
        other failure is retried PLAN_ATTEMPTS times, then ends the run: the policy itself retries without end
        (for the wait), and a model that no longer loads would otherwise hold every later quarter's run."""
        try:
            with Session(self._engine) as session:
                card, contrib = active_models(session)
            plan = rating_batch.plan(self._engine, run_key=request.run_key, quarter=request.quarter,
                                     as_of=request.as_of, card=card, contrib=contrib, chunk_size=self._chunk_size,
                                     lease=self._lease)
        except rating_batch.RunInProgress as busy:
            raise ApplicationError(str(busy), type="RatingRunInProgress") from busy
        except rating_batch.RunAbandoned as abandoned:
            raise _ends_the_workflow(abandoned) from abandoned
        except Exception as failure:
            if activity.info().attempt >= PLAN_ATTEMPTS:
                raise ApplicationError(f"planning the rating run failed {PLAN_ATTEMPTS} times: {failure}",
                                       type="RatingPlanFailed", non_retryable=True) from failure
            raise
        with Session(self._engine) as session:
            run = rating_batch.get_run(session, plan.run_id)
            _, rated, failed, _ = rating_batch.progress(session, run)
        return RatingBatchPlan(run_id=plan.run_id, quarter=run.quarter, chunks_total=plan.chunks_total,
                               chunks_done=plan.chunks_done, rated=rated, failed=failed, parallel=self._parallel,
                               model_version=f"{run.model_code}@v{run.model_version}",
                               contribution_version=run.contribution_version)

    @activity.defn
    def rate_chunk(self, request: RatingChunkInput) -> RatingChunkResult:
        with _abandoned_ends_the_workflow():
            outcome = rating_batch.rate_chunk(self._engine, request.run_id, request.chunk_no,
                                              heartbeat=activity.heartbeat)
        return RatingChunkResult(chunk_no=outcome.chunk_no, rated=outcome.rated, failed=outcome.failed)

    @activity.defn
    def finish_rating_run(self, run_id: int) -> RatingRunResult:
        with _abandoned_ends_the_workflow():
            run = rating_batch.finish(self._engine, run_id)
        with Session(self._engine) as session:
            summary = rating_batch.summarise(rating_batch.migrations_of(session, run_id))
        return RatingRunResult(run_id=run_id, quarter=run.quarter, chunks=run.chunks_total, rated=run.households_rated,
                               failed=run.households_failed,
                               migrations=RatingMigrationSummary.model_validate(summary.model_dump()))
