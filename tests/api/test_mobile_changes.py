"""Changing the mobile a customer signs in and signs with: asked at the branch, the new number proven by a
code texted to it, decided by a second person; the old number is told and no longer gets codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from adapters.errors import AdapterUnavailable
from adapters.sms.simulator import SmsSimulator
from db import otp_codes
from db.models import MobileChange
from tests.api import data
from tests.api.asserts import assert_problem


class FailingFor:
    """The SMS gateway, down for the given templates until `healed`."""

    def __init__(self, real, *templates: str) -> None:
        self._real, self._templates, self.healed = real, templates, False

    def send(self, **kwargs):
        if not self.healed and kwargs["template"] in self._templates:
            raise AdapterUnavailable("sms", "down for the test")
        return self._real.send(**kwargs)


def _confirmed(client, manager, customer_id: int, new_mobile: str) -> dict:
    change = _ask(client, manager, customer_id, new_mobile).json()
    r = client.post(f"/v1/mobile-changes/{change['id']}/confirmation", json={"code": change["code"]["dev_code"]},
                    headers=manager)
    assert r.status_code == 200, r.text
    return r.json()


def _ask(client, headers, customer_id: int, new_mobile: str, reason: str = "原号码丢失"):
    return client.post(f"/v1/customers/{customer_id}/mobile-changes", json={"new_mobile": new_mobile, "reason": reason},
                       headers=headers)


def test_a_verified_and_approved_change_moves_sign_in_to_the_new_number(client, engine, api_settings):
    customer = data.add_customer(engine)
    old, new = customer.mobile, data.mobile()
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    approver = data.staff_headers(api_settings, data.add_staff(engine, "approver"))
    sms = SmsSimulator(engine)

    r = _ask(client, manager, customer.id, new)
    assert r.status_code == 201, r.text
    change = r.json()
    assert change["status"] == "awaiting_code" and change["new_mobile"] == new[:3] + "****" + new[-4:]
    [texted] = sms.outbox(mobile=new)  # the code goes to the new number, not the old one
    assert texted.template == "otp_mobile_change" and change["code"]["dev_code"] in texted.body
    assert not [m for m in sms.outbox(mobile=old) if m.template == "otp_mobile_change"]

    # nothing changes before the code and a second person's decision
    early = client.post(f"/v1/mobile-changes/{change['id']}/decision", json={"approve": True}, headers=approver)
    assert_problem(early, 409, "MOBILE_CHANGE_STATE")
    wrong = client.post(f"/v1/mobile-changes/{change['id']}/confirmation", json={"code": "000000"}, headers=manager)
    assert_problem(wrong, 422, "OTP_WRONG", field="code")
    r = client.post(f"/v1/mobile-changes/{change['id']}/confirmation", json={"code": change["code"]["dev_code"]},
                    headers=manager)
    assert r.status_code == 200 and r.json()["status"] == "awaiting_approval", r.text
    own = client.post(f"/v1/mobile-changes/{change['id']}/decision", json={"approve": True}, headers=manager)
    assert_problem(own, 403, "ROLE_FORBIDDEN")
    assert client.get(f"/v1/customers/{customer.id}", headers=manager).json()["mobile"] == old

    r = client.post(f"/v1/mobile-changes/{change['id']}/decision", json={"approve": True, "note": "核验身份证"},
                    headers=approver)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["old_mobile_notified"]) == ("completed", True)
    assert client.get(f"/v1/customers/{customer.id}", headers=manager).json()["mobile"] == new
    [asked] = [m for m in sms.outbox(mobile=old) if m.template == "mobile_change_requested"]
    [notice] = [m for m in sms.outbox(mobile=old) if m.template == "mobile_changed"]
    assert new[-4:] in notice.body and new not in notice.body and new not in asked.body  # masked

    # sign-in codes now go to the new number; the old one is a stranger
    assert client.post("/v1/auth/otp", json={"mobile": new}).json().get("dev_code")
    assert not client.post("/v1/auth/otp", json={"mobile": old}).json().get("dev_code")
    listed = client.get(f"/v1/customers/{customer.id}/mobile-changes", headers=manager).json()
    assert [(c["id"], c["status"]) for c in listed] == [(change["id"], "completed")]


def test_bad_or_conflicting_requests_are_refused_field_by_field(client, engine, api_settings):
    customer = data.add_customer(engine)
    manager_user = data.add_staff(engine, "customer_manager")
    manager = data.staff_headers(api_settings, manager_user)
    assert_problem(_ask(client, manager, customer.id, "12345"), 422, "VALIDATION_FAILED", field="new_mobile")
    assert_problem(_ask(client, manager, customer.id, customer.mobile), 422, "MOBILE_UNCHANGED", field="new_mobile")
    assert_problem(_ask(client, manager, customer.id, data.mobile(), reason=""), 422, "VALIDATION_FAILED", field="reason")
    first = _ask(client, manager, customer.id, data.mobile())
    assert first.status_code == 201
    assert_problem(_ask(client, manager, customer.id, data.mobile()), 409, "MOBILE_CHANGE_OPEN")
    # the one who asked withdraws it; then a new request may be made
    r = client.post(f"/v1/mobile-changes/{first.json()['id']}/cancel", headers=manager)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert _ask(client, manager, customer.id, data.mobile()).status_code == 201
    # staff of another branch do not see the customer or the change
    elsewhere = data.staff_headers(api_settings, data.add_staff(engine, "approver", branch=data.BRANCH_B))
    assert_problem(client.post(f"/v1/mobile-changes/{first.json()['id']}/decision", json={"approve": True},
                               headers=elsewhere), 404, "MOBILE_CHANGE_NOT_FOUND")
    assert client.post(f"/v1/customers/{customer.id}/mobile-changes", json={"new_mobile": data.mobile(), "reason": "x"},
                       headers=data.customer_headers(api_settings, customer)).status_code == 403


def test_a_rejected_change_leaves_the_mobile_as_it_was(client, engine, api_settings):
    customer = data.add_customer(engine)
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    approver = data.staff_headers(api_settings, data.add_staff(engine, "approver"))
    change = _ask(client, manager, customer.id, data.mobile()).json()
    client.post(f"/v1/mobile-changes/{change['id']}/confirmation", json={"code": change["code"]["dev_code"]},
                headers=manager)
    r = client.post(f"/v1/mobile-changes/{change['id']}/decision", json={"approve": False, "note": "身份存疑"},
                    headers=approver)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert client.get(f"/v1/customers/{customer.id}", headers=manager).json()["mobile"] == customer.mobile


def test_the_old_number_loses_its_codes_and_its_sign_in_when_the_change_is_made(client, engine, api_settings):
    customer = data.add_customer(engine)
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    approver = data.staff_headers(api_settings, data.add_staff(engine, "approver"))
    # the old phone is signed in, and holds a sign-in code not yet used
    old_code = client.post("/v1/auth/otp", json={"mobile": customer.mobile}).json()["dev_code"]
    token = client.post("/v1/auth/otp/verify", json={"mobile": customer.mobile, "code": old_code}).json()["access_token"]
    spare = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/applications", headers=spare).status_code == 200
    with Session(engine) as s:  # a signing code texted to the old number, not yet used
        ref, unspent = otp_codes.issue(s, customer_id=customer.id, purpose="sign:HT-TEST", ttl_minutes=5,
                                       now=data.now(), secret=api_settings.jwt_secret)
        s.commit()
    change = _confirmed(client, manager, customer.id, data.mobile())
    # the token stays good until the change is made (a wrong request must not lock the customer out)
    assert client.get("/v1/applications", headers=spare).status_code == 200
    assert client.post(f"/v1/mobile-changes/{change['id']}/decision", json={"approve": True},
                       headers=approver).status_code == 200
    assert_problem(client.get("/v1/applications", headers=spare), 401, "TOKEN_REVOKED")
    with Session(engine) as s, pytest.raises(otp_codes.OtpExpired):
        otp_codes.verify(s, customer_id=customer.id, purpose="sign:HT-TEST", code=unspent, now=data.now(),
                         secret=api_settings.jwt_secret, max_attempts=5)


def test_only_a_second_person_decides_even_an_administrator(client, engine, api_settings):
    customer = data.add_customer(engine)
    admin = data.staff_headers(api_settings, data.add_staff(engine, "admin"))
    change = _confirmed(client, admin, customer.id, data.mobile())
    assert_problem(client.post(f"/v1/mobile-changes/{change['id']}/decision", json={"approve": True}, headers=admin),
                   403, "SAME_PERSON")
    # an administrator may withdraw a change someone else asked for
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    other = data.add_customer(engine, name="赵二")
    asked = _ask(client, manager, other.id, data.mobile()).json()
    r = client.post(f"/v1/mobile-changes/{asked['id']}/cancel", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


def test_a_change_not_decided_within_three_days_expires(client, engine, api_settings):
    customer = data.add_customer(engine)
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    approver = data.staff_headers(api_settings, data.add_staff(engine, "approver"))
    change = _confirmed(client, manager, customer.id, data.mobile())
    with Session(engine) as s:
        row = s.get(MobileChange, change["id"])
        row.requested_at -= timedelta(days=3, minutes=1)
        s.add(row)
        s.commit()
    assert_problem(client.post(f"/v1/mobile-changes/{change['id']}/decision", json={"approve": True},
                               headers=approver), 409, "MOBILE_CHANGE_EXPIRED", field="change_id")
    assert client.get(f"/v1/customers/{customer.id}", headers=manager).json()["mobile"] == customer.mobile
    assert _ask(client, manager, customer.id, data.mobile()).status_code == 201  # asked again


def test_a_change_overtaken_by_another_is_refused_as_stale(client, engine, api_settings):
    customer = data.add_customer(engine)
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    approver = data.staff_headers(api_settings, data.add_staff(engine, "approver"))
    change = _confirmed(client, manager, customer.id, data.mobile())
    with Session(engine) as s:  # the mobile changed meanwhile (another way: a correction by the bank)
        from db.models import Customer
        row = s.get(Customer, customer.id)
        row.mobile = data.mobile()
        s.add(row)
        s.commit()
    assert_problem(client.post(f"/v1/mobile-changes/{change['id']}/decision", json={"approve": True},
                               headers=approver), 409, "MOBILE_CHANGE_STALE", field="change_id")


def test_when_texts_fail_nothing_is_stuck(client, engine, api_settings, monkeypatch):
    customer = data.add_customer(engine)
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    approver = data.staff_headers(api_settings, data.add_staff(engine, "approver"))
    runtime = client.app.state.runtime
    down = FailingFor(runtime.sms, "otp_mobile_change", "mobile_changed")
    monkeypatch.setattr(runtime, "sms", down)
    # the code cannot go out: the change is withdrawn again, so asking again is possible
    assert_problem(_ask(client, manager, customer.id, data.mobile()), 503, "SMS_UNAVAILABLE")
    assert [c["status"] for c in client.get(f"/v1/customers/{customer.id}/mobile-changes", headers=manager).json()] \
        == ["cancelled"]
    down.healed = True
    change = _confirmed(client, manager, customer.id, data.mobile())
    down.healed = False
    # the notice of the change cannot go out: the change stands, and the notice is sent again later
    r = client.post(f"/v1/mobile-changes/{change['id']}/decision", json={"approve": True}, headers=approver)
    assert r.status_code == 200 and (r.json()["status"], r.json()["old_mobile_notified"]) == ("completed", False)
    assert_problem(client.post(f"/v1/mobile-changes/{change['id']}/notice", headers=approver), 503, "SMS_UNAVAILABLE")
    down.healed = True
    r = client.post(f"/v1/mobile-changes/{change['id']}/notice", headers=approver)
    assert r.status_code == 200 and r.json()["old_mobile_notified"] is True
    assert [m.template for m in SmsSimulator(engine).outbox(mobile=customer.mobile)].count("mobile_changed") == 1


def test_a_code_can_be_sent_again_after_a_minute(client, engine, api_settings):
    customer = data.add_customer(engine)
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    change = _ask(client, manager, customer.id, data.mobile()).json()
    assert_problem(client.post(f"/v1/mobile-changes/{change['id']}/code", headers=manager), 429, "OTP_TOO_FREQUENT")
    with Session(engine) as s:
        from db.models import OneTimeCode
        for row in s.query(OneTimeCode).filter(OneTimeCode.purpose == f"mobile-change:{change['id']}"):
            row.created_at -= timedelta(minutes=2)
            s.add(row)
        s.commit()
    again = client.post(f"/v1/mobile-changes/{change['id']}/code", headers=manager)
    assert again.status_code == 200, again.text
    r = client.post(f"/v1/mobile-changes/{change['id']}/confirmation", json={"code": again.json()["code"]["dev_code"]},
                    headers=manager)
    assert r.status_code == 200 and r.json()["status"] == "awaiting_approval"


def test_a_number_shared_with_another_customer_is_allowed_as_at_registration(client, engine, api_settings):
    """A family's one phone: sign-in then asks for the resident ID; refusing would tell whose number it is."""
    customer, spouse = data.add_customer(engine), data.add_customer(engine, name="林阿妹")
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    r = _ask(client, manager, customer.id, spouse.mobile)
    assert r.status_code == 201 and r.json()["status"] == "awaiting_code", r.text
