"""A staff member's task list (提醒), the five kinds of the case study:

- incomplete (信息不完整): archives they manage or share whose form lacks items, with what is missing;
- self_set (自设提醒): reminders they set with a due date, up to `days` ahead (overdue ones included);
- marketing (营销模型): their customers rated AA or better (customer_rating) with no open credit line or application;
- care (关怀): birthdays of their customers' heads and members in the next `days` days;
- pending_approval (待审批): for a manager, applications they started or of their customers that wait on a
  confirmation, an approver or supplements; for an approver or administrator, the approval queue and the
  archive transfers and shares of their branch waiting for a decision.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session

from db.models import Customer, Household
from db.repositories import applications, archive_transfers, households, reminders
from domain.archive_care import birthday_within
from domain.identity import mask_name
from services.approvals import queue_of
from services.clock import business_date
from services.errors import ProblemError, not_found
from services.households import archive_scope, completeness_of_many, visible
from services.principal import ADMIN, ALL_BRANCH_ROLES, APPROVER, CUSTOMER_MANAGER, Principal
from services.schemas.reminders import ReminderIn, ReminderView, Task, TaskList

WELL_RATED = ("AAA", "AA")
KIND_ZH = {"incomplete": "信息不完整", "self_set": "自设提醒", "marketing": "营销提醒", "care": "关怀提醒",
           "pending_approval": "待审批"}
WAITING_STAGES = {"awaiting_confirmation": ("等待客户确认", "waiting for the customer's confirmation"),
                  "referred_back": ("审批退回待补充资料", "referred back: information to supply"),
                  "awaiting_approval": ("等待审批", "waiting for an approver")}


def _task(kind: str, **fields: object) -> Task:
    return Task(kind=kind, kind_zh=KIND_ZH[kind], **fields)  # type: ignore[arg-type]


def task_list(session: Session, principal: Principal, *, days: int, now: datetime) -> TaskList:
    today = business_date(now)
    items: list[Task] = []
    portfolio: list[tuple[Household, Customer]] = []
    if principal.role == CUSTOMER_MANAGER:
        portfolio = list(households.in_scope_with_heads(session, archive_scope(principal)))
        items += _portfolio_tasks(session, portfolio, today, days)
    items += _self_set(session, principal, today, days)
    items += _approvals(session, principal, [c.id for _, c in portfolio if c.id is not None])
    counts = {kind: sum(t.kind == kind for t in items) for kind in KIND_ZH}
    return TaskList(as_of=today, days=days, counts=counts, items=items)


def _portfolio_tasks(session: Session, portfolio: list[tuple[Household, Customer]], today: date,
                     days: int) -> list[Task]:
    by_customer = {c.id: (h, c) for h, c in portfolio}
    tasks: list[Task] = []
    states = completeness_of_many(session, portfolio)
    for h, c in portfolio:
        state = states[h.id]  # type: ignore[index]
        if state.missing:
            tasks.append(_task("incomplete", household_id=h.id, customer_no=c.customer_no, name=mask_name(c.name),
                               title_zh=f"档案完整度{state.score}%,缺少:" + "、".join(m.zh for m in state.missing),
                               title_en=f"archive {state.score}% complete", missing=[m.field for m in state.missing]))
    for customer_id, grade in reminders.well_rated_without_credit(session, list(by_customer), WELL_RATED):
        h, c = by_customer[customer_id]
        tasks.append(_task("marketing", household_id=h.id, customer_no=c.customer_no, name=mask_name(c.name),
                           title_zh=f"信用等级{grade},尚无授信或在途申请,可营销", title_en=f"rated {grade} without a credit line"))
    return tasks + sorted(_birthdays(session, portfolio, today, days), key=lambda t: (t.due_date, t.household_id))


def _birthdays(session: Session, portfolio: list[tuple[Household, Customer]], today: date, days: int) -> list[Task]:
    tasks = []
    heads = {h.id: (h, c) for h, c in portfolio}
    for h, c in portfolio:
        day = birthday_within(c.birth_date, today, days)
        if day is not None:
            tasks.append(_task("care", household_id=h.id, customer_no=c.customer_no, name=mask_name(c.name), due_date=day,
                               title_zh=f"户主{day.month}月{day.day}日生日", title_en="the head's birthday"))
    for household_id, name, birth in reminders.member_birthdays(session, list(heads)):
        day = birthday_within(birth, today, days)
        if day is not None:
            _, c = heads[household_id]
            tasks.append(_task("care", household_id=household_id, customer_no=c.customer_no, name=mask_name(name),
                               due_date=day, title_zh=f"家庭成员{day.month}月{day.day}日生日",
                               title_en="a household member's birthday"))
    return tasks


def _self_set(session: Session, principal: Principal, today: date, days: int) -> list[Task]:
    if principal.is_customer:
        return []
    return [_task("self_set", reminder_id=r.id, household_id=r.household_id, due_date=r.due_date,
                  title_zh=("已逾期:" if r.due_date < today else "") + r.note, title_en=r.note)
            for r in reminders.open_for(session, principal.id, due_by=today + timedelta(days=days))]


def _approvals(session: Session, principal: Principal, customer_ids: list[int]) -> list[Task]:
    tasks: list[Task] = []
    if principal.role == CUSTOMER_MANAGER:
        for app in reminders.applications_waiting(session, principal.id, customer_ids, list(WAITING_STAGES)):
            zh, en = WAITING_STAGES[app.stage]
            tasks.append(_task("pending_approval", app_no=app.app_no, due_date=app.sla_due_at.date() if app.sla_due_at
                               else None, title_zh=f"贷款申请{app.app_no}:{zh}", title_en=f"application {app.app_no}: {en}"))
    if principal.role in (APPROVER, ADMIN):
        if principal.role == APPROVER:
            rows, _ = applications.approval_queue(session, queue_of(principal), limit=200, offset=0)
            tasks += [_task("pending_approval", app_no=app.app_no, name=mask_name(name),
                            due_date=app.sla_due_at.date() if app.sla_due_at else None,
                            title_zh=f"贷款申请{app.app_no}待您审批", title_en=f"application {app.app_no} awaits your decision")
                      for app, name in rows]
        branch = None if principal.role in ALL_BRANCH_ROLES else principal.branch_code
        for t in archive_transfers.listing(session, branch_code=branch, involving_staff_id=None, status="pending",
                                           limit=200, offset=0):
            if principal.id in (t.requested_by, t.to_staff_id):
                continue  # a second person decides
            what = ("移交", "transfer") if t.kind == "transfer" else ("共享", "share")
            tasks.append(_task("pending_approval", household_id=t.household_id, transfer_id=t.id,
                               title_zh=f"档案{what[0]}申请待审批", title_en=f"archive {what[1]} request awaits a decision"))
    return tasks


def add(session: Session, principal: Principal, body: ReminderIn, now: datetime) -> ReminderView:
    if body.due_date < business_date(now):
        raise ProblemError(422, "DUE_DATE_PAST", "提醒日期不能早于今天", "the due date is in the past", "due_date")
    if body.household_id is not None:
        visible(session, principal, body.household_id)
    row = reminders.insert(session, staff_id=principal.id, household_id=body.household_id, due_date=body.due_date,
                           note=body.note, created_at=now)
    session.commit()
    return ReminderView.model_validate(row, from_attributes=True)


def done(session: Session, principal: Principal, reminder_id: int, now: datetime) -> ReminderView:
    if not reminders.mark_done(session, principal.id, reminder_id, now):
        row = reminders.get(session, reminder_id)
        if row is None or row.staff_id != principal.id:
            raise not_found("REMINDER", "未找到该提醒", "reminder not found", "reminder_id")
        raise ProblemError(409, "REMINDER_DONE", "该提醒已完成", "the reminder is already done")
    session.commit()
    row = reminders.get(session, reminder_id)
    assert row is not None
    return ReminderView.model_validate(row, from_attributes=True)
