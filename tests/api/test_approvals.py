"""The approver's queue and decisions: authority comes from the staff row, refusals from the workflow."""

from __future__ import annotations

from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services import tokens
from services.gateway import TemporalUnavailable
from tests.api import data
from tests.api.asserts import assert_problem
from workflows import names
from workflows.messages import AmendTermsInput, ApprovalDecisionInput

APPROVE = {"decision": "approve", "approved_amount": "40000.00", "comment": "同意"}


def _waiting(engine, branch: str = data.BRANCH_A):
    return data.add_application(engine, data.add_customer(engine, branch=branch), stage="awaiting_approval",
                                assignee=f"approver@{branch}")


def _refusal(kind: str, zh: str = "拒绝", en: str = "refused") -> WorkflowUpdateFailedError:
    return WorkflowUpdateFailedError(ApplicationError(en, {"zh": zh, "en": en}, type=kind))


def test_inbox_lists_this_branch_queue_only(client, engine, api_settings):
    approver = data.add_staff(engine, "approver", branch=data.BRANCH_B)
    mine = _waiting(engine, data.BRANCH_B)
    other = _waiting(engine, data.BRANCH_A)
    data.add_application(engine, data.add_customer(engine, branch=data.BRANCH_B), stage="reviewing")
    page = client.get("/v1/approvals/inbox?limit=200", headers=data.staff_headers(api_settings, approver)).json()
    listed = {i["app_no"] for i in page["items"]}
    assert mine.app_no in listed and other.app_no not in listed
    assert {i["stage"] for i in page["items"]} == {"awaiting_approval"}


def test_the_decision_carries_the_approvers_own_authority(client, engine, api_settings, workflows):
    approver = data.add_staff(engine, "approver", authority="80000")
    app = _waiting(engine)
    r = client.post(f"/v1/approvals/{app.app_no}/decision", json=APPROVE,
                    headers=data.key(**data.staff_headers(api_settings, approver)))
    assert r.status_code == 200, r.text
    assert workflows.updates[-1].arg == ApprovalDecisionInput(
        approver_id=approver.id, approver_role="approver", authority_limit=Decimal("80000.00"),
        approver_branch=data.BRANCH_A, decision="approve", comment="同意", approved_amount=Decimal("40000.00"))


@pytest.mark.parametrize(("kind", "status", "code"), [
    ("NotAuthorised", 403, "NOT_AUTHORISED"),
    ("NotAssignee", 403, "NOT_ASSIGNEE"),
    ("SameAsInitiator", 403, "SAME_AS_INITIATOR"),
    ("AuthorityExceeded", 403, "AUTHORITY_EXCEEDED"),
    ("InvalidState", 409, "INVALID_STATE"),
    ("Closed", 409, "CLOSED"),
    ("AmountInvalid", 422, "AMOUNT_INVALID"),
])
def test_validator_refusals_keep_their_code_and_text(client, engine, api_settings, workflows, kind, status, code):
    approver = data.add_staff(engine, "approver")
    app = _waiting(engine)
    workflows.update_outcomes[names.UPDATE_DECIDE] = _refusal(kind, "超出您的审批权限", "amount exceeds your authority")
    r = client.post(f"/v1/approvals/{app.app_no}/decision", json=APPROVE,
                    headers=data.staff_headers(api_settings, approver))
    body = assert_problem(r, status, code)
    assert (body["zh"], body["en"]) == ("超出您的审批权限", "amount exceeds your authority")


def test_a_closed_workflow_and_an_unreachable_temporal(client, engine, api_settings, workflows):
    headers = data.staff_headers(api_settings, data.add_staff(engine, "approver"))
    app = _waiting(engine)
    workflows.update_outcomes[names.UPDATE_DECIDE] = RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")
    assert_problem(client.post(f"/v1/approvals/{app.app_no}/decision", json=APPROVE, headers=headers),
                   409, "WORKFLOW_CLOSED")
    workflows.update_outcomes[names.UPDATE_DECIDE] = TemporalUnavailable("down")
    r = client.post(f"/v1/approvals/{app.app_no}/decision", json=APPROVE, headers=headers)
    assert_problem(r, 503, "TEMPORAL_UNAVAILABLE")
    assert r.headers["retry-after"]


def test_a_stored_refusal_is_replayed_but_a_503_is_retried(client, engine, api_settings, workflows):
    headers = data.key(**data.staff_headers(api_settings, data.add_staff(engine, "approver")))
    app = _waiting(engine)
    workflows.update_outcomes[names.UPDATE_DECIDE] = TemporalUnavailable("down")
    assert client.post(f"/v1/approvals/{app.app_no}/decision", json=APPROVE, headers=headers).status_code == 503
    workflows.update_outcomes[names.UPDATE_DECIDE] = _refusal("InvalidState")
    assert client.post(f"/v1/approvals/{app.app_no}/decision", json=APPROVE, headers=headers).status_code == 409
    workflows.update_outcomes.clear()
    replay = client.post(f"/v1/approvals/{app.app_no}/decision", json=APPROVE, headers=headers)
    assert_problem(replay, 409, "INVALID_STATE")
    assert replay.headers["idempotent-replayed"] == "true"
    assert len(workflows.updates) == 2
    assert {u.update_id for u in workflows.updates} == {f"{_subject(api_settings, headers)}:{headers['Idempotency-Key']}"}


def test_decisions_need_an_active_approver(client, engine, api_settings, workflows):
    app = _waiting(engine)
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    assert_problem(client.post(f"/v1/approvals/{app.app_no}/decision", json=APPROVE, headers=manager),
                   403, "ROLE_FORBIDDEN")
    gone = data.staff_headers(api_settings, data.add_staff(engine, "approver", active=False))
    assert_problem(client.post(f"/v1/approvals/{app.app_no}/decision", json=APPROVE, headers=gone),
                   401, "STAFF_INACTIVE")  # refused at the door, before any decision
    assert workflows.updates == []


def _subject(api_settings, headers) -> str:
    return tokens.read(api_settings, headers["Authorization"].removeprefix("Bearer ")).subject


def test_an_amendment_carries_the_approvers_own_authority(client, engine, api_settings, workflows):
    approver = data.add_staff(engine, "approver", authority="80000")
    app = data.add_application(engine, data.add_customer(engine), stage="awaiting_signatures")
    r = client.post(f"/v1/approvals/{app.app_no}/amendment",
                    json={"approved_amount": "30000.00", "reason_code": "CUSTOMER_REQUESTED"},
                    headers=data.key(**data.staff_headers(api_settings, approver)))
    assert r.status_code == 200, r.text
    update = workflows.updates[-1]
    assert (update.workflow_id, update.name) == (app.workflow_id, names.UPDATE_AMEND_TERMS)
    assert update.arg == AmendTermsInput(
        approver_id=approver.id, approver_role="approver", authority_limit=Decimal("80000.00"),
        approver_branch=data.BRANCH_A, approved_amount=Decimal("30000.00"), reason_code="CUSTOMER_REQUESTED")
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    assert client.post(f"/v1/approvals/{app.app_no}/amendment", headers=data.key(**manager),
                       json={"approved_amount": "30000.00", "reason_code": "X"}).status_code == 403
