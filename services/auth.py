"""Logins: staff by username and password, customers by an SMS code sent to their mobile."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from adapters.sms.port import SmsGateway
from config.settings import Settings
from db.models import Customer
from db.repositories import customers, staff
from services import otp, tokens
from services.errors import ProblemError
from services.passwords import verify_password
from services.principal import CUSTOMER, Principal
from services.schemas.auth import OtpRequestIn, OtpVerifyIn, StaffLoginIn, TokenOut
from services.schemas.common import CodeSent
from services.throttle import Throttle

LOGIN = "login"


def _token(settings: Settings, principal: Principal, now: datetime) -> TokenOut:
    return TokenOut(access_token=tokens.issue(settings, principal, now), expires_in=settings.jwt_ttl_minutes * 60,
                    role=principal.role, branch_code=principal.branch_code)


def staff_login(session: Session, settings: Settings, body: StaffLoginIn, now: datetime) -> TokenOut:
    user = staff.by_username(session, body.username)
    ok = verify_password(user.password_hash if user else None, body.password)
    if user is None or not ok or not user.active:
        raise ProblemError(401, "LOGIN_FAILED", "用户名或密码错误", "wrong username or password", "password")
    assert user.id is not None
    principal = Principal(kind="staff", id=user.id, role=user.role, branch_code=user.branch_code)
    return _token(settings, principal, now)


def _customer_for(session: Session, mobile: str, resident_id: str | None) -> Customer | None:
    """The one customer behind a mobile; families share phones, so the resident ID may be needed to choose."""
    matches = [c for c in customers.by_mobile(session, mobile) if resident_id is None or c.resident_id == resident_id]
    return matches[0] if len(matches) == 1 else None


def request_login_code(session: Session, settings: Settings, sms: SmsGateway, throttle: Throttle,
                       body: OtpRequestIn, now: datetime) -> CodeSent:
    """Text a login code. Unknown numbers get the same answer (and the same limit), so nobody can probe them."""
    customer = _customer_for(session, body.mobile, body.resident_id)
    if customer is not None and customer.id is not None:
        wait = otp.wait_before_resend(session, customer_id=customer.id, purpose=LOGIN, now=now)
        if wait is not None:
            raise otp.too_soon(wait)
    wait = throttle.hit(body.mobile, now)
    if wait is not None:
        raise otp.too_soon(wait)
    if customer is None:
        return CodeSent(ttl_minutes=settings.otp_ttl_minutes)
    return otp.send_code(session, settings, sms, customer=customer, purpose=LOGIN, template="otp_login", params={},
                         now=now)


def verify_login_code(session: Session, settings: Settings, body: OtpVerifyIn, now: datetime) -> TokenOut:
    customer = _customer_for(session, body.mobile, body.resident_id)
    if customer is None or customer.id is None:
        # The same answer as a wrong code: whether the number is registered stays private.
        raise ProblemError(422, "OTP_WRONG", "验证码错误", "the code is wrong", "code")
    try:
        otp.check_code(session, settings, customer_id=customer.id, purpose=LOGIN, code=body.code, now=now)
    except ProblemError as problem:
        if problem.code == "OTP_NOT_ISSUED":
            raise ProblemError(422, "OTP_WRONG", "验证码错误", "the code is wrong", "code") from problem
        raise
    session.commit()
    return _token(settings, Principal(kind="customer", id=customer.id, role=CUSTOMER), now)


def customer_token_current(engine: Engine, customer_id: int, issued_at: datetime) -> bool:
    """False once the customer's mobile changed after the token was issued (to the old number)."""
    with Session(engine) as session:
        customer = customers.get(session, customer_id)
    if customer is None:
        return False
    changed = customer.credentials_changed_at
    return changed is None or issued_at > changed.replace(microsecond=0)


def staff_is_active(engine: Engine, staff_id: int) -> bool:
    with Session(engine) as session:
        user = staff.get(session, staff_id)
    return user is not None and user.active
