"""The problem+json shape every error response has."""

from __future__ import annotations

from typing import Any


def assert_problem(response: Any, status: int, code: str, field: str | None = None) -> dict:
    """The problem+json shape every error has: status, code, zh and en, and the field when one is at fault."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["zh"] and body["en"], body
    if field is not None:
        assert body["field"] == field, body
    return body
