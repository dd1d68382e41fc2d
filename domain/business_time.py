"""Business time: cooperatives keep Beijing time, and a business date is the Beijing calendar date.

China has no daylight saving, so a fixed +08:00 is exact; it is also the form workflow code can use
(zoneinfo objects are restricted inside Temporal's sandbox).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def business_date(at: datetime) -> date:
    """The Beijing calendar date of an aware instant."""
    return at.astimezone(BEIJING).date()
