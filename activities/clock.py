"""The clock for activities: aware UTC instants for rows, and today's business (Beijing) date."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.business_time import business_date


def utcnow() -> datetime:
    return datetime.now(UTC)


def business_today() -> date:
    return business_date(utcnow())
