"""The manager's task list (提醒) and self-set reminders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.schemas.common import RequestModel

TaskKind = Literal["incomplete", "self_set", "marketing", "care", "pending_approval"]


class ReminderIn(RequestModel):
    due_date: date
    note: str = Field(min_length=1, max_length=200)
    household_id: int | None = None


class ReminderView(BaseModel):
    id: int
    due_date: date
    note: str
    household_id: int | None
    done_at: datetime | None
    created_at: datetime


class Task(BaseModel):
    """One entry of the task list. Names are masked like every list; the archive or application holds the rest."""

    kind: TaskKind
    kind_zh: str
    title_zh: str
    title_en: str
    due_date: date | None = None
    household_id: int | None = None
    customer_no: str | None = None
    name: str | None = Field(default=None, description="masked")
    reminder_id: int | None = None
    app_no: str | None = None
    transfer_id: int | None = None
    missing: list[str] = Field(default_factory=list, description="incomplete: the missing fields")


class TaskList(BaseModel):
    as_of: date
    days: int
    counts: dict[str, int]
    items: list[Task]
