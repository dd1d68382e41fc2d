"""Refusals raised by update validators: a stable type for the API to map, and Chinese + English text."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError


def refuse(code: str, zh: str, en: str) -> ApplicationError:
    return ApplicationError(en, {"zh": zh, "en": en}, type=code, non_retryable=True)


def activity_error_type(err: BaseException) -> str | None:
    """The ApplicationError type behind an ActivityError/ChildWorkflowError, if any."""
    cause = err
    while cause is not None:
        if isinstance(cause, ApplicationError):
            return cause.type
        cause = cause.__cause__
    return None
