"""DrawdownWorkflow: one drawdown (支用) of a credit line — note and schedule, their PDFs (借据 and 还款计划表),
disbursement through core banking with an idempotency key, bookkeeping, SMS. If bookkeeping fails after the
money moved, the disbursement is reversed (compensation) so the ledger and the notes never disagree."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import ContractActivities
    from activities.disbursement import DisbursementActivities
    from activities.lines import CreditLineActivities
    from workflows import names, policies
    from workflows.messages import (
        CreateNoteInput,
        DisburseInput,
        DrawdownInput,
        DrawdownResult,
        DrawdownSettledSignal,
        IssueNoteDocumentsInput,
        NoteCreated,
        SettleNoteInput,
    )
    from workflows.notify import send_sms
    from workflows.refuse import activity_error_type


# Drawdowns started before the note documents existed replay without them.
NOTE_DOCUMENTS_PATCH = "note-documents"


@workflow.defn(name=names.DRAWDOWN)
class DrawdownWorkflow:
    @workflow.init
    def __init__(self, inp: DrawdownInput) -> None:
        self._in = inp
        self._stage = "started"
        self._reported = False
        self._money_moved = False

    @workflow.run
    async def run(self, inp: DrawdownInput) -> DrawdownResult:
        try:
            return await self._run(inp)
        except BaseException:
            # Whatever ended this drawdown, the credit line must hear of it, or the amount stays
            # reserved on the line for good: disbursed if money moved and was not reversed.
            if not self._reported:
                await self._settled("disbursed" if self._money_moved else "failed",
                                    None if self._money_moved else "DRAWDOWN_ABORTED")
            raise

    async def _run(self, inp: DrawdownInput) -> DrawdownResult:
        self._stage = "creating_note"
        try:
            note: NoteCreated = await workflow.execute_activity_method(
                CreditLineActivities.create_note,
                CreateNoteInput(line_id=inp.line_id, note_no=inp.note_no, customer_id=inp.customer_id,
                                product=inp.product, amount=inp.amount, term_months=inp.term_months,
                                repayment_method=inp.repayment_method, payment_mode=inp.payment_mode,
                                payee_ref=inp.payee_ref),
                **policies.DB_WRITE.kwargs())
        except ActivityError as err:
            if activity_error_type(err) != "DrawdownRefused":
                raise
            return await self._failed("DRAWDOWN_REFUSED", note_created=False)

        if workflow.patched(NOTE_DOCUMENTS_PATCH):
            # The note and its schedule go on paper before any money moves: a drawdown whose documents
            # cannot be issued is refused, not disbursed without them.
            self._stage = "issuing_documents"
            try:
                await workflow.execute_activity_method(
                    ContractActivities.issue_note_documents, IssueNoteDocumentsInput(note_no=inp.note_no),
                    **policies.DOCUMENTS.kwargs())
            except ActivityError:
                return await self._failed("NOTE_DOCUMENTS_FAILED")

        disbursement = DisburseInput(note_no=inp.note_no, idempotency_key=f"{inp.note_no}:disburse",
                                     customer_id=inp.customer_id, amount=inp.amount)
        self._stage = "disbursing"
        try:
            posting = await workflow.execute_activity_method(
                DisbursementActivities.disburse, disbursement, **policies.CORE_BANKING.kwargs())
        except ActivityError as err:
            if activity_error_type(err) != "PostingRefused":
                raise
            return await self._failed("DISBURSEMENT_REFUSED")

        self._money_moved = True
        self._stage = "booking"
        try:
            await workflow.execute_activity_method(
                CreditLineActivities.settle_note,
                SettleNoteInput(note_no=inp.note_no, status="disbursed", posting_id=posting.posting_id),
                **policies.AFTER_POSTING.kwargs())
        except ActivityError:
            self._stage = "compensating"
            await workflow.execute_activity_method(
                DisbursementActivities.reverse_disbursement, disbursement, **policies.CORE_BANKING.kwargs())
            self._money_moved = False
            return await self._failed("BOOKING_FAILED_REVERSED", status="reversed")

        self._stage = "disbursed"
        await self._settled("disbursed")
        await self._sms("drawdown_paid_to_payee" if note.payment_mode == "entrusted" else "drawdown_disbursed",
                        {"note_no": inp.note_no, "amount": f"{inp.amount:,.2f}", "account_tail": note.account_tail})
        return DrawdownResult(note_no=inp.note_no, status="disbursed", posting_ref=posting.posting_id)

    async def _failed(self, code: str, *, status: str = "failed", note_created: bool = True) -> DrawdownResult:
        self._stage = "failed"
        if note_created:
            await workflow.execute_activity_method(
                CreditLineActivities.settle_note,
                SettleNoteInput(note_no=self._in.note_no, status=status, failure_code=code),
                **policies.DB_WRITE.kwargs())
        await self._settled("failed", code)
        await self._sms("drawdown_failed", {"note_no": self._in.note_no})
        return DrawdownResult(note_no=self._in.note_no, status="failed", failure_code=code)

    async def _settled(self, status: str, code: str | None = None) -> None:
        self._reported = True
        parent = workflow.get_external_workflow_handle(self._in.parent_workflow_id)
        await parent.signal(names.SIGNAL_DRAWDOWN_SETTLED, DrawdownSettledSignal(
            note_no=self._in.note_no, amount=self._in.amount, status=status, failure_code=code))

    async def _sms(self, template: str, params: dict[str, str]) -> None:
        await send_sms(idempotency_key=f"{workflow.info().workflow_id}:{template}", customer_id=self._in.customer_id,
                       template=template, params=params)

    @workflow.query(name="stage")
    def stage(self) -> str:
        return self._stage
