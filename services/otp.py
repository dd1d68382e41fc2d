"""Sending and checking SMS one-time codes for the API: db.otp_codes plus the SMS gateway and problems."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlmodel import Session

from adapters.errors import AdapterUnavailable, Refused
from adapters.sms.port import SmsGateway
from adapters.sms.texts import render_sms
from config.settings import Settings
from db import otp_codes
from db.models import Customer
from services.errors import ProblemError
from services.schemas.common import CodeSent

RESEND_AFTER = timedelta(seconds=60)
# With 5 attempts a code, 10 codes a day bound a guesser to 50 tries in a million per day and purpose.
DAILY_CODES = 10

_REJECTIONS: dict[type[otp_codes.OtpRejected], tuple[int, str, str]] = {
    otp_codes.OtpWrong: (422, "验证码错误", "the code is wrong"),
    otp_codes.OtpMissing: (422, "请先获取验证码", "no code was sent for this action; request one first"),
    otp_codes.OtpExpired: (422, "验证码已过期,请重新获取", "the code has expired; request a new one"),
    otp_codes.OtpUsed: (422, "验证码已使用,请重新获取", "the code was already used; request a new one"),
    otp_codes.OtpTooManyAttempts: (429, "验证码错误次数过多,请重新获取", "too many wrong attempts; request a new code"),
}


def too_soon(wait: timedelta) -> ProblemError:
    seconds = max(1, math.ceil(wait.total_seconds()))
    return ProblemError(429, "OTP_TOO_FREQUENT", f"验证码发送过于频繁,请{seconds}秒后再试",
                        f"a code was sent less than a minute ago; retry in {seconds} s", "mobile",
                        headers={"Retry-After": str(seconds)})


def wait_before_resend(session: Session, *, customer_id: int, purpose: str, now: datetime) -> timedelta | None:
    last = otp_codes.latest(session, customer_id=customer_id, purpose=purpose)
    if last is not None and now - last.created_at < RESEND_AFTER:
        return RESEND_AFTER - (now - last.created_at)
    return None


def send_code(session: Session, settings: Settings, sms: SmsGateway, *, customer: Customer, purpose: str,
              template: str, params: dict[str, str], now: datetime, mobile: str | None = None) -> CodeSent:
    """Issue and commit a code, then text it (to `mobile`, else the customer's own); a code the customer never
    got is withdrawn again.

    Committed before the SMS goes out because the gateway writes through its own connection, and
    SQLite (the embedded default) lets only one connection write at a time."""
    assert customer.id is not None
    wait = wait_before_resend(session, customer_id=customer.id, purpose=purpose, now=now)
    if wait is not None:
        raise too_soon(wait)
    if otp_codes.issued_since(session, customer_id=customer.id, purpose=purpose,
                              since=now - timedelta(days=1)) >= DAILY_CODES:
        raise ProblemError(429, "OTP_DAILY_LIMIT", "今日验证码次数已用完,请明天再试或到网点办理",
                           f"at most {DAILY_CODES} codes a day for this action; try tomorrow or visit a branch",
                           "mobile", headers={"Retry-After": "3600"})
    ttl = settings.otp_ttl_minutes
    ref, code = otp_codes.issue(session, customer_id=customer.id, purpose=purpose, ttl_minutes=ttl, now=now,
                                secret=settings.jwt_secret)
    body = render_sms(template, {**params, "code": code, "ttl_minutes": str(ttl)})
    session.commit()
    try:
        _deliver(session, sms, ref=ref, mobile=mobile or customer.mobile, template=template, body=body)
    except AdapterUnavailable as exc:
        raise ProblemError(503, "SMS_UNAVAILABLE", "短信服务暂时不可用,请稍后重试", "the SMS gateway is unavailable",
                           headers={"Retry-After": "30"}) from exc
    except Refused as exc:
        raise ProblemError(422, "SMS_REFUSED", f"短信发送被拒绝({exc.code})", f"the SMS gateway refused the message ({exc.code})",
                           "mobile") from exc
    return CodeSent(ttl_minutes=ttl, dev_code=code if settings.otp_echo else None)


def _deliver(session: Session, sms: SmsGateway, *, ref: str, mobile: str, template: str, body: str) -> None:
    try:
        sms.send(idempotency_key=f"otp:{ref}", mobile=mobile, template=template, body=body)
    except (AdapterUnavailable, Refused):
        otp_codes.withdraw(session, ref)
        session.commit()
        raise


def check_code(session: Session, settings: Settings, *, customer_id: int, purpose: str, code: str,
               now: datetime) -> str:
    """The code's ref (the code is now spent), or a problem naming the `code` field. A caller whose action
    then fails gives the code back with `release_code`."""
    try:
        return otp_codes.verify(session, customer_id=customer_id, purpose=purpose, code=code, now=now,
                                secret=settings.jwt_secret, max_attempts=settings.otp_max_attempts)
    except otp_codes.OtpRejected as exc:
        status, zh, en = _REJECTIONS.get(type(exc), (422, "验证码无效", "the code is not valid"))
        raise ProblemError(status, exc.code, zh, en, "code") from exc


def release_code(session: Session, ref: str) -> None:
    otp_codes.release(session, ref)
