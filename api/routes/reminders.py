"""The staff task list (提醒): incomplete archives, self-set reminders, marketing, care and pending approvals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, StaffMember
from api.errors import responses
from services import reminders
from services.clock import utcnow
from services.schemas.reminders import ReminderIn, ReminderView, TaskList

router = APIRouter(prefix="/v1/reminders", tags=["reminders"])


@router.get("", response_model=TaskList, responses=responses(403))
def task_list(user: StaffMember, session: SessionDep,
              days: Annotated[int, Query(ge=0, le=90, description="look ahead for birthdays and reminders")] = 7,
              ) -> TaskList:
    return reminders.task_list(session, user, days=days, now=utcnow())


@router.post("", status_code=201, response_model=ReminderView, responses=responses(403, 404))
def add_reminder(body: ReminderIn, user: StaffMember, session: SessionDep) -> ReminderView:
    return reminders.add(session, user, body, utcnow())


@router.post("/{reminder_id}/done", response_model=ReminderView, responses=responses(404, 409))
def reminder_done(reminder_id: int, user: StaffMember, session: SessionDep) -> ReminderView:
    return reminders.done(session, user, reminder_id, utcnow())
