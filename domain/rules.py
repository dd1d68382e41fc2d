"""Rule sets as data: GoRules JDM decision models evaluated by zen-engine, checked before anyone uses them.

A rule set is a JDM graph (decision tables, expression and switch nodes between an input and an output
node) plus the test cases shipped with it. `check` refuses a graph whose structure or any expression is
malformed, naming the node (and rule), then runs every test case and names the first one that fails.
`evaluate` runs a compiled graph over JSON facts and returns the result with a compact trace (which
node ran, in what order, what each table matched); an error inside the graph becomes `RuleError`
naming the node. Pure: no I/O and no clock; the caller loads the content and records the outcome.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

import zen
from pydantic import BaseModel, Field

Scenario = Literal["admission", "acceptance", "approval", "drawdown", "pricing"]
NODE_TYPES = {"inputNode", "outputNode", "decisionTableNode", "expressionNode", "switchNode"}
_ENGINE = zen.ZenEngine()
_BY_CHECKSUM: dict[str, Any] = {}


class RuleTestCase(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    input: dict[str, Any]
    expect: dict[str, Any] = Field(description="keys the result must have, with these values")


class RuleProblem(Exception):
    """A rule set refused at upload: malformed (`RULE_SET_INVALID`) or a shipped test failing (`RULE_TEST_FAILED`)."""

    def __init__(self, code: str, en: str, zh: str, *, node: str | None = None, test: str | None = None) -> None:
        super().__init__(en)
        self.code, self.en, self.zh, self.node, self.test = code, en, zh, node, test


class RuleError(Exception):
    """The graph raised while evaluating (a function on the wrong type, input outside the schema)."""

    def __init__(self, message: str, node: str | None) -> None:
        super().__init__(f"{node or 'graph'}: {message}")
        self.message, self.node = message, node


class Evaluation(BaseModel):
    result: dict[str, Any]
    trace: list[dict[str, Any]]


def checksum(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(content).encode()).hexdigest()


def canonical(content: Any) -> str:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_number)


def facts_json(facts: dict[str, Any]) -> str:
    """Facts as JSON text with Decimals as exact JSON numbers (zen reads numbers as decimals, not floats)."""
    return json.dumps(facts, ensure_ascii=False, default=_number)


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        as_float = float(value)
        if Decimal(repr(as_float)) != value:
            raise ValueError(f"{value} has too many digits to pass to the rules exactly")
        return int(value) if value == value.to_integral_value() else as_float
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


@lru_cache(maxsize=256)
def _compiled(text: str) -> Any:
    return _ENGINE.create_decision(text)


def compile_graph(content: dict[str, Any], key: str | None = None) -> Any:
    """The zen decision for this content, compiled once per process (`key`: its checksum, when known)."""
    if key is not None and key in _BY_CHECKSUM:
        return _BY_CHECKSUM[key]
    try:
        decision = _compiled(canonical(content))
    except RuntimeError as err:
        info = _error_info(err)
        raise RuleProblem("RULE_SET_INVALID", f"the graph does not load: {info.get('type')}",
                          f"决策图无法加载:{info.get('type')}", node=info.get("nodeId")) from err
    if key is not None and len(_BY_CHECKSUM) < 1024:
        _BY_CHECKSUM[key] = decision
    return decision


def evaluate(content: dict[str, Any], facts: dict[str, Any], key: str | None = None) -> Evaluation:
    decision = compile_graph(content, key)
    try:
        response = decision.evaluate(facts_json(facts), {"trace": True})
    except RuntimeError as err:
        info = _error_info(err)
        raise RuleError(str(info.get("source") or info.get("type") or err), info.get("nodeId")) from err
    return Evaluation(result=response["result"] or {}, trace=_compact(response.get("trace") or {}))


def check(content: dict[str, Any], tests: list[RuleTestCase]) -> None:
    """Structure, every expression, then every shipped test case; raises RuleProblem on the first fault."""
    _check_structure(content)
    decision = compile_graph(content)
    try:
        decision.validate()
    except RuntimeError as err:
        info = _error_info(err)
        raise RuleProblem("RULE_SET_INVALID", f"the graph is not valid: {info.get('type')}",
                          f"决策图无效:{info.get('type')}", node=info.get("nodeId")) from err
    if not tests:
        raise RuleProblem("RULE_SET_INVALID", "a rule set needs at least one test case", "规则集至少需要一个测试用例")
    for case in tests:
        try:
            result = evaluate(content, case.input).result
        except RuleError as err:
            raise RuleProblem("RULE_TEST_FAILED", f"test '{case.name}' raised in node {err.node}: {err.message}",
                              f"测试用例「{case.name}」在节点 {err.node} 出错", node=err.node, test=case.name) from err
        wrong = {k: result.get(k) for k, v in case.expect.items() if result.get(k) != v}
        if wrong:
            raise RuleProblem("RULE_TEST_FAILED", f"test '{case.name}' expected {case.expect}, got {wrong}",
                              f"测试用例「{case.name}」结果不符", test=case.name)


def _check_structure(content: dict[str, Any]) -> None:
    nodes = content.get("nodes")
    if not isinstance(nodes, list) or not isinstance(content.get("edges"), list):
        raise RuleProblem("RULE_SET_INVALID", "a JDM graph has a list of nodes and a list of edges",
                          "JDM 决策图须包含 nodes 与 edges 列表")
    kinds = [n.get("type") for n in nodes if isinstance(n, dict)]
    if len(kinds) != len(nodes) or kinds.count("inputNode") != 1 or "outputNode" not in kinds:
        raise RuleProblem("RULE_SET_INVALID", "a graph has exactly one inputNode and at least one outputNode",
                          "决策图须有且仅有一个输入节点,并至少有一个输出节点")
    inputs = next(n for n in nodes if n.get("type") == "inputNode")
    if not _schema_of(inputs):
        # Without one a missing fact reads as null, and `amount > limit` on null quietly lets it through.
        raise RuleProblem("RULE_SET_INVALID", "the inputNode needs a JSON schema naming the facts it requires",
                          "输入节点须带 JSON Schema,列明必需的事实字段", node=str(inputs.get("id") or "?"))
    for node in nodes:
        node_id = str(node.get("id") or "?")
        if node.get("type") not in NODE_TYPES:
            raise RuleProblem("RULE_SET_INVALID", f"node type {node.get('type')!r} is not allowed here",
                              f"不支持的节点类型 {node.get('type')!r}", node=node_id)
        for where, expression, unary in _expressions(node):
            problem = (zen.validate_unary_expression if unary else zen.validate_expression)(expression)
            if problem:
                raise RuleProblem("RULE_SET_INVALID", f"{where}: {problem['type']}: {problem['source']}",
                                  f"{where}:表达式有误", node=node_id)


def _schema_of(node: dict[str, Any]) -> dict[str, Any] | None:
    schema = (node.get("content") or {}).get("schema")
    if isinstance(schema, str) and schema.strip():
        try:
            schema = json.loads(schema)
        except ValueError:
            return None
    return schema if isinstance(schema, dict) and schema.get("required") else None


def _expressions(node: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(where, expression, unary?) for every expression a node holds; empty cells match anything."""
    content = node.get("content") or {}
    kind = node.get("type")
    out: list[tuple[str, str, bool]] = []
    if kind == "expressionNode":
        out += [(f"expression {e.get('key')}", e.get("value", ""), False) for e in content.get("expressions", [])]
    elif kind == "switchNode":
        out += [(f"statement {s.get('id')}", s.get("condition", ""), False) for s in content.get("statements", [])]
    elif kind == "decisionTableNode":
        inputs = {i["id"]: i for i in content.get("inputs", [])}
        outputs = {o["id"] for o in content.get("outputs", [])}
        for n, rule in enumerate(content.get("rules", []), start=1):
            for column, cell in rule.items():
                if column in inputs:
                    # A column with a field tests the field (unary `> 5`); without one the cell is a full expression.
                    out.append((f"rule {n} column {inputs[column].get('name', column)}", cell,
                                bool(inputs[column].get("field"))))
                elif column in outputs:
                    out.append((f"rule {n} output {column}", cell, False))
    return [(w, e, u) for w, e, u in out if isinstance(e, str) and e.strip()]


def _compact(trace: dict[str, Any]) -> list[dict[str, Any]]:
    """Which nodes ran, in order, with what each decided; inputs are the facts, stored once elsewhere."""
    steps = sorted(trace.values(), key=lambda t: t.get("order", 0))
    return [{"node": t.get("id"), "name": t.get("name"), "order": t.get("order"), "detail": t.get("traceData")}
            for t in steps]


def _error_info(err: Exception) -> dict[str, Any]:
    first = str(err).splitlines()[0] if str(err) else ""
    try:
        info = json.loads(first)
    except ValueError:
        return {"type": first[:200]}
    if isinstance(info, dict) and isinstance(info.get("source"), str):
        try:  # a node error wraps the expression's own error as JSON text
            inner = json.loads(info["source"])
            if isinstance(inner, dict):
                info = {**inner, **{k: v for k, v in info.items() if k != "source"}, "source": inner.get("source")}
        except ValueError:
            pass
    return info if isinstance(info, dict) else {"type": str(info)[:200]}
