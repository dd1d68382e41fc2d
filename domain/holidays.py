"""Working days (工作日) for moving repayment due dates off public holidays and weekends.

The schedule engine takes any `workday: Callable[[date], bool]`; this module supplies the Chinese one,
from the `chinese_calendar` package (State Council holiday arrangements, including the weekend days
that are made working days 调休). The package's data is static (no I/O, no clock), so this stays pure.

`chinese_calendar` 1.11.0 knows the years 2004-2026. Holidays for later years are only published each
November, so `china_workday` falls back to Monday-Friday outside the data's range (a schedule must be
buildable for a 3-year loan today); `china_workday_strict` raises instead, for callers that must not guess.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import chinese_calendar

# Give up looking for a working day after this many days: the longest real run is the Spring Festival
# (about 9 days); a calendar with no working day in two months is a broken calendar.
MAX_SHIFT_DAYS = 60


def china_workday_strict(day: date) -> bool:
    """True on a Chinese working day; ValueError for a year the package has no data for."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise ValueError(f"no Chinese holiday data for {day.year}: {exc}") from exc


def china_workday(day: date) -> bool:
    """True on a Chinese working day; Monday-Friday for years the package has no data for."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def next_workday(day: date, workday: Callable[[date], bool]) -> date:
    """`day` itself if it is a working day, else the first working day after it."""
    for shift in range(MAX_SHIFT_DAYS + 1):
        candidate = day + timedelta(days=shift)
        if workday(candidate):
            return candidate
    raise ValueError(f"no working day within {MAX_SHIFT_DAYS} days from {day}")
