"""Care reminders (关怀提醒): whose birthday falls in the next days. Pure; the caller passes today."""

from __future__ import annotations

from datetime import date


def next_birthday(birth: date, today: date) -> date:
    """The next date, today included, on which the person has a birthday; 29 February is kept on 28 February
    in common years, the day most families celebrate it."""
    for year in (today.year, today.year + 1):
        try:
            day = birth.replace(year=year)
        except ValueError:
            day = date(year, 2, 28)
        if day >= today:
            return day
    raise AssertionError("unreachable: next year's birthday is always after today")


def birthday_within(birth: date, today: date, days: int) -> date | None:
    """The birthday if it falls within `days` days from today (0: today only), else None."""
    day = next_birthday(birth, today)
    return day if (day - today).days <= days else None
