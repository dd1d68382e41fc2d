"""Smoke test of bench/rating_batch.py: 3,000 households in a scratch database, the three figures on the
session's dev server, and the shape of the JSON line. Not a timed test: the ratios are not asserted, only
that the batch really rated every household or reported it, and that toad scored the same."""

from __future__ import annotations

import json

from bench.common import json_line
from bench.rating_batch import E2E_FLOOR, SCORING_TARGET, bench_database, run_bench
from config.settings import Settings
from db.engine import make_engine

REQUIRED = {"bench", "value", "unit", "baseline", "ratio", "n", "target", "meets_floor", "batch_s", "baseline_s",
            "chunk_size", "parallel_chunks", "batch", "baseline_copy", "scoring", "realtime", "data", "checks"}


async def test_rating_bench_rates_every_household_and_prints_its_json_line(dev_env):
    with bench_database() as url:
        engine = make_engine(url)
        try:
            settings = Settings(env="test", database_url=url, render_processes=0)
            result = await run_bench(engine, settings, client=dev_env.client, households=3000, chunk_size=700,
                                     latency_samples=40, scoring_repeats=1)
        finally:
            engine.dispose()

    parsed = json.loads(line := json_line(result))
    assert "\n" not in line and REQUIRED <= parsed.keys()
    assert (parsed["bench"], parsed["unit"], parsed["n"], parsed["target"]) == ("rating_batch", "households/s", 3000,
                                                                                E2E_FLOOR)
    assert parsed["value"] > 0 and parsed["baseline"] > 0
    assert abs(parsed["ratio"] - parsed["baseline_s"] / parsed["batch_s"]) < 0.01
    data, checks = parsed["data"], parsed["checks"]
    assert data["archived"] == 2970 and data["drafts"] == 30 and data["unratable"] > 0
    assert checks["ok"], checks
    assert checks["rated"] + checks["failed"] == data["archived"] and checks["failed"] == data["unratable"]
    assert checks["resampled"] > 0 and checks["resample_mismatches"] == 0
    batch = parsed["batch"]
    assert batch["chunks"] == 5 and batch["activities"]["rate_chunk"]["calls"] == 5
    assert sum(batch["migrations"].values()) == checks["rated"]
    assert parsed["baseline_copy"]["rows"] == data["archived"] - data["unratable"] + data["negative_income"]
    scoring = parsed["scoring"]
    assert scoring["households"] == checks["rated"] and scoring["target"] == SCORING_TARGET
    assert scoring["toad_disagrees"] == 0 and scoring["ours_s"] > 0 and scoring["toad_s"] > 0
    latency = parsed["realtime"]
    assert latency["ratings"] > 30 and 0 < latency["p50_ms"] <= latency["p99_ms"]
