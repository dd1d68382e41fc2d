"""Smoke test of bench/loan_throughput.py: two lifecycles and two bare workflows on the session's dev
server and database, and the shape of the JSON line. Not a timed test: only value > 0 is asserted."""

from __future__ import annotations

import json

from bench.loan_throughput import json_line, run_bench

REQUIRED = {"bench", "value", "unit", "baseline", "ratio", "n", "activities_per_loan", "activities",
            "cpu_ms_per_loan", "dominant"}


async def test_loan_throughput_bench_runs_and_prints_its_json_line(dev_env, engine, settings):
    result = await run_bench(dev_env.client, engine, settings, loans=2, concurrency=2)

    line = json_line(result)
    assert "\n" not in line
    parsed = json.loads(line)
    assert REQUIRED <= parsed.keys()
    assert (parsed["bench"], parsed["unit"], parsed["n"]) == ("loan_throughput", "loans/s", 2)
    assert parsed["value"] > 0 and parsed["baseline"] > 0
    assert abs(parsed["ratio"] - parsed["value"] / parsed["baseline"]) < 0.01
    # Application, credit line and drawdown together; each activity type's mean was measured.
    assert parsed["activities_per_loan"] == sum(parsed["activities_by_workflow"].values())
    assert set(parsed["activities_by_workflow"]) == {"application", "credit_line", "drawdown"}
    assert {"issue_contracts", "sign_document", "disburse"} <= parsed["activities"].keys()
    assert sum(a["per_loan"] for a in parsed["activities"].values()) == parsed["activities_per_loan"]
    assert all(a["wall_ms"] is not None and a["cpu_ms"] is not None for a in parsed["activities"].values())
    assert parsed["dominant"]["activity"] in parsed["activities"]
