"""SMS one-time codes (login, proxy confirmation, signing): only an HMAC of each code is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select, update

from db.models import OneTimeCode


class OtpRejected(Exception):
    """A code was not accepted; `code` is stable for the API, the subclasses name the reason."""

    code = "OTP_REJECTED"


class OtpWrong(OtpRejected):
    code = "OTP_WRONG"


class OtpMissing(OtpRejected):
    code = "OTP_NOT_ISSUED"


class OtpExpired(OtpRejected):
    code = "OTP_EXPIRED"


class OtpUsed(OtpRejected):
    code = "OTP_USED"


class OtpTooManyAttempts(OtpRejected):
    code = "OTP_TOO_MANY_ATTEMPTS"


def _digest(secret: str, ref: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{ref}{code}".encode(), hashlib.sha256).hexdigest()


def issue(session: Session, *, customer_id: int, purpose: str, ttl_minutes: int, now: datetime,
          secret: str) -> tuple[str, str]:
    """Add a new code (superseding earlier ones for the same purpose) and return (ref, code).

    Flushes but does not commit: the caller's transaction decides.
    """
    ref = f"otp_{secrets.token_urlsafe(24)}"
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(OneTimeCode(ref=ref, customer_id=customer_id, purpose=purpose, code_hash=_digest(secret, ref, code),
                            expires_at=now + timedelta(minutes=ttl_minutes), created_at=now))
    session.flush()
    return ref, code


def latest(session: Session, *, customer_id: int, purpose: str, lock: bool = False) -> OneTimeCode | None:
    stmt = (select(OneTimeCode)
            .where(OneTimeCode.customer_id == customer_id, OneTimeCode.purpose == purpose)
            .order_by(col(OneTimeCode.created_at).desc(), col(OneTimeCode.id).desc())
            .limit(1))
    if lock:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def verify(session: Session, *, customer_id: int, purpose: str, code: str, now: datetime, secret: str,
           max_attempts: int) -> str:
    """Accept the newest code for (customer, purpose) and return its ref, or raise an OtpRejected.

    A wrong guess is committed at once, so the caller's rollback cannot erase it. A right one is
    consumed by a compare-and-set and committed too, so two requests can never spend one code and no
    write lock is held while the caller acts (SQLite has one writer for the whole database). If the
    action it authorises is refused or cannot be delivered, the caller `release`s the code for a retry.
    """
    row = latest(session, customer_id=customer_id, purpose=purpose, lock=True)
    if row is None:
        raise OtpMissing()
    if row.consumed_at is not None:
        raise OtpUsed()
    if row.attempts >= max_attempts:
        raise OtpTooManyAttempts()
    if row.expires_at <= now:
        raise OtpExpired()
    if not hmac.compare_digest(row.code_hash, _digest(secret, row.ref, code.strip())):
        row.attempts += 1
        session.add(row)
        session.commit()
        raise OtpTooManyAttempts() if row.attempts >= max_attempts else OtpWrong()
    spent = session.exec(update(OneTimeCode).where(OneTimeCode.id == row.id, OneTimeCode.consumed_at.is_(None))
                         .values(consumed_at=now)).rowcount
    session.commit()
    if not spent:
        raise OtpUsed()  # a concurrent request with the same code got there first
    return row.ref


def release(session: Session, ref: str) -> None:
    """Make a spent code usable again: the action it authorised did not happen."""
    session.exec(update(OneTimeCode).where(OneTimeCode.ref == ref).values(consumed_at=None))
    session.commit()


def withdraw(session: Session, ref: str) -> None:
    """Forget a code that never reached the customer (the SMS failed), so it can neither be used nor throttle."""
    session.exec(delete(OneTimeCode).where(OneTimeCode.ref == ref))


def issued_since(session: Session, *, customer_id: int, purpose: str, since: datetime) -> int:
    stmt = select(func.count()).select_from(OneTimeCode).where(
        OneTimeCode.customer_id == customer_id, OneTimeCode.purpose == purpose, OneTimeCode.created_at >= since)
    return session.exec(stmt).one()


def void_open(session: Session, *, customer_id: int, now: datetime) -> int:
    """Expire every code of the customer not yet spent (their mobile changed: codes texted to the old number
    must not be usable); flushes, the caller commits. Returns how many."""
    return session.exec(update(OneTimeCode).where(  # type: ignore[call-overload]
        OneTimeCode.customer_id == customer_id, col(OneTimeCode.consumed_at).is_(None),
        OneTimeCode.expires_at > now).values(expires_at=now)).rowcount
