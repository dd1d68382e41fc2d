"""The services' clock: aware UTC instants for rows, and the Beijing business date for numbering."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def business_date(at: datetime) -> date:
    return at.astimezone(BEIJING).date()
