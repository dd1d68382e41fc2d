"""Smoke test of bench/whitelist.py: a 20-row campaign and its bare baseline on the session's dev server and
database, and the shape of the JSON line. Not a timed test: only that both ran and every row was invited."""

from __future__ import annotations

import json

from bench.whitelist import json_line, run_bench


async def test_whitelist_bench_runs_and_prints_its_json_line(dev_env, engine, settings):
    # Tiny budgets: both campaigns continue as new while rows are in flight.
    result = await run_bench(dev_env.client, engine, settings, rows=20, window=5, history_limit=60, rows_per_run=6)

    parsed = json.loads(json_line(result))
    assert (parsed["bench"], parsed["unit"], parsed["n"], parsed["window"]) == ("whitelist", "rows/s", 20, 5)
    assert parsed["value"] > 0 and parsed["baseline"] > 0
    assert abs(parsed["ratio"] - parsed["value"] / parsed["baseline"]) < 0.01
    # Every row got an offer and its invitation; the rows' activities were counted from a real history.
    assert parsed["invited"] == 20 and parsed["refused"] == {}
    assert parsed["activities_per_row"] == 3 and parsed["campaign_runs"] > 1
