"""End of day over N loan notes (default 1,000,000) in PostgreSQL, against one plain SQL pass over the same rows.

The bench creates a scratch database, generates N disbursed notes with their schedules set-based in SQL
(not timed in the ratio), then, on the benchmarked business date:

- baseline: one plain SQL pass in one transaction that reads and writes the same rows with the same
  arithmetic as end of day (the installments falling due turn overdue; every open note gets one day of
  积数, dpd, class and last_eod_date), with no chunks and no bookkeeping. It is rolled back, so the real
  end of day starts from the same state;
- end of day: the real one. By default EndOfDayWorkflow on an in-memory Temporal dev server and the
  production worker wiring (chunks closed and their notices delivered in a window of
  `eod_parallel_chunks`); with --direct, db.eod called directly (plan, every chunk closed on
  `eod_parallel_chunks` threads, finish: the closing without notice delivery).

ratio = baseline seconds / end-of-day seconds (higher is better; the issue's floor is 0.5). Afterwards the
bench checks that end of day closed every note, turned overdue exactly the installments that fell due, and
completed its run ledger.

    .venv/bin/python bench/eod.py [--notes 1000000] [--chunk-size N] [--parallel N] [--direct] [--keep]

Progress goes to stderr; the last line of stdout is one JSON object (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

if not __package__:  # run as a script (`python bench/x.py`): the project root is not on the path yet
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import json_line, packaged_binary, scratch_database  # noqa: E402

BENCH = "eod"
FLOOR = 0.5  # the floor for baseline seconds / end-of-day seconds
DAY = date(2026, 6, 15)  # the benchmarked business date; every note was closed up to the day before
LINES = 1000  # customers, applications and credit lines the notes are spread over
BRANCH, COUNTY = "350322101", "350322000"
PROGRESS_EVERY_S = 15.0


def _log(message: str) -> None:
    print(f"[{BENCH} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_database(admin_url: str | None = None, *, keep: bool = False) -> Iterator[str]:
    """A scratch database with the tables (bench.common.scratch_database), named for this bench."""
    return scratch_database("eod", _log, admin_url, keep=keep)


# ---- the data -----------------------------------------------------------------------------------------
#
# Note g (1..N) is a 3- to 6-month equal-principal loan (k = 3 + g % 4 installments) of 5,000-100,000
# yuan. Its installment j (1 <= j < k) falls due on the anchor date a = DAY - d, d in 0..30, so on DAY:
#   d = 0  (~3.2%): installment j is pending and falls due today;
#   d > 0: installment j fell due d days ago and was paid on its due date, except for the late notes
#          (~2%), where it is overdue (a quarter of those also owe every earlier installment: dpd up to
#          ~150, some substandard);
# later installments are pending (the next one falls due after DAY; ~3% within the 3-day reminder).
# The note's servicing columns are what closing every day up to DAY - 1 would have left: outstanding and
# overdue buckets from its schedule, 积数 (accrual, penalty, compound bases) for the days elapsed, dpd,
# class, line_frozen_for_overdue, last_eod_date = DAY - 1.

_PLAN = """
CREATE TEMP TABLE bench_gen ON COMMIT DROP AS
WITH base AS (
    SELECT g, (g::bigint * 2654435761) % 4294967296 AS h FROM generate_series(1, :n) AS g
), p AS (
    SELECT g, h, 3 + g % 4 AS k, ((h / 7) % 31)::int AS d, (h / 300) % 50 = 0 AS late, (h / 15000) % 4 = 0 AS deep,
           (10 + h % 191) * 50000 AS amount_fen, (0.0435 + (h % 5) * 0.0025)::numeric(9, 6) AS rate
    FROM base
)
SELECT g AS id, k, (1 + h % (k - 1))::int AS j, d, (CAST(:day AS date) - d) AS a, late AND d > 0 AS late, deep,
       amount_fen, amount_fen / k AS each_fen, rate
FROM p
"""

_INSTALLMENTS = """
INSERT INTO schedule_installment (note_id, period, due_date, principal, interest, paid_principal, paid_interest,
                                  status, paid_on, accrual_start, accrual_end, accrual_months, accrual_days,
                                  annual_rate /*cols*/)
SELECT g.id, i.p, i.due, i.principal, i.interest,
       CASE WHEN i.status = 'paid' THEN i.principal ELSE 0 END, CASE WHEN i.status = 'paid' THEN i.interest ELSE 0 END,
       i.status, CASE WHEN i.status = 'paid' THEN i.due END, i.prev_due, i.due, 1, 0, g.rate /*vals*/
FROM bench_gen g, LATERAL (
    SELECT p, (g.a + make_interval(months => p - g.j))::date AS due,
           (g.a + make_interval(months => p - 1 - g.j))::date AS prev_due,
           CASE WHEN p = g.k THEN g.amount_fen - (g.k - 1) * g.each_fen ELSE g.each_fen END AS principal,
           round((g.amount_fen - (p - 1) * g.each_fen) * g.rate / 12)::bigint AS interest,
           CASE WHEN p > g.j OR (p = g.j AND g.d = 0) THEN 'pending'
                WHEN g.late AND (p = g.j OR g.deep) THEN 'overdue' ELSE 'paid' END AS status
    FROM generate_series(1, g.k) AS p) i
ORDER BY g.id, i.p
"""

_NOTES = """
INSERT INTO loan_note (id, note_no, line_id, customer_id, amount, term_months, repayment_method, annual_rate, status,
                       payment_mode, start_date, maturity_date, created_at, disbursed_at, penalty_rate,
                       allocation_order, outstanding_principal, overdue_principal, overdue_interest, accrual_base,
                       penalty_base, compound_base, penalty_paid, compound_paid, dpd, classification,
                       last_eod_date, line_frozen_for_overdue /*cols*/)
SELECT g.id, 'JJ' || lpad(g.id::text, 12, '0'), 1 + (g.id - 1) % :lines, 1 + (g.id - 1) % :lines,
       g.amount_fen / 100.0, g.k, 'equal_principal', g.rate, 'disbursed', 'self',
       s.start_date, s.maturity_date, s.start_date::timestamptz, s.start_date::timestamptz, round(g.rate * 1.5, 6),
       'penalty,compound,interest,principal', s.unpaid_p, s.over_p, s.over_i,
       (CAST(:day AS date) - s.current_start) * (s.unpaid_p - s.over_p), s.penalty_base, s.compound_base, 0, 0,
       s.dpd,
       CASE WHEN s.dpd > 360 THEN 'loss' WHEN s.dpd > 270 THEN 'doubtful' WHEN s.dpd > 90 THEN 'substandard'
            WHEN s.dpd > 0 THEN 'special_mention' ELSE 'normal' END,
       CAST(:day AS date) - 1, s.dpd >= :freeze_dpd /*vals*/
FROM bench_gen g JOIN (
    SELECT note_id,
           min(accrual_start) AS start_date, max(due_date) AS maturity_date,
           sum(principal - paid_principal) AS unpaid_p,
           coalesce(sum(principal) FILTER (WHERE status = 'overdue'), 0) AS over_p,
           coalesce(sum(interest) FILTER (WHERE status = 'overdue'), 0) AS over_i,
           coalesce(sum(principal * (CAST(:day AS date) - due_date)) FILTER (WHERE status = 'overdue'), 0)
               AS penalty_base,
           coalesce(sum(interest * (CAST(:day AS date) - due_date)) FILTER (WHERE status = 'overdue'), 0)
               AS compound_base,
           coalesce(CAST(:day AS date) - min(due_date) FILTER (WHERE status = 'overdue'), 0) AS dpd,
           min(accrual_start) FILTER (WHERE status = 'pending') AS current_start
    FROM schedule_installment GROUP BY note_id
) s ON s.note_id = g.id
ORDER BY g.id
"""


def _sql(sql: str, params: Any) -> tuple[Any, Any]:
    """text(sql) and its parameters, with every NOT NULL column the INSERT leaves out (one added to the
    model after this bench was written) set to the model's default at the /*cols*/ and /*vals*/ marks, so
    the generator keeps up with the tables. A new column without a scalar default stops the bench."""
    import re

    from sqlalchemy import bindparam, text

    from db.metadata import metadata

    found = re.search(r"INSERT INTO (\w+) \(([^)]*)\)", sql)
    assert found is not None, sql
    table = metadata.tables[found[1]]
    given = {c.strip() for c in found[2].replace("/*cols*/", "").split(",")}
    missing = [c for c in table.columns if c.name not in given and not c.nullable and c.server_default is None
               and c is not table.autoincrement_column]
    for c in missing:
        if c.default is None or not c.default.is_scalar:
            raise RuntimeError(f"bench/eod.py: {table.name}.{c.name} is new and has no default: generate it")
    sql = sql.replace("/*cols*/", "".join(f", {c.name}" for c in missing))
    sql = sql.replace("/*vals*/", "".join(f", :default_{c.name}" for c in missing))
    clause = text(sql).bindparams(*(bindparam(f"default_{c.name}", type_=c.type) for c in missing))
    defaults = {f"default_{c.name}": c.default.arg for c in missing}  # type: ignore[union-attr]
    if isinstance(params, list):
        return clause, [{**p, **defaults} for p in params]
    return clause, {**params, **defaults}


def _reference_rows(lines: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Customers with valid resident IDs (one per line), and the product row."""
    from domain.identity import resident_id_for
    from domain.products import nongedai_default

    customers = []
    for c in range(1, lines + 1):
        born = date(1960, 1, 1) + timedelta(days=(c * 37) % 12000)
        customers.append({"id": c, "customer_no": f"C{c:010d}", "resident_id": resident_id_for("350322", born, c % 1000),
                          "mobile": f"139{c:08d}", "birth_date": born, "branch": BRANCH})
    product = nongedai_default()
    return customers, {"code": product.code, "version": product.version, "name": product.name,
                       "terms": json.dumps(product.model_dump(mode="json"), ensure_ascii=False)}


def generate(engine: Any, notes: int, *, day: date = DAY, lines: int = LINES, freeze_dpd: int = 8,
             fillfactor: int | None = None) -> dict[str, Any]:
    """Reference rows, `lines` customers/applications/lines and `notes` notes with schedules; then VACUUM
    ANALYZE. Foreign keys hold by construction; the bulk load skips their per-row triggers
    (session_replication_role = replica)."""
    from sqlalchemy import text

    lines = max(1, min(lines, notes))
    customers, product = _reference_rows(lines)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with engine.begin() as conn:
        if fillfactor:  # an experiment (--fillfactor): room on each page for HOT updates
            conn.execute(text(f"ALTER TABLE loan_note SET (fillfactor = {int(fillfactor)})"))
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("INSERT INTO branch (code, name, region_code, address, parent_code) VALUES "
                          "(:county, '仙游县农村信用合作联社', '350322', '福建省莆田市仙游县鲤城街道', NULL), "
                          "(:branch, '榜头信用社', '350322', '福建省莆田市仙游县榜头镇', :county)"),
                     {"county": COUNTY, "branch": BRANCH})
        conn.execute(text("INSERT INTO product (code, version, name, terms, active) "
                          "VALUES (:code, :version, :name, CAST(:terms AS json), true)"), product)
        conn.execute(*_sql(
            "INSERT INTO customer (id, customer_no, resident_id, name, mobile, birth_date, region_code, address, "
            "branch_code, customer_type, annual_income, total_assets, total_liabilities, blacklisted, "
            "currently_overdue, created_at /*cols*/) VALUES (:id, :customer_no, :resident_id, '林阿福', :mobile, "
            ":birth_date, '350322', '福建省莆田市仙游县榜头镇坝下村', :branch, 'farmer', 120000, 600000, 20000, false, "
            "false, now() /*vals*/)", customers))
        conn.execute(*_sql("""
            INSERT INTO loan_application (id, app_no, workflow_id, customer_id, product_code, product_version, amount,
                term_months, repayment_method, guarantee_type, purpose, channel, branch_code, stage, status,
                reason_codes, credit_limit, approved_amount, annual_rate, created_at, updated_at /*cols*/)
            SELECT c, 'LA20250101' || lpad(c::text, 6, '0'), 'loan-app-LA20250101' || lpad(c::text, 6, '0'), c,
                   :product, 1, 300000, 36, 'equal_principal', 'credit', '种植', 'self_service', :branch, 'completed',
                   'active', '[]', 300000, 300000, 0.0455, now(), now() /*vals*/
            FROM generate_series(1, :lines) AS c""", {"product": product["code"], "branch": BRANCH, "lines": lines}))
        conn.execute(*_sql("""
            INSERT INTO credit_line (id, line_no, workflow_id, application_id, customer_id, branch_code, product_code,
                amount, revolving, annual_rate, start_date, expiry_date, max_term_months, status, drawn_total,
                outstanding_principal, created_at /*cols*/)
            SELECT c, 'CL20250101' || lpad(c::text, 6, '0'), 'credit-line-CL20250101' || lpad(c::text, 6, '0'), c, c,
                   :branch, :product, 300000, true, 0.0455, DATE '2025-01-01', DATE '2028-01-01', 36, 'active', 0, 0,
                   now() /*vals*/
            FROM generate_series(1, :lines) AS c""", {"product": product["code"], "branch": BRANCH, "lines": lines}))
        args = {"n": notes, "day": day, "lines": lines, "freeze_dpd": freeze_dpd}
        t = time.perf_counter()
        conn.execute(text(_PLAN), args)
        installments = conn.execute(*_sql(_INSTALLMENTS, args)).rowcount
        timings["installments_s"] = round(time.perf_counter() - t, 2)
        _log(f"{installments:,} installments in {timings['installments_s']} s")
        t = time.perf_counter()
        conn.execute(*_sql(_NOTES, args))
        timings["notes_s"] = round(time.perf_counter() - t, 2)
        _log(f"{notes:,} notes in {timings['notes_s']} s")
        for table in ("customer", "loan_application", "credit_line", "loan_note", "schedule_installment"):
            conn.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))  # noqa: S608
        conn.execute(text("INSERT INTO business_calendar (id, closed_date, updated_at) VALUES ('main', :d, now())"),
                     {"d": day - timedelta(days=1)})
    t = time.perf_counter()
    _vacuum(engine)
    timings["vacuum_analyze_s"] = round(time.perf_counter() - t, 2)
    timings["total_s"] = round(time.perf_counter() - started, 2)
    shape = data_shape(engine, day)
    _log(f"data generated in {timings['total_s']} s: {shape}")
    return {"timings": timings, "installments": installments, **shape}


def _vacuum(engine: Any) -> None:
    from sqlalchemy import text

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        conn.execute(text("CHECKPOINT"))


def data_shape(engine: Any, day: date) -> dict[str, Any]:
    """What the benchmarked date holds: notes, installments falling due, late notes, reminders."""
    from sqlalchemy import text

    with engine.connect() as conn:
        row = conn.execute(text("""
            SELECT (SELECT count(*) FROM loan_note WHERE status = 'disbursed'),
                   (SELECT count(*) FROM schedule_installment WHERE status = 'pending' AND due_date <= :day),
                   (SELECT count(DISTINCT note_id) FROM schedule_installment
                     WHERE status = 'pending' AND due_date <= :day),
                   (SELECT count(*) FROM loan_note WHERE status = 'disbursed' AND dpd > 0),
                   (SELECT count(DISTINCT note_id) FROM schedule_installment
                     WHERE status = 'pending' AND due_date = CAST(:day AS date) + 3)"""), {"day": day}).one()
    notes = row[0] or 1
    return {"notes": row[0], "installments_falling_due": row[1], "notes_falling_due": row[2],
            "notes_overdue_before": row[3], "notes_due_in_3_days": row[4],
            "share_falling_due": round(row[2] / notes, 4), "share_overdue": round(row[3] / notes, 4)}


# ---- the baseline: one plain SQL pass ------------------------------------------------------------------

_BASELINE_INSTALLMENTS = """
CREATE TEMP TABLE bench_falling ON COMMIT DROP AS
WITH due AS (
    UPDATE schedule_installment SET status = 'overdue'
    WHERE status = 'pending' AND due_date <= :day
    RETURNING note_id, principal - paid_principal AS p, interest - paid_interest AS i
)
SELECT note_id, sum(p) AS p, sum(i) AS i FROM due GROUP BY note_id
"""

# Every open note once, in the table's physical order (a plain sequential scan): what fell due is looked up
# per note in the small table above, and the SET arithmetic of db.eod._close's two note statements is
# folded into one. (A self left join instead hashes the notes and updates them in hash order: 2.5x slower
# on 1M notes with 128 MB of shared buffers, a baseline that would flatter end of day.)
_BASELINE_NOTES = """
UPDATE loan_note n SET (overdue_principal, overdue_interest, penalty_base, compound_base, accrual_base, dpd,
                        classification, last_eod_date) = (
    SELECT n.overdue_principal + x.p, n.overdue_interest + x.i,
           n.penalty_base + n.overdue_principal + x.p, n.compound_base + n.overdue_interest + x.i,
           CASE WHEN x.due THEN 0 ELSE n.accrual_base END + n.outstanding_principal - n.overdue_principal - x.p,
           CASE WHEN n.overdue_principal + n.overdue_interest + x.p + x.i > 0 THEN n.dpd + 1 ELSE 0 END,
           CASE WHEN n.overdue_principal + n.overdue_interest + x.p + x.i > 0 THEN
                    CASE WHEN n.dpd + 1 > 360 THEN 'loss' WHEN n.dpd + 1 > 270 THEN 'doubtful'
                         WHEN n.dpd + 1 > 90 THEN 'substandard' ELSE 'special_mention' END
                WHEN n.restructured_until IS NOT NULL AND n.restructured_until >= :day THEN 'special_mention'
                ELSE 'normal' END,
           :day
    FROM (SELECT count(*) > 0 AS due, coalesce(sum(f.p), 0) AS p, coalesce(sum(f.i), 0) AS i
          FROM bench_falling f WHERE f.note_id = n.id) x)
WHERE n.status = 'disbursed' AND n.start_date <= :day AND (n.last_eod_date IS NULL OR n.last_eod_date < :day)
"""


def baseline_pass(engine: Any, day: date) -> dict[str, Any]:
    """The plain pass, timed, in one transaction that is rolled back (the caller VACUUMs afterwards: the dead
    row versions it leaves are cleared before the next phase). JIT is off: on this statement it spends ~0.9 s
    compiling, which would only slow the baseline down."""
    from sqlalchemy import text

    with engine.connect() as conn:
        started = time.perf_counter()
        with conn.begin() as tx:
            conn.execute(text("SET LOCAL jit = off"))
            conn.execute(text(_BASELINE_INSTALLMENTS), {"day": day})
            conn.execute(text("CREATE UNIQUE INDEX ON bench_falling (note_id)"))
            conn.execute(text("ANALYZE bench_falling"))
            falling = conn.execute(text("SELECT count(*) FROM bench_falling")).scalar()
            notes = conn.execute(text(_BASELINE_NOTES), {"day": day}).rowcount
            seconds = time.perf_counter() - started
            tx.rollback()
    return {"seconds": seconds, "notes": notes, "notes_falling_due": falling}


# ---- the measured path: the real end of day -------------------------------------------------------------


def eod_direct(engine: Any, day: date, *, chunk_size: int, parallel: int, reminder_days: int,
               freeze_dpd: int) -> dict[str, Any]:
    """db.eod as the end-of-day activities call it: plan, every chunk on `parallel` threads, finish."""
    from db import eod

    started = time.perf_counter()
    plan = eod.plan(engine, day, chunk_size)
    todo = [c for c in range(plan.chunks_total) if c not in set(plan.chunks_done)]
    chunk_s: list[float] = []

    def one(chunk_no: int) -> Any:
        t = time.perf_counter()
        result = eod.close_chunk(engine, day, chunk_no, reminder_days=reminder_days, freeze_dpd=freeze_dpd)
        chunk_s.append(time.perf_counter() - t)
        return result

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="eod-chunk") as pool:
        results = list(pool.map(one, todo))
    run = eod.finish(engine, day)
    seconds = time.perf_counter() - started
    chunk_s.sort()
    return {"seconds": seconds, "path": "db.eod (plan, close_chunk x parallel threads, finish)",
            "chunks": plan.chunks_total, "notes": run.notes_processed,
            "newly_overdue": sum(r.newly_overdue for r in results),
            "chunk_ms": {"p50": round(chunk_s[len(chunk_s) // 2] * 1000, 1) if chunk_s else None,
                         "max": round(chunk_s[-1] * 1000, 1) if chunk_s else None}}


def _activity_spans(history: Any) -> dict[str, dict[str, float]]:
    """Per activity type: calls, and wall seconds from Scheduled to Completed, summed and mean (ms)."""
    from temporalio.api.enums.v1 import EventType as E

    scheduled: dict[int, tuple[str, float]] = {}
    totals: dict[str, list[float]] = {}
    for ev in history.events:
        when = ev.event_time.ToMicroseconds() / 1e6
        if ev.event_type == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled[ev.event_id] = (ev.activity_task_scheduled_event_attributes.activity_type.name, when)
        elif ev.event_type == E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            name, start = scheduled[ev.activity_task_completed_event_attributes.scheduled_event_id]
            totals.setdefault(name, []).append(when - start)
    return {name: {"calls": len(v), "wall_s": round(sum(v), 2), "mean_ms": round(sum(v) / len(v) * 1000, 1)}
            for name, v in sorted(totals.items())}


async def eod_workflow(client: Any, engine: Any, settings: Any, day: date) -> dict[str, Any]:
    """The production path: EndOfDayWorkflow(through=day) on the real worker wiring (worker.simulators ->
    activities_for -> make_worker) in this process, timed from start to result."""
    from worker import activities_for, make_worker, simulators
    from workflows.end_of_day import EndOfDayWorkflow
    from workflows.messages import EodInput

    queue = f"bench-eod-{uuid.uuid4().hex[:8]}"
    adapters = simulators(engine, settings)
    worker = make_worker(client, queue, activities_for(engine, adapters, settings), threads=settings.activity_threads)
    try:
        async with worker:
            busy = _machine_busy_s()
            started = time.perf_counter()
            handle = await client.start_workflow(EndOfDayWorkflow.run, EodInput(through=day),
                                                 id=f"bench-end-of-day-{uuid.uuid4().hex[:8]}", task_queue=queue)
            result = asyncio.ensure_future(handle.result())
            while not (await asyncio.wait({result}, timeout=PROGRESS_EVERY_S))[0]:
                now = await handle.query(EndOfDayWorkflow.progress)
                _log(f"  {now.chunks_done}/{now.chunks_total} chunks, {now.notes_closed:,} notes "
                     f"({time.perf_counter() - started:.0f} s)")
            progress = result.result()
            seconds = time.perf_counter() - started
            busy_after = _machine_busy_s()
            history = await handle.fetch_history()
            delivery = await _notice_delivery(client, day)
    finally:
        adapters.renderer.close()
    days = [d for d in progress.days_closed if d.business_date == day]
    if not days:
        raise RuntimeError(f"EndOfDayWorkflow did not close {day}: {progress}")
    closed = days[0]
    return {"seconds": seconds, "path": "EndOfDayWorkflow on the dev server, production worker wiring",
            "chunks": closed.chunks, "notes": closed.notes, "newly_overdue": closed.newly_overdue,
            "notices": closed.notices, "activities": _activity_spans(history), "notice_delivery": delivery,
            # over the date's close only, not the delivery after it
            "machine_cores_busy": round((busy_after - busy) / seconds, 2) if busy is not None
            and busy_after is not None else None}


async def _notice_delivery(client: Any, day: date) -> dict[str, Any] | None:
    """The date's notices go out after it closed, in a child workflow the business date does not wait for
    (not in the ratio): waited for here, and timed from its start to its close on the server."""
    from temporalio.service import RPCError

    from workflows import names

    handle = client.get_workflow_handle(names.eod_notices_workflow_id(day))
    try:
        result = asyncio.ensure_future(handle.result())
        while not (await asyncio.wait({result}, timeout=PROGRESS_EVERY_S))[0]:
            _log("  notices still going out")
        sent = result.result()
        desc = await handle.describe()
    except RPCError:  # an older workflow delivered the notices inside the date
        return None
    seconds = round((desc.close_time - desc.start_time).total_seconds(), 2) \
        if desc.close_time and desc.start_time else None
    history = await handle.fetch_history()
    return {"workflow": names.eod_notices_workflow_id(day), "returned": sent, "seconds": seconds,
            "per_s": round(sent / seconds, 1) if seconds else None, "activities": _activity_spans(history)}


# ---- checks ---------------------------------------------------------------------------------------------


def verify(engine: Any, day: date, before: dict[str, Any]) -> dict[str, Any]:
    """End of day closed every note, turned overdue exactly what fell due, and completed its ledger."""
    from sqlalchemy import text

    with engine.connect() as conn:
        not_closed = conn.execute(text("SELECT count(*) FROM loan_note WHERE status = 'disbursed' "
                                       "AND (last_eod_date IS NULL OR last_eod_date <> :day)"), {"day": day}).scalar()
        still_due = conn.execute(text("SELECT count(*) FROM schedule_installment WHERE status = 'pending' "
                                      "AND due_date <= :day"), {"day": day}).scalar()
        turned = conn.execute(text("SELECT count(*) FROM schedule_installment WHERE status = 'overdue' "
                                   "AND due_date = :day"), {"day": day}).scalar()
        run = conn.execute(text("SELECT status, chunks_done, chunks_total, notes_processed FROM eod_run "
                                "WHERE business_date = :day"), {"day": day}).one()
        closed = conn.execute(text("SELECT closed_date FROM business_calendar WHERE id = 'main'")).scalar()
        dpd1 = conn.execute(text("SELECT count(*) FROM loan_note WHERE dpd = 1")).scalar()
        notices = dict(conn.execute(text("SELECT kind, count(*) FROM servicing_notice WHERE business_date = :day "
                                         "GROUP BY kind"), {"day": day}).all())
        notice_status = dict(conn.execute(text("SELECT status, count(*) FROM servicing_notice "
                                               "WHERE business_date = :day GROUP BY status"), {"day": day}).all())
    checks = {
        "every_note_closed": not_closed == 0,
        "installments_turned_overdue": turned,
        "overdue_equals_falling_due": still_due == 0 and turned == before["installments_falling_due"],
        "run_completed": run[0] == "completed" and run[1] == run[2],
        "run": {"status": run[0], "chunks_done": run[1], "chunks_total": run[2], "notes_processed": run[3]},
        "notes_processed_equals_notes": run[3] == before["notes"],
        "calendar_closed": closed == day,
        "overdue_notices_equal_new_dpd1": notices.get("overdue", 0) == dpd1,
        "notices": notices,
        "notice_status": notice_status,
    }
    checks["ok"] = all(checks[k] for k in ("every_note_closed", "overdue_equals_falling_due", "run_completed",
                                           "notes_processed_equals_notes", "calendar_closed",
                                           "overdue_notices_equal_new_dpd1"))
    return checks


# ---- the run --------------------------------------------------------------------------------------------


def _machine_busy_s() -> float | None:
    try:
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
    except OSError:
        return None
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def _note_updates(engine: Any) -> tuple[int, int]:
    """loan_note's (row updates, HOT updates) so far, from the cumulative statistics. Backends report them
    when they exit: the pool's connections are closed first."""
    from sqlalchemy import text

    engine.dispose()
    time.sleep(1.0)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
                                "WHERE relname = 'loan_note'")).one()
    return int(row[0]), int(row[1])


async def _timed_cores(phase: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """The phase's result with the machine's busy cores over its run (everything on the box: a figure well
    above what the phase can use means a noisy run)."""
    busy = _machine_busy_s()
    result = await phase()
    after = _machine_busy_s()
    if busy is not None and after is not None and result["seconds"] > 0 and "machine_cores_busy" not in result:
        result["machine_cores_busy"] = round((after - busy) / result["seconds"], 2)
    return result


async def run_bench(engine: Any, settings: Any, *, client: Any = None, notes: int = 1_000_000,
                    chunk_size: int | None = None, parallel: int | None = None, day: date = DAY,
                    warmup: bool = True, fillfactor: int | None = None) -> dict[str, Any]:
    """Generate, time the baseline, time end of day, check. With a Temporal `client`, end of day is the
    EndOfDayWorkflow on the production worker wiring; without one, db.eod called directly."""
    settings = settings.model_copy(update={"eod_chunk_size": chunk_size or settings.eod_chunk_size,
                                           "eod_parallel_chunks": parallel or settings.eod_parallel_chunks})
    chunk_size, parallel = settings.eod_chunk_size, settings.eod_parallel_chunks
    _log(f"generating {notes:,} notes (business date {day})")
    data = await asyncio.to_thread(generate, engine, notes, day=day, freeze_dpd=settings.freeze_line_at_dpd,
                                  fillfactor=fillfactor)
    before = {k: data[k] for k in ("notes", "installments_falling_due")}
    if warmup:
        _log("baseline warm-up pass (untimed, rolled back)")
        await asyncio.to_thread(baseline_pass, engine, day)
        await asyncio.to_thread(_vacuum, engine)
    _log("baseline: one plain SQL pass (rolled back)")
    base = await _timed_cores(lambda: asyncio.to_thread(baseline_pass, engine, day))
    await asyncio.to_thread(_vacuum, engine)
    _log(f"baseline {base['seconds']:.2f} s for {base['notes']:,} notes")
    _log(f"end of day ({'EndOfDayWorkflow' if client else 'db.eod directly'}): chunk size {chunk_size}, "
         f"{parallel} chunks at once")
    updates_before = await asyncio.to_thread(_note_updates, engine)
    if client is not None:
        real = await _timed_cores(lambda: eod_workflow(client, engine, settings, day))
    else:
        real = await _timed_cores(lambda: asyncio.to_thread(
            eod_direct, engine, day, chunk_size=chunk_size, parallel=parallel,
            reminder_days=settings.reminder_days_before_due, freeze_dpd=settings.freeze_line_at_dpd))
    _log(f"end of day {real['seconds']:.2f} s for {real['notes']:,} notes")
    if real.get("notice_delivery"):
        _log(f"then its notices, not in the ratio: {real['notice_delivery']['returned']:,} sent in "
             f"{real['notice_delivery']['seconds']} s")
    checks = await asyncio.to_thread(verify, engine, day, before)
    if real.get("notice_delivery"):
        checks["every_notice_delivered"] = checks["notice_status"].get("pending", 0) == 0
        checks["ok"] = checks["ok"] and checks["every_notice_delivered"]
    updates_after = await asyncio.to_thread(_note_updates, engine)
    real["note_row_updates"] = updates_after[0] - updates_before[0]
    real["note_hot_updates"] = updates_after[1] - updates_before[1]
    if not checks["ok"]:
        _log(f"CHECK FAILED: {checks}")
    ratio = base["seconds"] / real["seconds"] if real["seconds"] > 0 else 0.0
    return {
        "bench": BENCH, "value": round(real["notes"] / real["seconds"], 1), "unit": "notes/s",
        "baseline": round(base["notes"] / base["seconds"], 1), "ratio": round(ratio, 3), "n": notes,
        "target": FLOOR, "meets_floor": ratio >= FLOOR,
        "eod_s": round(real["seconds"], 3), "baseline_s": round(base["seconds"], 3),
        "business_date": day.isoformat(), "chunk_size": chunk_size, "parallel_chunks": parallel,
        "eod": {k: v for k, v in real.items() if k != "seconds"},
        "baseline_pass": {"what": "one transaction, rolled back: UPDATE of the installments falling due, their "
                                  "amounts summed per note, one UPDATE of every open note in physical order",
                          "warm": "VACUUM ANALYZE + CHECKPOINT after generation and after every pass; "
                                  + ("one untimed warm-up pass first" if warmup else "no warm-up pass"),
                          **{k: v for k, v in base.items() if k != "seconds"}},
        "loan_note_fillfactor": fillfactor or 100, "data": data, "checks": checks,
    }





async def _main_async(args: argparse.Namespace) -> dict[str, Any]:
    from config.settings import Settings
    from db.engine import make_engine

    with bench_database(keep=args.keep) as url:
        # Contracts are not rendered here: no render process pool beside the worker.
        settings = Settings(database_url=url, render_processes=0)
        engine = make_engine(url)
        try:
            kwargs = {"notes": args.notes, "chunk_size": args.chunk_size, "parallel": args.parallel,
                      "warmup": not args.no_warmup, "fillfactor": args.fillfactor}
            if args.direct:
                return await run_bench(engine, settings, **kwargs)
            from temporalio.contrib.pydantic import pydantic_data_converter
            from temporalio.testing import WorkflowEnvironment

            from workflows import search_attributes

            _log("starting the Temporal dev server (in memory)")
            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=packaged_binary("temporal"), data_converter=pydantic_data_converter,
                search_attributes=search_attributes.ALL, dev_server_log_level="error")
            try:
                return await run_bench(engine, settings, client=env.client, **kwargs)
            finally:
                await env.shutdown()
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=int(os.environ.get("EOD_BENCH_NOTES", 1_000_000)),
                        help="notes to generate and close (default 1,000,000; env EOD_BENCH_NOTES)")
    parser.add_argument("--chunk-size", type=int, default=None, help="default: settings.eod_chunk_size")
    parser.add_argument("--parallel", type=int, default=None, help="default: settings.eod_parallel_chunks")
    parser.add_argument("--direct", action="store_true",
                        help="call db.eod directly (plan, close_chunk on threads, finish) instead of the workflow")
    parser.add_argument("--no-warmup", action="store_true", help="skip the untimed baseline warm-up pass")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (for EXPLAIN)")
    parser.add_argument("--fillfactor", type=int, default=None,
                        help="experiment: loan_note's fillfactor in the scratch database (default: the table's, 100)")
    args = parser.parse_args(argv)
    result = asyncio.run(_main_async(args))
    _log(f"{result['value']} notes/s vs {result['baseline']} notes/s in one plain pass: ratio {result['ratio']} "
         f"(floor {FLOOR}); checks {'ok' if result['checks']['ok'] else 'FAILED'}")
    print(json_line(result))
    return 0 if result["checks"]["ok"] else 1


if __name__ == "__main__":
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.eod import main as _main

    sys.exit(_main())
