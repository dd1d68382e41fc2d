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
from workflows.messages import EodInput

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


async def ensure_schedules(client: Client, settings: Settings) -> None:
    schedule = end_of_day_schedule(settings)
    try:
        await client.create_schedule(names.END_OF_DAY_SCHEDULE_ID, schedule)
        log.info("created schedule %s", names.END_OF_DAY_SCHEDULE_ID)
    except ScheduleAlreadyRunningError:
        # Another worker made it, or an earlier start did: make it match this configuration.
        def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(names.END_OF_DAY_SCHEDULE_ID).update(update)
