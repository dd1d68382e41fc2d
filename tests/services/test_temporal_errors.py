"""Temporal failures mapped to problems: validator refusals, activity failures inside updates, RPC errors."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.service import RPCError, RPCStatusCode

from services.gateway import TemporalUnavailable
from services.temporal_errors import problem_from_temporal


def _update_failed(cause: BaseException) -> WorkflowUpdateFailedError:
    return WorkflowUpdateFailedError(cause)


def test_a_validator_refusal_keeps_type_and_both_languages():
    problem = problem_from_temporal(_update_failed(ApplicationError(
        "amount exceeds your approval authority", {"zh": "超出您的审批权限", "en": "amount exceeds your approval authority"},
        type="AuthorityExceeded")))
    assert (problem.status, problem.code, problem.zh) == (403, "AUTHORITY_EXCEEDED", "超出您的审批权限")


def test_an_activity_failure_inside_an_update_is_found_through_its_causes():
    activity_failure = ActivityError("activity failed", scheduled_event_id=1, started_event_id=2, identity="w",
                                     activity_type="sign_document", activity_id="1", retry_state=RetryState.NON_RETRYABLE_FAILURE)
    activity_failure.__cause__ = ApplicationError("document and signer do not match", type="SignerMismatch")
    problem = problem_from_temporal(_update_failed(activity_failure))
    assert (problem.status, problem.code, problem.en) == (422, "SIGNER_MISMATCH", "document and signer do not match")
    assert problem.zh == problem.en  # no Chinese text was given; the English stands in rather than nothing


@pytest.mark.parametrize(("status", "expected"), [
    (RPCStatusCode.NOT_FOUND, (409, "WORKFLOW_CLOSED")),
    (RPCStatusCode.UNAVAILABLE, (503, "TEMPORAL_UNAVAILABLE")),
    (RPCStatusCode.DEADLINE_EXCEEDED, (503, "TEMPORAL_UNAVAILABLE")),
])
def test_rpc_errors(status, expected):
    problem = problem_from_temporal(RPCError("x", status, b""))
    assert (problem.status, problem.code) == expected


def test_an_update_still_running_when_the_call_times_out_is_a_retryable_503():
    problem = problem_from_temporal(WorkflowUpdateRPCTimeoutOrCancelledError())
    assert (problem.status, problem.code, problem.headers["Retry-After"]) == (503, "STILL_RUNNING", "5")


def test_unreachable_and_unexplained_errors():
    assert problem_from_temporal(TemporalUnavailable("down")).status == 503
    assert problem_from_temporal(RPCError("bad", RPCStatusCode.INVALID_ARGUMENT, b"")) is None
    assert problem_from_temporal(ValueError("bug")) is None
