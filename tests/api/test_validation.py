"""Refusals of bad input: problem+json naming each field, with a code and Chinese and English text."""

from __future__ import annotations

import pytest

from tests.api import data
from tests.api.asserts import assert_problem


@pytest.fixture
def manager(engine, api_settings):
    return data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))


def _person(**override: str) -> dict[str, str]:
    return {"name": "林阿福", "resident_id": data.resident_id(), "mobile": data.mobile(), **override}


def _errors(response) -> dict[str, str]:
    body = assert_problem(response, 422, "VALIDATION_FAILED")
    for err in body["errors"]:
        assert err["zh"] and err["en"], err
    return {e["field"]: e["code"] for e in body["errors"]}


def test_resident_id_checksum_is_refused_naming_the_field(client, manager):
    good = data.resident_id()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    r = client.post("/v1/customers", json=_person(resident_id=bad), headers=manager)
    assert _errors(r) == {"resident_id": "ID_CHECKSUM"}
    assert r.json()["field"] == "resident_id"


def test_excel_scientific_notation_is_explained(client, manager):
    r = client.post("/v1/customers", json=_person(resident_id="3.50102E+17"), headers=manager)
    assert _errors(r) == {"resident_id": "ID_SCIENTIFIC_NOTATION"}
    r = client.post("/v1/customers", json={**_person(), "resident_id": 3.50102e17}, headers=manager)
    assert _errors(r) == {"resident_id": "STRING_REQUIRED"}


def test_full_width_digits_and_a_lower_case_x_are_normalised(client, manager):
    rid = data.resident_id()
    while not rid.endswith("X"):
        rid = data.resident_id()
    typed = rid[:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "x"
    r = client.post("/v1/customers", json=_person(resident_id=typed, mobile="１３９ " + data.mobile()[3:]),
                    headers=manager)
    assert r.status_code == 201, r.text
    assert r.json()["resident_id"] == rid and r.json()["mobile"].isascii()


def test_nested_fields_are_named_by_their_path(client, engine, api_settings, manager):
    body = {"amount": "50000.00", "term_months": 12, "repayment_method": "equal_installment",
            "guarantee_type": "guaranteed", "purpose": "planting", "customer": _person(),
            "guarantors": [_person(), _person(mobile="12345")]}
    r = client.post("/v1/applications", json=body, headers=data.key(**manager))
    assert _errors(r) == {"guarantors[1].mobile": "MOBILE_FORMAT"}


@pytest.mark.parametrize(("amount", "code"), [
    ("-100.00", "AMOUNT_NOT_POSITIVE"),
    ("0", "AMOUNT_NOT_POSITIVE"),
    ("0.001", "AMOUNT_SUB_FEN"),
    ("50000.005", "AMOUNT_SUB_FEN"),
    (50000.5, "AMOUNT_NOT_STRING"),
    ("1e5", "AMOUNT_FORMAT"),
    ("NaN", "AMOUNT_FORMAT"),
    ("Infinity", "AMOUNT_FORMAT"),
    ("50,000", "AMOUNT_FORMAT"),
    ("", "AMOUNT_FORMAT"),
])
def test_bad_amounts_are_refused(client, engine, api_settings, amount, code):
    headers = data.customer_headers(api_settings, data.add_customer(engine))
    body = {"amount": amount, "term_months": 12, "repayment_method": "equal_installment", "purpose": "planting"}
    r = client.post("/v1/applications", json=body, headers=data.key(**headers))
    assert _errors(r) == {"amount": code}


def test_several_problems_are_reported_together(client, manager):
    r = client.post("/v1/customers", json={"name": "", "resident_id": "123", "mobile": "1"}, headers=manager)
    assert _errors(r) == {"name": "FIELD_STRING_TOO_SHORT", "resident_id": "ID_LENGTH", "mobile": "MOBILE_FORMAT"}


def test_unknown_fields_and_broken_json_are_refused(client, manager):
    r = client.post("/v1/customers", json={**_person(), "vip": True}, headers=manager)
    assert _errors(r) == {"vip": "FIELD_EXTRA_FORBIDDEN"}
    r = client.post("/v1/customers", content=b"{not json", headers={**manager, "Content-Type": "application/json"})
    assert set(_errors(r).values()) == {"FIELD_JSON_INVALID"}


def test_unknown_routes_and_methods_are_problems_too(client):
    assert_problem(client.get("/v1/nothing-here"), 404, "NOT_FOUND")
    assert_problem(client.delete("/v1/auth/otp"), 405, "METHOD_NOT_ALLOWED")


def test_customer_already_on_file_is_a_conflict(client, manager):
    person = _person()
    assert client.post("/v1/customers", json=person, headers=manager).status_code == 201
    assert_problem(client.post("/v1/customers", json=person, headers=manager), 409, "CUSTOMER_EXISTS", "resident_id")
