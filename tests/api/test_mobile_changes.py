"""Changing the mobile a customer signs in and signs with: asked at the branch, the new number proven by a
code texted to it, decided by a second person; the old number is told and no longer gets codes."""

from __future__ import annotations

from adapters.sms.simulator import SmsSimulator
from tests.api import data
from tests.api.asserts import assert_problem


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
    [notice] = [m for m in sms.outbox(mobile=old) if m.template == "mobile_changed"]
    assert new[-4:] in notice.body and new not in notice.body  # the new number masked in the notice

    # sign-in codes now go to the new number; the old one is a stranger
    assert client.post("/v1/auth/otp", json={"mobile": new}).json().get("dev_code")
    assert not client.post("/v1/auth/otp", json={"mobile": old}).json().get("dev_code")
    listed = client.get(f"/v1/customers/{customer.id}/mobile-changes", headers=manager).json()
    assert [(c["id"], c["status"]) for c in listed] == [(change["id"], "completed")]


def test_bad_or_conflicting_requests_are_refused_field_by_field(client, engine, api_settings):
    customer, other = data.add_customer(engine), data.add_customer(engine, name="王小二")
    manager_user = data.add_staff(engine, "customer_manager")
    manager = data.staff_headers(api_settings, manager_user)
    assert_problem(_ask(client, manager, customer.id, "12345"), 422, "VALIDATION_FAILED", field="new_mobile")
    assert_problem(_ask(client, manager, customer.id, customer.mobile), 422, "MOBILE_UNCHANGED", field="new_mobile")
    assert_problem(_ask(client, manager, customer.id, other.mobile), 409, "MOBILE_IN_USE", field="new_mobile")
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
