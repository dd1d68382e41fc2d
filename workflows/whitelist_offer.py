"""WhitelistOfferWorkflow: one whitelist row (whitelist-offer-<offer_no>), a child of its campaign.

prepare (the customer from the row when not on file yet, rating and limit: the pre-approved limit
capped by the computed one) -> SMS invitation with a link -> wait for the customer's acceptance (an
Update) until the offer expires -> a LoanApplicationWorkflow on the whitelist channel, started
abandoned (it outlives this row by weeks). Each outcome is signalled to the campaign. A row the rating
refuses ends `refused` with the rule's reason; cancellation by the campaign ends it `cancelled`.

The customer's answer (accept or decline) returns once the campaign has been told, so the branch's
view of the campaign read right after it already counts the answer.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.whitelist import WhitelistActivities
    from domain.business_time import business_date
    from domain.money import is_whole_fen
    from workflows import names, policies
    from workflows.loan_application import LoanApplicationWorkflow
    from workflows.messages import (
        AcceptOfferInput,
        ApplicationOpened,
        DeclineOfferInput,
        OfferPrepared,
        OfferState,
        OpenApplicationInput,
        RowOutcomeSignal,
        RowStatusUpdate,
        WhitelistOfferInput,
    )
    from workflows.notify import send_sms
    from workflows.refuse import refuse

# Offers answered before this answered the customer first and told the campaign after, so a campaign
# view read just after the answer could still miss it (seen in CI); they replay the old order.
ANSWER_AFTER_REPORT_PATCH = "offer-answer-after-report"
# A campaign's cancellation that arrived while one of the offer's activities ran (it comes as an
# ActivityError, not a CancelledError) used to end the offer cancelled without recording its row or
# telling the campaign, and failed a decline being recorded; offers that ended so replay that way.
CANCEL_IN_ACTIVITY_PATCH = "offer-cancel-in-activity"


@workflow.defn(name=names.WHITELIST_OFFER)
class WhitelistOfferWorkflow:
    @workflow.init
    def __init__(self, inp: WhitelistOfferInput) -> None:
        self._in = inp
        self._state = OfferState(offer_no=inp.offer_no, stage="preparing")
        self._acceptance: AcceptOfferInput | None = None
        self._declined = False
        self._answer_reported = False

    @workflow.run
    async def run(self, inp: WhitelistOfferInput) -> OfferState:
        try:
            await self._flow(inp)
        except asyncio.CancelledError:
            if self._state.stage in ("accepted", "opening"):
                raise
            await self._end("cancelled", "CAMPAIGN_CANCELLED")
            await self._answered()
        except ActivityError as err:
            if (not is_cancelled_exception(err) or self._state.stage in ("accepted", "opening")
                    or not workflow.patched(CANCEL_IN_ACTIVITY_PATCH)):
                raise
            # A decline already given stands, as the customer was answered.
            await (self._end("declined", "CUSTOMER_DECLINED") if self._declined
                   else self._end("cancelled", "CAMPAIGN_CANCELLED"))
            await self._answered()
        return self._state

    async def _end(self, outcome: str, reason: str) -> None:
        """The row ends `outcome`: recorded, then the campaign told."""
        self._state.stage = outcome
        await self._record(outcome, reason)
        await self._report(outcome, reason)

    async def _answered(self) -> None:
        """A pending decline answers with the row as it ended; the run ends once every handler has."""
        self._answer_reported = True
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _flow(self, inp: WhitelistOfferInput) -> None:
        prepared: OfferPrepared = await workflow.execute_activity_method(
            WhitelistActivities.prepare_offer, inp, **policies.RATING.kwargs())
        self._state.customer_id, self._state.grade = prepared.customer_id, prepared.grade
        if not prepared.offer:
            self._state.stage, self._state.reason_codes = "refused", prepared.reason_codes
            await self._report("failed", prepared.reason_codes[0])
            return
        self._state.offer_limit = prepared.offer_limit
        expires_at = workflow.now() + timedelta(seconds=inp.offer_seconds)
        self._state.expires_at = expires_at
        await send_sms(idempotency_key=f"{workflow.info().workflow_id}:invite", customer_id=prepared.customer_id,
                       template="whitelist_invitation",
                       params={"amount": f"{prepared.offer_limit:,.2f}",
                               "link": f"{inp.public_base_url}/v1/whitelist-offers/{inp.offer_no}",
                               "expires_on": business_date(expires_at).isoformat()})
        self._state.stage = "invited"
        await self._record("invited", None, expires_at=expires_at)
        await self._report("invited")
        try:
            await workflow.wait_condition(lambda: self._acceptance is not None or self._declined,
                                          timeout=timedelta(seconds=inp.offer_seconds))
        except TimeoutError:
            self._state.stage = "expired"
            await workflow.wait_condition(workflow.all_handlers_finished)
            await self._end("expired", "OFFER_EXPIRED")
            return
        if self._acceptance is None:
            await self._end("declined", "CUSTOMER_DECLINED")
            await self._answered()
            return
        self._state.stage = "opening"
        accepted = self._acceptance
        opened: ApplicationOpened = await workflow.execute_activity_method(
            WhitelistActivities.open_application,
            OpenApplicationInput(row_id=inp.row_id, product=inp.product, amount=accepted.amount,
                                 term_months=accepted.term_months, repayment_method=accepted.repayment_method,
                                 purpose=accepted.purpose),
            **policies.DB_WRITE.kwargs())
        await workflow.start_child_workflow(LoanApplicationWorkflow.run, opened.start, id=opened.workflow_id,
                                            parent_close_policy=ParentClosePolicy.ABANDON)
        if workflow.patched(ANSWER_AFTER_REPORT_PATCH):
            self._state.app_no = opened.app_no
            await self._report("accepted")
            self._state.stage = "accepted"
        else:
            self._state.app_no, self._state.stage = opened.app_no, "accepted"
            await self._report("accepted")
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _record(self, status: str, reason: str | None, *, expires_at=None) -> None:
        await workflow.execute_activity_method(
            WhitelistActivities.record_row,
            RowStatusUpdate(row_id=self._in.row_id, status=status, reason_code=reason, expires_at=expires_at),
            **policies.DB_WRITE.kwargs())

    async def _report(self, outcome: str, reason: str | None = None) -> None:
        parent = workflow.get_external_workflow_handle(self._in.campaign_workflow_id)
        try:
            await parent.signal(names.SIGNAL_ROW_OUTCOME,
                                RowOutcomeSignal(row_id=self._in.row_id, outcome=outcome, reason_code=reason))
        except Exception:  # noqa: BLE001 - the campaign has closed; the row's own record is what counts
            workflow.logger.warning("campaign %s not told of row %s", self._in.campaign_workflow_id, self._in.row_id)

    # ---- messages ----------------------------------------------------------------------------

    @workflow.update(name=names.UPDATE_ACCEPT_OFFER)
    async def accept(self, request: AcceptOfferInput) -> OfferState:
        self._acceptance = request
        await workflow.wait_condition(lambda: self._state.stage != "opening" and self._state.stage != "invited")
        return self.state()

    @accept.validator
    def _validate_accept(self, request: AcceptOfferInput) -> None:
        self._check_customer(request.customer_id)
        product, limit = self._in.product, self._state.offer_limit
        assert limit is not None
        if request.amount < product.min_amount or request.amount > limit or not is_whole_fen(request.amount):
            raise refuse("AmountInvalid", f"金额须在{product.min_amount:,.2f}元至{limit:,.2f}元之间",
                         f"the amount must be {product.min_amount:,.2f} to {limit:,.2f} yuan")
        if not product.min_term_months <= request.term_months <= product.max_term_months:
            raise refuse("TermInvalid", f"期限须为{product.min_term_months}至{product.max_term_months}个月",
                         f"the term must be {product.min_term_months}-{product.max_term_months} months")
        if request.repayment_method not in product.repayment_methods:
            raise refuse("RepaymentMethod", "该产品不提供此还款方式", "the product does not offer this repayment method")

    @workflow.update(name=names.UPDATE_DECLINE_OFFER)
    async def decline(self, request: DeclineOfferInput) -> OfferState:
        self._declined = True
        if workflow.patched(ANSWER_AFTER_REPORT_PATCH):
            await workflow.wait_condition(lambda: self._answer_reported)
        return self.state()

    @decline.validator
    def _validate_decline(self, request: DeclineOfferInput) -> None:
        self._check_customer(request.customer_id)

    def _check_customer(self, customer_id: int) -> None:
        if customer_id != self._state.customer_id:
            raise refuse("NotAuthorised", "只有受邀客户本人可以办理", "only the invited customer can answer")
        if self._state.stage != "invited" or self._acceptance is not None or self._declined:
            raise refuse("InvalidState", "该邀请已结束或已答复", "the invitation has ended or was answered")

    @workflow.query(name=names.QUERY_STATE)
    def state(self) -> OfferState:
        return self._state.model_copy(deep=True)
