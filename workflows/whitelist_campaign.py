"""WhitelistCampaignWorkflow (批量白名单): one per uploaded whitelist (whitelist-<campaign_no>).

A sliding window of per-row WhitelistOfferWorkflow children: at most `window` rows are being rated and
invited at once; a row leaves the window when its invitation went out (or it ended sooner), so a
campaign of thousands never waits on the customers to make room. Children are abandoned on close and
report each outcome by signalling this workflow's id, which survives continue-as-new; the counts, the
cursor and the open rows travel in the input. Pause stops new rows, resume starts them again, cancel
stops new rows and cancels the invitations still open. The campaign ends when every row has ended.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.whitelist import WhitelistActivities
    from workflows import names, policies
    from workflows.messages import (
        CampaignActionInput,
        CampaignProgress,
        CampaignStatusUpdate,
        CancelPendingRowsInput,
        NextRowsInput,
        RowOutcomeSignal,
        RowRef,
        WhitelistCampaignInput,
        WhitelistOfferInput,
    )
    from workflows.refuse import refuse
    from workflows.whitelist_offer import WhitelistOfferWorkflow

# Rows started by one run before it continues as new, whatever the history length says.
ROWS_PER_RUN = 500
PAGE = 100
CANCEL_DRAIN = timedelta(hours=1)


@workflow.defn(name=names.WHITELIST_CAMPAIGN)
class WhitelistCampaignWorkflow:
    @workflow.init
    def __init__(self, inp: WhitelistCampaignInput) -> None:
        self._in = inp
        self._counts = inp.counts.model_copy(deep=True)
        self._window: set[int] = set(inp.in_window)
        self._open: set[int] = set(inp.open_rows)
        self._paused = inp.paused
        self._cancelled = inp.cancelled
        self._cursor = inp.cursor
        self._exhausted = False
        self._done = False
        self._started_here = 0

    @workflow.run
    async def run(self, inp: WhitelistCampaignInput) -> CampaignProgress:
        if inp.runs == 1:
            await self._status("running")
        while not self._cancelled and not self._exhausted:
            await workflow.wait_condition(
                lambda: self._cancelled or (not self._paused and len(self._window) < inp.window)
                or self._should_continue())
            if self._should_continue():
                await self._continue()
            if self._cancelled:
                break
            rows: list[RowRef] = await workflow.execute_activity_method(
                WhitelistActivities.next_rows,
                NextRowsInput(campaign_id=inp.campaign_id, after_row_id=self._cursor,
                              limit=min(PAGE, inp.window - len(self._window))),
                **policies.DB_WRITE.kwargs())
            if not rows:
                self._exhausted = True
                break
            for ref in rows:
                await self._start_row(ref)
                self._started_here += 1
        if self._cancelled:
            return await self._cancel_open()
        while self._open:
            await workflow.wait_condition(lambda: not self._open or self._cancelled or self._should_continue())
            if self._cancelled:
                return await self._cancel_open()
            if self._open and self._should_continue():
                await self._continue()
        self._done = True
        await self._status("completed")
        return self.progress()

    async def _start_row(self, ref: RowRef) -> None:
        row_id = ref.row_id
        self._cursor = row_id
        self._window.add(row_id)
        self._open.add(row_id)
        self._counts.started += 1
        await workflow.start_child_workflow(
            WhitelistOfferWorkflow.run,
            WhitelistOfferInput(row_id=row_id, offer_no=f"{self._in.campaign_no}-{row_id}",
                                campaign_workflow_id=workflow.info().workflow_id, product=self._in.products[ref.product_code],
                                offer_seconds=self._in.offer_seconds, public_base_url=self._in.public_base_url),
            id=names.whitelist_offer_workflow_id(f"{self._in.campaign_no}-{row_id}"),
            parent_close_policy=ParentClosePolicy.ABANDON)

    def _should_continue(self) -> bool:
        info = workflow.info()
        return (self._started_here >= ROWS_PER_RUN or info.is_continue_as_new_suggested()
                or info.get_current_history_length() > self._in.history_limit)

    async def _continue(self) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self._in.model_copy(update={
            "cursor": self._cursor, "counts": self._counts, "in_window": sorted(self._window),
            "open_rows": sorted(self._open), "paused": self._paused, "cancelled": self._cancelled,
            "runs": self._in.runs + 1}))

    async def _cancel_open(self) -> CampaignProgress:
        await workflow.execute_activity_method(
            WhitelistActivities.cancel_pending_rows,
            CancelPendingRowsInput(campaign_id=self._in.campaign_id, after_row_id=self._cursor),
            **policies.DB_WRITE.kwargs())
        for row_id in sorted(self._open):
            handle = workflow.get_external_workflow_handle(
                names.whitelist_offer_workflow_id(f"{self._in.campaign_no}-{row_id}"))
            try:
                await handle.cancel()
            except Exception:  # noqa: BLE001 - the row ended meanwhile: nothing to cancel
                self._open.discard(row_id)
        try:
            await workflow.wait_condition(lambda: not self._open, timeout=CANCEL_DRAIN)
        except TimeoutError:
            workflow.logger.warning("%d rows did not confirm their cancellation", len(self._open))
        self._done = True
        await self._status("cancelled")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

    async def _status(self, status: str) -> None:
        await workflow.execute_activity_method(
            WhitelistActivities.record_campaign_status,
            CampaignStatusUpdate(campaign_id=self._in.campaign_id, status=status), **policies.DB_WRITE.kwargs())

    # ---- messages ----------------------------------------------------------------------------

    @workflow.signal(name=names.SIGNAL_ROW_OUTCOME)
    def row_outcome(self, signal: RowOutcomeSignal) -> None:
        if signal.row_id not in self._open:
            return  # a repeated signal, or a row of an earlier run already counted
        self._window.discard(signal.row_id)
        if signal.outcome == "invited":
            self._counts.invited += 1
            return
        self._open.discard(signal.row_id)
        if signal.outcome == "failed":
            reason = signal.reason_code or "UNKNOWN"
            self._counts.failed[reason] = self._counts.failed.get(reason, 0) + 1
        else:
            setattr(self._counts, signal.outcome, getattr(self._counts, signal.outcome) + 1)

    @workflow.update(name=names.UPDATE_CAMPAIGN_ACTION)
    async def act(self, request: CampaignActionInput) -> CampaignProgress:
        if request.action == "cancel":
            self._cancelled = True
        else:
            self._paused = request.action == "pause"
            await self._status("paused" if self._paused else "running")
        return self.progress()

    @act.validator
    def _validate_act(self, request: CampaignActionInput) -> None:
        if self._done or self._cancelled:
            raise refuse("Closed", "该白名单批次已结束", "the campaign has ended")
        if request.action == "pause" and self._paused:
            raise refuse("InvalidState", "该批次已暂停", "the campaign is already paused")
        if request.action == "resume" and not self._paused:
            raise refuse("InvalidState", "该批次未暂停", "the campaign is not paused")

    @workflow.query(name=names.QUERY_PROGRESS)
    def progress(self) -> CampaignProgress:
        if self._done:
            status = "cancelled" if self._cancelled else "completed"
        elif self._cancelled:
            status = "cancelling"
        else:
            status = "paused" if self._paused else "running"
        return CampaignProgress(campaign_no=self._in.campaign_no, status=status, rows_total=self._in.rows_total,
                                counts=self._counts.model_copy(deep=True), in_window=len(self._window),
                                waiting_for_customers=len(self._open - self._window), runs=self._in.runs)
