"""EndOfDayWorkflow (日终): close every business date up to `through`, one date after the other.

A date is closed in chunks of notes (activities/eod.py -> db/eod.py), a few at a time; each chunk's
notices (reminders, overdue SMS, line freezes) are delivered right after it. Chunks already closed by an
earlier attempt are skipped, so a crash or a restart resumes where it stopped. Started daily by a
Temporal Schedule (through = yesterday in Beijing) and by ops to catch up or, in tests, to move the
business date forward. History stays bounded: it continues as new between dates when Temporal suggests.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from temporalio import workflow

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
        EodProgress,
    )


ALL_CHUNKS = -1


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
                await workflow.execute_activity_method(
                    EodActivities.deliver_notices, chunk, **policies.EOD_NOTICES.kwargs())
                self._chunks_done += 1
                self._notes += result.notes

        await asyncio.gather(*(one(c) for c in todo))
        # Anything an earlier, interrupted run closed but did not deliver (chunk -1: the whole date).
        await workflow.execute_activity_method(EodActivities.deliver_notices, EodChunkInput(
            business_date=day, chunk_no=ALL_CHUNKS), **policies.EOD_NOTICES.kwargs())
        result: EodDayResult = await workflow.execute_activity_method(
            EodActivities.finish_day, day, **policies.DB_WRITE.kwargs())
        self._days = [*self._days[-30:], result]

    @workflow.query(name=names.QUERY_PROGRESS)
    def progress(self) -> EodProgress:
        return EodProgress(business_date=self._day, through=self._through, chunks_done=self._chunks_done,
                           chunks_total=self._chunks_total, notes_closed=self._notes, days_closed=self._days)
