"""Staff login, tokens, role checks, branch visibility and customer isolation."""

from __future__ import annotations

from datetime import timedelta

import jwt
from sqlmodel import Session

from db.models import StaffUser
from services import tokens
from services.principal import Principal
from tests.api import data
from tests.api.asserts import assert_problem


def test_staff_login_returns_a_token_that_carries_role_and_branch(client, engine, api_settings):
    user = data.add_staff(engine, "approver", branch=data.BRANCH_B)
    r = client.post("/v1/auth/staff/login", json={"username": user.username, "password": data.PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["role"] == "approver" and body["branch_code"] == data.BRANCH_B
    assert tokens.read(api_settings, body["access_token"]) == Principal("staff", user.id, "approver", data.BRANCH_B)


def test_wrong_password_unknown_user_and_inactive_user_look_the_same(client, engine):
    user = data.add_staff(engine, "customer_manager")
    inactive = data.add_staff(engine, "customer_manager", active=False)
    for username, password in ((user.username, "wrong"), ("nobody-at-all", data.PASSWORD),
                               (inactive.username, data.PASSWORD)):
        r = client.post("/v1/auth/staff/login", json={"username": username, "password": password})
        assert_problem(r, 401, "LOGIN_FAILED", "password")


def test_missing_forged_and_expired_tokens_are_401(client, engine, api_settings):
    assert_problem(client.get("/v1/applications"), 401, "NOT_AUTHENTICATED")
    forged = jwt.encode({"sub": "staff:1", "role": "admin", "exp": 4102444800}, "not-the-secret-but-long-enough-0123456789", algorithm="HS256")
    assert_problem(client.get("/v1/applications", headers={"Authorization": f"Bearer {forged}"}), 401, "TOKEN_INVALID")
    user = data.add_staff(engine, "ops")
    old = tokens.issue(api_settings, Principal("staff", user.id, "ops", user.branch_code),
                       data.now() - timedelta(minutes=api_settings.jwt_ttl_minutes + 1))
    r = client.get("/v1/applications", headers={"Authorization": f"Bearer {old}"})
    assert_problem(r, 401, "TOKEN_EXPIRED")
    assert r.headers["www-authenticate"] == "Bearer"


def test_a_deactivated_staff_token_stops_working_at_once(client, engine, api_settings):
    user = data.add_staff(engine, "customer_manager")
    headers = data.staff_headers(api_settings, user)
    assert client.get("/v1/applications", headers=headers).status_code == 200
    with Session(engine) as s:
        row = s.get(StaffUser, user.id)
        row.active = False
        s.add(row)
        s.commit()
    assert_problem(client.get("/v1/applications", headers=headers), 401, "STAFF_INACTIVE")


def test_roles_are_checked_per_endpoint(client, engine, api_settings):
    customer = data.add_customer(engine)
    manager = data.add_staff(engine, "customer_manager")
    assert_problem(client.get("/v1/approvals/inbox", headers=data.customer_headers(api_settings, customer)),
                   403, "ROLE_FORBIDDEN")
    assert_problem(client.get("/v1/ops/sms-outbox", headers=data.staff_headers(api_settings, manager)),
                   403, "ROLE_FORBIDDEN")
    assert_problem(client.get("/v1/customers", headers=data.customer_headers(api_settings, customer)),
                   403, "ROLE_FORBIDDEN")


def test_staff_see_their_own_branch_and_ops_see_all(client, engine, api_settings):
    mine = data.add_application(engine, data.add_customer(engine, branch=data.BRANCH_A))
    theirs = data.add_application(engine, data.add_customer(engine, branch=data.BRANCH_B))
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager", branch=data.BRANCH_A))
    ops = data.staff_headers(api_settings, data.add_staff(engine, "ops", branch=data.BRANCH_A))

    assert client.get(f"/v1/applications/{mine.app_no}", headers=manager).status_code == 200
    assert_problem(client.get(f"/v1/applications/{theirs.app_no}", headers=manager), 404, "APPLICATION_NOT_FOUND")
    listed = {a["app_no"] for a in client.get("/v1/applications?limit=200", headers=manager).json()["items"]}
    assert mine.app_no in listed and theirs.app_no not in listed
    assert client.get(f"/v1/applications/{theirs.app_no}", headers=ops).status_code == 200


def test_approvers_also_see_applications_escalated_to_their_queue(client, engine, api_settings):
    county_approver = data.add_staff(engine, "approver", branch=data.COUNTY)
    escalated = data.add_application(engine, data.add_customer(engine), stage="awaiting_approval",
                                     assignee=f"approver@{data.COUNTY}")
    r = client.get(f"/v1/applications/{escalated.app_no}", headers=data.staff_headers(api_settings, county_approver))
    assert r.status_code == 200, r.text


def test_customers_see_only_their_own_applications(client, engine, api_settings):
    alice, bob = data.add_customer(engine, name="王秀英"), data.add_customer(engine, name="陈志强")
    own = data.add_application(engine, alice)
    other = data.add_application(engine, bob)
    headers = data.customer_headers(api_settings, alice)
    assert client.get(f"/v1/applications/{own.app_no}", headers=headers).status_code == 200
    assert_problem(client.get(f"/v1/applications/{other.app_no}", headers=headers), 404, "APPLICATION_NOT_FOUND")
    assert_problem(client.get(f"/v1/applications/{other.app_no}/events", headers=headers), 404, "APPLICATION_NOT_FOUND")
    page = client.get("/v1/applications", headers=headers).json()
    assert [a["app_no"] for a in page["items"]] == [own.app_no]
    assert page["items"][0]["customer_name"] == "王**"
