"""Customer login by SMS code: delivery, no enumeration, rate limit, expiry, attempts and reuse."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from adapters.sms.simulator import SmsSimulator
from db.models import OneTimeCode
from services import tokens
from tests.api import data
from tests.api.asserts import assert_problem


def _request(client, mobile: str, **extra: str):
    return client.post("/v1/auth/otp", json={"mobile": mobile, **extra})


def _verify(client, mobile: str, code: str):
    return client.post("/v1/auth/otp/verify", json={"mobile": mobile, "code": code})


def test_code_is_texted_and_logs_the_customer_in(client, engine, api_settings):
    customer = data.add_customer(engine)
    r = _request(client, f"+86 {customer.mobile}")
    assert r.status_code == 202, r.text
    code = r.json()["dev_code"]
    [sms] = SmsSimulator(engine).outbox(mobile=customer.mobile, limit=1)
    assert sms.template == "otp_login" and code in sms.body
    with Session(engine) as s:
        stored = s.exec(select(OneTimeCode).where(OneTimeCode.customer_id == customer.id)).one()
    assert code not in stored.code_hash

    r = _verify(client, customer.mobile, code)
    assert r.status_code == 200, r.text
    principal = tokens.read(api_settings, r.json()["access_token"])
    assert (principal.kind, principal.id, principal.role) == ("customer", customer.id, "customer")


def test_unknown_numbers_get_the_same_answer_and_no_sms(client, engine):
    stranger = data.mobile()
    r = _request(client, stranger)
    assert r.status_code == 202 and r.json() == {"ttl_minutes": 5}
    assert SmsSimulator(engine).outbox(mobile=stranger) == []
    assert_problem(_verify(client, stranger, "123456"), 422, "OTP_WRONG", "code")


def test_one_code_per_number_per_minute_for_known_and_unknown_numbers(client, engine):
    customer = data.add_customer(engine)
    for mobile in (customer.mobile, data.mobile()):
        assert _request(client, mobile).status_code == 202
        r = _request(client, mobile)
        body = assert_problem(r, 429, "OTP_TOO_FREQUENT", "mobile")
        assert 0 < int(r.headers["retry-after"]) <= 60, body


def test_expired_code_is_refused(client, engine):
    customer = data.add_customer(engine)
    code = _request(client, customer.mobile).json()["dev_code"]
    with Session(engine) as s:
        row = s.exec(select(OneTimeCode).where(OneTimeCode.customer_id == customer.id)).one()
        row.expires_at = data.now() - timedelta(seconds=1)
        s.add(row)
        s.commit()
    assert_problem(_verify(client, customer.mobile, code), 422, "OTP_EXPIRED", "code")


def test_wrong_attempts_lock_the_code_even_for_the_right_one(client, engine, api_settings):
    customer = data.add_customer(engine)
    code = _request(client, customer.mobile).json()["dev_code"]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(api_settings.otp_max_attempts - 1):
        assert_problem(_verify(client, customer.mobile, wrong), 422, "OTP_WRONG", "code")
    assert_problem(_verify(client, customer.mobile, wrong), 429, "OTP_TOO_MANY_ATTEMPTS", "code")
    assert_problem(_verify(client, customer.mobile, code), 429, "OTP_TOO_MANY_ATTEMPTS", "code")


def test_a_code_logs_in_once(client, engine):
    customer = data.add_customer(engine)
    code = _request(client, customer.mobile).json()["dev_code"]
    assert _verify(client, customer.mobile, code).status_code == 200
    assert_problem(_verify(client, customer.mobile, code), 422, "OTP_USED", "code")


def test_a_shared_family_number_needs_the_resident_id(client, engine, api_settings):
    father = data.add_customer(engine)
    son = data.add_customer(engine)
    with Session(engine) as s:
        row = s.get(type(son), son.id)
        row.mobile = father.mobile
        s.add(row)
        s.commit()
    code = _request(client, father.mobile, resident_id=son.resident_id).json()["dev_code"]
    assert_problem(_verify(client, father.mobile, code), 422, "OTP_WRONG", "code")
    r = client.post("/v1/auth/otp/verify", json={"mobile": father.mobile, "code": code, "resident_id": son.resident_id})
    assert r.status_code == 200, r.text
    assert tokens.read(api_settings, r.json()["access_token"]).id == son.id


def test_echo_is_off_unless_configured(client, engine, api_settings, monkeypatch):
    monkeypatch.setattr(api_settings, "otp_echo", False)
    customer = data.add_customer(engine)
    r = _request(client, customer.mobile)
    assert r.status_code == 202 and "dev_code" not in r.json()


def test_codes_per_day_are_capped_so_guessing_stays_hopeless(client, engine):
    customer = data.add_customer(engine)
    with Session(engine) as s:
        # Ten codes already sent today, each more than a minute ago.
        for n in range(10):
            s.add(OneTimeCode(ref=f"cap-{customer.id}-{n}", customer_id=customer.id, purpose="login", code_hash="x",
                              expires_at=data.now(), created_at=data.now() - timedelta(minutes=2 + n)))
        s.commit()
    assert_problem(_request(client, customer.mobile), 429, "OTP_DAILY_LIMIT", "mobile")
