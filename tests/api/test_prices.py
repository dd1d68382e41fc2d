"""An application's price term by term: recomputed from its pinned product version, the LPR on its review
date and its grade; the floor shows when it applies; unpriced applications say so; scope holds."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

from db import rule_store
from db.engine import session_scope
from db.models import LoanApplication, Product
from domain.products import nongedai_default
from tests.api import data
from tests.api.asserts import assert_problem

_n = itertools.count(1)
REVIEWED = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def _priced(engine, *, grade: str, rate: str, product_code: str = "NONG_E_DAI"):
    borrower = data.add_customer(engine)
    app = data.add_application(engine, borrower, stage="awaiting_signatures")
    with session_scope(engine) as s:
        row = s.get(LoanApplication, app.id)
        row.product_code, row.grade, row.annual_rate = product_code, grade, Decimal(rate)
        in_force = rule_store.in_force(s, "NONG_E_DAI", "approval", REVIEWED.date())
        rule_store.record(s, application_id=app.id, product_code=product_code, scenario="approval",
                          rule_set=in_force, outcome="approve", reason_codes=["AUTO_WITHIN_RULES"], inputs={},
                          result={}, trace=[], now=REVIEWED)
    return app, borrower


def test_the_customer_reads_the_price_of_their_application(client, engine, api_settings):
    app, borrower = _priced(engine, grade="AA", rate="0.048")
    r = client.get(f"/v1/applications/{app.app_no}/price", headers=data.customer_headers(api_settings, borrower))
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["priced_on"], out["lpr_date"], out["lpr_tenor"]) == ("2026-01-15", "2025-05-20", "1Y")
    assert (Decimal(out["lpr"]), out["spread_bp"], out["grade_adjust_bp"], Decimal(out["annual_rate"])) == \
        (Decimal("0.03"), 200, -20, Decimal("0.048"))
    assert [t["code"] for t in out["terms"]] == ["LPR", "SPREAD", "GRADE_AA", "ANNUAL_RATE"]
    assert out["terms"][2]["zh"] == "信用等级 AA 利率调整 -20 基点"
    assert out["terms"][-1]["zh"] == "执行年利率(年化)4.80%" and "+200 bp" in out["terms"][1]["en"]
    stranger = data.add_customer(engine)
    assert_problem(client.get(f"/v1/applications/{app.app_no}/price",
                              headers=data.customer_headers(api_settings, stranger)), 404, "APPLICATION_NOT_FOUND")


def test_the_floor_shows_as_a_term_of_its_own(client, engine, api_settings):
    code = f"FLOOR{next(_n)}_{datetime.now(UTC):%H%M%S%f}"[:32]
    with session_scope(engine) as s:
        terms = nongedai_default().model_dump(mode="json") | {"floor_rate": "0.0500"}
        s.add(Product(code=code, version=1, name="保底产品", terms=terms))
    app, borrower = _priced(engine, grade="AAA", rate="0.05", product_code=code)
    out = client.get(f"/v1/applications/{app.app_no}/price", headers=data.customer_headers(api_settings, borrower)).json()
    assert [t["code"] for t in out["terms"]][-2:] == ["FLOOR", "ANNUAL_RATE"]
    assert Decimal(out["annual_rate"]) == Decimal("0.05") and out["grade_adjust_bp"] == -30


def test_an_unpriced_application_says_so(client, engine, api_settings):
    borrower = data.add_customer(engine)
    app = data.add_application(engine, borrower, stage="accepting")
    r = client.get(f"/v1/applications/{app.app_no}/price", headers=data.customer_headers(api_settings, borrower))
    assert_problem(r, 404, "PRICE_NOT_AVAILABLE", field="app_no")


def test_stars_and_policy_tags_each_show_as_a_term(client, engine, api_settings):
    """The pricing decision recorded after the approval adjusted for five stars and a credit village: the
    breakdown lists each with its text (DOMAIN.md's AA farmer with 5 stars, and the village's 20 bp)."""
    app, borrower = _priced(engine, grade="AA", rate="0.044")
    adjustments = [{"code": "GRADE_AA", "bp": -20}, {"code": "STARS_5", "bp": -20},
                   {"code": "TAG_CREDIT_VILLAGE", "bp": -20}]
    with session_scope(engine) as s:
        in_force = rule_store.in_force(s, "NONG_E_DAI", "pricing", REVIEWED.date())
        rule_store.record(s, application_id=app.id, product_code="NONG_E_DAI", scenario="pricing", rule_set=in_force,
                          outcome="priced", reason_codes=[a["code"] for a in adjustments], inputs={},
                          result={"adjustments": adjustments}, trace=[], now=REVIEWED)
    out = client.get(f"/v1/applications/{app.app_no}/price", headers=data.customer_headers(api_settings, borrower)).json()
    assert [t["code"] for t in out["terms"]] == ["LPR", "SPREAD", "GRADE_AA", "STARS_5", "TAG_CREDIT_VILLAGE",
                                                 "ANNUAL_RATE"]
    assert out["terms"][3]["zh"] == "贡献度5星利率调整 -20 基点" and out["terms"][3]["en"] == \
        "rate adjustment for 5 contribution stars -20 bp"
    assert out["terms"][4]["zh"] == "政策标签「信用村」利率调整 -20 基点"
    assert Decimal(out["annual_rate"]) == Decimal("0.044") and out["grade_adjust_bp"] == -60
