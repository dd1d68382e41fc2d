"""LoanApplicationWorkflow: one per application (loan-app-<app_no>).

accept -> (customer confirms a staff-proxy application) -> review -> guarantors consent -> approval
(automatic within rules, or a human approver with an SLA that escalates) -> contracts -> e-signatures
-> credit line activated as a child CreditLineWorkflow. Refer-back, rejection, withdrawal by the
customer and cancellation by staff are first-class endings. The read model in the database follows
every stage through `record_stage`; the `state` query gives the live business state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ActivityError
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.applications import ApplicationActivities
    from activities.contracts import ContractActivities
    from activities.lines import CreditLineActivities
    from activities.signing import SigningActivities
    from domain.money import amount_band
    from domain.pricing import PriceBreakdown
    from workflows import names, policies
    from workflows import search_attributes as sa
    from workflows.credit_line import CreditLineWorkflow
    from workflows.guarantor_consent import GuarantorConsentWorkflow
    from workflows.messages import (
        AcceptanceResult,
        ActivateLineInput,
        AmendTermsInput,
        ApplicationRef,
        ApplicationState,
        ApprovalDecisionInput,
        CancelInput,
        ConfirmationCodeRequest,
        ConfirmInput,
        ContractReadySignal,
        CreditLineInput,
        DocumentRef,
        GuarantorInput,
        GuarantorSlotView,
        GuarantorStatusSignal,
        IssueContractsInput,
        LineActivated,
        LoanApplicationInput,
        LoanApplicationResult,
        ReplaceGuarantorInput,
        ReviewResult,
        SignDocumentInput,
        SignInput,
        StageUpdate,
        SupersedeDocumentsInput,
        SupplyInfoInput,
        WithdrawInput,
    )
    from workflows.notify import send_sms
    from workflows.refuse import refuse

# Amendments record their reason on the voided documents (older runs sent the bare application id).
AMEND_TERMS_PATCH = "amend-terms-reason"
CLOSED_STAGES = ("activating", "completed", "rejected", "withdrawn", "cancelled", "expired")
MAX_ESCALATIONS = 2
CANCEL_ROLES = ("customer_manager", "approver", "admin")


def _rules_of(result: AcceptanceResult | ReviewResult) -> dict:
    """The rule-set version and decision record behind a result, for the loan's history (none in old histories)."""
    if result.rule_set_version is None:
        return {}
    return {"rule_set_version": result.rule_set_version, "decision_id": result.decision_id}


class _Stopped(Exception):
    """The customer withdrew or staff cancelled while the workflow was waiting."""


@workflow.defn(name=names.LOAN_APPLICATION)
class LoanApplicationWorkflow:
    @workflow.init
    def __init__(self, inp: LoanApplicationInput) -> None:
        self._in = inp
        self._state = ApplicationState(app_no=inp.app_no, stage="submitted", status="open")
        self._seq = 0
        self._confirmed = inp.channel != "staff_proxy"
        self._decision: ApprovalDecisionInput | None = None
        self._supplied = False
        self._stop: WithdrawInput | CancelInput | None = None
        self._signed: set[int] = set()
        self._children: dict[int, ChildWorkflowHandle] = {}
        self._replacements: dict[int, int] = {}
        self._closing = False
        self._price: PriceBreakdown | None = None
        self._amend: AmendTermsInput | None = None
        self._reviews = 0

    # ---- the flow ----------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: LoanApplicationInput) -> LoanApplicationResult:
        workflow.upsert_search_attributes([
            sa.BRANCH.value_set(inp.branch_code), sa.PRODUCT.value_set(inp.product.code),
            sa.CHANNEL.value_set(inp.channel), sa.AMOUNT_BAND.value_set(amount_band(inp.amount))])
        try:
            return await self._flow(inp)
        except _Stopped:
            stop = self._stop
            if isinstance(stop, WithdrawInput):
                return await self._end("withdrawn", "withdrawn", ["CUSTOMER_WITHDREW"], "withdrawn",
                                       actor=f"customer:{stop.customer_id}")
            assert isinstance(stop, CancelInput)
            return await self._end("cancelled", "cancelled", [stop.reason_code], "cancelled",
                                   actor=f"staff:{stop.staff_id}")
        except ActivityError as err:
            # A step failed for good (retries spent, or a non-retryable error nobody expected): close the
            # read model, so the application neither looks alive nor blocks the customer's next one, and
            # let the workflow fail for ops to see in the UI.
            if self._state.status in ("open", "approved") and not self._closing:
                self._closing = True
                await self._stage("failed", status="failed", reasons=["STEP_FAILED"],
                                  detail={"error": type(err.cause).__name__ if err.cause else "ActivityError"})
            raise

    async def _flow(self, inp: LoanApplicationInput) -> LoanApplicationResult:
        await self._stage("submitted", actor=self._initiator())
        await self._sms("application_received", {"app_no": inp.app_no})
        if not self._confirmed:
            await self._stage("awaiting_confirmation")
            await workflow.execute_activity_method(
                ApplicationActivities.issue_confirmation_code,
                ConfirmationCodeRequest(application_id=inp.application_id, customer_id=inp.customer_id,
                                        purpose=f"confirm:{inp.app_no}", ttl_minutes=30),
                **policies.SMS.kwargs())
            if not await self._wait(lambda: self._confirmed, hours=inp.product.confirmation_deadline_hours):
                return await self._end("expired", "expired", ["CUSTOMER_DID_NOT_CONFIRM"], "expired")

        await self._stage("accepting")
        acceptance: AcceptanceResult = await workflow.execute_activity_method(
            ApplicationActivities.accept,
            ApplicationRef(application_id=inp.application_id, product=inp.product,
                           guarantor_customer_ids=inp.guarantor_customer_ids,
                           decision_key=f"{workflow.info().workflow_id}:accept"),
            **policies.DB_WRITE.kwargs())
        if not acceptance.accepted:
            return await self._end("rejected", "rejected", [r.code for r in acceptance.refusals], "rejected",
                                   detail={"refusals": [r.model_dump() for r in acceptance.refusals],
                                           **_rules_of(acceptance)})
        for slot, guarantor_id in enumerate(inp.guarantor_customer_ids, start=1):
            await self._invite_guarantor(slot, 1, guarantor_id)

        approved_amount = await self._review_and_approve(inp)
        if approved_amount is None:
            return self._result()

        await self._stage("contracting")
        while True:
            await self._issue_contracts(inp, approved_amount)
            await self._stage("awaiting_signatures")
            await self._sms("contracts_ready", {"app_no": inp.app_no,
                                                "deadline_hours": str(inp.product.signing_deadline_hours)})
            if not await self._wait(lambda: self._all_signed() or self._amend is not None,
                                    hours=inp.product.signing_deadline_hours):
                return await self._end("expired", "expired", ["SIGNING_DEADLINE_PASSED"], "expired")
            if self._amend is None:
                break
            # Terms changed: nothing signed on the old terms may stand, and the new contracts get a
            # fresh signing window.
            amended = await self._apply_amendment(self._amend)
            self._amend = None
            if amended is None:
                return self._result()  # a guarantor refused the new terms and nobody replaced them
            approved_amount = amended
        if any(s.status == "sign_expired" for s in self._current_slots()):
            return await self._end("expired", "expired", ["GUARANTOR_DID_NOT_SIGN"], "expired")

        await self._stage("activating")
        line: LineActivated = await workflow.execute_activity_method(
            CreditLineActivities.activate_line,
            ActivateLineInput(application_id=inp.application_id, approved_amount=approved_amount,
                              annual_rate=self._state.annual_rate, revolving=inp.product.revolving,
                              validity_months=inp.product.line_validity_months,
                              # The contract caps each drawdown at the applied term, with its repayment method.
                              max_term_months=self._state.term_months or inp.term_months),
            **policies.DB_WRITE.kwargs())
        await workflow.start_child_workflow(
            CreditLineWorkflow.run,
            CreditLineInput(line_id=line.line_id, line_no=line.line_no, customer_id=inp.customer_id,
                            branch_code=inp.branch_code, product=inp.product, amount=line.amount,
                            revolving=line.revolving, expiry_date=line.expiry_date,
                            max_term_months=line.max_term_months,
                            repayment_methods=[self._state.repayment_method or inp.repayment_method]),
            id=line.workflow_id,
            # The line outlives the application by years.
            parent_close_policy=ParentClosePolicy.ABANDON)
        self._state.line_no = line.line_no
        await self._stage("completed", status="active", detail={"line_no": line.line_no})
        await self._sms("line_activated", {"line_no": line.line_no, "amount": f"{line.amount:,.2f}",
                                           "expiry_date": line.expiry_date.isoformat()})
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._result()

    async def _issue_contracts(self, inp: LoanApplicationInput, approved_amount: Decimal) -> None:
        documents: list[DocumentRef] = await workflow.execute_activity_method(
            ContractActivities.issue_contracts,
            IssueContractsInput(application_id=inp.application_id, approved_amount=approved_amount,
                                annual_rate=self._state.annual_rate,
                                line_validity_months=inp.product.line_validity_months,
                                revolving=inp.product.revolving, price=self._price,
                                guarantor_slots={s.slot: s.guarantor_customer_id for s in self._current_slots()},
                                revision=self._state.contract_revision),
            **policies.DOCUMENTS.kwargs())
        self._state.documents = documents
        for doc in documents:
            if doc.kind == "guarantee_contract" and doc.guarantor_slot in self._children:
                await self._children[doc.guarantor_slot].signal(names.SIGNAL_CONTRACT_READY,
                                                                ContractReadySignal(document_id=doc.document_id))

    async def _apply_amendment(self, amend: AmendTermsInput) -> Decimal | None:
        """Void the old contracts, record the new terms and, for a guaranteed loan, ask every guarantor to
        consent again. The new amount, or None when the application ended meanwhile."""
        # A signature under way lands before the old contracts are voided, never on a new one.
        await workflow.wait_condition(workflow.all_handlers_finished)
        await workflow.execute_activity_method(
            ContractActivities.supersede_documents,
            # Runs started before the reason was recorded sent the bare id: replay must see the same input.
            SupersedeDocumentsInput(application_id=self._in.application_id, reason_code=amend.reason_code)
            if workflow.patched(AMEND_TERMS_PATCH) else self._in.application_id,
            **policies.DB_WRITE.kwargs())
        self._signed.clear()
        self._state.signed_document_ids = []
        self._state.contract_revision += 1
        self._state.approved_amount = amend.approved_amount
        changed: dict = {}
        if amend.term_months is not None:
            self._state.term_months = changed["term_months"] = amend.term_months
        if amend.repayment_method is not None:
            self._state.repayment_method = changed["repayment_method"] = amend.repayment_method
        if amend.annual_rate is not None:
            self._state.annual_rate = amend.annual_rate
            changed["annual_rate"] = str(amend.annual_rate)
        await self._write(ApplicationActivities.record_decision, "contracting", "approved", [],
                          f"staff:{amend.approver_id}",
                          {"approved_amount": str(amend.approved_amount), "amended": amend.reason_code,
                           "contract_revision": self._state.contract_revision, **changed})
        if self._current_slots():
            # A guarantee covers the debt as written: under new terms each guarantor answers again, and
            # may refuse; a refusal can be replaced in time, as before approval.
            for slot in self._current_slots():
                await self._cancel_child(self._children[slot.slot])
                await self._invite_guarantor(slot.slot, slot.attempt + 1, slot.guarantor_customer_id)
            if not await self._gather_guarantors():
                return None
            await self._stage("contracting")
        return amend.approved_amount

    async def _review_and_approve(self, inp: LoanApplicationInput) -> Decimal | None:
        """Review, guarantors and approval, looping on refer-back. None when the application ended."""
        while True:
            await self._stage("reviewing")
            self._reviews += 1  # a referred-back application is reviewed again: a decision of its own
            review: ReviewResult = await workflow.execute_activity_method(
                ApplicationActivities.review,
                ApplicationRef(application_id=inp.application_id, product=inp.product,
                               decision_key=f"{workflow.info().workflow_id}:review-{self._reviews}"),
                **policies.RATING.kwargs())
            self._state.grade, self._state.credit_limit = review.grade, review.credit_limit
            self._state.annual_rate = review.price.annual_rate if review.price else None
            self._price = review.price
            if review.decision == "reject":
                await self._end("rejected", "rejected", review.reason_codes, "rejected", detail=_rules_of(review))
                return None
            if inp.guarantor_customer_ids and not await self._gather_guarantors():
                return None
            if review.decision == "approve":
                amount = inp.amount
                await self._record_decision("approved", "approved", review.reason_codes, amount, actor="rules",
                                            extra=_rules_of(review))
            else:
                decision = await self._human_approval(review)
                if decision is None:
                    return None
                if decision.decision == "reject":
                    await self._end("rejected", "rejected", decision.reason_codes, "rejected",
                                    actor=f"staff:{decision.approver_id}")
                    return None
                if decision.decision == "refer_back":
                    if not await self._referred_back(decision):
                        return None
                    continue
                amount = decision.approved_amount or inp.amount
                await self._record_decision("approved", "approved", decision.reason_codes, amount,
                                            actor=f"staff:{decision.approver_id}")
            self._state.approved_amount = amount
            await self._sms("approved", {"app_no": inp.app_no, "amount": f"{amount:,.2f}",
                                         "rate_percent": f"{self._state.annual_rate * 100:.2f}"})
            return amount

    async def _human_approval(self, review: ReviewResult) -> ApprovalDecisionInput | None:
        self._decision = None
        branches = [self._in.branch_code] + ([self._in.escalation_branch_code] if self._in.escalation_branch_code else [])
        limit = self._in.branch_approval_limit
        # Beyond every branch approver's authority: straight to the county, not after a day in a queue
        # nobody there may clear.
        first = 1 if limit is not None and self._in.amount > limit and len(branches) > 1 else 0
        for level in range(first, MAX_ESCALATIONS + 1):
            self._state.escalation_level = level
            self._state.assignee = f"approver@{branches[min(level, len(branches) - 1)]}"
            self._state.sla_due_at = workflow.now() + timedelta(hours=self._in.product.approval_sla_hours)
            await self._stage("awaiting_approval", reasons=review.reason_codes,
                              detail={"escalation_level": level, "score": review.score, "grade": review.grade,
                                      **_rules_of(review)})
            if await self._wait(lambda: self._decision is not None, hours=self._in.product.approval_sla_hours):
                decision = self._decision
                self._state.assignee, self._state.sla_due_at = None, None
                return decision
        await self._end("expired", "expired", ["APPROVAL_SLA_EXPIRED"], "expired")
        return None

    async def _referred_back(self, decision: ApprovalDecisionInput) -> bool:
        self._supplied, self._decision = False, None
        await self._stage("referred_back", reasons=decision.reason_codes, actor=f"staff:{decision.approver_id}",
                          detail={"comment": decision.comment})
        await self._sms("referred_back", {"app_no": self._in.app_no})
        if not await self._wait(lambda: self._supplied, hours=self._in.product.referral_deadline_hours):
            await self._end("expired", "expired", ["INFORMATION_NOT_SUPPLIED"], "expired")
            return False
        return True

    # ---- guarantors --------------------------------------------------------------------------

    async def _invite_guarantor(self, slot: int, attempt: int, guarantor_id: int) -> None:
        child_id = names.guarantor_workflow_id(self._in.app_no, slot, attempt)
        view = GuarantorSlotView(slot=slot, attempt=attempt, guarantor_customer_id=guarantor_id, status="invited",
                                 workflow_id=child_id)
        self._state.guarantors = [g for g in self._state.guarantors if g.slot != slot] + [view]
        self._children[slot] = await workflow.start_child_workflow(
            GuarantorConsentWorkflow.run,
            GuarantorInput(application_id=self._in.application_id, app_no=self._in.app_no,
                           parent_workflow_id=workflow.info().workflow_id, slot=slot, attempt=attempt,
                           guarantor_customer_id=guarantor_id, borrower_customer_id=self._in.customer_id,
                           # What the guarantee would cover: the approved amount once there is one.
                           amount=self._state.approved_amount or self._in.amount,
                           consent_deadline_hours=self._in.product.guarantor_deadline_hours,
                           signing_deadline_hours=self._in.product.signing_deadline_hours),
            id=child_id, parent_close_policy=ParentClosePolicy.REQUEST_CANCEL)

    def _current_slots(self) -> list[GuarantorSlotView]:
        return sorted(self._state.guarantors, key=lambda g: g.slot)

    async def _gather_guarantors(self) -> bool:
        """Wait until every slot consented; a declined or lapsed guarantor can be replaced in time."""
        while True:
            await self._stage("awaiting_guarantors")
            await self._wait(lambda: all(s.status != "invited" for s in self._current_slots()), hours=None)
            lapsed = [s for s in self._current_slots() if s.status in ("declined", "expired")]
            if not lapsed:
                return True
            self._replacements = {}
            await self._stage("awaiting_guarantor_replacement",
                              reasons=[f"GUARANTOR_{s.slot}_{s.status.upper()}" for s in lapsed])
            await self._sms("guarantor_replaced_needed", {"app_no": self._in.app_no})
            needed = {s.slot for s in lapsed}
            if not await self._wait(lambda needed=needed: needed <= set(self._replacements),
                                    hours=self._in.product.replacement_deadline_hours):
                await self._end("expired", "expired", ["GUARANTOR_NOT_REPLACED"], "expired")
                return False
            for slot in sorted(needed):
                old = next(s for s in self._state.guarantors if s.slot == slot)
                await self._invite_guarantor(slot, old.attempt + 1, self._replacements[slot])

    def _all_signed(self) -> bool:
        borrower_docs = [d.document_id for d in self._state.documents if d.kind == "loan_contract"]
        slots = self._current_slots()
        guarantors_done = all(s.status in ("signed", "sign_expired") for s in slots)
        return set(borrower_docs) <= self._signed and guarantors_done or any(s.status == "sign_expired" for s in slots)

    # ---- helpers -----------------------------------------------------------------------------

    async def _wait(self, predicate: Callable[[], bool], *, hours: int | None) -> bool:
        """Wait for `predicate`; False on timeout; raises _Stopped on withdrawal or cancellation."""
        try:
            await workflow.wait_condition(lambda: predicate() or self._stop is not None,
                                          timeout=timedelta(hours=hours) if hours else None)
        except TimeoutError:
            return False
        if self._stop is not None:
            raise _Stopped()
        return True

    def _initiator(self) -> str:
        if self._in.initiator_staff_id:
            return f"staff:{self._in.initiator_staff_id}"
        return f"customer:{self._in.customer_id}"

    async def _stage(self, stage: str, *, status: str | None = None, reasons: list[str] | None = None,
                     actor: str = "system", detail: dict | None = None) -> None:
        if self._stop is not None and not self._closing:
            raise _Stopped()  # a withdrawal that came in while an activity ran: stop before the next step
        await self._write(ApplicationActivities.record_stage, stage, status or self._state.status, reasons or [],
                          actor, detail or {})

    async def _record_decision(self, stage: str, status: str, reasons: list[str], amount: Decimal, *,
                               actor: str, extra: dict | None = None) -> None:
        detail = {"approved_amount": str(amount), **(extra or {})}
        if self._decision is not None:
            detail.update(approver_id=self._decision.approver_id, comment=self._decision.comment)
        await self._write(ApplicationActivities.record_decision, stage, status, reasons, actor, detail)

    async def _write(self, activity, stage: str, status: str, reasons: list[str], actor: str, detail: dict) -> None:
        self._seq += 1
        self._state.stage, self._state.status = stage, status
        if reasons:
            self._state.reason_codes = reasons
        workflow.upsert_search_attributes([
            sa.STAGE.value_set(stage), sa.ASSIGNEE.value_set(self._state.assignee or ""),
            sa.SLA_DUE.value_set(self._state.sla_due_at) if self._state.sla_due_at else sa.SLA_DUE.value_unset()])
        await workflow.execute_activity_method(
            activity,
            StageUpdate(application_id=self._in.application_id, seq=self._seq, stage=stage, status=status,
                        actor=actor, reason_codes=reasons, assignee=self._state.assignee,
                        sla_due_at=self._state.sla_due_at, detail=detail),
            **policies.DB_WRITE.kwargs())

    async def _sms(self, template: str, params: dict[str, str]) -> None:
        self._seq += 1
        await send_sms(idempotency_key=f"{workflow.info().workflow_id}:{self._seq}:{template}",
                       customer_id=self._in.customer_id, template=template, params=params)

    async def _end(self, stage: str, status: str, reasons: list[str], template: str, *, actor: str = "system",
                   detail: dict | None = None) -> LoanApplicationResult:
        # From here on nothing may withdraw, cancel or sign: let a signature already under way finish
        # first, so that it lands before the documents are voided rather than after.
        self._closing = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        for handle in self._children.values():
            await self._cancel_child(handle)
        if self._state.documents:
            await workflow.execute_activity_method(ContractActivities.void_documents, self._in.application_id,
                                                   **policies.DB_WRITE.kwargs())
        self._state.assignee, self._state.sla_due_at = None, None
        await self._stage(stage, status=status, reasons=reasons, actor=actor, detail=detail)
        await self._sms(template, {"app_no": self._in.app_no})
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._result()

    async def _cancel_child(self, handle: ChildWorkflowHandle) -> None:
        slot = next((s for s in self._state.guarantors if s.workflow_id == handle.id), None)
        if slot is not None and slot.status in ("invited", "consented"):
            handle.cancel()

    def _result(self) -> LoanApplicationResult:
        return LoanApplicationResult(app_no=self._in.app_no, status=self._state.status,
                                     reason_codes=self._state.reason_codes, line_no=self._state.line_no)

    # ---- messages ----------------------------------------------------------------------------

    @workflow.update(name=names.UPDATE_CONFIRM)
    def confirm(self, request: ConfirmInput) -> ApplicationState:
        self._confirmed = True
        return self.state()

    @confirm.validator
    def _validate_confirm(self, request: ConfirmInput) -> None:
        if request.customer_id != self._in.customer_id:
            raise refuse("NotAuthorised", "只有借款人本人可以确认", "only the borrower can confirm")
        if self._state.stage != "awaiting_confirmation":
            raise refuse("InvalidState", "该申请当前无需确认", "this application is not awaiting confirmation")

    @workflow.update(name=names.UPDATE_DECIDE)
    def decide(self, decision: ApprovalDecisionInput) -> ApplicationState:
        self._decision = decision
        return self.state()

    @decide.validator
    def _validate_decide(self, d: ApprovalDecisionInput) -> None:
        if self._state.stage != "awaiting_approval" or self._decision is not None:
            raise refuse("InvalidState", "该申请当前不在待审批状态", "this application is not awaiting approval")
        if d.approver_role != "approver":
            raise refuse("NotAuthorised", "只有审批岗可以审批", "only approvers can decide")
        if self._state.assignee != f"approver@{d.approver_branch}":
            raise refuse("NotAssignee", "该申请不在您所在机构的审批队列中", "this application is assigned elsewhere")
        if d.approver_id == self._in.initiator_staff_id:
            raise refuse("SameAsInitiator", "审批人不能是发起人本人", "the approver cannot be the initiator")
        if d.decision == "approve":
            amount = d.approved_amount or self._in.amount
            if amount <= 0 or amount > self._in.amount:
                raise refuse("AmountInvalid", "批准金额须大于零且不超过申请金额", "approved amount must be within the request")
            limit = self._authority(d.approver_role, d.approver_branch, d.authority_limit)
            if amount > limit:
                raise refuse("AuthorityExceeded", f"超出您的审批权限({limit:,.2f}元)",
                             f"amount exceeds your approval authority ({limit:,.2f})")
        elif not d.reason_codes:
            raise refuse("ReasonRequired", "拒绝或退回须填写原因", "a reason code is required")

    def _authority(self, role: str, branch: str, staff_limit: Decimal) -> Decimal:
        """The lower of the approver's own limit and the pinned product's for their role; an approver of the
        county branch (where escalations go) has the county's. Validators do not run on replay, so old
        histories are unaffected."""
        county = branch == self._in.escalation_branch_code and branch != self._in.branch_code
        limit = self._in.product.authority_limit("county_approver" if county and role == "approver" else role,
                                                 staff_limit)
        assert limit is not None
        return limit

    @workflow.update(name=names.UPDATE_SUPPLY_INFO)
    def supply_info(self, request: SupplyInfoInput) -> ApplicationState:
        self._supplied = True
        return self.state()

    @supply_info.validator
    def _validate_supply(self, request: SupplyInfoInput) -> None:
        if self._state.stage != "referred_back":
            raise refuse("InvalidState", "该申请未被退回补充资料", "this application was not referred back")

    @workflow.update(name=names.UPDATE_SIGN)
    async def sign(self, request: SignInput) -> ApplicationState:
        await workflow.execute_activity_method(
            SigningActivities.sign_document,
            SignDocumentInput(document_id=request.document_id, signer_customer_id=request.signer_customer_id,
                              otp_ref=request.otp_ref, channel=self._in.channel),
            **policies.SIGNING.kwargs())
        self._signed.add(request.document_id)
        self._state.signed_document_ids = sorted(self._signed)
        return self.state()

    @sign.validator
    def _validate_sign(self, request: SignInput) -> None:
        if self._state.stage != "awaiting_signatures" or self._closing or self._amend is not None:
            raise refuse("InvalidState", "当前没有待签署的合同", "nothing to sign now")
        doc = next((d for d in self._state.documents if d.document_id == request.document_id), None)
        if doc is None or doc.kind != "loan_contract" or doc.signer_customer_id != request.signer_customer_id:
            raise refuse("NotAuthorised", "只能签署本人的借款合同", "you can only sign your own loan contract")
        if request.document_id in self._signed:
            raise refuse("InvalidState", "合同已签署", "already signed")

    @workflow.update(name=names.UPDATE_AMEND_TERMS)
    def amend_terms(self, request: AmendTermsInput) -> ApplicationState:
        self._amend = request
        return self.state()

    @amend_terms.validator
    def _validate_amend(self, request: AmendTermsInput) -> None:
        if self._state.stage != "awaiting_signatures" or self._closing or self._amend is not None:
            raise refuse("InvalidState", "只能在待签署阶段变更合同条款", "terms can change only while awaiting signatures")
        if request.approver_role != "approver":
            raise refuse("NotAuthorised", "只有审批岗可以变更合同条款", "only approvers can amend terms")
        if request.approver_id == self._in.initiator_staff_id:
            raise refuse("SameAsInitiator", "审批人不能是发起人本人", "the approver cannot be the initiator")
        current = self._state.approved_amount or self._in.amount
        if not 0 < request.approved_amount <= current:
            raise refuse("AmountInvalid", "变更后的金额须大于零且不高于原批准金额",
                         "the amended amount must be positive and not above the approved amount")
        limit = self._authority(request.approver_role, request.approver_branch, request.authority_limit)
        if request.approved_amount > limit:
            raise refuse("AuthorityExceeded", f"超出您的审批权限({limit:,.2f}元)",
                         f"amount exceeds your approval authority ({limit:,.2f})")
        product = self._in.product
        term = request.term_months or self._state.term_months or self._in.term_months
        method = request.repayment_method or self._state.repayment_method or self._in.repayment_method
        if not product.min_term_months <= term <= product.max_term_months:
            raise refuse("TermOutOfRange", f"期限须在{product.min_term_months}至{product.max_term_months}个月之间",
                         "term outside the product's bounds")
        if method not in product.repayment_methods:
            raise refuse("RepaymentMethod", "本产品不支持该还款方式", "repayment method not offered")
        if method == "bullet" and term > product.bullet_max_months:
            raise refuse("BulletTooLong", "利随本清贷款期限不得超过一年", "bullet loans are at most 1 year")
        rate = request.annual_rate
        if rate is not None and rate != self._state.annual_rate:
            # Each drawdown note is priced by the pricing rule set on its own date, so an amended contract rate
            # would be printed but never charged. Until notes can carry a contract's amended spread, refuse it.
            raise refuse("RateNotAmendable", "利率由定价规则确定，暂不能通过变更条款修改",
                         "the rate follows the pricing rules and cannot be amended yet")
        unchanged = (request.approved_amount == current and term == (self._state.term_months or self._in.term_months)
                     and method == (self._state.repayment_method or self._in.repayment_method)
                     and (rate is None or rate == self._state.annual_rate))
        if unchanged:
            raise refuse("NothingChanged", "变更后的条款与原条款相同", "the amendment changes nothing")

    @workflow.update(name=names.UPDATE_WITHDRAW)
    def withdraw(self, request: WithdrawInput) -> ApplicationState:
        self._stop = request
        return self.state()

    @withdraw.validator
    def _validate_withdraw(self, request: WithdrawInput) -> None:
        if request.customer_id != self._in.customer_id:
            raise refuse("NotAuthorised", "只有借款人本人可以撤回申请", "only the borrower can withdraw")
        self._require_stoppable()

    @workflow.update(name=names.UPDATE_CANCEL)
    def cancel(self, request: CancelInput) -> ApplicationState:
        self._stop = request
        return self.state()

    @cancel.validator
    def _validate_cancel(self, request: CancelInput) -> None:
        if request.staff_role not in CANCEL_ROLES:
            raise refuse("NotAuthorised", "您的岗位不能撤销申请", "your role cannot cancel applications")
        if not request.reason_code:
            raise refuse("ReasonRequired", "撤销须填写原因", "a reason code is required")
        self._require_stoppable()

    def _require_stoppable(self) -> None:
        if self._state.stage in CLOSED_STAGES or self._stop is not None or self._closing:
            raise refuse("Closed", "该申请已结束或正在放款,不能撤回", "the application has ended or is being activated")

    @workflow.update(name=names.UPDATE_REPLACE_GUARANTOR)
    def replace_guarantor(self, request: ReplaceGuarantorInput) -> ApplicationState:
        self._replacements[request.slot] = request.guarantor_customer_id
        return self.state()

    @replace_guarantor.validator
    def _validate_replace(self, request: ReplaceGuarantorInput) -> None:
        if self._state.stage != "awaiting_guarantor_replacement":
            raise refuse("InvalidState", "当前无需更换保证人", "no guarantor needs replacing now")
        slot = next((s for s in self._state.guarantors if s.slot == request.slot), None)
        if slot is None or slot.status not in ("declined", "expired"):
            raise refuse("InvalidState", "该保证人无需更换", "this guarantor slot does not need replacing")
        # Other slots' guarantors as they will be once pending replacements take effect.
        others = {self._replacements.get(s.slot, s.guarantor_customer_id)
                  for s in self._state.guarantors if s.slot != request.slot}
        if request.guarantor_customer_id == self._in.customer_id or request.guarantor_customer_id in others:
            raise refuse("GuarantorDuplicate", "保证人不能是借款人本人,也不能重复",
                         "a guarantor cannot be the borrower or appear twice")

    @workflow.signal(name=names.SIGNAL_GUARANTOR_STATUS)
    def guarantor_status(self, signal: GuarantorStatusSignal) -> None:
        for slot in self._state.guarantors:
            if slot.slot == signal.slot and slot.attempt == signal.attempt:
                slot.status = signal.status

    @workflow.query(name=names.QUERY_STATE)
    def state(self) -> ApplicationState:
        return self._state.model_copy(deep=True)
