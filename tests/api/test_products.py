"""Product definition over HTTP: a new product and new versions of its terms, validated as ProductTerms,
activated by an administrator other than their author; an application keeps the version it started with."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from db.engine import session_scope
from db.models import LoanApplication
from tests.api import data
from tests.api.asserts import assert_problem

BODY = {"amount": "50000.00", "term_months": 12, "repayment_method": "equal_installment", "purpose": "planting"}
_n = itertools.count(1)


@pytest.fixture
def code() -> str:
    return f"P{next(_n)}_{datetime.now(UTC):%H%M%S%f}"


@pytest.fixture
def people(engine, api_settings):
    return {"ops": data.staff_headers(api_settings, data.add_staff(engine, "ops")),
            "admin": data.staff_headers(api_settings, data.add_staff(engine, "admin")),
            "manager": data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))}


def test_a_new_product_and_a_new_version_each_need_a_second_person(client, engine, api_settings, workflows,
                                                                    people, code):
    r = client.post(f"/v1/products/{code}/versions", json={"name": "丰收贷", "terms": {"max_amount": "100000"}},
                    headers=people["ops"])
    assert r.status_code == 201, r.text
    assert (r.json()["version"], r.json()["status"]) == (1, "draft")
    assert_problem(client.get(f"/v1/products/{code}", headers=people["manager"]), 404, "PRODUCT_NOT_FOUND")
    assert_problem(client.post(f"/v1/products/{code}/versions/1/activation", headers=people["ops"]), 403,
                   "ROLE_FORBIDDEN")
    r = client.post(f"/v1/products/{code}/versions/1/activation", headers=people["admin"])
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["terms"]["max_amount"]) == (1, "100000")

    customer = data.add_customer(engine)
    r = client.post("/v1/applications", json={**BODY, "product_code": code},
                    headers=data.key(**data.customer_headers(api_settings, customer)))
    assert r.status_code == 201, r.text
    first_app = r.json()["app_no"]
    assert workflows.starts[-1].arg.product.code == code and workflows.starts[-1].arg.product.version == 1
    assert workflows.starts[-1].arg.product.max_amount == 100000

    r = client.post(f"/v1/products/{code}/versions", json={"name": "丰收贷", "terms": {"max_amount": "150000"}},
                    headers=people["admin"])
    assert r.json()["version"] == 2
    assert_problem(client.post(f"/v1/products/{code}/versions/2/activation", headers=people["admin"]), 409,
                   "MAKER_CHECKER")
    other_admin = data.staff_headers(api_settings, data.add_staff(engine, "admin"))
    assert client.post(f"/v1/products/{code}/versions/2/activation", headers=other_admin).json()["version"] == 2
    assert_problem(client.post(f"/v1/products/{code}/versions/1/activation", headers=other_admin), 409,
                   "PRODUCT_VERSION_NOT_DRAFT")

    with session_scope(engine) as s:
        pinned = s.exec(select(LoanApplication).where(LoanApplication.app_no == first_app)).one()
        assert pinned.product_version == 1  # the running application keeps the version it started with
    second = data.add_customer(engine)
    client.post("/v1/applications", json={**BODY, "product_code": code},
                headers=data.key(**data.customer_headers(api_settings, second)))
    assert workflows.starts[-1].arg.product.version == 2 and workflows.starts[-1].arg.product.max_amount == 150000
    shown = client.get(f"/v1/products/{code}", headers=people["manager"]).json()
    assert [(v["version"], v["status"]) for v in shown["versions"]] == [(2, "active"), (1, "superseded")]
    assert code in {p["code"] for p in client.get("/v1/products", headers=people["manager"]).json()}


def test_invalid_terms_are_refused_naming_the_field(client, people, code):
    r = client.post(f"/v1/products/{code}/versions", json={"name": "x", "terms": {"penalty_markup": "0.9"}},
                    headers=people["ops"])
    problem = assert_problem(r, 422, "PRODUCT_TERMS_INVALID", field="terms.penalty_markup")
    assert problem["errors"][0]["field"] == "terms.penalty_markup"
    r = client.post(f"/v1/products/{code}/versions", json={"name": "x", "terms": {"repayment_methods": ["balloon"]}},
                    headers=people["ops"])
    assert_problem(r, 422, "PRODUCT_TERMS_INVALID")
    for terms, field in [({"approval_authority": {"approver": "-1"}}, "terms.approval_authority.approver"),
                         ({"grade_factors": {"AA": "1.5"}}, "terms.grade_factors.AA"),
                         ({"limit_asset_weight": "-0.1"}, "terms.limit_asset_weight")]:
        r = client.post(f"/v1/products/{code}/versions", json={"name": "x", "terms": terms}, headers=people["ops"])
        assert_problem(r, 422, "PRODUCT_TERMS_INVALID", field=field)
    assert_problem(client.post(f"/v1/products/{code}/versions", json={"name": "x"}, headers=people["manager"]), 403,
                   "ROLE_FORBIDDEN")


def test_a_seeded_version_is_kept_when_a_new_one_takes_over(client, engine, api_settings, people, code):
    from db.models import Product
    from domain.products import nongedai_default

    with session_scope(engine) as s:  # as the seed leaves a product: a row, no recorded versions
        s.add(Product(code=code, version=1, name="农e贷", terms=nongedai_default().model_dump(mode="json")))
    assert client.post(f"/v1/products/{code}/versions", json={"name": "农e贷"}, headers=people["ops"]).json()[
        "version"] == 2
    shown = client.post(f"/v1/products/{code}/versions/2/activation", headers=people["admin"]).json()
    assert [(v["version"], v["status"], v["note"]) for v in shown["versions"]] == [
        (2, "active", ""), (1, "superseded", "as seeded")]
    assert shown["versions"][1]["terms"]["max_amount"] == "300000"
