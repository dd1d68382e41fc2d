"""DrawdownWorkflow: one drawdown (支用) of a credit line — note and schedule, the note's PDF (借据, with its 还款计划表),
disbursement through core banking with an idempotency key, bookkeeping, SMS. If bookkeeping fails after the
money moved, the disbursement is reversed (compensation) so the ledger and the notes never disagree."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import ContractActivities
    from activities.disbursement import DisbursementActivities
    from activities.lines import CreditLineActivities
    from activities.signing import SigningActivities
    from workflows import names, policies
    from workflows.messages import (
        CreateNoteInput,
        DisburseInput,
        DrawdownInput,
        DrawdownResult,
        DrawdownSettledSignal,
        DrawdownState,
        IssueNoteDocumentsInput,
        NoteCreated,
        NoteDocuments,
        SettleNoteInput,
        SignDocumentInput,
        SignInput,
    )
    from workflows.notify import send_sms
    from workflows.refuse import activity_error_type, refuse


# Drawdowns started before the note documents existed replay without them.
NOTE_DOCUMENTS_PATCH = "note-documents"
# Drawdowns started before the borrower signed the note replay without the signature step.
NOTE_SIGNATURE_PATCH = "note-signature"


@workflow.defn(name=names.DRAWDOWN)
class DrawdownWorkflow:
    @workflow.init
    def __init__(self, inp: DrawdownInput) -> None:
        self._in = inp
        self._stage = "started"
        self._reported = False
        self._money_moved = False
        self._note_document_id: int | None = None
        self._signed = False
        self._sign_failure: str | None = None
        self._failure: str | None = None

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
                issued: NoteDocuments = await workflow.execute_activity_method(
                    ContractActivities.issue_note_documents, IssueNoteDocumentsInput(note_no=inp.note_no),
                    **policies.DOCUMENTS.kwargs())
            except ActivityError:
                return await self._failed("NOTE_DOCUMENTS_FAILED")
            if workflow.patched(NOTE_SIGNATURE_PATCH):
                self._note_document_id = issued.note_document_id
                failure = await self._await_signature(inp)
                if failure is not None:
                    await workflow.execute_activity_method(
                        ContractActivities.void_note_documents, IssueNoteDocumentsInput(note_no=inp.note_no),
                        **policies.DB_WRITE.kwargs())
                    return await self._failed(failure)

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

    async def _await_signature(self, inp: DrawdownInput) -> str | None:
        """The borrower signs the note (and the cooperative seals it) before any money moves. None once
        signed; else why the drawdown stops: the deadline passed, or the signature could not be made."""
        self._stage = "awaiting_signature"
        hours = inp.product.note_signing_deadline_hours
        await self._sms("drawdown_sign_request", {"note_no": inp.note_no, "amount": f"{inp.amount:,.2f}",
                                                  "deadline_hours": str(hours)})
        try:
            await workflow.wait_condition(lambda: self._signed or self._sign_failure is not None,
                                          timeout=timedelta(hours=hours))
        except TimeoutError:
            pass
        # A signature under way when the deadline fired decides the outcome, not the timer.
        self._stage = "closing_signature"
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._signed:
            return None
        return self._sign_failure or "NOTE_NOT_SIGNED"

    async def _failed(self, code: str, *, status: str = "failed", note_created: bool = True) -> DrawdownResult:
        self._failure = code
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

    @workflow.update(name=names.UPDATE_SIGN_NOTE)
    async def sign_note(self, request: SignInput) -> DrawdownState:
        """The borrower's signature on the note, then the seal. A signature the CA refuses, or that cannot be
        made, cancels the drawdown: nothing was disbursed, and the line gets its amount back."""
        try:
            await workflow.execute_activity_method(
                SigningActivities.sign_document,
                SignDocumentInput(document_id=request.document_id, signer_customer_id=request.signer_customer_id,
                                  otp_ref=request.otp_ref, channel="mobile"),
                **policies.SIGNING.kwargs())
        except ActivityError as err:
            self._sign_failure = "NOTE_SIGNING_FAILED"
            raise refuse("SigningFailed", "借据签署失败，本次支用已取消，款项未发放",
                         f"the note could not be signed ({activity_error_type(err) or 'error'}); "
                         "the drawdown is cancelled") from err
        self._signed = True
        return self.state()

    @sign_note.validator
    def _validate_sign_note(self, request: SignInput) -> None:
        if self._stage != "awaiting_signature" or self._signed or self._sign_failure is not None:
            raise refuse("InvalidState", "当前没有待签署的借据", "the note is not awaiting a signature")
        if request.signer_customer_id != self._in.customer_id or request.document_id != self._note_document_id:
            raise refuse("NotAuthorised", "只能签署本人的借据", "only the borrower signs this note")

    @workflow.query(name="stage")
    def stage(self) -> str:
        return self._stage

    @workflow.query(name=names.QUERY_STATE)
    def state(self) -> DrawdownState:
        return DrawdownState(note_no=self._in.note_no, stage=self._stage, borrower_customer_id=self._in.customer_id,
                             note_document_id=self._note_document_id,
                             signed=self._signed, failure_code=self._failure)
