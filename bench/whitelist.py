"""Whitelist campaign rows per second, against bare Temporal child workflows with as many activities.

A campaign of N rows (default 10,000) runs on the real worker wiring (worker.simulators / activities_for /
make_worker): WhitelistCampaignWorkflow's sliding window of WhitelistOfferWorkflow children, each creating
the customer from its row, rating it, writing the offer, texting the invitation through the SMS simulator
and recording it, against a fresh PostgreSQL database and an in-memory dev server, both created here. A row
counts when its invitation went out (or the rating refused it): what follows waits on the customer.

The baseline, in the same run on the same server with the same activity threads, is the same shape on bare
Temporal: a parent with the same window and continue-as-new, bare children running as many no-op
activities as a real row scheduled (counted from a warm-up row's history) and signalling the parent. It
runs before the timed campaign, whose rows stay open waiting on the farmers.

    .venv/bin/python bench/whitelist.py [--rows 10000] [--window N] [--threads N]

Progress goes to stderr; the last line of stdout is one JSON object (see bench/README.md). The top level
imports only the standard library and temporalio: the sandbox re-imports this module for each bare run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow

if not __package__:  # run as a script (`python bench/x.py`): the project root is not on the path yet
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import dev_server, json_line, scratch_database  # noqa: E402

BENCH = "whitelist"
TARGET = 0.8  # the target for value / baseline
POLL_EVERY_S = 0.5
ROWS_PER_RUN = 500


def _log(message: str) -> None:
    print(f"[{BENCH} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- the baseline: bare Temporal ------------------------------------------------------------------------


@activity.defn(name="bench_wl_noop")
def noop(step: int) -> int:
    return step


@dataclass
class BareCampaign:
    rows: int
    window: int
    activities_per_row: int
    rows_per_run: int = ROWS_PER_RUN
    started: int = 0
    done: int = 0
    in_window: list[str] = field(default_factory=list)


@dataclass
class BareRow:
    parent_id: str
    row_id: str
    activities: int


@workflow.defn(name="BenchBareWhitelistRow")
class BareRowWorkflow:
    @workflow.run
    async def run(self, row: BareRow) -> None:
        for step in range(row.activities):
            await workflow.execute_activity(noop, step, start_to_close_timeout=timedelta(seconds=30))
        await workflow.get_external_workflow_handle(row.parent_id).signal("row_done", row.row_id)


@workflow.defn(name="BenchBareWhitelistCampaign")
class BareCampaignWorkflow:
    """The campaign's shape: a page activity per 100 rows, a window of children, continue-as-new."""

    @workflow.init
    def __init__(self, c: BareCampaign) -> None:
        # In __init__, not run(): after continue-as-new a child's signal can be handled before run() starts.
        self._window: set[str] = set(c.in_window)
        self._done = c.done

    @workflow.run
    async def run(self, c: BareCampaign) -> int:
        started_here = 0
        wid = workflow.info().workflow_id
        while c.started < c.rows:
            if started_here >= c.rows_per_run or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(BareCampaign(c.rows, c.window, c.activities_per_row, c.rows_per_run, c.started,
                                                      self._done, sorted(self._window)))
            await workflow.wait_condition(lambda: len(self._window) < c.window)
            page = min(100, c.window - len(self._window), c.rows - c.started)
            await workflow.execute_activity(noop, c.started, start_to_close_timeout=timedelta(seconds=30))
            for _ in range(page):
                row_id = f"{wid}-{c.started}"
                self._window.add(row_id)
                c.started += 1
                started_here += 1
                await workflow.start_child_workflow(BareRowWorkflow.run, BareRow(wid, row_id, c.activities_per_row),
                                                    id=row_id, parent_close_policy=workflow.ParentClosePolicy.ABANDON)
        await workflow.wait_condition(lambda: self._done >= c.rows)
        return self._done

    @workflow.signal(name="row_done")
    def row_done(self, row_id: str) -> None:
        if row_id in self._window:
            self._window.discard(row_id)
            self._done += 1

    @workflow.query(name="done")
    def done(self) -> int:
        return self._done


# ---- the real campaign ----------------------------------------------------------------------------------


def _prepare(engine: Any, rows: int, run_id: str, offset: int = 0) -> tuple[Any, Any]:
    """A seeded database and one campaign of `rows` valid rows, stored as an upload would (not timed)."""
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from sqlmodel import Session

    from db import seed
    from db.repositories import catalogue, staff
    from db.repositories import whitelist as store
    from domain.identity import resident_id_for
    from workflows import names

    now = datetime.now(UTC)
    seed.seed_demo(engine, now=now)
    with Session(engine) as session:
        manager = staff.by_username(session, "manager01")
        assert manager is not None and manager.id is not None
        campaign = store.insert_campaign(
            session, business_date=now.date(), workflow_id_for=names.whitelist_campaign_workflow_id,
            file_sha256=uuid.uuid4().hex + uuid.uuid4().hex, filename=f"bench-{run_id}.csv", file_format="csv",
            encoding="utf-8", uploaded_by=manager.id, branch_code=manager.branch_code, rows_total=rows,
            rows_valid=rows, rows_refused=0, created_at=now, updated_at=now, status="validated")
        base = date(1970, 1, 1)
        values = []
        for i in range(offset, offset + rows):
            born = base + timedelta(days=i // 500)
            values.append({"row_no": i - offset + 2, "resident_id": resident_id_for("350322", born, 500 + i % 500),
                           "name": "白名单户", "mobile": f"17{i:09d}", "preapproved_limit": Decimal("50000"),
                           "product_code": "NONG_E_DAI", "manager_staff_id": manager.id,
                           "branch_code": manager.branch_code, "annual_income": Decimal("96000"),
                           "total_assets": Decimal("420000"), "total_liabilities": Decimal("30000")})
        store.insert_rows(session, campaign, values, now)
        session.commit()
        session.refresh(campaign)
        product = catalogue.product(session, "NONG_E_DAI")
        assert product is not None
        return campaign, product


async def run_bench(client: Any, engine: Any, settings: Any, *, rows: int = 10_000, window: int | None = None,
                    threads: int | None = None, history_limit: int | None = None,
                    rows_per_run: int = ROWS_PER_RUN) -> dict[str, Any]:
    """`history_limit` and `rows_per_run` make the real and the bare campaign continue as new sooner (tests)."""
    from concurrent.futures import ThreadPoolExecutor

    from temporalio.worker import Worker

    from domain.products import ProductTerms
    from worker import activities_for, make_worker, simulators
    from workflows import names
    from workflows.messages import CampaignProgress, WhitelistCampaignInput

    if rows < 2:
        raise ValueError("rows must be >= 2")
    window = window or settings.whitelist_window
    threads = threads or settings.activity_threads
    run_id = uuid.uuid4().hex[:8]
    _log(f"preparing a campaign of {rows} rows (+1 warm-up)")
    warm_campaign, product = await asyncio.to_thread(_prepare, engine, 1, run_id + "w", 900_000)
    campaign, _ = await asyncio.to_thread(_prepare, engine, rows, run_id)
    terms = ProductTerms(**{**product.terms, "code": product.code, "version": product.version, "name": product.name})

    def start_input(c: Any) -> Any:
        return WhitelistCampaignInput(campaign_id=c.id, campaign_no=c.campaign_no, rows_total=c.rows_valid,
                                      products={terms.code: terms}, window=window, offer_seconds=30 * 86400,
                                      public_base_url=settings.public_base_url,
                                      **({"history_limit": history_limit} if history_limit else {}))

    queue = f"bench-wl-{run_id}"
    adapters = simulators(engine, settings)
    real_worker = make_worker(client, queue, activities_for(engine, adapters, settings), threads=threads,
                              workflow_failure_exception_types=[Exception])

    async def run_campaign(c: Any) -> tuple[float, CampaignProgress]:
        handle = await client.start_workflow(names.WHITELIST_CAMPAIGN, start_input(c), id=c.workflow_id,
                                             task_queue=queue)
        t0 = time.time()
        last = -1
        while True:
            p = await handle.query(names.QUERY_PROGRESS, result_type=CampaignProgress)
            settled = p.counts.invited + sum(p.counts.failed.values())
            if settled >= c.rows_valid:
                return time.time() - t0, p
            if settled // 1000 != last // 1000:
                _log(f"{settled} rows invited or refused")
            last = settled
            await asyncio.sleep(POLL_EVERY_S)

    async with real_worker:
        _log("warm-up row (its history gives the activities per row)")
        await run_campaign(warm_campaign)
        offer_id = names.whitelist_offer_workflow_id(f"{warm_campaign.campaign_no}-{_first_row_id(engine, warm_campaign.id)}")
        history = await client.get_workflow_handle(offer_id).fetch_history()
        per_row = sum(1 for e in history.events if e.HasField("activity_task_scheduled_event_attributes"))
    _log(f"one row schedules {per_row} activities until its invitation")

    # The baseline runs first: the real campaign leaves its rows open (waiting on the farmers), and the
    # baseline should not run beside thousands of open workflows that it did not make.
    bare_queue = f"bench-wl-bare-{run_id}"
    pool = ThreadPoolExecutor(threads)
    bare_worker = Worker(client, task_queue=bare_queue, workflows=[BareCampaignWorkflow, BareRowWorkflow],
                         activities=[noop], activity_executor=pool, max_concurrent_activities=threads,
                         workflow_failure_exception_types=[Exception])

    async def bare(n: int, tag: str) -> float:
        t0 = time.time()
        await client.execute_workflow(BareCampaignWorkflow.run, BareCampaign(n, window, per_row, rows_per_run),
                                      id=f"bench-wl-bare-{run_id}-{tag}", task_queue=bare_queue)
        return time.time() - t0

    async with bare_worker:
        _log("baseline warm-up")
        await bare(min(rows, window), "warm")
        _log(f"baseline: {rows} bare rows of {per_row} no-op activities, window {window}")
        bare_elapsed = await bare(rows, "timed")
    pool.shutdown()
    _log(f"baseline {rows / bare_elapsed:.2f} rows/s; timed campaign: {rows} rows, window {window}")

    real_worker = make_worker(client, queue, activities_for(engine, adapters, settings), threads=threads,
                              workflow_failure_exception_types=[Exception])
    async with real_worker:
        elapsed, progress = await run_campaign(campaign)
    adapters.renderer.close()
    value, baseline = rows / elapsed, rows / bare_elapsed
    return {"bench": BENCH, "value": round(value, 2), "unit": "rows/s", "baseline": round(baseline, 2),
            "ratio": round(value / baseline, 3), "n": rows, "target": TARGET, "meets_target": value / baseline >= TARGET,
            "window": window, "threads": threads, "activities_per_row": per_row,
            "elapsed_s": round(elapsed, 2), "baseline_elapsed_s": round(bare_elapsed, 2),
            "campaign_runs": progress.runs, "invited": progress.counts.invited, "refused": progress.counts.failed}


def _first_row_id(engine: Any, campaign_id: int) -> int:
    from sqlmodel import Session, select

    from db.models import WhitelistRow

    with Session(engine) as session:
        return session.exec(select(WhitelistRow.id).where(WhitelistRow.campaign_id == campaign_id)).first()



async def _main_async(args: argparse.Namespace) -> dict[str, Any]:
    from config.settings import Settings
    from db.engine import make_engine

    with scratch_database("whitelist", _log) as url:
        engine = make_engine(url)
        try:
            async with dev_server(_log) as client:
                return await run_bench(client, engine, Settings(database_url=url), rows=args.rows,
                                       window=args.window, threads=args.threads)
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the timed campaign (default 10,000)")
    parser.add_argument("--window", type=int, default=None, help="rows in flight (default: settings.whitelist_window)")
    parser.add_argument("--threads", type=int, default=None, help="activity threads of both workers")
    args = parser.parse_args(argv)
    result = asyncio.run(_main_async(args))
    _log(f"{result['value']} rows/s vs {result['baseline']} bare rows/s: ratio {result['ratio']} (target {TARGET})")
    print(json_line(result))
    return 0


if __name__ == "__main__":
    # Import the module under its package name, so the bare workflows' module is bench.whitelist.
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.whitelist import main as _main

    sys.exit(_main())
