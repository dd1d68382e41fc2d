"""The quarterly batch rating for ops: start a run now, list runs with their progress (from the database,
so runs the Schedule started show too), one run's grade-migration report, and the rows it could not rate."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session
from temporalio.common import TypedSearchAttributes

from db import rating_batch
from db.models import RatingBatchRun
from services.blocking import in_thread
from services.errors import ProblemError, not_found
from services.gateway import WorkflowGateway
from services.schemas.rating_batch import (
    GradeMigration,
    MigrationSummary,
    RatingFailureView,
    RatingRunAccepted,
    RatingRunReport,
    RatingRunStart,
    RatingRunView,
)
from workflows import names
from workflows.messages import QuarterlyRatingInput


def _other_live_run(session: Session, lease: timedelta) -> rating_batch.LiveRun | None:
    """A run in progress and alive that the ops workflow did not start (the Schedule's, or one of old)."""
    return next((run for run in rating_batch.live_runs(session, lease=lease)
                 if run.workflow_id != names.QUARTERLY_RATING_WORKFLOW_ID), None)


async def start_run(session: Session, workflows: WorkflowGateway, body: RatingRunStart, *,
                    lease: timedelta) -> RatingRunAccepted:
    """One ops-started run at a time under one id: a start while it runs attaches to it. While another run is
    in progress (e.g. the Schedule's) the start is refused: runs are exclusive (db/rating_batch.plan holds
    it; a start that slips past this check waits in its plan for the other run to finish)."""
    other = await in_thread(_other_live_run, session, lease)
    if other is not None:
        raise ProblemError(409, "RATING_RUN_IN_PROGRESS",
                           f"另一批量评级正在进行(批次 {other.run_id}),请待其完成后再发起",
                           f"rating run {other.run_id} is in progress; start a run once it has finished",
                           extra={"run_id": other.run_id})
    await workflows.start(names.QUARTERLY_RATING, QuarterlyRatingInput(as_of=body.as_of),
                          id=names.QUARTERLY_RATING_WORKFLOW_ID, search_attributes=TypedSearchAttributes.empty)
    return RatingRunAccepted(workflow_id=names.QUARTERLY_RATING_WORKFLOW_ID, as_of=body.as_of)


def _view(session: Session, run: RatingBatchRun) -> RatingRunView:
    done, rated, failed, last_active_at = rating_batch.progress(session, run)
    return RatingRunView(id=run.id, quarter=run.quarter, as_of=run.as_of, status=run.status,  # type: ignore[arg-type]
                         model_version=f"{run.model_code}@v{run.model_version}",
                         contribution_version=f"{run.contribution_code}@v{run.contribution_version}",
                         chunk_size=run.chunk_size, chunks_done=done, chunks_total=run.chunks_total,
                         households_rated=rated, households_failed=failed, started_at=run.started_at,
                         finished_at=run.finished_at, last_active_at=last_active_at)


def _runs(session: Session, limit: int, offset: int) -> list[RatingRunView]:
    return [_view(session, run) for run in rating_batch.runs(session, limit=limit, offset=offset)]


def _report(session: Session, run_id: int) -> RatingRunReport:
    run = session.get(RatingBatchRun, run_id)
    if run is None:
        raise not_found("RATING_RUN", "批量评级批次不存在", "rating run not found", "run_id")
    migrations = rating_batch.migrations_of(session, run_id)
    summary = rating_batch.summarise(migrations)
    return RatingRunReport(**_view(session, run).model_dump(),
                           migrations=[GradeMigration.model_validate(m.model_dump()) for m in migrations],
                           summary=MigrationSummary.model_validate(summary.model_dump()))


def _failures(session: Session, run_id: int, limit: int, offset: int) -> list[RatingFailureView]:
    if session.get(RatingBatchRun, run_id) is None:
        raise not_found("RATING_RUN", "批量评级批次不存在", "rating run not found", "run_id")
    return [RatingFailureView.model_validate(f, from_attributes=True)
            for f in rating_batch.failures(session, run_id, limit=limit, offset=offset)]


async def runs(session: Session, *, limit: int, offset: int) -> list[RatingRunView]:
    return await in_thread(_runs, session, limit, offset)


async def report(session: Session, run_id: int) -> RatingRunReport:
    return await in_thread(_report, session, run_id)


async def failures(session: Session, run_id: int, *, limit: int, offset: int) -> list[RatingFailureView]:
    return await in_thread(_failures, session, run_id, limit, offset)
