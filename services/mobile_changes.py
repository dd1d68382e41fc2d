"""Changing the mobile a customer signs in and signs with (更换手机号).

The mobile receives every sign-in and signing code, so whoever controls it can act as the customer: it
never changes through an edit. A customer manager (or administrator) asks for the change at the branch,
with the customer and their ID card present; a code texted to the new number proves the customer holds
it (they read it out at the counter); then an approver of the branch or an administrator, never the one
who asked, puts it in force. The old number is told when the change is asked for and when it is made, so
a change the customer did not ask for is noticed. In force, it ends what the old number could still do:
codes texted to it are void, and sign-in tokens issued before the change stop working.

A number may be one another customer also has (a family's shared phone), as at registration: sign-in then
asks for the resident ID. Refusing it would also tell any manager whose number it is.

States: awaiting_code -> awaiting_approval -> completed | rejected; cancelled by the one who asked (or an
administrator) while it is open; expired when not decided within CHANGE_TTL. One open change per customer.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from adapters.sms.port import SmsGateway
from adapters.sms.texts import render_sms
from config.settings import Settings
from db import otp_codes
from db.models import Branch, Customer, MobileChange
from db.repositories import customers, mobile_changes
from domain.identity import mask_mobile
from services import otp
from services.clock import business_date
from services.customers import visible_row
from services.errors import ProblemError, forbidden, not_found
from services.principal import ADMIN, APPROVER, Principal
from services.schemas.common import CodeIn
from services.schemas.customers import MobileChangeDecisionIn, MobileChangeIn, MobileChangeView
from services.unique_requests import insert_unless

log = logging.getLogger("nongedai.mobile_changes")
# A change is decided within three days of being asked for, or asked for again: the code proved the new
# phone was in the customer's hands then, not months later.
CHANGE_TTL = timedelta(days=3)


def _purpose(change_id: int) -> str:
    return f"mobile-change:{change_id}"


def request(session: Session, settings: Settings, sms: SmsGateway, principal: Principal, customer_id: int,
            body: MobileChangeIn, now: datetime) -> MobileChangeView:
    """Record the change, text a code to the new number and tell the old one. A change whose code could not
    be sent is cancelled again, so asking again works."""
    customer = visible_row(session, principal, customer_id)
    assert customer.id is not None and not principal.is_customer
    if body.new_mobile == customer.mobile:
        raise ProblemError(422, "MOBILE_UNCHANGED", "新手机号与原手机号相同", "the new mobile is the one on file", "new_mobile")
    held = customer.id
    stale = mobile_changes.open_for(session, held)
    if stale is not None and _expire_if_stale(session, stale, now):
        session.commit()
    created = insert_unless(  # held by uq_mobile_change_open
        session,
        lambda: None if mobile_changes.open_for(session, held) is None else ProblemError(
            409, "MOBILE_CHANGE_OPEN", "该客户已有办理中的手机号变更", "a change of this customer's mobile is already open",
            "customer_id"),
        lambda: mobile_changes.insert(session, customer_id=held, branch_code=customer.branch_code,
                                      old_mobile=customer.mobile, new_mobile=body.new_mobile, reason=body.reason,
                                      status="awaiting_code", requested_by=principal.id, requested_at=now))
    session.commit()
    assert created.id is not None
    try:
        view = _send(session, settings, sms, customer, created, now)
    except ProblemError:
        mobile_changes.set_status(session, created.id, expected="awaiting_code", status="cancelled", decided_at=now)
        session.commit()
        raise
    _tell_old_number(session, sms, created, "mobile_change_requested", now)
    return view


def _send(session: Session, settings: Settings, sms: SmsGateway, customer: Customer, row: MobileChange,
          now: datetime) -> MobileChangeView:
    assert row.id is not None
    code = otp.send_code(session, settings, sms, customer=customer, purpose=_purpose(row.id),
                         template="otp_mobile_change", params={}, now=now, mobile=row.new_mobile)
    return MobileChangeView.of(row, code)


def _change(session: Session, principal: Principal, change_id: int) -> MobileChange:
    row = mobile_changes.get(session, change_id)
    if row is None or not principal.sees_branch(row.branch_code):
        raise not_found("MOBILE_CHANGE", "未找到该手机号变更", "mobile change not found", "change_id")
    return row


def _expire_if_stale(session: Session, row: MobileChange, now: datetime) -> bool:
    """Mark an open change expired once CHANGE_TTL has passed since it was asked for; the caller commits."""
    assert row.id is not None
    if row.status not in mobile_changes.OPEN or now - row.requested_at <= CHANGE_TTL:
        return False
    return mobile_changes.set_status(session, row.id, expected=row.status, status="expired", decided_at=now)


def _open(session: Session, row: MobileChange, wanted: str, now: datetime) -> None:
    """Go on only from `wanted`, and not with a change left undecided past CHANGE_TTL."""
    if _expire_if_stale(session, row, now):
        session.commit()
        raise ProblemError(409, "MOBILE_CHANGE_EXPIRED", "该手机号变更已超过3天未办结,请重新申请",
                           "the change was not completed within 3 days; ask again", "change_id")
    if row.status != wanted:
        raise _not(row, wanted)


def _not(row: MobileChange, wanted: str) -> ProblemError:
    return ProblemError(409, "MOBILE_CHANGE_STATE", "该手机号变更当前不能办理此操作",
                        f"the change is {row.status}, not {wanted}", "change_id")


def resend_code(session: Session, settings: Settings, sms: SmsGateway, principal: Principal, change_id: int,
                now: datetime) -> MobileChangeView:
    """Another code to the new number (one a minute, as every code)."""
    row = _change(session, principal, change_id)
    _open(session, row, "awaiting_code", now)
    customer = customers.get(session, row.customer_id)
    assert customer is not None
    return _send(session, settings, sms, customer, row, now)


def confirm(session: Session, settings: Settings, principal: Principal, change_id: int, body: CodeIn,
            now: datetime) -> MobileChangeView:
    """The code the new number received: the customer holds that phone. Then a second person decides."""
    row = _change(session, principal, change_id)
    assert row.id is not None
    _open(session, row, "awaiting_code", now)
    ref = otp.check_code(session, settings, customer_id=row.customer_id, purpose=_purpose(row.id), code=body.code,
                         now=now)
    if not mobile_changes.set_status(session, row.id, expected="awaiting_code", status="awaiting_approval",
                                     confirmed_at=now):
        session.rollback()
        otp.release_code(session, ref)  # commits
        raise _not(row, "awaiting_code")
    session.commit()
    return MobileChangeView.of(row)


def decide(session: Session, sms: SmsGateway, principal: Principal, change_id: int, body: MobileChangeDecisionIn,
           now: datetime) -> MobileChangeView:
    if principal.role not in (APPROVER, ADMIN):
        raise forbidden("只有审批员或管理员可以审批手机号变更", "only an approver or administrator decides a mobile change",
                        "ROLE_FORBIDDEN")
    row = _change(session, principal, change_id)
    assert row.id is not None
    if principal.id == row.requested_by:
        raise forbidden("不能审批自己发起的申请", "a change is decided by a second person, not the one who asked",
                        "SAME_PERSON")
    _open(session, row, "awaiting_approval", now)
    if body.approve:
        customer = customers.get(session, row.customer_id)
        assert customer is not None
        if customer.mobile != row.old_mobile:
            raise ProblemError(409, "MOBILE_CHANGE_STALE", "客户手机号已变更,请重新办理",
                               "the customer's mobile changed since the request; ask again", "change_id")
        # What the old number could still do ends now: unspent codes texted to it, and sign-in tokens.
        customer.mobile, customer.credentials_changed_at = row.new_mobile, now
        session.add(customer)
        otp_codes.void_open(session, customer_id=row.customer_id, now=now)
    if not mobile_changes.set_status(session, row.id, expected="awaiting_approval",
                                     status="completed" if body.approve else "rejected", decided_by=principal.id,
                                     decision_note=body.note, decided_at=now):
        session.rollback()
        raise ProblemError(409, "MOBILE_CHANGE_STATE", "该申请已被他人处理", "someone else decided the change first",
                           "change_id")
    session.commit()
    if body.approve:
        _tell_old_number(session, sms, row, "mobile_changed", now)
    return MobileChangeView.of(row)


def _tell_old_number(session: Session, sms: SmsGateway, row: MobileChange, template: str, now: datetime) -> bool:
    """The notice to the old number: asked for (`mobile_change_requested`) or made (`mobile_changed`, then
    `old_mobile_notified` records it; `notify_again` retries). The change stands whether or not it goes out."""
    assert row.id is not None
    branch = session.get(Branch, row.branch_code)
    day = business_date(now)
    body = render_sms(template, {"date": f"{day.year}年{day.month}月{day.day}日",
                                 "new_mobile": mask_mobile(row.new_mobile),
                                 "branch": branch.name if branch else "开户网点"})
    try:
        sms.send(idempotency_key=f"{_purpose(row.id)}:{template}", mobile=row.old_mobile, template=template, body=body)
    except Exception as exc:  # noqa: BLE001 - the change is committed; say what failed, retry later
        log.warning("mobile change %s: the %s notice to the old number did not go out (%s)", row.id, template,
                    type(exc).__name__)
        session.rollback()
        return False
    if template == "mobile_changed":
        mobile_changes.mark_old_notified(session, row.id)
        session.commit()
    return True


def notify_again(session: Session, sms: SmsGateway, principal: Principal, change_id: int,
                 now: datetime) -> MobileChangeView:
    """Send the notice of a completed change to the old number again, when it did not go out the first time."""
    row = _change(session, principal, change_id)
    assert row.id is not None
    if row.status != "completed":
        raise _not(row, "completed")
    if not row.old_mobile_notified and not _tell_old_number(session, sms, row, "mobile_changed", now):
        raise ProblemError(503, "SMS_UNAVAILABLE", "短信服务暂时不可用,请稍后重试", "the SMS gateway is unavailable",
                           "change_id", headers={"Retry-After": "30"})
    return MobileChangeView.of(row)


def cancel(session: Session, principal: Principal, change_id: int, now: datetime) -> MobileChangeView:
    row = _change(session, principal, change_id)
    assert row.id is not None
    if principal.role != ADMIN and principal.id != row.requested_by:
        raise forbidden("只有申请人或管理员可以撤回", "only the one who asked, or an administrator, may cancel",
                        "NOT_REQUESTER")
    if row.status not in mobile_changes.OPEN or not mobile_changes.set_status(
            session, row.id, expected=row.status, status="cancelled", decided_at=now):
        raise _not(row, "awaiting_code or awaiting_approval")
    session.commit()
    return MobileChangeView.of(row)


def for_customer(session: Session, principal: Principal, customer_id: int) -> list[MobileChangeView]:
    customer = visible_row(session, principal, customer_id)
    assert customer.id is not None
    return [MobileChangeView.of(r) for r in mobile_changes.for_customer(session, customer.id)]

