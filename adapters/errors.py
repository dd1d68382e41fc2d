"""Errors every adapter may raise. Activities let them propagate; the retry policy decides."""

from __future__ import annotations


class AdapterUnavailable(Exception):
    """Transient: the outside system did not answer. Safe to retry."""


class OutcomeUnknown(AdapterUnavailable):
    """A call timed out after it may have taken effect: look the result up before retrying."""


class Refused(Exception):
    """The outside system said no for a business reason; retrying will not help."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
