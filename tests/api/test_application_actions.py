"""Updates on a running application: confirmation by SMS code, withdraw, cancel, supplements, guarantors."""

from __future__ import annotations

from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from adapters.sms.simulator import SmsSimulator
from db import otp_codes
from db.models import ApplicationEvent, Customer, OneTimeCode
from tests.api import data
from tests.api.asserts import assert_problem
from workflows import names
from workflows.messages import (
    CancelInput,
    ConfirmInput,
    ReplaceGuarantorInput,
    SupplyInfoInput,
    WithdrawInput,
)


def _issue_confirmation(engine, api_settings, app) -> tuple[str, str]:
    """What the workflow's issue_confirmation_code activity does."""
    with Session(engine) as s:
        ref, code = otp_codes.issue(s, customer_id=app.customer_id, purpose=f"confirm:{app.app_no}", ttl_minutes=30,
                                    now=data.now(), secret=api_settings.jwt_secret)
        s.commit()
    return ref, code


def _consumed(engine, ref: str) -> bool:
    with Session(engine) as s:
        return s.exec(select(OneTimeCode).where(OneTimeCode.ref == ref)).one().consumed_at is not None


def _proxy_application(engine):
    manager = data.add_staff(engine, "customer_manager")
    app = data.add_application(engine, data.add_customer(engine), channel="staff_proxy", stage="awaiting_confirmation",
                               initiator=manager)
    return manager, app


def test_confirm_checks_the_code_then_sends_the_update(client, engine, api_settings, workflows):
    manager, app = _proxy_application(engine)
    ref, code = _issue_confirmation(engine, api_settings, app)
    headers = data.key(**data.staff_headers(api_settings, manager))
    r = client.post(f"/v1/applications/{app.app_no}/confirm", json={"code": code}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["action"] == names.UPDATE_CONFIRM
    [update] = workflows.updates
    assert update.workflow_id == app.workflow_id and update.name == names.UPDATE_CONFIRM
    assert update.arg == ConfirmInput(customer_id=app.customer_id, otp_ref=ref)
    assert update.update_id == f"staff:{manager.id}:{headers['Idempotency-Key']}"
    assert _consumed(engine, ref)


def test_a_refused_confirmation_leaves_the_code_usable(client, engine, api_settings, workflows):
    manager, app = _proxy_application(engine)
    ref, code = _issue_confirmation(engine, api_settings, app)
    headers = data.staff_headers(api_settings, manager)
    workflows.update_outcomes[names.UPDATE_CONFIRM] = WorkflowUpdateFailedError(ApplicationError(
        "this application is not awaiting confirmation",
        {"zh": "该申请当前无需确认", "en": "this application is not awaiting confirmation"}, type="InvalidState"))
    body = assert_problem(client.post(f"/v1/applications/{app.app_no}/confirm", json={"code": code}, headers=headers),
                          409, "INVALID_STATE")
    assert body["zh"] == "该申请当前无需确认"
    assert not _consumed(engine, ref)
    workflows.update_outcomes.clear()
    assert client.post(f"/v1/applications/{app.app_no}/confirm", json={"code": code}, headers=headers).status_code == 200


def test_a_wrong_code_sends_nothing(client, engine, api_settings, workflows):
    manager, app = _proxy_application(engine)
    _, code = _issue_confirmation(engine, api_settings, app)
    wrong = "000000" if code != "000000" else "111111"
    r = client.post(f"/v1/applications/{app.app_no}/confirm", json={"code": wrong},
                    headers=data.staff_headers(api_settings, manager))
    assert_problem(r, 422, "OTP_WRONG", "code")
    assert workflows.updates == []


def test_the_confirmation_code_can_be_sent_again_once_a_minute(client, engine, api_settings):
    manager, app = _proxy_application(engine)
    headers = data.staff_headers(api_settings, manager)
    r = client.post(f"/v1/applications/{app.app_no}/confirmation-code", headers=headers)
    assert r.status_code == 202, r.text
    with Session(engine) as s:
        mobile = s.get(Customer, app.customer_id).mobile
    [sms] = SmsSimulator(engine).outbox(mobile=mobile)
    assert sms.template == "otp_confirm" and app.app_no in sms.body and r.json()["dev_code"] in sms.body
    assert_problem(client.post(f"/v1/applications/{app.app_no}/confirmation-code", headers=headers),
                   429, "OTP_TOO_FREQUENT")
    other = data.add_application(engine, data.add_customer(engine), stage="reviewing")
    assert_problem(client.post(f"/v1/applications/{other.app_no}/confirmation-code", headers=headers),
                   409, "INVALID_STATE")


def test_withdraw_is_the_customers_and_cancel_is_staffs(client, engine, api_settings, workflows):
    customer = data.add_customer(engine)
    app = data.add_application(engine, customer)
    manager = data.add_staff(engine, "customer_manager")
    r = client.post(f"/v1/applications/{app.app_no}/withdraw", json={"reason": "不需要了"},
                    headers=data.customer_headers(api_settings, customer))
    assert r.status_code == 200, r.text
    assert workflows.updates[-1].arg == WithdrawInput(customer_id=customer.id, reason="不需要了")
    assert_problem(client.post(f"/v1/applications/{app.app_no}/withdraw", json={},
                               headers=data.staff_headers(api_settings, manager)), 403, "ROLE_FORBIDDEN")

    r = client.post(f"/v1/applications/{app.app_no}/cancel", json={"reason_code": "DUPLICATE_APPLICATION"},
                    headers=data.staff_headers(api_settings, manager))
    assert r.status_code == 200, r.text
    assert workflows.updates[-1].arg == CancelInput(staff_id=manager.id, staff_role="customer_manager",
                                                    reason_code="DUPLICATE_APPLICATION")
    r = client.post(f"/v1/applications/{app.app_no}/cancel", json={"reason_code": "duplicate"},
                    headers=data.staff_headers(api_settings, manager))
    assert r.json()["errors"][0]["field"] == "reason_code"


def test_supplements_and_a_replacement_guarantor(client, engine, api_settings, workflows):
    customer = data.add_customer(engine)
    app = data.add_application(engine, customer, stage="referred_back")
    headers = data.customer_headers(api_settings, customer)
    assert client.post(f"/v1/applications/{app.app_no}/supplements", json={"note": "补充了收入证明"},
                       headers=headers).status_code == 200
    assert workflows.updates[-1].arg == SupplyInfoInput(actor=f"customer:{customer.id}", note="补充了收入证明")

    person = {"name": "邱美玲", "resident_id": data.resident_id(), "mobile": data.mobile()}
    r = client.put(f"/v1/applications/{app.app_no}/guarantors/2", json={"person": person}, headers=headers)
    assert r.status_code == 200, r.text
    with Session(engine) as s:
        guarantor = s.exec(select(Customer).where(Customer.resident_id == person["resident_id"])).one()
    assert workflows.updates[-1].arg == ReplaceGuarantorInput(slot=2, guarantor_customer_id=guarantor.id,
                                                              actor=f"customer:{customer.id}")
    r = client.put(f"/v1/applications/{app.app_no}/guarantors/3", json={"customer_id": guarantor.id}, headers=headers)
    assert r.json()["errors"][0]["field"] == "slot"
    # A borrower cannot pick an arbitrary customer by id: they name the person, as on the application.
    r = client.put(f"/v1/applications/{app.app_no}/guarantors/2", json={"customer_id": guarantor.id}, headers=headers)
    assert_problem(r, 422, "PERSON_REQUIRED", "person")
    r = client.put(f"/v1/applications/{app.app_no}/guarantors/1", json={}, headers=headers)
    assert r.json()["errors"][0]["code"] == "GUARANTOR_REQUIRED"


def test_events_are_the_business_history_in_order(client, engine, api_settings):
    customer = data.add_customer(engine)
    app = data.add_application(engine, customer)
    with Session(engine) as s:
        for seq, stage in ((2, "accepting"), (1, "submitted")):
            s.add(ApplicationEvent(application_id=app.id, seq=seq, at=data.now(), stage=stage, detail={}))
        s.commit()
    r = client.get(f"/v1/applications/{app.app_no}/events", headers=data.customer_headers(api_settings, customer))
    assert [e["stage"] for e in r.json()] == ["submitted", "accepting"]
