"""RepaymentWorkflow: one repayment of a loan note — fix the allocation, post it to core banking, book it
on the note, tell the credit line the principal came back, send a receipt. If booking fails after the
money moved, the posting is reversed (compensation) so the ledger and the note never disagree.

RepaymentReversalWorkflow: staff reverse a posted repayment (冲正): the posting first, then the note."""

from __future__ import annotations

from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.servicing import ServicingActivities
    from workflows import names, policies
    from workflows.messages import (
        FreezeSignal,
        PostingRef,
        PrincipalRepaidSignal,
        RepaymentBooked,
        RepaymentInput,
        RepaymentOutcome,
        RepaymentPrepared,
        RepaymentResult,
        ReversalInput,
    )
    from workflows.notify import send_sms
    from workflows.refuse import activity_error_type

FAILURE_REASON_ZH = {"INSUFFICIENT_FUNDS": "账户余额不足", "ACCOUNT_FROZEN": "账户已冻结",
                     "NOTE_CLOSED": "借据已结清", "EXCEEDS_PAYOFF": "金额超过结清所需"}


def _code(err: ActivityError) -> str:
    details = getattr(err.cause, "details", None) or ({},)
    return details[0].get("code", "REFUSED") if isinstance(details[0], dict) else "REFUSED"


async def _signal_line(line_workflow_id: str, signal: str, payload: object) -> None:
    """Revolving lines free the principal that came back, frozen lines thaw. A line past its expiry has
    finished and has no limit left to free: the signal then has nowhere to go, which is fine."""
    try:
        await workflow.get_external_workflow_handle(line_workflow_id).signal(signal, payload)
    except Exception as err:  # noqa: BLE001 - a closed line is the expected case
        workflow.logger.info("credit line %s not signalled %s: %s", line_workflow_id, signal, type(err).__name__)


async def _tell_line(line_workflow_id: str, ref: str, amount: Decimal) -> None:
    if amount:
        await _signal_line(line_workflow_id, names.SIGNAL_PRINCIPAL_REPAID, PrincipalRepaidSignal(ref=ref, amount=amount))


@workflow.defn(name=names.REPAYMENT)
class RepaymentWorkflow:
    @workflow.init
    def __init__(self, inp: RepaymentInput) -> None:
        self._stage = "started"

    @workflow.run
    async def run(self, inp: RepaymentInput) -> RepaymentResult:
        self._stage = "allocating"
        try:
            prepared: RepaymentPrepared = await workflow.execute_activity_method(
                ServicingActivities.prepare_repayment, inp, **policies.DB_WRITE.kwargs())
        except ActivityError as err:
            if activity_error_type(err) != "RepaymentRefused":
                raise
            return await self._failed(inp, _code(err), None)

        self._stage = "posting"
        try:
            posting: PostingRef = await workflow.execute_activity_method(
                ServicingActivities.post_repayment, prepared, **policies.CORE_BANKING.kwargs())
        except ActivityError as err:
            if activity_error_type(err) != "PostingRefused":
                raise
            return await self._failed(inp, _code(err), prepared)

        self._stage = "booking"
        try:
            booked: RepaymentBooked = await workflow.execute_activity_method(
                ServicingActivities.book_repayment, args=[inp, posting], **policies.AFTER_POSTING.kwargs())
        except ActivityError:
            self._stage = "compensating"
            reversed_: PostingRef | None = await workflow.execute_activity_method(
                ServicingActivities.compensate_posting, inp, **policies.CORE_BANKING.kwargs())
            if reversed_ is not None:
                return await self._failed(inp, "BOOKING_FAILED_REVERSED", prepared)
            # A timed-out attempt had booked it after all: read what it booked, and carry on as posted.
            booked = await workflow.execute_activity_method(
                ServicingActivities.book_repayment, args=[inp, posting], **policies.DB_WRITE.kwargs())

        self._stage = "posted"
        await _tell_line(inp.line_workflow_id, inp.repayment_no, booked.principal)
        if booked.cured:
            await _signal_line(inp.line_workflow_id, names.SIGNAL_UNFREEZE,
                               FreezeSignal(reason_code="OVERDUE_CURED", actor="repayment"))
        params = await workflow.execute_activity_method(
            ServicingActivities.receipt_params, inp, **policies.DB_WRITE.kwargs())
        if booked.note_settled:
            await self._sms(inp, "loan_settled", {"note_no": inp.note_no})
        else:
            await self._sms(inp, "repayment_received", {k: params[k] for k in ("note_no", "amount", "outstanding")})
        return RepaymentResult(repayment_no=inp.repayment_no, status="posted", kind=prepared.kind,
                               posting_id=posting.posting_id)

    async def _failed(self, inp: RepaymentInput, code: str, prepared: RepaymentPrepared | None) -> RepaymentResult:
        self._stage = "failed"
        await workflow.execute_activity_method(
            ServicingActivities.fail, RepaymentOutcome(repayment_no=inp.repayment_no, status="failed",
                                                       failure_code=code), **policies.DB_WRITE.kwargs())
        params = await workflow.execute_activity_method(
            ServicingActivities.receipt_params, inp, **policies.DB_WRITE.kwargs())
        await self._sms(inp, "repayment_failed", {"note_no": inp.note_no, "amount": params["amount"],
                                                  "reason": FAILURE_REASON_ZH.get(code, "请联系您的客户经理")})
        return RepaymentResult(repayment_no=inp.repayment_no, status="failed", failure_code=code,
                               kind=prepared.kind if prepared else None)

    async def _sms(self, inp: RepaymentInput, template: str, params: dict[str, str]) -> None:
        await send_sms(idempotency_key=f"{workflow.info().workflow_id}:{template}", customer_id=inp.customer_id,
                       template=template, params=params)

    @workflow.query(name="stage")
    def stage(self) -> str:
        return self._stage


@workflow.defn(name=names.REPAYMENT_REVERSAL)
class RepaymentReversalWorkflow:
    @workflow.run
    async def run(self, inp: ReversalInput) -> RepaymentResult:
        try:
            await workflow.execute_activity_method(
                ServicingActivities.begin_reversal, inp, **policies.DB_WRITE.kwargs())
        except ActivityError as err:
            if activity_error_type(err) != "ReversalRefused":
                raise
            return RepaymentResult(repayment_no=inp.repayment_no, status="failed", failure_code=_code(err))
        try:
            posting: PostingRef = await workflow.execute_activity_method(
                ServicingActivities.reverse_repayment_posting, inp, **policies.CORE_BANKING.kwargs())
        except ActivityError as err:
            if activity_error_type(err) != "ReversalRefused":
                raise
            await workflow.execute_activity_method(
                ServicingActivities.abandon_reversal, inp, **policies.DB_WRITE.kwargs())
            return RepaymentResult(repayment_no=inp.repayment_no, status="failed", failure_code=_code(err))
        principal: Decimal = await workflow.execute_activity_method(
            ServicingActivities.unbook_repayment, args=[inp, posting], **policies.DB_WRITE.kwargs())
        await _tell_line(inp.line_workflow_id, f"{inp.repayment_no}:reversed", -principal)
        return RepaymentResult(repayment_no=inp.repayment_no, status="reversed", posting_id=posting.posting_id)
