"""A reason a rule refused something, with a stable code and Chinese/English text."""

from __future__ import annotations

from pydantic import BaseModel


class Refusal(BaseModel):
    code: str
    zh: str
    en: str
    field: str | None = None
