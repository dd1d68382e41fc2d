"""Rules management over HTTP: upload refused with the failing node or test named, maker-checker activation,
rollback, dry run over recorded decisions, and decisions explained in Chinese and English within scope."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from db import rule_store
from db.engine import session_scope
from db.models import Customer, LoanApplication, Product
from domain import admission, approval, rules
from domain.admission import CustomerFacts
from domain.products import nongedai_default
from domain.scorecard import RatingOutcome
from tests.api import data
from tests.api.asserts import assert_problem

APPROVAL, TESTS = rule_store.shipped("NONG_E_DAI", "approval")
_n = itertools.count(1)


@pytest.fixture
def product(engine) -> str:
    code = f"API{next(_n)}_{datetime.now(UTC):%H%M%S%f}"[:32]
    with session_scope(engine) as s:
        s.add(Product(code=code, version=1, name="测试产品", terms=nongedai_default().model_dump(mode="json") | {"code": code}))
    return code


@pytest.fixture
def people(engine, api_settings):
    return {role: data.staff_headers(api_settings, data.add_staff(engine, role))
            for role in ("ops", "admin", "customer_manager")} | {
        "admin2": data.staff_headers(api_settings, data.add_staff(engine, "admin"))}


def body(product: str, content=APPROVAL, tests=TESTS, effective="2025-01-01") -> dict:
    return {"product_code": product, "scenario": "approval", "effective_from": effective, "note": "test",
            "content": content, "tests": [t.model_dump() if hasattr(t, "model_dump") else t for t in tests]}


def stricter() -> tuple[dict, list[dict]]:
    """Only AAA and AA approve on their own; the shipped case at grade A now expects an approver."""
    content = copy.deepcopy(APPROVAL)
    table = next(n for n in content["nodes"] if n["id"] == "review_reasons")
    table["content"]["rules"][1]["when"] = "not (rating.grade in ['AAA', 'AA'])"
    tests = [t.model_dump() for t in TESTS]
    tests[-1]["expect"] = {"decision": "manual_review", "reason_codes": ["GRADE_NEEDS_REVIEW"]}
    return content, tests


def test_upload_activate_by_another_admin_and_roll_back(client, people, product):
    r = client.post("/v1/rule-sets", json=body(product), headers=people["ops"])
    assert r.status_code == 201, r.text
    v1 = r.json()
    assert (v1["version"], v1["status"], v1["label"]) == (1, "draft", f"{product}/approval@v1")
    assert_problem(client.post(f"/v1/rule-sets/{v1['id']}/activation", headers=people["ops"]), 403, "ROLE_FORBIDDEN")
    r = client.post(f"/v1/rule-sets/{v1['id']}/activation", headers=people["admin"])
    assert r.status_code == 200 and r.json()["status"] == "active"

    content, tests = stricter()
    v2 = client.post("/v1/rule-sets", json=body(product, content, tests), headers=people["admin"]).json()
    assert_problem(client.post(f"/v1/rule-sets/{v2['id']}/activation", headers=people["admin"]), 409, "MAKER_CHECKER")
    assert client.post(f"/v1/rule-sets/{v2['id']}/activation", headers=people["admin2"]).json()["status"] == "active"
    assert_problem(client.post(f"/v1/rule-sets/{v2['id']}/activation", headers=people["admin2"]), 409,
                   "RULE_SET_NOT_DRAFT")

    r = client.post(f"/v1/rule-sets/{v1['id']}/rollback", headers=people["admin2"])
    assert r.status_code == 200, r.text
    assert r.json()["in_force"]["version"] == 1 and [s["version"] for s in r.json()["set_aside"]] == [2]
    listed = client.get(f"/v1/rule-sets?product_code={product}", headers=people["ops"]).json()
    assert [(x["version"], x["status"]) for x in listed] == [(2, "rolled_back"), (1, "active")]
    assert client.get(f"/v1/rule-sets/{v1['id']}", headers=people["ops"]).json()["content"] == APPROVAL


def test_a_malformed_rule_set_is_refused_naming_the_node(client, people, product):
    bad = copy.deepcopy(APPROVAL)
    bad["nodes"][2]["content"]["expressions"][1]["value"] = "map(rating.prefilter_hits, "
    problem = assert_problem(client.post("/v1/rule-sets", json=body(product, bad), headers=people["ops"]), 422,
                             "RULE_SET_INVALID", field="content")
    assert problem["node"] == "reject_prefilter"
    assert client.get(f"/v1/rule-sets?product_code={product}", headers=people["ops"]).json() == []


def test_a_failing_test_case_is_refused_naming_the_test(client, people, product):
    content, _ = stricter()
    problem = assert_problem(client.post("/v1/rule-sets", json=body(product, content), headers=people["ops"]), 422,
                             "RULE_TEST_FAILED", field="tests")
    assert problem["test"] == "at the limits exactly" and "AUTO_WITHIN_RULES" in problem["en"]


def test_a_result_the_step_cannot_read_is_refused(client, people, product):
    odd = copy.deepcopy(APPROVAL)
    verdict = next(n for n in odd["nodes"] if n["id"] == "verdict")
    verdict["content"]["expressions"][0]["value"] = "len(hits) > 0 ? 'manual_review' : 'maybe'"
    tests = [t.model_dump() for t in TESTS]
    tests[-1]["expect"] = {"decision": "maybe"}  # its own tests agree with it, the approval step would not
    problem = assert_problem(client.post("/v1/rule-sets", json=body(product, odd, tests), headers=people["ops"]), 422,
                             "RULE_SET_INVALID")
    assert problem["test"] == "at the limits exactly" and "approval step" in problem["en"]


def test_who_may_upload_and_what(client, people, product):
    assert_problem(client.post("/v1/rule-sets", json=body(product), headers=people["customer_manager"]), 403,
                   "ROLE_FORBIDDEN")
    assert_problem(client.post("/v1/rule-sets", json=body("NO_SUCH"), headers=people["ops"]), 422,
                   "PRODUCT_UNKNOWN", field="product_code")
    r = client.post("/v1/rule-sets", json=body(product) | {"scenario": "admission"}, headers=people["ops"])
    assert "admission step" in assert_problem(r, 422, "RULE_SET_INVALID")["en"]  # an approval graph admits no one
    r = client.post("/v1/rule-sets", json=body(product) | {"scenario": "collections"}, headers=people["ops"])
    assert_problem(r, 422, "VALIDATION_FAILED")  # no step reads such a rule set
    r = client.post("/v1/rule-sets", json=body(product) | {"scenario": "pricing"}, headers=people["ops"])
    assert "pricing step" in assert_problem(r, 422, "RULE_SET_INVALID")["en"]  # an approval graph is no price


def _decided(engine, product: str, grade: str, amount: str = "50000") -> int:
    """An application decided by the shipped approval rule set, recorded as the review activity does."""
    app = data.add_application(engine, data.add_customer(engine))
    rating = RatingOutcome(score=80, grade=grade, credit_limit=Decimal(100000), items=[], prefilter_hits=[])
    facts = approval.rule_facts(nongedai_default(), Decimal(amount), "credit", rating)
    with session_scope(engine) as s:
        in_force = rule_store.in_force(s, "NONG_E_DAI", "approval", datetime.now(UTC).date())
        evaluation = rules.evaluate(in_force.content, facts)
        outcome, codes = approval.outcome(evaluation.result)
        row = rule_store.record(s, application_id=app.id, product_code=product, scenario="approval",
                                rule_set=in_force, outcome=outcome, reason_codes=codes, inputs=facts,
                                result=evaluation.result, trace=evaluation.trace, now=datetime.now(UTC))
        return row.id


def test_dry_run_reports_the_decisions_that_would_change_and_why(client, engine, people, product):
    _decided(engine, product, "AA")
    changed = _decided(engine, product, "A")
    _decided(engine, product, "B")
    content, tests = stricter()
    draft = client.post("/v1/rule-sets", json=body(product, content, tests), headers=people["ops"]).json()
    r = client.post(f"/v1/rule-sets/{draft['id']}/dry-run", json={"last": 10}, headers=people["ops"])
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["evaluated"], report["changed"], report["errors"]) == (3, 1, 0)
    (change,) = report["changes"]
    assert change["decision_id"] == changed and change["app_no"].startswith("LA")
    assert (change["before"]["outcome"], change["after"]["outcome"]) == ("approve", "manual_review")
    assert change["after"]["rule_set_version"] == f"{product}/approval@v1"
    assert change["why"][0]["code"] == "GRADE_NEEDS_REVIEW" and "人工审批" in change["why"][0]["zh"]
    # A dry run records nothing and activates nothing.
    assert client.get(f"/v1/rule-sets/{draft['id']}", headers=people["ops"]).json()["status"] == "draft"
    r = client.post(f"/v1/rule-sets/{draft['id']}/dry-run", json={"last": 1}, headers=people["ops"])
    assert r.json()["evaluated"] == 1


def test_decisions_and_their_explanation_within_scope(client, engine, api_settings, people, product):
    decision_id = _decided(engine, product, "B", amount="150000")
    with session_scope(engine) as s:
        record = rule_store.decision(s, decision_id)
        app = s.get(LoanApplication, record.application_id)
        borrower = s.get(Customer, app.customer_id)
    mine = client.get(f"/v1/applications/{app.app_no}/decisions", headers=data.customer_headers(api_settings, borrower))
    assert mine.status_code == 200, mine.text
    (view,) = mine.json()
    assert view["outcome"] == "manual_review" and view["rule_set_version"] == record.rule_set_version
    assert view["rule_set_version"].startswith("NONG_E_DAI/approval@")
    assert [r["code"] for r in view["reasons"]] == [
        "AMOUNT_OVER_MODEL_LIMIT", "GRADE_NEEDS_REVIEW", "AMOUNT_OVER_AUTO_LIMIT"]
    assert all(r["zh"] and r["en"] for r in view["reasons"])

    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    r = client.get(f"/v1/decisions/{decision_id}/explanation", headers=manager)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["summary_zh"].startswith("审批规则集") and "转人工审批" in out["summary_zh"]
    assert "sent to an approver" in out["summary_en"] and "automatic approval ceiling" in out["summary_en"]
    assert out["inputs"]["amount"] == 150000
    steps = {s["node"]: s for s in out["steps"]}
    assert "otherwise" in steps["gate"]["en"] and "review_reasons-3" in steps["review_reasons"]["en"]
    assert "manual_review" in steps["verdict"]["zh"]

    elsewhere = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager", branch=data.BRANCH_B))
    assert_problem(client.get(f"/v1/decisions/{decision_id}/explanation", headers=elsewhere), 404,
                   "DECISION_NOT_FOUND")
    assert_problem(client.get(f"/v1/decisions/{decision_id}/explanation",
                              headers=data.customer_headers(api_settings, borrower)), 403, "ROLE_FORBIDDEN")
    assert_problem(client.get("/v1/decisions/999999999/explanation", headers=manager), 404, "DECISION_NOT_FOUND")


ADMISSION, ADMISSION_TESTS = rule_store.shipped("NONG_E_DAI", "admission")


def _admitted(engine, product: str, customer_type: str) -> int:
    """An application admitted (or not) by the shipped admission rule set, recorded as the accept activity does."""
    app = data.add_application(engine, data.add_customer(engine))
    facts = admission.rule_facts(CustomerFacts(customer_type=customer_type, birth_date=date(1980, 1, 1),
                                               residence_region="350322"), nongedai_default(), datetime.now(UTC).date())
    with session_scope(engine) as s:
        in_force = rule_store.in_force(s, "NONG_E_DAI", "admission", datetime.now(UTC).date())
        evaluation = rules.evaluate(in_force.content, facts)
        outcome, codes = admission.outcome(evaluation.result)
        return rule_store.record(s, application_id=app.id, product_code=product, scenario="admission",
                                 rule_set=in_force, outcome=outcome, reason_codes=codes, inputs=facts,
                                 result=evaluation.result, trace=evaluation.trace, now=datetime.now(UTC)).id


def test_an_admission_rule_set_is_uploaded_dry_run_and_activated_like_the_others(client, engine, people, product):
    """A stricter admission: salaried customers are no longer admitted, whatever the product terms say. The dry
    run over the recorded admissions names the one that would change; the uploader cannot activate it."""
    _admitted(engine, product, "farmer")
    changed = _admitted(engine, product, "salaried")
    content = copy.deepcopy(ADMISSION)
    table = next(n for n in content["nodes"] if n["id"] == "eligibility")
    rule = next(r for r in table["content"]["rules"] if r["code"] == "'CUSTOMER_TYPE_NOT_SERVED'")
    rule["when"] = "customer_type == 'salaried' or not contains(product.customer_types, customer_type)"
    tests = [t.model_dump() for t in ADMISSION_TESTS]
    tests.append({"name": "salaried no longer", "input": tests[0]["input"] | {"customer_type": "salaried"},
                  "expect": {"admitted": False, "reason_codes": ["CUSTOMER_TYPE_NOT_SERVED"]}})
    r = client.post("/v1/rule-sets", json=body(product, content, tests) | {"scenario": "admission"},
                    headers=people["admin"])
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["label"] == f"{product}/admission@v1"
    report = client.post(f"/v1/rule-sets/{draft['id']}/dry-run", json={"last": 10}, headers=people["ops"]).json()
    assert (report["evaluated"], report["changed"]) == (2, 1)
    (change,) = report["changes"]
    assert change["decision_id"] == changed
    assert (change["before"]["outcome"], change["after"]["outcome"]) == ("admit", "reject")
    assert change["why"][0]["zh"] == "本产品不面向该类客户"
    assert_problem(client.post(f"/v1/rule-sets/{draft['id']}/activation", headers=people["admin"]), 409,
                   "MAKER_CHECKER")
    r = client.post(f"/v1/rule-sets/{draft['id']}/activation", headers=people["admin2"])
    assert r.status_code == 200 and r.json()["status"] == "active"
    with session_scope(engine) as s:
        assert rule_store.in_force(s, product, "admission", datetime.now(UTC).date()).rule_set_id == draft["id"]
