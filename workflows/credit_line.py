"""CreditLineWorkflow: one per credit line (授信), alive until the line expires. Drawdowns arrive as
Updates whose validator guards the limit; each runs as a child DrawdownWorkflow. History stays bounded
by continuing as new whenever Temporal suggests it and nothing is in flight."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.lines import CreditLineActivities
    from domain.business_time import BEIJING, business_date
    from domain.money import is_whole_fen
    from domain.schedule import add_months
    from workflows import names, policies
    from workflows.drawdown import DrawdownWorkflow
    from workflows.messages import (
        CreditLineInput,
        CreditLineState,
        DrawdownAccepted,
        DrawdownInput,
        DrawdownRequest,
        DrawdownSettledSignal,
        FreezeSignal,
        LineStatusUpdate,
        PrincipalRepaidSignal,
    )
    from workflows.refuse import refuse



RECENT = 200


def _update_id() -> str | None:
    info = workflow.current_update_info()
    return info.id if info else None


@workflow.defn(name=names.CREDIT_LINE)
class CreditLineWorkflow:
    @workflow.init
    def __init__(self, inp: CreditLineInput) -> None:
        self._in = inp
        self._status = inp.status
        self._drawn_total = inp.drawn_total
        self._outstanding = inp.outstanding_principal
        self._seq = inp.drawdown_seq
        self._pending: dict[str, Decimal] = {}
        self._drawdowns: list[str] = []
        self._recent: dict[str, str] = dict(inp.recent_requests)
        self._repaid: list[str] = list(inp.repaid_refs)
        self._freeze_reasons: list[str] = list(inp.freeze_reasons)
        self._dirty = True

    @workflow.run
    async def run(self, inp: CreditLineInput) -> CreditLineState:
        # The line runs through its expiry date (Beijing time), as the contract says.
        expires_at = datetime.combine(inp.expiry_date + timedelta(days=1), time(0), tzinfo=BEIJING)
        while True:
            remaining = expires_at - workflow.now()
            if remaining <= timedelta(0):
                break
            try:
                await workflow.wait_condition(
                    lambda: self._dirty or (workflow.info().is_continue_as_new_suggested() and not self._pending),
                    timeout=remaining)
            except TimeoutError:
                break
            if self._dirty:
                await self._save()
            if workflow.info().is_continue_as_new_suggested() and not self._pending:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._carry_over())
        # Expired: no new drawdowns; the ones in flight finish first.
        self._status = "expired"
        await workflow.wait_condition(lambda: not self._pending and workflow.all_handlers_finished())
        await self._save()
        return self.state()

    def _carry_over(self) -> CreditLineInput:
        return self._in.model_copy(update={"drawn_total": self._drawn_total,
                                           "outstanding_principal": self._outstanding,
                                           "drawdown_seq": self._seq, "status": self._status,
                                           "recent_requests": dict(list(self._recent.items())[-RECENT:]),
                                           "repaid_refs": self._repaid[-RECENT:],
                                           "freeze_reasons": self._freeze_reasons})

    async def _save(self) -> None:
        self._dirty = False
        await workflow.execute_activity_method(
            CreditLineActivities.update_line,
            LineStatusUpdate(line_id=self._in.line_id, status=self._status, drawn_total=self._drawn_total,
                             outstanding_principal=self._outstanding),
            **policies.DB_WRITE.kwargs())

    def _available(self) -> Decimal:
        used = self._outstanding if self._in.revolving else self._drawn_total
        return self._in.amount - used - sum(self._pending.values(), Decimal("0"))

    @workflow.update(name=names.UPDATE_REQUEST_DRAWDOWN)
    async def request_drawdown(self, request: DrawdownRequest) -> DrawdownAccepted:
        update_id = _update_id()
        if update_id in self._recent:  # the same request again, after continue-as-new
            note_no = self._recent[update_id]
            return DrawdownAccepted(note_no=note_no, workflow_id=names.drawdown_workflow_id(note_no))
        self._seq += 1
        note_no = f"{self._in.line_no}-{self._seq:03d}"
        workflow_id = names.drawdown_workflow_id(note_no)
        self._pending[note_no] = request.amount
        self._drawdowns.append(note_no)
        if update_id:
            self._recent[update_id] = note_no
        await workflow.start_child_workflow(
            DrawdownWorkflow.run,
            DrawdownInput(line_id=self._in.line_id, line_no=self._in.line_no, note_no=note_no,
                          parent_workflow_id=workflow.info().workflow_id, customer_id=self._in.customer_id,
                          branch_code=self._in.branch_code, product=self._in.product, amount=request.amount,
                          term_months=request.term_months, repayment_method=request.repayment_method,
                          payment_mode=request.payment_mode, payee_ref=request.payee_ref),
            id=workflow_id,
            # The line may continue as new while a drawdown runs; the child reports by workflow id.
            parent_close_policy=ParentClosePolicy.ABANDON)
        return DrawdownAccepted(note_no=note_no, workflow_id=workflow_id)

    @request_drawdown.validator
    def _validate_drawdown(self, request: DrawdownRequest) -> None:
        if _update_id() in self._recent:
            return  # answered from memory by the handler, whatever the line looks like now
        product = self._in.product
        if self._status != "active":
            raise refuse("InvalidState", "额度当前不可用(已冻结或已到期)", f"the credit line is {self._status}")
        if request.amount <= 0 or not is_whole_fen(request.amount):
            raise refuse("AmountInvalid", "支用金额须为正数且精确到分", "amount must be positive, in whole fen")
        if request.amount < product.min_amount:
            raise refuse("AmountTooSmall", f"单笔支用不得低于{product.min_amount}元", "below the minimum drawdown")
        if request.amount > self._available():
            raise refuse("LimitExceeded", f"超出可用额度{self._available():,.2f}元", "amount exceeds the available limit")
        if not 1 <= request.term_months <= self._in.max_term_months:
            raise refuse("TermOutOfRange", f"期限须在1至{self._in.max_term_months}个月之间", "term outside the line's bounds")
        today = business_date(workflow.now())
        if add_months(today, request.term_months) > self._in.expiry_date:
            raise refuse("TermBeyondLine", "借款到期日不得晚于额度到期日", "the loan would mature after the line expires")
        if request.repayment_method not in (self._in.repayment_methods or product.repayment_methods):
            raise refuse("RepaymentMethod", "本产品不支持该还款方式", "repayment method not offered")
        if (request.payment_mode == "entrusted") != bool(request.payee_ref):
            raise refuse("PayeeRequired", "受托支付须指定收款方，自主支付不得指定收款方",
                         "entrusted payment needs a payee; self payment takes none")
        if request.repayment_method == "bullet" and request.term_months > product.bullet_max_months:
            raise refuse("BulletTooLong", "利随本清贷款期限不得超过一年", "bullet loans are at most 1 year")

    @workflow.signal(name=names.SIGNAL_DRAWDOWN_SETTLED)
    def drawdown_settled(self, signal: DrawdownSettledSignal) -> None:
        amount = self._pending.pop(signal.note_no, None)
        if amount is None:
            return  # a duplicate report: already counted
        if signal.status == "disbursed":
            self._drawn_total += amount
            self._outstanding += amount
        self._dirty = True

    @workflow.signal(name=names.SIGNAL_PRINCIPAL_REPAID)
    def principal_repaid(self, signal: PrincipalRepaidSignal) -> None:
        """Principal repaid frees that much of a revolving line (a reversal, negative, takes it back)."""
        if signal.ref in self._repaid:
            return
        self._repaid.append(signal.ref)
        self._outstanding = max(self._outstanding - signal.amount, Decimal("0"))
        self._dirty = True

    @workflow.signal(name=names.SIGNAL_FREEZE)
    def freeze(self, signal: FreezeSignal) -> None:
        if self._status in ("active", "frozen"):
            if signal.reason_code not in self._freeze_reasons:
                self._freeze_reasons.append(signal.reason_code)
            if self._status == "active":
                self._status, self._dirty = "frozen", True

    @workflow.signal(name=names.SIGNAL_UNFREEZE)
    def unfreeze(self, signal: FreezeSignal) -> None:
        """Staff thaw the line whatever froze it; a repayment that cures an overdue lifts only that reason."""
        if signal.reason_code == "OVERDUE_CURED":
            self._freeze_reasons = [r for r in self._freeze_reasons if r != "OVERDUE"]
        else:
            self._freeze_reasons = []
        if self._status == "frozen" and not self._freeze_reasons:
            self._status, self._dirty = "active", True

    @workflow.query(name=names.QUERY_STATE)
    def state(self) -> CreditLineState:
        return CreditLineState(line_no=self._in.line_no, status=self._status, amount=self._in.amount,
                               available=max(self._available(), Decimal("0")), drawn_total=self._drawn_total,
                               outstanding_principal=self._outstanding,
                               pending=sum(self._pending.values(), Decimal("0")),
                               expiry_date=self._in.expiry_date, drawdowns=self._drawdowns[-20:])
