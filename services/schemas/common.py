"""Shared request base, pages and the small answers several endpoints give."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from services.fields import OtpCode

T = TypeVar("T")


class RequestModel(BaseModel):
    # An unknown field is a client bug worth hearing about, not something to drop silently.
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class CodeIn(RequestModel):
    """The six-digit SMS code the customer received."""

    code: OtpCode


class CodeSent(BaseModel):
    ttl_minutes: int
    # Present only when settings.otp_echo is on (development), so the demo works without a phone.
    dev_code: str | None = None
