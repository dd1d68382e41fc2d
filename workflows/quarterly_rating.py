"""QuarterlyRatingWorkflow (季度批量评级): re-rate every archived household with the models in force.

The run is planned once (its models fixed, the households' id range cut into chunks), then chunks are
rated a few at a time (activities/rating_batch.py -> db/rating_batch.py), each one short transaction that
heartbeats. Chunks already rated by an earlier attempt are skipped, so a crash or restart resumes where it
stopped and rates no chunk twice. History stays bounded: after `chunks_per_execution` chunks, or when
Temporal suggests it, the workflow continues as new with the same run. Started by the quarterly Schedule
(first day of each quarter, Beijing time) and by ops (POST /v1/ops/rating-runs). Runs are exclusive in the
database: while another run is in progress and alive, planning fails retryably and this run waits (the
RATING_PLAN policy's backoff) until the other completes or its lease runs out. The result and the
`progress` query carry counts and the migration summary, never personal data.
"""

from __future__ import annotations

import asyncio
from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.rating_batch import RatingBatchActivities
    from domain.business_time import business_date
    from workflows import names, policies
    from workflows.messages import (
        QuarterlyRatingInput,
        QuarterlyRatingProgress,
        RatingBatchPlan,
        RatingChunkInput,
        RatingChunkResult,
        RatingPlanInput,
        RatingRunResult,
    )


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


@workflow.defn(name=names.QUARTERLY_RATING)
class QuarterlyRatingWorkflow:
    @workflow.init
    def __init__(self, inp: QuarterlyRatingInput) -> None:
        self._plan: RatingBatchPlan | None = None
        self._chunks_done = 0
        self._rated = 0
        self._failed = 0
        self._result: RatingRunResult | None = None
        self._continue = False

    @workflow.run
    async def run(self, inp: QuarterlyRatingInput) -> RatingRunResult:
        as_of = inp.as_of or business_date(workflow.now())
        info = workflow.info()
        run_key = inp.run_key or f"{info.workflow_id}/{info.run_id}"
        plan: RatingBatchPlan = await workflow.execute_activity_method(
            RatingBatchActivities.plan_rating_run, RatingPlanInput(run_key=run_key, quarter=quarter_of(as_of), as_of=as_of),
            **policies.RATING_PLAN.kwargs())  # waits here while another run is in progress
        self._plan = plan
        self._chunks_done, self._rated, self._failed = len(plan.chunks_done), plan.rated, plan.failed
        done = set(plan.chunks_done)
        todo = [c for c in range(plan.chunks_total) if c not in done]
        this_execution = todo[:inp.chunks_per_execution]
        # A sliding window of `parallel` chunks: the next starts as soon as one finishes.
        window = asyncio.Semaphore(plan.parallel)

        async def one(chunk_no: int) -> None:
            async with window:
                if self._continue:
                    return
                result: RatingChunkResult = await workflow.execute_activity_method(
                    RatingBatchActivities.rate_chunk, RatingChunkInput(run_id=plan.run_id, chunk_no=chunk_no),
                    **policies.RATING_CHUNK.kwargs())
                self._chunks_done += 1
                self._rated += result.rated
                self._failed += result.failed
                if workflow.info().is_continue_as_new_suggested():
                    self._continue = True

        await asyncio.gather(*(one(c) for c in this_execution))
        if self._continue or len(this_execution) < len(todo):
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(QuarterlyRatingInput(as_of=as_of, run_key=run_key,
                                                          chunks_per_execution=inp.chunks_per_execution))
        self._result = await workflow.execute_activity_method(
            RatingBatchActivities.finish_rating_run, plan.run_id, **policies.DB_WRITE.kwargs())
        return self._result

    @workflow.query(name=names.QUERY_PROGRESS)
    def progress(self) -> QuarterlyRatingProgress:
        plan = self._plan
        return QuarterlyRatingProgress(run_id=plan.run_id if plan else None, quarter=plan.quarter if plan else None,
                                       chunks_done=self._chunks_done, chunks_total=plan.chunks_total if plan else 0,
                                       rated=self._rated, failed=self._failed, finished=self._result)
