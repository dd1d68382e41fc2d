"""Manual approval on the time-skipping server: validator refusals, SLA escalation, rejection, refer-back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session
from temporalio.client import WorkflowUpdateFailedError

from db.models import LoanApplication
from tests import factories
from tests.workflows.support import running_worker, until, until_stage
from workflows import names
from workflows.loan_application import LoanApplicationWorkflow
from workflows.messages import ApprovalDecisionInput, SupplyInfoInput


def decision(user, decision="approve", **kw) -> ApprovalDecisionInput:
    return ApprovalDecisionInput(approver_id=user.id, approver_role=user.role, authority_limit=user.authority_limit,
                                 approver_branch=user.branch_code, decision=decision, **kw)


async def refused(handle, payload) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(names.UPDATE_DECIDE, payload)
    return err.value.cause.type


async def test_manual_review_escalates_after_sla_and_checks_authority(ts_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    # Modest income and assets: grade B (30 + 8 age + 8 income + 6 net assets + 12 debt = 64), so a person decides.
    borrower = factories.customer(engine, income="40000", assets="100000", liabilities="20000")
    manager = factories.staff(engine, "customer_manager")
    branch_approver = factories.staff(engine, "approver", authority="100000")
    county_approver = factories.staff(engine, "approver", branch=factories.COUNTY, authority="20000")
    row = factories.application(engine, borrower, amount="30000", initiator=manager, channel="self_service")
    client = ts_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        state = await until_stage(handle, "awaiting_approval")
        assert state["assignee"] == f"approver@{factories.BRANCH}" and "GRADE_NEEDS_REVIEW" in state["reason_codes"]

        assert await refused(handle, decision(manager)) == "NotAuthorised"
        assert await refused(handle, decision(county_approver)) == "NotAssignee"
        assert await refused(handle, decision(branch_approver, "reject")) == "ReasonRequired"
        assert await refused(handle, decision(branch_approver, approved_amount=Decimal("40000"))) == "AmountInvalid"

        # Nobody decides within the SLA: the application moves up to the county branch.
        await ts_env.sleep(timedelta(hours=product.approval_sla_hours, minutes=1))
        state = await until(lambda: _escalated(handle))
        assert state["assignee"] == f"approver@{factories.COUNTY}"
        assert await refused(handle, decision(branch_approver)) == "NotAssignee"
        assert await refused(handle, decision(county_approver)) == "AuthorityExceeded"
        await handle.execute_update(names.UPDATE_DECIDE, decision(county_approver, approved_amount=Decimal("20000")))
        state = await until_stage(handle, "awaiting_signatures")
        assert Decimal(state["approved_amount"]) == Decimal("20000")
        await handle.execute_update(names.UPDATE_CANCEL, {"staff_id": manager.id, "staff_role": "customer_manager",
                                                          "reason_code": "TEST_DONE"})
        result = await handle.result()
    assert result.status == "cancelled"
    with Session(engine) as s:
        app = s.get(LoanApplication, row.id)
        assert (app.stage, app.decided_by, app.approved_amount) == ("cancelled", county_approver.id, Decimal("20000.00"))


async def test_the_initiator_cannot_approve_and_refer_back_returns_to_review(ts_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    borrower = factories.customer(engine, income="40000", assets="100000", liabilities="20000")
    approver = factories.staff(engine, "approver", authority="100000")
    row = factories.application(engine, borrower, amount="30000", initiator=approver, channel="staff_proxy")
    client = ts_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        await until_stage(handle, "awaiting_confirmation")
        await handle.execute_update(names.UPDATE_CONFIRM, {"customer_id": borrower.id, "otp_ref": "otp-1"})
        await until_stage(handle, "awaiting_approval")
        assert await refused(handle, decision(approver)) == "SameAsInitiator"
        other = factories.staff(engine, "approver", authority="100000")
        await handle.execute_update(names.UPDATE_DECIDE, decision(other, "refer_back", reason_codes=["INCOME_PROOF"]))
        await until_stage(handle, "referred_back")
        await handle.execute_update(names.UPDATE_SUPPLY_INFO, SupplyInfoInput(actor="customer", note="收入证明已上传"))
        await until_stage(handle, "awaiting_approval")
        await handle.execute_update(names.UPDATE_DECIDE, decision(other, "reject", reason_codes=["INCOME_UNSTABLE"]))
        result = await handle.result()
    assert (result.status, result.reason_codes) == ("rejected", ["INCOME_UNSTABLE"])


async def test_unconfirmed_proxy_application_expires(ts_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    borrower = factories.customer(engine)
    manager = factories.staff(engine, "customer_manager")
    row = factories.application(engine, borrower, initiator=manager, channel="staff_proxy")
    client = ts_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        result = await handle.result()  # time skips past the confirmation deadline
    assert (result.status, result.reason_codes) == ("expired", ["CUSTOMER_DID_NOT_CONFIRM"])


async def test_an_amount_beyond_every_branch_approver_goes_straight_to_the_county(ts_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    borrower = factories.customer(engine)
    row = factories.application(engine, borrower, amount="150000")
    loan = factories.loan_input(row, product).model_copy(update={"branch_approval_limit": Decimal("100000")})
    client = ts_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, loan, id=row.workflow_id, task_queue=queue)
        state = await until_stage(handle, "awaiting_approval")
        assert (state["assignee"], state["escalation_level"]) == (f"approver@{factories.COUNTY}", 1)
        assert "AMOUNT_OVER_AUTO_LIMIT" in state["reason_codes"]
        await handle.terminate("test over")


async def _escalated(handle):
    state = await handle.query(names.QUERY_STATE)
    return state if state["stage"] == "awaiting_approval" and state["escalation_level"] >= 1 else None


async def test_the_products_role_limit_caps_an_approvers_own_authority(ts_env, engine, settings):
    """The product lets a branch approver approve at most 20,000 on it: an approver whose own limit is 100,000
    still cannot approve 30,000 there, and the refusal names the limit that applied."""
    base = factories.ensure_reference_data(engine)
    product = base.model_copy(update={"approval_authority": {"customer_manager": Decimal("0"),
                                                             "approver": Decimal("20000"),
                                                             "county_approver": Decimal("300000")}})
    borrower = factories.customer(engine, income="40000", assets="100000", liabilities="20000")
    approver = factories.staff(engine, "approver", authority="100000")
    row = factories.application(engine, borrower, amount="30000")
    client = ts_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        await until_stage(handle, "awaiting_approval")
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(names.UPDATE_DECIDE, decision(approver))
        assert err.value.cause.type == "AuthorityExceeded" and "20,000.00" in str(err.value.cause.message)
        await handle.execute_update(names.UPDATE_DECIDE, decision(approver, approved_amount=Decimal("20000")))
        state = await until_stage(handle, "awaiting_signatures")
        assert Decimal(state["approved_amount"]) == Decimal("20000")
        await handle.terminate("test over")
