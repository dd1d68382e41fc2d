"""The services' clock: aware UTC instants for rows; the business date comes from domain.business_time."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.business_time import BEIJING, business_date

__all__ = ["BEIJING", "business_date", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)
