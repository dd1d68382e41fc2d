"""Real-time rating through the running API (uvicorn, migrated and seeded PostgreSQL): a customer manager
rates a demo farmer from her archive, reads why in both languages, asks for a grade change that an approver
grants; the change shows in the current rating and the history."""

from __future__ import annotations

import httpx
import pytest

from db.seed import demo_customer_specs
from tests.e2e.test_guaranteed_loan_http import ok, staff_token

pytestmark = pytest.mark.e2e

FARMER = demo_customer_specs()[3]  # 郑小红: low net income, grade B


async def test_rate_explain_and_override_over_http(product_stack):
    async with httpx.AsyncClient(base_url=product_stack, timeout=30) as http:
        manager = await staff_token(http, "manager01")
        approver = await staff_token(http, "approver01")
        found = ok(await http.post("/v1/customers/search", json={"q": FARMER.name}, headers=manager))
        farmer_id = found["items"][0]["id"]

        rated = ok(await http.post(f"/v1/customers/{farmer_id}/rating", json={"product_code": "NONG_E_DAI"},
                                   headers=manager), 201)
        # From the seeded archive: 30 + 8 age + 0 net income 20,000 + 6 net assets 130,000 + 12 debt + 4 business
        # + 3 house = 63 -> B; (39,000 + 20,000) x 0.3 = 17,700 -> 17,000.
        assert (rated["score"], rated["grade"], rated["stars"], rated["credit_limit"]) == (63, "B", 0, "17000.00")
        assert rated["inputs"]["annual_expenses"] == "4000.00" and FARMER.name not in str(rated)

        why = ok(await http.get(f"/v1/ratings/{rated['id']}/explanation", headers=manager))
        assert why["summary_zh"].startswith("实时评级(模型 NONG_E_DAI_CREDIT@v1):63 分,等级 B")
        assert any(i["code"] == "NET_INCOME_NONE" and i["points"] == 0 for i in why["items"])
        assert why["limit"][-1]["en"] == "rounded down to 1,000: limit 17,000.00"

        asked = ok(await http.post(f"/v1/customers/{farmer_id}/rating/overrides",
                                   json={"to_grade": "A", "reason": "新建大棚已投产,收入将明显提高"}, headers=manager), 201)
        inbox = ok(await http.get("/v1/rating-overrides?status=pending", headers=approver))
        assert asked["id"] in [o["id"] for o in inbox]
        ok(await http.post(f"/v1/rating-overrides/{asked['id']}/decision", json={"decision": "approve"},
                           headers=approver))
        current = ok(await http.get(f"/v1/customers/{farmer_id}/rating", headers=manager))
        assert (current["grade"], current["source"]) == ("A", "override")
        history = ok(await http.get(f"/v1/customers/{farmer_id}/ratings", headers=manager))
        assert [h["source"] for h in history[:2]] == ["override", "realtime"]
        assert history[0]["credit_limit"] == "35000.00"  # 59,000 x 0.6
