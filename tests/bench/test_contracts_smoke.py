"""Smoke test of bench/contracts.py: two signed contracts and two baseline renders on the session's database,
and the shape of the JSON line. Not a timed test: only value > 0 and a verifying signed PDF are asserted."""

from __future__ import annotations

import json

from bench.contracts import json_line, run_bench


def test_contracts_bench_runs_and_prints_its_json_line(engine):
    result = run_bench(engine, contracts=2, block=1)
    parsed = json.loads(json_line(result))
    assert (parsed["bench"], parsed["unit"], parsed["n"]) == ("contracts", "signed contracts/s", 2)
    assert parsed["value"] > 0 and parsed["baseline"] > 0
    assert abs(parsed["ratio"] - parsed["value"] / parsed["baseline"]) < 0.01
    assert set(parsed["ms_per_signed_contract"]) == {"render", "sign", "seal"}
