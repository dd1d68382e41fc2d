"""Temporal failures as problems: validator refusals keep their code and Chinese/English text."""

from __future__ import annotations

import re

from temporalio.client import RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.errors import ProblemError
from services.gateway import TemporalUnavailable

FORBIDDEN_TYPES = frozenset({"NotAuthorised", "NotAssignee", "SameAsInitiator", "AuthorityExceeded"})
CONFLICT_TYPES = frozenset({"InvalidState", "Closed"})
UNREACHABLE = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED})


def _snake(type_name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", type_name).upper()


def _application_error(exc: BaseException | None) -> ApplicationError | None:
    # An update that ran an activity fails with ActivityError -> ApplicationError: walk the causes.
    while exc is not None:
        if isinstance(exc, ApplicationError):
            return exc
        exc = exc.__cause__
    return None


def refusal(err: ApplicationError) -> ProblemError:
    details = err.details[0] if err.details and isinstance(err.details[0], dict) else {}
    kind = err.type or "Refused"
    status = 403 if kind in FORBIDDEN_TYPES else 409 if kind in CONFLICT_TYPES else 422
    en = str(details.get("en") or err.message)
    return ProblemError(status, _snake(kind), str(details.get("zh") or en), en, details.get("field"))


def unavailable() -> ProblemError:
    return ProblemError(503, "TEMPORAL_UNAVAILABLE", "流程服务暂时不可用,请稍后重试",
                        "the workflow service is unavailable; try again shortly", headers={"Retry-After": "5"})


def workflow_closed() -> ProblemError:
    return ProblemError(409, "WORKFLOW_CLOSED", "该业务流程已结束或不存在", "the workflow has ended or does not exist")


def problem_from_temporal(exc: BaseException) -> ProblemError | None:
    """The problem for a Temporal failure, or None when it is not one we can explain (a bug: 500)."""
    if isinstance(exc, TemporalUnavailable):
        return unavailable()
    if isinstance(exc, WorkflowUpdateFailedError):
        cause = _application_error(exc.cause)
        if cause is not None:
            return refusal(cause)
        return ProblemError(409, "UPDATE_NOT_COMPLETED", "操作未能完成,流程状态已变化",
                            "the workflow did not complete the action", extra={"cause": type(exc.cause).__name__})
    if isinstance(exc, RPCTimeoutOrCancelledError):
        # The update is still running (a slow CA, a worker restarting): a retry with the same
        # Idempotency-Key attaches to it instead of starting it again.
        return ProblemError(503, "STILL_RUNNING", "操作仍在处理中,请稍后用相同的请求重试",
                            "the action is still being processed; retry the same request shortly",
                            headers={"Retry-After": "5"})
    if isinstance(exc, RPCError):
        if exc.status == RPCStatusCode.NOT_FOUND:
            return workflow_closed()
        if exc.status in UNREACHABLE:
            return unavailable()
    return None
