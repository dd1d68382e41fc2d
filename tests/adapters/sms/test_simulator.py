"""SMS gateway simulator: outbox, idempotency under a race, refusals and injected faults."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Engine

from adapters.errors import AdapterUnavailable, OutcomeUnknown, Refused
from adapters.sms.simulator import SmsSimulator
from adapters.sms.texts import render_sms

BODY = render_sms("application_received", {"app_no": "AP1"})


@pytest.fixture
def sms(db_engine: Engine):
    sim = SmsSimulator(db_engine)
    sim.clear_faults()
    yield sim
    sim.clear_faults()


def key() -> str:
    return f"sms-{uuid.uuid4().hex}"


def mobile() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


def test_send_writes_a_delivered_message_to_the_outbox(sms: SmsSimulator) -> None:
    to = mobile()
    receipt = sms.send(idempotency_key=key(), mobile=to, template="application_received", body=BODY)
    assert receipt.status == "delivered" and receipt.accepted_at.tzinfo is not None
    [message] = sms.outbox(mobile=to)
    assert (message.id, message.body, message.template) == (receipt.message_id, BODY, "application_received")
    assert message.delivered_at is not None


def test_same_key_returns_the_first_receipt_and_sends_nothing_twice(sms: SmsSimulator) -> None:
    to, k = mobile(), key()
    first = sms.send(idempotency_key=k, mobile=to, template="application_received", body=BODY)
    again = sms.send(idempotency_key=k, mobile=to, template="withdrawn", body=render_sms("withdrawn", {"app_no": "X"}))
    assert again == first
    assert len(sms.outbox(mobile=to)) == 1


def test_racing_sends_on_one_key_deliver_one_message(sms: SmsSimulator) -> None:
    to, k = mobile(), key()
    with ThreadPoolExecutor(8) as pool:
        receipts = list(pool.map(
            lambda _: sms.send(idempotency_key=k, mobile=to, template="application_received", body=BODY), range(8)))
    assert len({r.message_id for r in receipts}) == 1
    assert len(sms.outbox(mobile=to)) == 1


def test_outbox_pages_newest_first(sms: SmsSimulator) -> None:
    to = mobile()
    ids = [sms.send(idempotency_key=key(), mobile=to, template="application_received", body=BODY).message_id
           for _ in range(3)]
    assert [m.id for m in sms.outbox(mobile=to)] == ids[::-1]
    assert [m.id for m in sms.outbox(mobile=to, limit=1, offset=1)] == [ids[1]]


@pytest.mark.parametrize(("to", "body", "code"), [
    ("12345", BODY, "INVALID_MOBILE"),
    ("13900000000", "   ", "EMPTY_BODY"),
    ("13900000000", "没有签名的短信", "MISSING_SIGNATURE"),
    ("13900000000", "长" * 600 + "【农e贷】", "BODY_TOO_LONG"),
])
def test_gateway_refuses_bad_messages_without_echoing_the_number(sms: SmsSimulator, to: str, body: str,
                                                                 code: str) -> None:
    with pytest.raises(Refused) as refused:
        sms.send(idempotency_key=key(), mobile=to, template="t", body=body)
    assert refused.value.code == code
    assert to not in str(refused.value)


def test_unavailable_fault_sends_nothing_then_clears(sms: SmsSimulator) -> None:
    to, k = mobile(), key()
    sms.inject_fault(kind="unavailable", times=2)
    for _ in range(2):
        with pytest.raises(AdapterUnavailable):
            sms.send(idempotency_key=k, mobile=to, template="application_received", body=BODY)
    assert sms.outbox(mobile=to) == []
    sms.send(idempotency_key=k, mobile=to, template="application_received", body=BODY)
    assert len(sms.outbox(mobile=to)) == 1


def test_timeout_after_commit_sends_and_a_retry_gets_the_same_receipt(sms: SmsSimulator) -> None:
    to, k = mobile(), key()
    sms.inject_fault(kind="timeout_after_commit")
    with pytest.raises(OutcomeUnknown):
        sms.send(idempotency_key=k, mobile=to, template="application_received", body=BODY)
    [message] = sms.outbox(mobile=to)
    assert sms.send(idempotency_key=k, mobile=to, template="application_received", body=BODY).message_id == message.id


def test_refuse_fault_carries_its_code(sms: SmsSimulator) -> None:
    sms.inject_fault(kind="refuse:BLOCKED_NUMBER")
    with pytest.raises(Refused) as refused:
        sms.send(idempotency_key=key(), mobile=mobile(), template="application_received", body=BODY)
    assert refused.value.code == "BLOCKED_NUMBER"


@pytest.mark.parametrize(("operation", "kind"), [("send", "explode"), ("receive", "unavailable"), ("send", "refuse:")])
def test_unknown_faults_are_rejected(sms: SmsSimulator, operation: str, kind: str) -> None:
    with pytest.raises(ValueError):
        sms.inject_fault(operation=operation, kind=kind)


def test_oversized_request_fields_are_refused_not_sent_to_the_database(sms: SmsSimulator) -> None:
    to = mobile()
    for k, template in (("k" * 129, "application_received"), (key(), "t" * 65)):
        with pytest.raises(Refused) as refused:
            sms.send(idempotency_key=k, mobile=to, template=template, body=BODY)
        assert refused.value.code == "INVALID_REQUEST" and to not in str(refused.value)
