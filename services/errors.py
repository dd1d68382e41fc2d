"""ProblemError: a refusal with its HTTP status, a stable code and Chinese and English text (rendered by api/errors)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class ProblemError(Exception):
    def __init__(self, status: int, code: str, zh: str, en: str, field: str | None = None,
                 errors: list[dict[str, str]] | None = None, *, headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {en}")
        self.status, self.code, self.zh, self.en, self.field = status, code, zh, en, field
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:nongedai:problem:{self.code.lower()}",
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": self.en,
            "code": self.code,
            "zh": self.zh,
            "en": self.en,
            "field": self.field,
        }
        if self.errors:
            body["errors"] = self.errors
        return {**body, **self.extra}


def field_error(field: str, code: str, zh: str, en: str) -> dict[str, str]:
    return {"field": field, "code": code, "zh": zh, "en": en}


def not_found(what: str, zh: str, en: str, field: str) -> ProblemError:
    """Out of the caller's scope reads as absent, so ids of other branches' or customers' rows leak nothing."""
    return ProblemError(404, f"{what}_NOT_FOUND", zh, en, field)


def forbidden(zh: str, en: str, code: str = "FORBIDDEN") -> ProblemError:
    return ProblemError(403, code, zh, en)
