"""Smoke test of bench/rules.py: 60 decisions each way in a scratch database and the shape of the JSON line.
Not a timed test: only that every decision was recorded and the full path decided as raw zen-engine did."""

from __future__ import annotations

import json

from bench.rules import bench_database, json_line, run_bench
from db.engine import make_engine

REQUIRED = {"bench", "value", "unit", "baseline", "ratio", "n", "rule_set", "full_s", "raw_s", "traced_engine_s",
            "record_only_s", "per_decision_us", "outcomes", "checks"}


def test_rules_bench_records_every_decision_and_prints_its_json_line():
    with bench_database() as url:
        engine = make_engine(url)
        try:
            result = run_bench(engine, decisions=60)
        finally:
            engine.dispose()
    parsed = json.loads(line := json_line(result))
    assert "\n" not in line and REQUIRED <= parsed.keys()
    assert (parsed["bench"], parsed["unit"], parsed["n"]) == ("rules", "decisions/s", 60)
    assert parsed["rule_set"] == "NONG_E_DAI/approval@v1"
    assert parsed["value"] > 0 and parsed["baseline"] > 0
    assert abs(parsed["ratio"] - parsed["value"] / parsed["baseline"]) < 0.01
    assert set(parsed["outcomes"]) == {"approve", "manual_review", "reject"} and sum(parsed["outcomes"].values()) == 60
    assert parsed["checks"] == {"recorded": 60, "every_decision_recorded": True, "same_outcomes_as_raw": True,
                                "ok": True}
