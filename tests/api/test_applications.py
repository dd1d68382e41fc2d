"""Submitting applications: self-service and proxy, the workflow start, its failure and idempotent retries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlmodel import Session, func, select

from db.models import Customer, IdempotencyRecord, LoanApplication
from services import idempotency
from services.clock import BEIJING
from services.gateway import TemporalUnavailable
from services.schemas.applications import ApplicationIn
from tests.api import data
from tests.api.asserts import assert_problem
from workflows import names
from workflows import search_attributes as sa
from workflows.messages import ApplicationState, LoanApplicationInput

BODY = {"amount": "50000.00", "term_months": 12, "repayment_method": "equal_installment", "purpose": "planting"}


def _person(name: str = "郑海燕") -> dict[str, str]:
    return {"name": name, "resident_id": data.resident_id(), "mobile": data.mobile()}


def _row(engine, app_no: str) -> LoanApplication:
    with Session(engine) as s:
        return s.exec(select(LoanApplication).where(LoanApplication.app_no == app_no)).one()


def _no_personal_data(payload: LoanApplicationInput, *people: Customer) -> None:
    text = payload.model_dump_json()
    for person in people:
        assert person.name not in text and person.resident_id not in text and person.mobile not in text


def test_self_service_application_is_saved_then_started(client, engine, api_settings, workflows):
    customer = data.add_customer(engine)
    r = client.post("/v1/applications", json=BODY, headers=data.key(**data.customer_headers(api_settings, customer)))
    assert r.status_code == 201, r.text
    created = r.json()
    row = _row(engine, created["app_no"])
    assert created["app_no"] == f"LA{row.created_at.astimezone(BEIJING):%Y%m%d}{row.id:06d}"
    assert (row.channel, row.stage, row.branch_code, row.amount) == ("self_service", "submitted", data.BRANCH_A,
                                                                      Decimal("50000.00"))
    [start] = workflows.starts
    assert (start.name, start.workflow_id) == (names.LOAN_APPLICATION, names.application_workflow_id(row.app_no))
    payload = start.arg
    assert isinstance(payload, LoanApplicationInput)
    assert (payload.application_id, payload.customer_id, payload.product.code) == (row.id, customer.id, "NONG_E_DAI")
    assert payload.escalation_branch_code == data.COUNTY and payload.initiator_staff_id is None
    attributes = start.search_attributes
    assert attributes[sa.STAGE] == "submitted" and attributes[sa.ASSIGNEE] == ""
    assert attributes[sa.AMOUNT_BAND] == "50k-100k" and attributes[sa.CHANNEL] == "self_service"
    _no_personal_data(payload, customer)


def test_staff_proxy_finds_or_creates_the_customer_and_guarantors(client, engine, api_settings, workflows):
    manager = data.add_staff(engine, "customer_manager")
    known_guarantor = data.add_customer(engine, name="黄国梁")
    body = {**BODY, "guarantee_type": "guaranteed", "customer": _person(),
            "guarantors": [_person("吴桂兰"), {"name": known_guarantor.name, "resident_id": known_guarantor.resident_id,
                                             "mobile": known_guarantor.mobile}]}
    r = client.post("/v1/applications", json=body, headers=data.key(**data.staff_headers(api_settings, manager)))
    assert r.status_code == 201, r.text
    row = _row(engine, r.json()["app_no"])
    assert (row.channel, row.initiator_staff_id, row.branch_code) == ("staff_proxy", manager.id, data.BRANCH_A)
    with Session(engine) as s:
        borrower = s.get(Customer, row.customer_id)
        new_guarantor = s.exec(select(Customer).where(Customer.resident_id == body["guarantors"][0]["resident_id"])).one()
    assert borrower.resident_id == body["customer"]["resident_id"] and borrower.branch_code == data.BRANCH_A
    assert borrower.customer_no == f"CIF{borrower.id:010d}"
    payload = workflows.starts[-1].arg
    assert payload.guarantor_customer_ids == [new_guarantor.id, known_guarantor.id]
    _no_personal_data(payload, borrower, new_guarantor, known_guarantor)


def test_proxy_refusals_name_the_field(client, engine, api_settings):
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    elsewhere = data.add_customer(engine, branch=data.BRANCH_B)
    r = client.post("/v1/applications", json={**BODY, "customer_id": elsewhere.id}, headers=data.key(**manager))
    assert_problem(r, 404, "CUSTOMER_NOT_FOUND", "customer_id")
    impostor = {"name": "冒名者", "resident_id": elsewhere.resident_id, "mobile": elsewhere.mobile}
    r = client.post("/v1/applications", json={**BODY, "customer": impostor}, headers=data.key(**manager))
    assert_problem(r, 422, "CUSTOMER_NAME_MISMATCH", "customer.name")
    r = client.post("/v1/applications", json=BODY, headers=data.key(**manager))
    assert_problem(r, 422, "CUSTOMER_REQUIRED", "customer")
    r = client.post("/v1/applications", json={**BODY, "product_code": "NO_SUCH", "customer_id": data.add_customer(engine).id},
                    headers=data.key(**manager))
    assert_problem(r, 422, "PRODUCT_UNKNOWN", "product_code")


def test_customer_refusals(client, engine, api_settings):
    me = data.add_customer(engine)
    headers = data.customer_headers(api_settings, me)
    myself = {"name": me.name, "resident_id": me.resident_id, "mobile": me.mobile}
    r = client.post("/v1/applications", json={**BODY, "guarantee_type": "guaranteed", "guarantors": [myself]},
                    headers=data.key(**headers))
    assert_problem(r, 422, "GUARANTOR_DUPLICATE", "guarantors[0].resident_id")
    r = client.post("/v1/applications", json={**BODY, "customer_id": me.id}, headers=data.key(**headers))
    assert_problem(r, 422, "FIELD_NOT_ALLOWED", "customer_id")
    approver = data.staff_headers(api_settings, data.add_staff(engine, "approver"))
    assert_problem(client.post("/v1/applications", json=BODY, headers=data.key(**approver)), 403, "ROLE_FORBIDDEN")


def test_a_failed_start_is_recorded_and_the_same_key_retries_it(client, engine, api_settings, workflows):
    customer = data.add_customer(engine)
    headers = data.key(**data.customer_headers(api_settings, customer))
    workflows.start_error = TemporalUnavailable("down")
    body = assert_problem(client.post("/v1/applications", json=BODY, headers=headers), 503, "WORKFLOW_START_FAILED")
    app_no = body["app_no"]
    assert _row(engine, app_no).start_error.startswith("TemporalUnavailable")

    workflows.start_error = None
    r = client.post("/v1/applications", json=BODY, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["app_no"] == app_no and _row(engine, app_no).start_error is None
    assert [c.workflow_id for c in workflows.starts] == [names.application_workflow_id(app_no)] * 2
    with Session(engine) as s:
        count = s.exec(select(func.count()).select_from(LoanApplication)
                       .where(LoanApplication.customer_id == customer.id)).one()
    assert count == 1


def test_a_retry_replays_the_first_answer_and_a_reused_key_is_refused(client, engine, api_settings, workflows):
    headers = data.key(**data.customer_headers(api_settings, data.add_customer(engine)))
    first = client.post("/v1/applications", json=BODY, headers=headers)
    again = client.post("/v1/applications", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert len(workflows.starts) == 1
    r = client.post("/v1/applications", json={**BODY, "amount": "60000.00"}, headers=headers)
    assert_problem(r, 422, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key")


def test_creating_needs_a_key_and_a_duplicate_in_flight_is_a_conflict(client, engine, api_settings, workflows):
    customer = data.add_customer(engine)
    headers = data.customer_headers(api_settings, customer)
    assert_problem(client.post("/v1/applications", json=BODY, headers=headers), 400, "IDEMPOTENCY_KEY_REQUIRED",
                   "Idempotency-Key")
    keyed = data.key(**headers)
    digest = idempotency.request_hash("POST", "/v1/applications", ApplicationIn(**BODY).model_dump(mode="json"))
    with Session(engine) as s:
        s.add(IdempotencyRecord(principal=f"customer:{customer.id}", key=keyed["Idempotency-Key"], method="POST",
                                path="/v1/applications", request_hash=digest, created_at=data.now()))
        s.commit()
    assert_problem(client.post("/v1/applications", json=BODY, headers=keyed), 409, "IDEMPOTENCY_IN_FLIGHT")
    assert workflows.starts == []


def test_an_abandoned_claim_is_taken_over(client, engine, api_settings, workflows):
    customer = data.add_customer(engine)
    keyed = data.key(**data.customer_headers(api_settings, customer))
    digest = idempotency.request_hash("POST", "/v1/applications", ApplicationIn(**BODY).model_dump(mode="json"))
    with Session(engine) as s:
        s.add(IdempotencyRecord(principal=f"customer:{customer.id}", key=keyed["Idempotency-Key"], method="POST",
                                path="/v1/applications", request_hash=digest,
                                created_at=data.now() - idempotency.ABANDONED_AFTER - timedelta(seconds=1)))
        s.commit()
    assert client.post("/v1/applications", json=BODY, headers=keyed).status_code == 201


def test_list_filters_by_stage_channel_and_business_date(client, engine, api_settings):
    ops = data.staff_headers(api_settings, data.add_staff(engine, "ops"))
    customer = data.add_customer(engine, name="欧阳娜娜")
    waiting = data.add_application(engine, customer, stage="awaiting_approval", channel="staff_proxy")
    data.add_application(engine, customer, stage="reviewing")
    today = data.now().astimezone(BEIJING).date()
    r = client.get("/v1/applications", params={"stage": "awaiting_approval", "channel": "staff_proxy",
                                               "created_from": today.isoformat(), "created_to": today.isoformat(),
                                               "limit": 200}, headers=ops)
    items = r.json()["items"]
    assert waiting.app_no in [i["app_no"] for i in items]
    assert {(i["stage"], i["channel"]) for i in items} == {("awaiting_approval", "staff_proxy")}
    assert next(i for i in items if i["app_no"] == waiting.app_no)["customer_name"] == "欧***"
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert client.get("/v1/applications", params={"created_from": tomorrow}, headers=ops).json()["total"] == 0


def test_detail_adds_the_live_state_when_temporal_answers(client, engine, api_settings, workflows):
    customer = data.add_customer(engine)
    app = data.add_application(engine, customer)
    headers = data.customer_headers(api_settings, customer)
    workflows.query_outcomes[names.QUERY_STATE] = ApplicationState(app_no=app.app_no, stage="reviewing", status="open")
    detail = client.get(f"/v1/applications/{app.app_no}", headers=headers).json()
    assert detail["live"]["stage"] == "reviewing" and detail["stage"] == "submitted"
    workflows.query_outcomes[names.QUERY_STATE] = TemporalUnavailable("down")
    r = client.get(f"/v1/applications/{app.app_no}", headers=headers)
    assert r.status_code == 200 and r.json()["live"] is None


def test_the_branch_limit_that_routes_approvals_is_capped_by_the_products_approver_limit(client, engine, api_settings,
                                                                                        workflows):
    """A branch approver may hold 300,000 of authority, but 农e贷 lets a branch approver approve 100,000: the
    workflow learns 100,000, so a larger amount goes to the county at once."""
    data.add_staff(engine, "approver", authority="300000")
    customer = data.add_customer(engine)
    r = client.post("/v1/applications", json=BODY, headers=data.key(**data.customer_headers(api_settings, customer)))
    assert r.status_code == 201, r.text
    [start] = workflows.starts
    assert start.arg.branch_approval_limit == Decimal("100000")
    assert start.arg.product.approval_authority["approver"] == Decimal("100000")
