"""Customer rating over HTTP: rate now from the archive with the limit's breakdown, current rating and history,
the explanation in Chinese and English, manual overrides approved by a second person, and rating-model
uploads refused field by field, activated by another administrator. Scope holds throughout."""

from __future__ import annotations

import copy
import itertools
from datetime import date
from decimal import Decimal

import pytest

from db.engine import session_scope
from db.models import ContributionFacts, Household, Village
from db.repositories import rating_models as model_store
from domain.rating.model import ContributionModel, default_scorecard
from tests.api import data
from tests.api.asserts import assert_problem

_village = itertools.count(1)
SCORECARD_TESTS = model_store.shipped()[0][2]
CONTRIBUTION_TESTS = model_store.shipped()[1][2]


def archive(engine, customer, *, credit_village: bool = True, status: str = "archived", tags=("poverty_relief",),
            income: str = "150000", expenses: str = "30000", assets: str = "600000", liabilities: str = "60000"):
    """An archived household in a (credit) village, and the data warehouse's contribution facts."""
    code = f"9{next(_village):011d}"
    with session_scope(engine) as s:
        s.add(Village(code=code, name="测试村", branch_code=customer.branch_code, credit_village=credit_village))
        s.flush()
        s.add(Household(customer_id=customer.id, village_code=code, branch_code=customer.branch_code, status=status,
                        business_years=12, house_owned=True, annual_income=Decimal(income),
                        annual_expenses=Decimal(expenses), total_assets=Decimal(assets),
                        total_liabilities=Decimal(liabilities), policy_tags=list(tags), created_at=data.now(),
                        updated_at=data.now()))
        s.add(ContributionFacts(customer_id=customer.id, as_of=date(2026, 11, 1), avg_daily_assets=Decimal("2500000"),
                                avg_daily_assets_prev=Decimal("2000000"), months_as_customer=72, products_held=4))


@pytest.fixture
def people(engine, api_settings):
    def staff(role: str, branch: str = data.BRANCH_A):
        return data.staff_headers(api_settings, data.add_staff(engine, role, branch=branch))

    return {"manager": staff("customer_manager"), "manager2": staff("customer_manager"), "approver": staff("approver"),
            "approver2": staff("approver"), "other_branch": staff("approver", data.BRANCH_B), "ops": staff("ops"),
            "admin": staff("admin"), "admin2": staff("admin")}


def test_rate_now_reads_the_archive_and_breaks_the_limit_down(client, engine, people, api_settings):
    farmer = data.add_customer(engine)
    archive(engine, farmer)
    r = client.post(f"/v1/customers/{farmer.id}/rating", json={"guarantee_type": "credit"}, headers=people["manager"])
    assert r.status_code == 201, r.text
    out = r.json()
    # Age 41..42 -> 8, net income 120,000 -> 20, net assets 540,000 -> 16, debt 0.1 -> 12, 12 years -> 6,
    # house 3, credit village 3, 5 stars -> 3: 30 + 71 = 101, clamped to 100.
    assert (out["score"], out["grade"], out["stars"], out["source"]) == (100, "AAA", 5, "realtime")
    assert out["model_version"] == "NONG_E_DAI_CREDIT@v1"
    assert out["policy_tags"] == ["credit_village", "poverty_relief"]
    assert "CREDIT_VILLAGE" in out["reasons"] and "NET_INCOME_HIGH" in out["reasons"]
    # (540,000 x 0.3 + 120,000) x 1.0 = 282,000 over the 200,000 credit cap.
    limit = out["limit_breakdown"]
    assert (Decimal(limit["asset_term"]), Decimal(limit["income_term"]), Decimal(limit["raw"])) == \
        (Decimal("162000"), Decimal("120000"), Decimal("282000"))
    assert (limit["capped"], Decimal(out["credit_limit"])) == (True, Decimal("200000"))
    assert out["limit_lines"][-1] == {"zh": "向下取整到 1,000 元:额度 200,000.00",
                                      "en": "rounded down to 1,000: limit 200,000.00"}
    assert out["inputs"]["credit_village"] is True and "name" not in out["inputs"] and "resident_id" not in out["inputs"]

    guaranteed = client.post(f"/v1/customers/{farmer.id}/rating", json={"guarantee_type": "guaranteed"},
                             headers=people["manager"]).json()
    assert Decimal(guaranteed["credit_limit"]) == Decimal("282000")

    current = client.get(f"/v1/customers/{farmer.id}/rating", headers=people["approver"]).json()
    assert (current["grade"], current["rating_record_id"]) == ("AAA", guaranteed["id"])
    history = client.get(f"/v1/customers/{farmer.id}/ratings", headers=people["manager"]).json()
    assert [h["id"] for h in history] == [guaranteed["id"], out["id"]]

    explained = client.get(f"/v1/ratings/{out['id']}/explanation", headers=people["manager"]).json()
    assert explained["summary_zh"].startswith("实时评级(模型 NONG_E_DAI_CREDIT@v1):100 分,等级 AAA")
    assert "limit 200,000.00" in explained["summary_en"]
    assert any(i["zh"] == "信用村 1:+3 分(CREDIT_VILLAGE)" for i in explained["items"])
    assert explained["contribution"]["en"].startswith("contribution points 2500.00, 5 stars; loyalty high, assets growing")
    assert len(explained["limit"]) == 5 and explained["override"] is None


def test_without_an_archive_the_customers_own_figures_stand_in(client, engine, people):
    farmer = data.add_customer(engine)  # no income, no assets on file
    archive(engine, farmer, status="draft")  # a draft archive is not read
    out = client.post(f"/v1/customers/{farmer.id}/rating", headers=people["manager"]).json()
    assert (out["grade"], Decimal(out["credit_limit"]), out["inputs"]["annual_income"]) == ("C", Decimal(0), "0.00")
    assert out["policy_tags"] == []


def test_prefilters_are_explained(client, engine, people):
    farmer = data.add_customer(engine)
    archive(engine, farmer)
    with session_scope(engine) as s:
        row = s.get(type(farmer), farmer.id)
        row.court_dishonest = True
        s.add(row)
    out = client.post(f"/v1/customers/{farmer.id}/rating", headers=people["manager"]).json()
    assert (out["grade"], out["score"], out["reasons"], Decimal(out["credit_limit"])) == \
        ("C", 0, ["COURT_DISHONEST"], Decimal(0))
    explained = client.get(f"/v1/ratings/{out['id']}/explanation", headers=people["manager"]).json()
    assert explained["prefilters"] == [{"code": "COURT_DISHONEST", "points": None, "zh": "列入失信被执行人名单",
                                        "en": "on the court's list of dishonest judgment debtors"}]
    assert "不评级、不授信" in explained["summary_zh"] and explained["items"] == []
    r = client.post(f"/v1/customers/{farmer.id}/rating/overrides", json={"to_grade": "A", "reason": "村委担保其诚信"},
                    headers=people["manager"])
    assert_problem(r, 409, "RATING_PREFILTERED", "customer_id")


def test_scope_and_roles(client, engine, people, api_settings):
    farmer = data.add_customer(engine)
    assert_problem(client.post(f"/v1/customers/{farmer.id}/rating", headers=people["other_branch"]), 404,
                   "CUSTOMER_NOT_FOUND")
    rated = client.post(f"/v1/customers/{farmer.id}/rating", headers=people["ops"]).json()
    assert_problem(client.get(f"/v1/ratings/{rated['id']}/explanation", headers=people["other_branch"]), 404,
                   "RATING_RECORD_NOT_FOUND")
    me = data.customer_headers(api_settings, farmer)
    assert_problem(client.get(f"/v1/customers/{farmer.id}/rating", headers=me), 403, "ROLE_FORBIDDEN")
    assert_problem(client.post(f"/v1/customers/{farmer.id}/rating", json={"product_code": "NOPE"},
                               headers=people["manager"]), 422, "PRODUCT_UNKNOWN", "product_code")
    assert_problem(client.post(f"/v1/customers/{farmer.id}/rating", json={"guarantee_type": "pledge"},
                               headers=people["manager"]), 422, "VALIDATION_FAILED", "guarantee_type")
    nobody = data.add_customer(engine)
    assert_problem(client.get(f"/v1/customers/{nobody.id}/rating", headers=people["manager"]), 404, "RATING_NOT_FOUND")


def test_an_override_needs_a_second_person(client, engine, people):
    farmer = data.add_customer(engine)
    archive(engine, farmer, income="60000", expenses="0", assets="100000", liabilities="0", credit_village=False)
    rated = client.post(f"/v1/customers/{farmer.id}/rating", headers=people["manager"]).json()
    assert rated["grade"] == "AA"
    url = f"/v1/customers/{farmer.id}/rating/overrides"
    assert_problem(client.post(url, json={"to_grade": "AA", "reason": "没有变化的调整"}, headers=people["manager"]),
                   422, "OVERRIDE_SAME_GRADE", "to_grade")
    assert_problem(client.post(url, json={"to_grade": "AAA", "reason": "短"}, headers=people["manager"]),
                   422, "VALIDATION_FAILED", "reason")
    asked = client.post(url, json={"to_grade": "A", "reason": "养殖场刚遭受台风损失,下调一级"}, headers=people["manager"])
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert (request["status"], request["from_grade"], request["to_grade"]) == ("pending", "AA", "A")
    assert_problem(client.post(url, json={"to_grade": "B", "reason": "再申请一次调整"}, headers=people["manager2"]),
                   409, "OVERRIDE_PENDING")
    # Nothing changed yet.
    assert client.get(f"/v1/customers/{farmer.id}/rating", headers=people["manager"]).json()["grade"] == "AA"

    decision = f"/v1/rating-overrides/{request['id']}/decision"
    assert_problem(client.post(decision, json={"decision": "approve"}, headers=people["manager2"]), 403,
                   "ROLE_FORBIDDEN")
    assert_problem(client.post(decision, json={"decision": "approve"}, headers=people["other_branch"]), 404,
                   "OVERRIDE_NOT_FOUND")
    pending = client.get("/v1/rating-overrides?status=pending", headers=people["approver"]).json()
    assert request["id"] in [p["id"] for p in pending]
    assert request["id"] not in [p["id"] for p in client.get("/v1/rating-overrides",
                                                              headers=people["other_branch"]).json()]
    approved = client.post(decision, json={"decision": "approve", "note": "核实属实"}, headers=people["approver"])
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["result_record_id"]
    assert_problem(client.post(decision, json={"decision": "reject"}, headers=people["approver2"]), 409,
                   "OVERRIDE_DECIDED")

    current = client.get(f"/v1/customers/{farmer.id}/rating", headers=people["manager"]).json()
    assert (current["grade"], current["source"], current["score"]) == ("A", "override", rated["score"])
    record = client.get(f"/v1/customers/{farmer.id}/ratings?limit=1", headers=people["manager"]).json()[0]
    # (30,000 + 60,000) x 0.6 = 54,000 for grade A, where AA gave 72,000.
    assert (record["source"], record["reasons"][-1], Decimal(record["credit_limit"])) == \
        ("override", "MANUAL_OVERRIDE", Decimal("54000"))
    explained = client.get(f"/v1/ratings/{record['id']}/explanation", headers=people["manager"]).json()
    assert "等级经人工调整(AA→A):养殖场刚遭受台风损失,下调一级" in explained["summary_zh"]

    # The override holds while the facts are unchanged; the next rating on new facts lapses it.
    again = client.post(f"/v1/customers/{farmer.id}/rating", headers=people["manager"]).json()
    assert (again["grade"], again["reasons"][-1], Decimal(again["credit_limit"])) == ("A", "MANUAL_OVERRIDE",
                                                                                       Decimal("54000"))
    with session_scope(engine) as s:
        from sqlmodel import select
        household = s.exec(select(Household).where(Household.customer_id == farmer.id)).one()
        household.annual_income = Decimal("61000")
        s.add(household)
    fresh = client.post(f"/v1/customers/{farmer.id}/rating", headers=people["manager"]).json()
    assert fresh["grade"] == "AA" and "MANUAL_OVERRIDE" not in fresh["reasons"]


def test_two_override_requests_passing_the_check_at_once_leave_one_pending(client, engine, people, monkeypatch):
    """The check is read-then-insert: uq_rating_override_pending holds when a concurrent request got in between,
    and the loser gets the same 409 with nothing written."""
    from sqlmodel import Session, select

    from db.models import RatingOverride
    from db.repositories import ratings as store
    farmer = data.add_customer(engine)
    archive(engine, farmer, income="60000", expenses="0", assets="100000", liabilities="0", credit_village=False)
    assert client.post(f"/v1/customers/{farmer.id}/rating", headers=people["manager"]).json()["grade"] == "AA"
    url = f"/v1/customers/{farmer.id}/rating/overrides"
    assert client.post(url, json={"to_grade": "A", "reason": "养殖场刚遭受台风损失,下调一级"},
                       headers=people["manager"]).status_code == 201
    real, calls = store.pending_override, []

    def racing(*args, **kwargs):  # the second request's check ran before the first committed
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(store, "pending_override", racing)
    assert_problem(client.post(url, json={"to_grade": "B", "reason": "再申请一次调整"}, headers=people["manager2"]),
                   409, "OVERRIDE_PENDING", "customer_id")
    assert len(calls) == 2  # refused by the database, then answered by the check
    with Session(engine) as s:
        rows = s.exec(select(RatingOverride).where(RatingOverride.customer_id == farmer.id)).all()
    assert [(r.status, r.to_grade) for r in rows] == [("pending", "A")]


def test_the_requester_never_approves_and_a_rejection_changes_nothing(client, engine, people):
    farmer = data.add_customer(engine)
    archive(engine, farmer)
    client.post(f"/v1/customers/{farmer.id}/rating", headers=people["approver"])
    asked = client.post(f"/v1/customers/{farmer.id}/rating/overrides", json={"to_grade": "B", "reason": "审批员自行申请"},
                        headers=people["approver"]).json()
    decision = f"/v1/rating-overrides/{asked['id']}/decision"
    assert_problem(client.post(decision, json={"decision": "approve"}, headers=people["approver"]), 409, "MAKER_CHECKER")
    rejected = client.post(decision, json={"decision": "reject", "note": "依据不足"}, headers=people["approver2"]).json()
    assert (rejected["status"], rejected["decided_by"] is not None) == ("rejected", True)
    assert client.get(f"/v1/customers/{farmer.id}/rating", headers=people["manager"]).json()["grade"] == "AAA"


def test_an_override_on_a_rating_since_replaced_is_refused(client, engine, people):
    farmer = data.add_customer(engine)
    archive(engine, farmer)
    client.post(f"/v1/customers/{farmer.id}/rating", headers=people["manager"])
    asked = client.post(f"/v1/customers/{farmer.id}/rating/overrides", json={"to_grade": "A", "reason": "下调观察一季"},
                        headers=people["manager"]).json()
    client.post(f"/v1/customers/{farmer.id}/rating", headers=people["manager"])  # rated again meanwhile
    assert_problem(client.post(f"/v1/rating-overrides/{asked['id']}/decision", json={"decision": "approve"},
                               headers=people["approver"]), 409, "RATING_CHANGED")


# ---- rating models ---------------------------------------------------------------------------------------------

_code = itertools.count(1)


def scorecard_body(code: str | None = None, **changes) -> dict:
    content = default_scorecard().model_dump(mode="json") | {"code": code or f"TEST_CARD_{next(_code)}"} | changes
    return {"kind": "scorecard", "note": "test", "content": content, "tests": copy.deepcopy(SCORECARD_TESTS)}


def errors_of(response) -> dict[str, str]:
    return {e["field"]: e["code"] for e in response.json()["errors"]}


def test_upload_refuses_each_bad_field_by_name(client, people):
    post = lambda body: client.post("/v1/rating-models", json=body, headers=people["ops"])  # noqa: E731
    body = scorecard_body()
    body["content"]["features"][1]["bins"][0]["lower"] = "0"  # the first bin must start at -infinity
    body["content"]["features"][2]["feature"] = "shoe_size"
    body["content"]["base_score"] = "thirty"
    r = post(body)
    assert_problem(r, 422, "RATING_MODEL_INVALID")
    assert errors_of(r) == {"content.features[1].bins": "FIELD_VALUE_ERROR",
                            "content.features[2].feature": "FIELD_LITERAL_ERROR",
                            "content.base_score": "FIELD_INT_PARSING"}

    bands = scorecard_body()
    bands["content"]["grade_bands"].reverse()
    assert_problem(post(bands), 422, "RATING_MODEL_INVALID", "content")
    assert errors_of(post(scorecard_body(code="lower-case")))["content.code"] == "MODEL_CODE_FORMAT"
    extra = scorecard_body(colour="red")
    assert errors_of(post(extra)) == {"content.colour": "FIELD_EXTRA_FORBIDDEN"}
    as_contribution = scorecard_body() | {"kind": "contribution"}
    assert "content.features" in errors_of(post(as_contribution))
    assert errors_of(post(scorecard_body(code="NONG_E_DAI_CONTRIBUTION"))) == {"content.code": "MODEL_CODE_KIND"}

    bad_case = scorecard_body()
    bad_case["tests"][1]["expect"]["grade"] = "AAAA"
    bad_case["tests"][1]["facts"]["age"] = "old"
    r = post(bad_case)
    assert_problem(r, 422, "RATING_TEST_INVALID", "tests[1].facts.age")
    assert set(errors_of(r)) == {"tests[1].expect.grade", "tests[1].facts.age"}
    assert_problem(post(scorecard_body() | {"tests": []}), 422, "RATING_TESTS_MISSING", "tests")

    failing = scorecard_body()
    failing["content"]["grade_bands"][0]["min_score"] = 99
    r = post(failing)
    body = assert_problem(r, 422, "RATING_TEST_FAILED", "tests[0]")
    assert body["test"].startswith("AAA") and "expected" in body["errors"][0]["en"]


def test_upload_and_activation_by_another_admin(client, engine, people):
    code = f"TEST_CARD_{next(_code)}"
    first = client.post("/v1/rating-models", json=scorecard_body(code), headers=people["ops"])
    assert first.status_code == 201, first.text
    v1 = first.json()
    assert (v1["version"], v1["status"], v1["label"]) == (1, "draft", f"{code}@v1")
    assert_problem(client.post(f"/v1/rating-models/{v1['id']}/activation", headers=people["ops"]), 403, "ROLE_FORBIDDEN")
    assert client.post(f"/v1/rating-models/{v1['id']}/activation", headers=people["admin"]).json()["status"] == "active"

    stricter = scorecard_body(code)
    stricter["content"]["base_score"] = 28  # two points fewer: the pinned scores move with it
    for case in stricter["tests"]:
        if "score" in case["expect"] and case["expect"]["score"]:
            case["expect"]["score"] -= 2
    v2 = client.post("/v1/rating-models", json=stricter, headers=people["admin"])
    assert v2.status_code == 201, v2.text
    v2 = v2.json()
    assert (v2["version"], v2["content"]["version"]) == (2, 2)
    assert_problem(client.post(f"/v1/rating-models/{v2['id']}/activation", headers=people["admin"]), 409, "MAKER_CHECKER")
    assert client.post(f"/v1/rating-models/{v2['id']}/activation", headers=people["admin2"]).json()["status"] == "active"
    assert_problem(client.post(f"/v1/rating-models/{v2['id']}/activation", headers=people["admin2"]), 409,
                   "RATING_MODEL_NOT_DRAFT")
    listed = client.get(f"/v1/rating-models?code={code}", headers=people["ops"]).json()
    assert [(m["version"], m["status"]) for m in listed] == [(2, "active"), (1, "retired")]
    assert client.get(f"/v1/rating-models/{v1['id']}", headers=people["ops"]).json()["tests"][0]["name"].startswith("AAA")
    assert_problem(client.get("/v1/rating-models/999999", headers=people["ops"]), 404, "RATING_MODEL_NOT_FOUND")


def test_a_contribution_model_upload(client, people):
    content = ContributionModel(code=f"TEST_CONTRIB_{next(_code)}").model_dump(mode="json")
    ok = client.post("/v1/rating-models", json={"kind": "contribution", "content": content,
                                                "tests": CONTRIBUTION_TESTS}, headers=people["ops"])
    assert ok.status_code == 201, ok.text
    content["star_bands"] = [["500", 4], ["50", 3]]
    r = client.post("/v1/rating-models", json={"kind": "contribution", "content": content, "tests": CONTRIBUTION_TESTS},
                    headers=people["ops"])
    assert errors_of(r) == {"content.star_bands": "FIELD_VALUE_ERROR"}
