"""Temporal Schedules the platform needs, created (or brought up to date) when a worker starts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from config.settings import Settings
from domain.business_time import BEIJING
from workflows import names
from workflows.messages import EodInput, QuarterlyRatingInput

log = logging.getLogger("nongedai.schedules")


def end_of_day_schedule(settings: Settings) -> Schedule:
    """Daily at the configured Beijing time. China keeps no daylight saving, so the UTC hour is fixed and
    the server needs no time-zone data. SKIP: while a (catch-up) run is still going, the next fire waits."""
    hour, minute = (int(x) for x in settings.eod_schedule_time.split(":"))
    utc = datetime(2000, 1, 1, hour, minute, tzinfo=BEIJING).astimezone(UTC)
    return Schedule(
        action=ScheduleActionStartWorkflow(names.END_OF_DAY, EodInput(), id=names.END_OF_DAY_WORKFLOW_ID,
                                           task_queue=settings.task_queue),
        spec=ScheduleSpec(calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(utc.hour)],
                                                          minute=[ScheduleRange(utc.minute)])]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP))


def quarterly_rating_schedule(settings: Settings) -> Schedule:
    """On the first day of each quarter at the configured Beijing time. Before 08:00 Beijing that instant
    is still the previous day in UTC (the last of March, June, September, December), so each quarter gets
    a calendar entry of its own, computed, rather than a time-zone rule the server must know."""
    hour, minute = (int(x) for x in settings.rating_batch_schedule_time.split(":"))
    calendars = []
    for month in (1, 4, 7, 10):
        utc = datetime(2001, month, 1, hour, minute, tzinfo=BEIJING).astimezone(UTC)
        calendars.append(ScheduleCalendarSpec(month=[ScheduleRange(utc.month)], day_of_month=[ScheduleRange(utc.day)],
                                              hour=[ScheduleRange(utc.hour)], minute=[ScheduleRange(utc.minute)]))
    return Schedule(
        action=ScheduleActionStartWorkflow(names.QUARTERLY_RATING, QuarterlyRatingInput(),
                                           id=names.QUARTERLY_RATING_WORKFLOW_ID, task_queue=settings.task_queue),
        spec=ScheduleSpec(calendars=calendars),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP))


async def ensure_schedules(client: Client, settings: Settings) -> None:
    for schedule_id, schedule in ((names.END_OF_DAY_SCHEDULE_ID, end_of_day_schedule(settings)),
                                  (names.QUARTERLY_RATING_SCHEDULE_ID, quarterly_rating_schedule(settings))):
        await _ensure(client, schedule_id, schedule)


async def _ensure(client: Client, schedule_id: str, schedule: Schedule) -> None:
    try:
        await client.create_schedule(schedule_id, schedule)
        log.info("created schedule %s", schedule_id)
    except ScheduleAlreadyRunningError:
        # Another worker made it, or an earlier start did: make it match this configuration.
        def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(update)
