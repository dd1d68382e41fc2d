"""EndOfDayWorkflow (日终): close every business date up to `through`, one date after the other.

A date is closed in chunks of notes (activities/eod.py -> db/eod.py), a few at a time. Chunks already
closed by an earlier attempt are skipped, so a crash or a restart resumes where it stopped. Once the date
is closed, a child NoticeDeliveryWorkflow sends the notices its chunks raised (reminders, overdue SMS,
line freezes) while the next date closes: the SMS gateway's pace never holds the business date. Started daily by a
Temporal Schedule (through = yesterday in Beijing) and by ops to catch up or, in tests, to move the
business date forward. History stays bounded: it continues as new between dates when Temporal suggests.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.eod import EodActivities
    from domain.business_time import business_date
    from workflows import names, policies
    from workflows.messages import (
        EodChunkInput,
        EodChunkResult,
        EodDayPlan,
        EodDayResult,
        EodInput,
        EodNoticesInput,
        EodProgress,
    )


ALL_CHUNKS = -1


@workflow.defn(name=names.EOD_NOTICES)
class NoticeDeliveryWorkflow:
    """Delivers one business date's end-of-day notices (SMS, line freezes), chunk by chunk in a window,
    then whatever is left for the date. Run again, it picks up what is still pending."""

    @workflow.run
    async def run(self, inp: EodNoticesInput) -> int:
        chunks: list[int] = await workflow.execute_activity_method(
            EodActivities.notice_chunks, inp.business_date, **policies.DB_WRITE.kwargs())
        window = asyncio.Semaphore(inp.parallel)

        async def one(chunk_no: int) -> int:
            async with window:
                return await workflow.execute_activity_method(
                    EodActivities.deliver_notices, EodChunkInput(business_date=inp.business_date, chunk_no=chunk_no),
                    **policies.EOD_NOTICES.kwargs())

        sent = sum(await asyncio.gather(*(one(c) for c in chunks)))
        return sent + await one(ALL_CHUNKS)


@workflow.defn(name=names.END_OF_DAY)
class EndOfDayWorkflow:
    @workflow.init
    def __init__(self, inp: EodInput) -> None:
        self._through = inp.through
        self._day: date | None = None
        self._chunks_total = 0
        self._chunks_done = 0
        self._notes = 0
        self._days: list[EodDayResult] = []

    @workflow.run
    async def run(self, inp: EodInput) -> EodProgress:
        through = inp.through or business_date(workflow.now()) - timedelta(days=1)
        self._through = through
        while True:
            day: date | None = await workflow.execute_activity_method(
                EodActivities.next_business_date, through, **policies.DB_WRITE.kwargs())
            if day is None:
                break
            await self._close(day)
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(EodInput(through=through))
        self._day = None
        return self.progress()

    async def _close(self, day: date) -> None:
        self._day = day
        plan: EodDayPlan = await workflow.execute_activity_method(
            EodActivities.plan_day, day, **policies.DB_WRITE.kwargs())
        self._chunks_total, self._chunks_done, self._notes = plan.chunks_total, len(plan.chunks_done), 0
        todo = [c for c in range(plan.chunks_total) if c not in set(plan.chunks_done)]
        # A sliding window of `parallel` chunks: the next starts as soon as one finishes.
        window = asyncio.Semaphore(plan.parallel)

        async def one(chunk_no: int) -> None:
            async with window:
                chunk = EodChunkInput(business_date=day, chunk_no=chunk_no)
                result: EodChunkResult = await workflow.execute_activity_method(
                    EodActivities.close_chunk, chunk, **policies.EOD_CHUNK.kwargs())
                self._chunks_done += 1
                self._notes += result.notes

        await asyncio.gather(*(one(c) for c in todo))
        result: EodDayResult = await workflow.execute_activity_method(
            EodActivities.finish_day, day, **policies.DB_WRITE.kwargs())
        self._days = [*self._days[-30:], result]
        # The date is closed. Its notices go out on their own, so a slow SMS gateway never holds the
        # business date; the outbox keeps them until they are delivered.
        try:
            await workflow.start_child_workflow(
                NoticeDeliveryWorkflow.run, EodNoticesInput(business_date=day, parallel=plan.parallel),
                id=names.eod_notices_workflow_id(day), parent_close_policy=ParentClosePolicy.ABANDON)
        except WorkflowAlreadyStartedError:
            pass  # a rerun of this date: the first delivery is still at it

    @workflow.query(name=names.QUERY_PROGRESS)
    def progress(self) -> EodProgress:
        return EodProgress(business_date=self._day, through=self._through, chunks_done=self._chunks_done,
                           chunks_total=self._chunks_total, notes_closed=self._notes, days_closed=self._days)
