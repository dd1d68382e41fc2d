"""Smoke test of bench/eod.py: 2,000 notes in a scratch database, the baseline pass and EndOfDayWorkflow on the
session's dev server, and the shape of the JSON line. Not a timed test: the ratio is not asserted, only that
end of day really closed every note and kept its ledger."""

from __future__ import annotations

import json

from bench.eod import DAY, bench_database, json_line, run_bench
from config.settings import Settings
from db.engine import make_engine

REQUIRED = {"bench", "value", "unit", "baseline", "ratio", "n", "target", "meets_floor", "eod_s", "baseline_s",
            "chunk_size", "parallel_chunks", "eod", "baseline_pass", "data", "checks"}


async def test_eod_bench_closes_every_note_and_prints_its_json_line(dev_env):
    with bench_database() as url:
        engine = make_engine(url)
        try:
            settings = Settings(env="test", database_url=url, render_processes=0)
            result = await run_bench(engine, settings, client=dev_env.client, notes=2000, chunk_size=300,
                                     warmup=False)
        finally:
            engine.dispose()

    parsed = json.loads(line := json_line(result))
    assert "\n" not in line
    assert REQUIRED <= parsed.keys()
    assert (parsed["bench"], parsed["unit"], parsed["n"], parsed["target"]) == ("eod", "notes/s", 2000, 0.5)
    assert parsed["value"] > 0 and parsed["baseline"] > 0
    assert abs(parsed["ratio"] - parsed["baseline_s"] / parsed["eod_s"]) < 0.01
    assert parsed["business_date"] == DAY.isoformat()

    data = parsed["data"]
    assert data["notes"] == 2000 and data["installments"] >= 3 * 2000
    assert 0 < data["notes_falling_due"] < 200 and 0 < data["notes_overdue_before"] < 200  # a few %, not none
    assert parsed["baseline_pass"]["notes"] == 2000
    assert parsed["baseline_pass"]["notes_falling_due"] == data["notes_falling_due"]

    checks = parsed["checks"]
    assert checks["ok"], checks
    assert checks["every_note_closed"] and checks["calendar_closed"]
    assert checks["installments_turned_overdue"] == data["installments_falling_due"]
    assert checks["run"] == {"status": "completed", "chunks_done": 7, "chunks_total": 7, "notes_processed": 2000}
    assert parsed["eod"]["notes"] == 2000 and parsed["eod"]["newly_overdue"] == data["notes_falling_due"]
    assert {"plan_day", "close_chunk", "finish_day"} <= parsed["eod"]["activities"].keys()
    assert parsed["eod"]["activities"]["close_chunk"]["calls"] == 7
    # The notices go out after the date closed, in their own workflow (not timed in the ratio): all of them.
    delivery = parsed["eod"]["notice_delivery"]
    assert delivery["returned"] == parsed["eod"]["notices"] == sum(checks["notices"].values()) > 0
    assert checks["every_notice_delivered"] and "pending" not in checks["notice_status"]
