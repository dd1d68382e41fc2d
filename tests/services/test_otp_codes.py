"""db.otp_codes: hashed storage, expiry, attempts, single use, and the newest code superseding older ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from db import otp_codes
from db.models import OneTimeCode
from tests.api import data

SECRET = "otp-test-secret-0123456789abcdef012345"


@pytest.fixture
def customer(engine):
    data.ensure_reference(engine)
    return data.add_customer(engine)


def _issue(engine, customer, purpose: str = "login", ttl: int = 5, at=None) -> tuple[str, str]:
    with Session(engine) as s:
        ref, code = otp_codes.issue(s, customer_id=customer.id, purpose=purpose, ttl_minutes=ttl,
                                    now=at or data.now(), secret=SECRET)
        s.commit()
    return ref, code


def _verify(engine, customer, code: str, *, purpose: str = "login", at=None, max_attempts: int = 3) -> str:
    with Session(engine) as s:
        ref = otp_codes.verify(s, customer_id=customer.id, purpose=purpose, code=code, now=at or data.now(),
                               secret=SECRET, max_attempts=max_attempts)
        s.commit()
    return ref


def test_only_a_keyed_hash_is_stored(engine, customer):
    ref, code = _issue(engine, customer)
    assert len(code) == 6 and code.isdigit()
    with Session(engine) as s:
        row = s.exec(select(OneTimeCode).where(OneTimeCode.ref == ref)).one()
    assert code not in row.code_hash and len(row.code_hash) == 64


def test_the_right_code_returns_its_ref_once(engine, customer):
    ref, code = _issue(engine, customer)
    assert _verify(engine, customer, code) == ref
    with pytest.raises(otp_codes.OtpUsed):
        _verify(engine, customer, code)


def test_a_code_expires(engine, customer):
    start = data.now()
    _, code = _issue(engine, customer, ttl=5, at=start)
    assert _verify(engine, customer, code, at=start + timedelta(minutes=4, seconds=59))
    _, code = _issue(engine, customer, ttl=5, at=start)
    with pytest.raises(otp_codes.OtpExpired):
        _verify(engine, customer, code, at=start + timedelta(minutes=5))


def test_wrong_guesses_are_counted_even_though_the_caller_rolls_back(engine, customer):
    _, code = _issue(engine, customer)
    wrong = "000000" if code != "000000" else "999999"
    with pytest.raises(otp_codes.OtpWrong):
        _verify(engine, customer, wrong)
    with pytest.raises(otp_codes.OtpWrong):
        _verify(engine, customer, wrong)
    with pytest.raises(otp_codes.OtpTooManyAttempts):
        _verify(engine, customer, wrong)
    with pytest.raises(otp_codes.OtpTooManyAttempts):
        _verify(engine, customer, code)


def test_a_right_code_is_spent_at_once_and_released_when_its_action_fails(engine, customer):
    ref, code = _issue(engine, customer)
    with Session(engine) as s:
        otp_codes.verify(s, customer_id=customer.id, purpose="login", code=code, now=data.now(), secret=SECRET,
                         max_attempts=3)
        s.rollback()  # nothing left to roll back: a second request cannot spend the same code meanwhile
    with pytest.raises(otp_codes.OtpUsed):
        _verify(engine, customer, code)
    with Session(engine) as s:
        otp_codes.release(s, ref)  # the signature or confirmation it authorised did not happen
    assert _verify(engine, customer, code) == ref


def test_the_newest_code_supersedes_and_purposes_do_not_mix(engine, customer):
    _, old = _issue(engine, customer, purpose="sign:DOC1")
    ref, new = _issue(engine, customer, purpose="sign:DOC1")
    _, other = _issue(engine, customer, purpose="sign:DOC2")
    if old != new:
        with pytest.raises(otp_codes.OtpWrong):
            _verify(engine, customer, old, purpose="sign:DOC1")
    if other != new:
        with pytest.raises(otp_codes.OtpWrong):
            _verify(engine, customer, other, purpose="sign:DOC1")
    assert _verify(engine, customer, new, purpose="sign:DOC1") == ref
    with pytest.raises(otp_codes.OtpMissing):
        _verify(engine, customer, new, purpose="confirm:LA1")
