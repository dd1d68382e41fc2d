"""Rule sets as JDM data: the shipped defaults pass their own tests; malformed graphs, bad expressions and
failing test cases are refused naming the node, rule or test; an error while evaluating names its node."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from db.rule_store import shipped
from domain import rules

APPROVAL, APPROVAL_TESTS = shipped("NONG_E_DAI", "approval")
ACCEPTANCE, ACCEPTANCE_TESTS = shipped("NONG_E_DAI", "acceptance")
DRAWDOWN, DRAWDOWN_TESTS = shipped("NONG_E_DAI", "drawdown")
PRICING, PRICING_TESTS = shipped("NONG_E_DAI", "pricing")


def node(content: dict, node_id: str) -> dict:
    return next(n for n in content["nodes"] if n["id"] == node_id)


@pytest.mark.parametrize(("content", "tests"), [(APPROVAL, APPROVAL_TESTS), (ACCEPTANCE, ACCEPTANCE_TESTS),
                                               (DRAWDOWN, DRAWDOWN_TESTS), (PRICING, PRICING_TESTS)],
                         ids=["approval", "acceptance", "drawdown", "pricing"])
def test_shipped_rule_sets_pass_their_own_test_cases(content, tests):
    assert len(tests) >= 4
    rules.check(content, tests)


def test_evaluation_returns_the_result_and_a_trace_of_the_nodes_that_ran():
    out = rules.evaluate(APPROVAL, APPROVAL_TESTS[6].input)
    assert out.result == {"decision": "manual_review",
                          "reason_codes": ["AMOUNT_OVER_MODEL_LIMIT", "GRADE_NEEDS_REVIEW", "AMOUNT_OVER_AUTO_LIMIT"]}
    assert [step["node"] for step in out.trace] == ["facts", "gate", "review_reasons", "verdict", "decision"]
    assert out.trace[1]["detail"] == {"statements": [{"id": "otherwise"}]}
    assert [hit["rule"]["_id"] for hit in out.trace[2]["detail"]] == [
        "review_reasons-1", "review_reasons-2", "review_reasons-3"]


def test_decimal_facts_are_exact_numbers_to_the_engine():
    facts = copy.deepcopy(APPROVAL_TESTS[0].input) | {"amount": Decimal("50000.01")}
    facts["rating"] = {"grade": "AA", "credit_limit": Decimal("50000.00"), "prefilter_hits": []}
    assert rules.evaluate(APPROVAL, facts).result["reason_codes"] == ["AMOUNT_OVER_MODEL_LIMIT"]
    assert rules.facts_json({"a": Decimal("0.10"), "b": Decimal("300000")}) == '{"a": 0.1, "b": 300000}'
    with pytest.raises(ValueError, match="too many digits"):
        rules.facts_json({"a": Decimal("1234567890.123456789")})


def test_missing_facts_fail_the_input_schema_instead_of_approving():
    with pytest.raises(rules.RuleError) as caught:
        rules.evaluate(APPROVAL, {"amount": 1000})
    assert caught.value.node == "facts" and "required" in caught.value.message


def test_a_malformed_graph_is_refused():
    with pytest.raises(rules.RuleProblem) as caught:
        rules.check({"nodes": "x"}, APPROVAL_TESTS)
    assert caught.value.code == "RULE_SET_INVALID"
    broken = copy.deepcopy(APPROVAL)
    broken["edges"].append({"id": "dangling", "sourceId": "nowhere", "targetId": "decision", "type": "edge"})
    with pytest.raises(rules.RuleProblem) as caught:
        rules.check(broken, APPROVAL_TESTS)
    assert caught.value.code == "RULE_SET_INVALID" and caught.value.node == "nowhere"


def test_an_unknown_node_type_is_refused_with_its_node():
    odd = copy.deepcopy(APPROVAL)
    node(odd, "verdict")["type"] = "functionNode"
    with pytest.raises(rules.RuleProblem) as caught:
        rules.check(odd, APPROVAL_TESTS)
    assert caught.value.node == "verdict" and "functionNode" in str(caught.value)


def test_a_bad_expression_names_its_node():
    bad = copy.deepcopy(APPROVAL)
    node(bad, "reject_prefilter")["content"]["expressions"][1]["value"] = "map(rating.prefilter_hits, 'P' + #"
    with pytest.raises(rules.RuleProblem) as caught:
        rules.check(bad, APPROVAL_TESTS)
    assert (caught.value.code, caught.value.node) == ("RULE_SET_INVALID", "reject_prefilter")
    assert "expression reason_codes" in str(caught.value)


def test_a_bad_decision_table_cell_names_the_rule():
    # zen itself would let `> >` silently match nothing: the upload check refuses it.
    bad = copy.deepcopy(APPROVAL)
    node(bad, "review_reasons")["content"]["rules"][1]["when"] = "not (rating.grade in"
    with pytest.raises(rules.RuleProblem) as caught:
        rules.check(bad, APPROVAL_TESTS)
    assert caught.value.node == "review_reasons" and "rule 2" in str(caught.value)


def test_a_failing_test_case_is_named():
    stricter = copy.deepcopy(APPROVAL)
    node(stricter, "review_reasons")["content"]["rules"][2]["when"] = "amount > 99999"
    with pytest.raises(rules.RuleProblem) as caught:
        rules.check(stricter, APPROVAL_TESTS)
    assert caught.value.code == "RULE_TEST_FAILED" and caught.value.test == "at the limits exactly"


def test_a_test_case_that_raises_names_test_and_node():
    raising = copy.deepcopy(APPROVAL)
    node(raising, "verdict")["content"]["expressions"][0]["value"] = "len(amount) > 0 ? 'x' : 'y'"
    with pytest.raises(rules.RuleProblem) as caught:
        rules.check(raising, APPROVAL_TESTS)
    assert (caught.value.code, caught.value.node) == ("RULE_TEST_FAILED", "verdict")
    assert caught.value.test == "one fen over the model limit"


def test_a_rule_set_without_test_cases_is_refused():
    with pytest.raises(rules.RuleProblem, match="at least one test case"):
        rules.check(APPROVAL, [])


def test_checksum_ignores_key_order():
    reordered = {k: APPROVAL[k] for k in reversed(list(APPROVAL))}
    assert rules.checksum(reordered) == rules.checksum(APPROVAL)


def test_one_compiled_graph_serves_many_activity_threads():
    from concurrent.futures import ThreadPoolExecutor

    rules.evaluate(APPROVAL, APPROVAL_TESTS[0].input, key="threads")  # compiled on this thread

    def decide(i: int) -> bool:
        case = APPROVAL_TESTS[i % len(APPROVAL_TESTS)]
        result = rules.evaluate(APPROVAL, case.input, key="threads").result
        return all(result[k] == v for k, v in case.expect.items())

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(decide, range(400)))


def test_an_input_node_without_a_schema_is_refused():
    # zen would read a missing fact as null, and the shipped approval graph would then approve.
    bare = copy.deepcopy(APPROVAL)
    node(bare, "facts")["content"]["schema"] = ""
    assert rules.evaluate(bare, {"amount": 1000}).result["decision"] == "approve"
    with pytest.raises(rules.RuleProblem) as caught:
        rules.check(bare, APPROVAL_TESTS)
    assert (caught.value.code, caught.value.node) == ("RULE_SET_INVALID", "facts")
