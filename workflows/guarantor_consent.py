"""GuarantorConsentWorkflow: one per guarantor (at most two per loan) — SMS invite, consent or decline
within a deadline, then the guarantee contract's signature within another. Reports to the parent by signal."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.applications import ApplicationActivities
    from activities.signing import SigningActivities
    from workflows import names, policies
    from workflows.messages import (
        ConsentInput,
        ContractReadySignal,
        GuaranteeRecord,
        GuarantorInput,
        GuarantorResult,
        GuarantorState,
        GuarantorStatusSignal,
        SignDocumentInput,
        SignInput,
    )
    from workflows.notify import send_sms
    from workflows.refuse import refuse


@workflow.defn(name=names.GUARANTOR_CONSENT)
class GuarantorConsentWorkflow:
    @workflow.init
    def __init__(self, inp: GuarantorInput) -> None:
        self._in = inp
        self._status = "invited"
        self._consent: bool | None = None
        self._document_id: int | None = None
        self._signed = False

    @workflow.run
    async def run(self, inp: GuarantorInput) -> GuarantorResult:
        try:
            await self._record("invited")
            await self._sms("guarantor_invite", {"app_no": inp.app_no, "amount": f"{inp.amount:,.2f}",
                                                 "deadline_hours": str(inp.consent_deadline_hours)})
            if not await self._wait(lambda: self._consent is not None, hours=inp.consent_deadline_hours):
                return await self._end("expired")
            if not self._consent:
                return await self._end("declined")
            await self._record("consented")
            await self._tell_parent("consented")
            await workflow.wait_condition(lambda: self._document_id is not None)
            await self._sms("guarantor_sign_request", {"app_no": inp.app_no})
            if not await self._wait(lambda: self._signed, hours=inp.signing_deadline_hours):
                return await self._end("sign_expired", recorded="expired")
            return await self._end("signed")
        except asyncio.CancelledError:
            # The application ended (withdrawn, rejected, replaced): keep the read model true, then stop.
            await self._record("cancelled")
            raise

    async def _wait(self, predicate, *, hours: int) -> bool:
        try:
            await workflow.wait_condition(predicate, timeout=timedelta(hours=hours))
            return True
        except TimeoutError:
            return False

    async def _end(self, status: str, *, recorded: str | None = None) -> GuarantorResult:
        await workflow.wait_condition(workflow.all_handlers_finished)
        if status == "sign_expired" and self._signed:
            status = recorded = "signed"  # the signature under way when the deadline fired went through
        await self._record(recorded or status)
        await self._tell_parent(status)
        return GuarantorResult(slot=self._in.slot, attempt=self._in.attempt, status=status)

    async def _record(self, status: str) -> None:
        self._status = status
        inp = self._in
        await workflow.execute_activity_method(
            ApplicationActivities.record_guarantee,
            GuaranteeRecord(application_id=inp.application_id, slot=inp.slot, attempt=inp.attempt,
                            guarantor_customer_id=inp.guarantor_customer_id, status=status,
                            workflow_id=workflow.info().workflow_id),
            **policies.DB_WRITE.kwargs())

    async def _sms(self, template: str, params: dict[str, str]) -> None:
        await send_sms(idempotency_key=f"{workflow.info().workflow_id}:{template}",
                       customer_id=self._in.guarantor_customer_id, template=template, params=params)

    async def _tell_parent(self, status: str) -> None:
        parent = workflow.get_external_workflow_handle(self._in.parent_workflow_id)
        await parent.signal(names.SIGNAL_GUARANTOR_STATUS,
                            GuarantorStatusSignal(slot=self._in.slot, attempt=self._in.attempt, status=status))

    @workflow.update(name=names.UPDATE_CONSENT)
    async def consent(self, request: ConsentInput) -> GuarantorState:
        self._consent = request.accept
        return self.state()

    @consent.validator
    def _validate_consent(self, request: ConsentInput) -> None:
        if request.customer_id != self._in.guarantor_customer_id:
            raise refuse("NotAuthorised", "只有被邀请的保证人本人可以答复", "only the invited guarantor can answer")
        if self._status != "invited" or self._consent is not None:
            raise refuse("InvalidState", "该担保邀请已答复或已失效", "this invitation was already answered or has lapsed")

    @workflow.update(name=names.UPDATE_GUARANTOR_SIGN)
    async def sign(self, request: SignInput) -> GuarantorState:
        await workflow.execute_activity_method(
            SigningActivities.sign_document,
            SignDocumentInput(document_id=request.document_id, signer_customer_id=request.signer_customer_id,
                              otp_ref=request.otp_ref, channel="mobile"),
            **policies.SIGNING.kwargs())
        self._signed = True
        return self.state()

    @sign.validator
    def _validate_sign(self, request: SignInput) -> None:
        if request.signer_customer_id != self._in.guarantor_customer_id:
            raise refuse("NotAuthorised", "只有保证人本人可以签署保证合同", "only the guarantor can sign")
        if self._document_id is None or request.document_id != self._document_id:
            raise refuse("InvalidState", "保证合同尚未生成或不是该文件", "the guarantee contract is not ready or not this one")
        if self._signed or self._status != "consented":
            raise refuse("InvalidState", "当前不能签署", "nothing to sign now")

    @workflow.signal(name=names.SIGNAL_CONTRACT_READY)
    def contract_ready(self, signal: ContractReadySignal) -> None:
        self._document_id = signal.document_id

    @workflow.query(name=names.QUERY_STATE)
    def state(self) -> GuarantorState:
        return GuarantorState(slot=self._in.slot, attempt=self._in.attempt, status=self._status,
                              document_id=self._document_id)
