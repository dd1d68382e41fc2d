"""The quarterly batch rating over N households (default 1,000,000) in PostgreSQL: three figures, each with
a baseline in the same run.

The bench creates a scratch database and generates N customers with their household archives (1% drafts),
contribution facts and, for half of them, a rating in force, set-based in SQL (not timed). About 0.2% of
the households cannot be rated (a negative income, or no contribution facts) and must be reported.

(a) scoring: the batch scorer (domain/rating/vector.py, its compiled pass in vector_kernel.py: scores,
    grades, stars, pre-filters and the reason-code keys) against the `toad` library applying the same scorecard (a toad ScoreCard loaded
    with the same bins and points, the contribution stars as one more binned feature, pre-filters and
    grade bands in numpy) to the same in-memory data. ratio = toad seconds / ours (target at least 5), best
    of five each, alternating; ours after its first call, which compiles (or loads the compiled code from
    numba's cache) and is reported as ours_first_s. The numpy path it falls back to is timed too.
(b) end to end: the real quarterly rating (QuarterlyRatingWorkflow on an in-memory Temporal dev server
    and the production worker wiring, or with --direct db.rating_batch on threads) against a plain COPY
    out of the rows it reads (with the input snapshot built in SQL) and a COPY of as many rating_record
    rows back in, in one transaction that is rolled back. ratio = baseline seconds / ours (target 0.5).
(c) real-time rating latency: services.ratings.rate_customer, the path of the API's "rate now", archive
    submission and the rating adapter (read the archive and the models in force, score, the limit with its
    breakdown, rating_record and customer_rating written), one transaction per rating; p50 and p99.

    .venv/bin/python bench/rating_batch.py [--households 1000000] [--chunk-size N] [--parallel N] [--direct]

Progress goes to stderr; the last line of stdout is one JSON object (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

if not __package__:  # run as a script (`python bench/x.py`): the project root is not on the path yet
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import json_line, scratch_database  # noqa: E402

BENCH = "rating_batch"
SCORING_TARGET = 5.0  # toad seconds / ours
E2E_FLOOR = 0.5  # COPY baseline seconds / ours
AS_OF = date(2027, 1, 1)
VILLAGES = 200
BRANCH, COUNTY = "350322101", "350322000"
PROGRESS_EVERY_S = 15.0


def _log(message: str) -> None:
    print(f"[{BENCH} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_database(admin_url: str | None = None, *, keep: bool = False) -> Any:
    """A scratch database with the tables (bench.common.scratch_database), named for this bench."""
    return scratch_database("rating", _log, admin_url, keep=keep)


# ---- the data -----------------------------------------------------------------------------------------
# Household g (1..N) with hash h: head born 1950..2004 (some outside the 18..65 window), income, expenses,
# assets and liabilities spread over every bin; flags at a few per cent; h % 1000 = 1 has a negative
# income and g % 997 = 0 has no contribution facts (both reported, not rated); g % 100 = 0 is a draft.

_BASE = "SELECT g, (g::bigint * 2654435761) % 4294967296 AS h FROM generate_series(1, :n) AS g"

_CUSTOMERS = """
INSERT INTO customer (id, customer_no, resident_id, name, mobile, birth_date, region_code, address, branch_code,
                      customer_type, annual_income, total_assets, total_liabilities, blacklisted, currently_overdue,
                      court_dishonest, bad_history, created_at /*cols*/)
SELECT g, 'C' || lpad(g::text, 12, '0'), '35032219' || lpad(g::text, 10, '0'), '林阿福',
       '139' || lpad((g % 100000000)::text, 8, '0'), DATE '1950-01-01' + (h % 20000)::int, '350322',
       '福建省莆田市仙游县榜头镇坝下村', :branch, 'farmer', 0, 0, 0, (h / 7) % 200 = 0, (h / 11) % 100 = 0,
       (h / 13) % 500 = 0, (h / 17) % 300 = 0, now() /*vals*/
FROM (/*base*/) b
"""

_HOUSEHOLDS = """
INSERT INTO household (id, customer_id, village_code, branch_code, status, member_count, labour_count,
                       main_business, acreage_mu, livestock_heads, business_years, house_owned, annual_income,
                       annual_expenses, total_assets, total_liabilities, policy_tags, version, archived_at,
                       created_at, updated_at /*cols*/)
SELECT g, g, '350322101' || lpad((g % :villages)::text, 3, '0'), :branch,
       CASE WHEN g % 100 = 0 THEN 'draft' ELSE 'archived' END, 2 + h % 5, 1 + h % 2, 'crop',
       ((h / 3) % 3000) / 100.0, (h / 5) % 200, (h / 7) % 30, h % 4 <> 0,
       CASE WHEN h % 1000 = 1 THEN -100 ELSE 20000 + ((h / 11) % 20000000) / 100.0 END,
       ((h / 13) % 6000000) / 100.0, ((h / 17) % 90000000) / 100.0, ((h / 19) % 40000000) / 100.0,
       CAST('[]' AS json), 1, now(), now(), now() /*vals*/
FROM (/*base*/) b
"""

_CONTRIBUTIONS = """
INSERT INTO contribution_facts (customer_id, as_of, avg_daily_assets, avg_daily_assets_prev, avg_loan_balance,
                                settlement_txns, months_as_customer, products_held /*cols*/)
SELECT g, DATE '2026-12-31', ((h / 23) % 500000000) / 100.0, ((h / 29) % 400000000) / 100.0,
       ((h / 31) % 30000000) / 100.0, (h / 37) % 3000, (h / 41) % 240, 1 + (h / 43) % 5 /*vals*/
FROM (/*base*/) b WHERE g % 997 <> 0
"""

_PREVIOUS = """
INSERT INTO rating_record (id, customer_id, model_version, score, grade, credit_limit, reasons, inputs, rated_at,
                           stars, source /*cols*/)
SELECT g, g, 'NONG_E_DAI_CREDIT:1', 40 + h % 60,
       (ARRAY['C', 'B', 'A', 'AA', 'AAA'])[1 + (h / 3) % 5], 0, CAST('[]' AS json), CAST('{}' AS json),
       now() - interval '90 days', 3, 'realtime' /*vals*/
FROM (/*base*/) b WHERE g % 2 = 0
"""

_PREVIOUS_CURRENT = """
INSERT INTO customer_rating (customer_id, rating_record_id, model_version, score, grade, stars, source, rated_at)
SELECT customer_id, id, model_version, score, grade, stars, source, rated_at FROM rating_record
"""


def generate(engine: Any, households: int) -> dict[str, Any]:
    """Branches, villages, N customers and households, contribution facts, and the ratings in force;
    then VACUUM ANALYZE. Foreign keys hold by construction; the load skips their per-row triggers."""
    from sqlalchemy import text

    from bench.eod import _sql, _vacuum

    params = {"n": households, "branch": BRANCH, "villages": VILLAGES}
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("INSERT INTO branch (code, name, region_code, address, parent_code) VALUES "
                          "(:county, '仙游县农村信用合作联社', '350322', '福建省莆田市仙游县鲤城街道', NULL), "
                          "(:branch, '榜头信用社', '350322', '福建省莆田市仙游县榜头镇', :county)"),
                     {"county": COUNTY, "branch": BRANCH})
        conn.execute(*_sql("INSERT INTO village (code, name, branch_code, credit_village /*cols*/) "
                           "VALUES (:code, :name, :branch, :credit /*vals*/)",
                           [{"code": f"350322101{v:03d}", "name": f"村{v}", "branch": BRANCH, "credit": v % 3 == 0}
                            for v in range(VILLAGES)]))
        for label, sql in (("customers", _CUSTOMERS), ("households", _HOUSEHOLDS),
                           ("contribution facts", _CONTRIBUTIONS), ("ratings in force", _PREVIOUS)):
            t = time.perf_counter()
            conn.execute(*_sql(sql.replace("/*base*/", _BASE), params))
            _log(f"  {label}: {time.perf_counter() - t:.1f} s")
        conn.execute(text(_PREVIOUS_CURRENT))
        conn.execute(text("SELECT setval('customer_id_seq', (SELECT max(id) FROM customer)), "
                          "setval('household_id_seq', (SELECT max(id) FROM household)), "
                          "setval('rating_record_id_seq', (SELECT max(id) FROM rating_record))"))
    _vacuum(engine)
    with engine.connect() as conn:
        shape = dict(conn.execute(text(
            "SELECT 'archived', count(*) FROM household WHERE status = 'archived' UNION ALL "
            "SELECT 'drafts', count(*) FROM household WHERE status = 'draft' UNION ALL "
            "SELECT 'unratable', count(*) FROM household h LEFT JOIN contribution_facts cf USING (customer_id) "
            "WHERE h.status = 'archived' AND (h.annual_income < 0 OR cf.customer_id IS NULL) UNION ALL "
            "SELECT 'negative_income', count(*) FROM household h JOIN contribution_facts cf USING (customer_id) "
            "WHERE h.status = 'archived' AND h.annual_income < 0 UNION ALL "
            "SELECT 'ratings_in_force', count(*) FROM customer_rating")).all())
    return {"households": households, **shape, "generate_s": round(time.perf_counter() - started, 1)}


# ---- (a) scoring: ours against toad on the same in-memory data ------------------------------------------


def load_arrays(engine: Any, chunk: int = 100_000) -> Any:
    """Every ratable archived household as one set of columns, read as the batch reads them."""
    import numpy as np

    from db.rating_batch import load_facts, read_facts
    from domain.rating.vector import HouseholdArrays, row_problems

    parts = []
    with engine.connect() as conn:
        hi = conn.exec_driver_sql("SELECT max(id) FROM household").scalar() or 0
        for lo in range(1, hi + 1, chunk):
            facts = load_facts(conn, lo, lo + chunk - 1)
            _, arrays, births, bad = read_facts(conn, facts, AS_OF)
            facts.drop(conn)
            for mask, _, _ in row_problems(arrays, births, AS_OF):
                bad.update({int(i): [] for i in np.flatnonzero(mask)})
            ok = np.ones(len(arrays), dtype=bool)
            ok[list(bad)] = False
            parts.append({k: v[ok] for k, v in arrays.columns.items()})
    return HouseholdArrays({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})


def toad_card(card: Any, contrib: Any) -> tuple[Any, dict[str, Any]]:
    """A toad ScoreCard with the scorecard's bins and points, plus the contribution stars as a binned feature."""
    import toad

    def rule(lowers: list[Any], points: list[int]) -> dict[str, float]:
        edges = ["-inf", *(str(float(lo)) for lo in lowers), "inf"]
        return {f"[{a} ~ {b})": p for a, b, p in zip(edges[:-1], edges[1:], points, strict=True)}

    rules = {f.feature: rule([b.lower for b in f.bins[1:]], [b.points for b in f.bins]) for f in card.features}
    stars = [0] + [s for _, s in contrib.star_bands]
    rules["contribution"] = rule([lo for lo, _ in contrib.star_bands], [card.contribution_points[s] for s in stars])
    return toad.ScoreCard().load(rules), rules


def score_with_toad(sc: Any, arrays: Any, card: Any, contrib: Any) -> tuple[Any, Any]:
    """(scores, grade indexes) by toad from the raw columns: features in floats (pandas), toad's bins and
    points with sub-scores per feature (its explanation), then base, clamp, pre-filters and grade bands."""
    import numpy as np
    import pandas as pd

    from domain.rating.vector import GRADES

    a = arrays.columns
    assets, liabilities = a["total_assets"] / 100.0, a["total_liabilities"] / 100.0
    frame = pd.DataFrame({
        "age": a["age"].astype(float), "net_income": (a["annual_income"] - a["annual_expenses"]) / 100.0,
        "net_assets": assets - liabilities,
        "debt_ratio": np.where(assets > 0, liabilities / np.where(assets > 0, assets, 1.0), 1.0),
        "acreage_mu": a["acreage_centi"] / 100.0, "livestock_heads": a["livestock_heads"].astype(float),
        "business_years": a["business_years"].astype(float), "labour_count": a["labour_count"].astype(float),
        "house_owned": a["house_owned"].astype(float), "credit_village": a["credit_village"].astype(float),
        "contribution": (a["avg_daily_assets"] / 100.0 / 1000 * float(contrib.asset_weight)
                         + a["avg_loan_balance"] / 100.0 / 1000 * float(contrib.loan_weight)
                         + a["settlement_txns"] * float(contrib.settlement_weight))})
    points, _sub = sc.predict(frame, return_sub=True)
    total = np.clip(card.base_score + np.asarray(points), 0, card.max_score)
    age = a["age"]
    hit = (a["blacklisted"] | a["currently_overdue"] | a["bad_history"] | a["court_dishonest"]
           | (age < card.min_age) | (age > card.max_age))
    total = np.where(hit, 0, total)
    grade = np.select([total >= b.min_score for b in card.grade_bands],
                      [GRADES.index(b.grade) for b in card.grade_bands], GRADES.index("C"))
    return total, grade


def scoring(arrays: Any, card: Any, contrib: Any, repeats: int = 3) -> dict[str, Any]:
    """Best of `repeats` for each, alternating; and how often the two agree (toad compares floats)."""
    import numpy as np

    from domain.rating.vector import distinct_codes, reason_codes, score_arrays

    def ours(compiled: bool = True) -> Any:
        scored = score_arrays(arrays, card, contrib, compiled=compiled)
        distinct_codes(reason_codes(scored, card))
        return scored

    sc, _ = toad_card(card, contrib)
    t = time.perf_counter()
    first = ours()
    ours_first = time.perf_counter() - t
    ours_s, numpy_s, toad_s = [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        scored = ours()
        ours_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        ours(compiled=False)
        numpy_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        toad_total, toad_grade = score_with_toad(sc, arrays, card, contrib)
        toad_s.append(time.perf_counter() - t)
    n = len(arrays)
    differ = np.flatnonzero((scored.score != toad_total) | (scored.grade != toad_grade))
    return {"households": n, "ours_s": round(min(ours_s), 4), "toad_s": round(min(toad_s), 4),
            "ours_per_s": round(n / min(ours_s)), "toad_per_s": round(n / min(toad_s)),
            "ratio": round(min(toad_s) / min(ours_s), 2), "target": SCORING_TARGET,
            "meets_target": min(toad_s) / min(ours_s) >= SCORING_TARGET,
            "compiled": first.compiled, "ours_first_s": round(ours_first, 3),
            "numpy_path_s": round(min(numpy_s), 4), "numpy_path_ratio": round(min(toad_s) / min(numpy_s), 2),
            "toad_disagrees": int(len(differ)),
            "what": "ours: score_arrays (compiled pass) + reason keys on int64 fen; toad: pandas features in "
                    "float64, ScoreCard.predict(return_sub=True), clamp, pre-filters, grade bands"}


# ---- (b) end to end: the batch against COPY out + COPY in ------------------------------------------------

_SNAPSHOT_ROWS = """
SELECT h.customer_id, 'BASELINE:1', 0, 'C', 0, '[]',
       json_build_object('customer_id', h.customer_id, 'age', date_part('year', age(DATE '{as_of}', c.birth_date)),
           'customer_type', c.customer_type, 'annual_income', h.annual_income::text,
           'annual_expenses', h.annual_expenses::text, 'total_assets', h.total_assets::text,
           'total_liabilities', h.total_liabilities::text, 'acreage_mu', h.acreage_mu::text,
           'livestock_heads', h.livestock_heads, 'business_years', h.business_years,
           'labour_count', h.labour_count, 'house_owned', h.house_owned, 'credit_village', v.credit_village,
           'blacklisted', c.blacklisted, 'currently_overdue', c.currently_overdue, 'bad_history', c.bad_history,
           'court_dishonest', c.court_dishonest, 'avg_daily_assets', cf.avg_daily_assets::text,
           'avg_loan_balance', cf.avg_loan_balance::text, 'settlement_txns', cf.settlement_txns),
       now(), 0, 'batch'
FROM household h JOIN customer c ON c.id = h.customer_id JOIN village v ON v.code = h.village_code
JOIN contribution_facts cf ON cf.customer_id = h.customer_id
WHERE h.status = 'archived'
ORDER BY h.id
"""


def baseline_copy(engine: Any) -> dict[str, Any]:
    """COPY out the rows the batch reads, as rating rows with their snapshot, and COPY them into rating_record:
    one transaction, rolled back (the caller VACUUMs)."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        started = time.perf_counter()
        buffer = io.BytesIO()
        with raw.cursor() as cur:
            cur.execute("SET LOCAL jit = off")
            with cur.copy(f"COPY ({_SNAPSHOT_ROWS.format(as_of=AS_OF.isoformat())}) TO STDOUT") as copy:
                for block in copy:
                    buffer.write(block)
            out_s = time.perf_counter() - started
            buffer.seek(0)
            with cur.copy("COPY rating_record (customer_id, model_version, score, grade, credit_limit, reasons, "
                          "inputs, rated_at, stars, source) FROM STDIN") as copy:
                while block := buffer.read(1 << 20):
                    copy.write(block)
            rows = cur.execute("SELECT count(*) FROM rating_record WHERE model_version = 'BASELINE:1'").fetchone()[0]
        seconds = time.perf_counter() - started
        raw.rollback()
    return {"seconds": seconds, "rows": rows, "copy_out_s": round(out_s, 2), "bytes": buffer.getbuffer().nbytes}


def batch_direct(engine: Any, *, chunk_size: int, parallel: int) -> dict[str, Any]:
    """db.rating_batch as the activities call it: plan, every chunk on `parallel` threads, finish."""
    from db import rating_batch
    from domain.rating.model import ContributionModel, default_scorecard

    started = time.perf_counter()
    plan = rating_batch.plan(engine, run_key=f"bench/{uuid.uuid4().hex}", quarter="2027Q1", as_of=AS_OF,
                             card=default_scorecard(), contrib=ContributionModel(), chunk_size=chunk_size)
    chunk_s: list[float] = []

    def one(chunk_no: int) -> Any:
        t = time.perf_counter()
        result = rating_batch.rate_chunk(engine, plan.run_id, chunk_no)
        chunk_s.append(time.perf_counter() - t)
        return result

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="rating-chunk") as pool:
        list(pool.map(one, range(plan.chunks_total)))
    run = rating_batch.finish(engine, plan.run_id)
    chunk_s.sort()
    return {"seconds": time.perf_counter() - started, "path": "db.rating_batch (plan, rate_chunk x threads, finish)",
            "run_id": plan.run_id, "chunks": plan.chunks_total, "rated": run.households_rated,
            "failed": run.households_failed, "chunk_ms": {"p50": round(chunk_s[len(chunk_s) // 2] * 1000, 1),
                                                          "max": round(chunk_s[-1] * 1000, 1)}}


async def batch_workflow(client: Any, engine: Any, settings: Any) -> dict[str, Any]:
    """The production path: QuarterlyRatingWorkflow on the real worker wiring in this process."""
    from bench.eod import _activity_spans
    from worker import activities_for, make_worker, simulators
    from workflows import names
    from workflows.messages import QuarterlyRatingInput, QuarterlyRatingProgress, RatingRunResult

    queue = f"bench-rating-{uuid.uuid4().hex[:8]}"
    adapters = simulators(engine, settings)
    worker = make_worker(client, queue, activities_for(engine, adapters, settings), threads=settings.activity_threads)
    try:
        async with worker:
            started = time.perf_counter()
            handle = await client.start_workflow(names.QUARTERLY_RATING, QuarterlyRatingInput(as_of=AS_OF),
                                                 id=f"bench-quarterly-rating-{uuid.uuid4().hex[:8]}",
                                                 task_queue=queue, result_type=RatingRunResult)
            result = asyncio.ensure_future(handle.result())
            while not (await asyncio.wait({result}, timeout=PROGRESS_EVERY_S))[0]:
                now = await handle.query(names.QUERY_PROGRESS, result_type=QuarterlyRatingProgress)
                _log(f"  {now.chunks_done}/{now.chunks_total} chunks, {now.rated:,} rated "
                     f"({time.perf_counter() - started:.0f} s)")
            done: RatingRunResult = result.result()
            seconds = time.perf_counter() - started
            history = await handle.fetch_history()
    finally:
        adapters.renderer.close()
    return {"seconds": seconds, "path": "QuarterlyRatingWorkflow on the dev server, production worker wiring",
            "run_id": done.run_id, "chunks": done.chunks, "rated": done.rated, "failed": done.failed,
            "migrations": done.migrations.model_dump(), "activities": _activity_spans(history)}


def verify(engine: Any, run_id: int, data: dict[str, Any], card: Any, contrib: Any, sample: int = 2000) -> dict[str, Any]:
    """Every archived household rated once or reported; the current ratings point at this run; a sample of
    records re-scored by the reference scorer from their stored snapshot gives the same result."""
    from sqlalchemy import text

    from domain.rating.scoring import HouseholdFacts, score

    with engine.connect() as conn:
        q = lambda sql: conn.execute(text(sql), {"run": run_id}).scalar()  # noqa: E731
        rated = q("SELECT count(*) FROM rating_record WHERE batch_run_id = :run")
        distinct = q("SELECT count(DISTINCT customer_id) FROM rating_record WHERE batch_run_id = :run")
        failed = q("SELECT count(*) FROM rating_batch_failure WHERE run_id = :run")
        current = q("SELECT count(*) FROM customer_rating cr JOIN rating_record r ON r.id = cr.rating_record_id "
                    "WHERE r.batch_run_id = :run")
        status = q("SELECT status FROM rating_batch_run WHERE id = :run")
        rows = conn.execute(text("SELECT score, grade, stars, reasons, inputs FROM rating_record "
                                 "WHERE batch_run_id = :run ORDER BY random() LIMIT :k"),
                            {"run": run_id, "k": sample}).all()
    mismatched = 0
    for s, g, stars, reasons, inputs in rows:
        ref = score(HouseholdFacts.model_validate(inputs), card, contrib)
        mismatched += (s, g, stars, reasons) != (ref.score, ref.grade, ref.stars,
                                                 ref.prefilter_hits or [i.reason for i in ref.items])
    checks = {"rated": rated, "failed": failed, "each_rated_once": rated == distinct,
              "rated_plus_failed_is_archived": rated + failed == data["archived"],
              "failed_equals_unratable": failed == data["unratable"], "current_ratings_from_run": current == rated,
              "run_completed": status == "completed", "resampled": len(rows), "resample_mismatches": mismatched}
    checks["ok"] = all(checks[k] for k in ("each_rated_once", "rated_plus_failed_is_archived",
                                           "failed_equals_unratable", "current_ratings_from_run",
                                           "run_completed")) and mismatched == 0
    return checks


# ---- (c) real-time rating latency -------------------------------------------------------------------------


def realtime_latency(engine: Any, card: Any, contrib: Any, samples: int, households: int) -> dict[str, Any]:
    """One rating as a real-time request does it: services.ratings.rate_customer (read the archive, the
    active models, score, limit with its breakdown, write rating_record and customer_rating), one
    transaction each. Also the reference scorer's own share, timed apart on the same households."""
    from datetime import UTC, datetime

    from sqlmodel import Session

    from domain.products import nongedai_default
    from domain.rating.scoring import HouseholdFacts, score
    from services.ratings import rate_customer

    terms = nongedai_default()
    picks = random.Random(7).sample(range(1, households + 1), min(samples, households))
    total_ms, score_ms = [], []
    for customer_id in picks:
        started = time.perf_counter()
        with Session(engine) as s:
            row, _ = rate_customer(s, customer_id, terms=terms, as_of=AS_OF, now=datetime.now(UTC))
            s.commit()
            facts = HouseholdFacts.model_validate(row.inputs)
        total_ms.append((time.perf_counter() - started) * 1000)
        t = time.perf_counter()
        score(facts, card, contrib)
        score_ms.append((time.perf_counter() - t) * 1000)
    total_ms.sort()
    score_ms.sort()

    def pct(values: list[float], p: float) -> float:
        return round(values[min(len(values) - 1, int(len(values) * p))], 3)

    return {"ratings": len(total_ms), "p50_ms": pct(total_ms, 0.5), "p99_ms": pct(total_ms, 0.99),
            "scorer_p50_ms": pct(score_ms, 0.5), "scorer_p99_ms": pct(score_ms, 0.99),
            "what": "services.ratings.rate_customer (the API's rate-now and the rating adapter's path): "
                    "read the archive, score, limit breakdown, write rating_record + customer_rating, commit"}


# ---- the run ----------------------------------------------------------------------------------------------


async def run_bench(engine: Any, settings: Any, *, client: Any = None, households: int = 1_000_000,
                    chunk_size: int | None = None, parallel: int | None = None, latency_samples: int = 2000,
                    scoring_repeats: int = 5) -> dict[str, Any]:
    from bench.eod import _machine_busy_s, _vacuum
    from domain.rating.model import ContributionModel, default_scorecard

    card, contrib = default_scorecard(), ContributionModel()
    chunk_size = chunk_size or settings.rating_batch_chunk_size
    parallel = parallel or settings.rating_batch_parallel_chunks
    settings = settings.model_copy(update={"rating_batch_chunk_size": chunk_size,
                                           "rating_batch_parallel_chunks": parallel})
    _log(f"generating {households:,} households")
    data = await asyncio.to_thread(generate, engine, households)
    _log(f"data: {data}")

    _log("(a) scoring: loading every ratable household into memory")
    arrays = await asyncio.to_thread(load_arrays, engine)
    score_result = await asyncio.to_thread(scoring, arrays, card, contrib, scoring_repeats)
    del arrays
    _log(f"(a) ours {score_result['ours_per_s']:,}/s, toad {score_result['toad_per_s']:,}/s: "
         f"ratio {score_result['ratio']} (target {SCORING_TARGET}; numpy path {score_result['numpy_path_ratio']}, "
         f"first call {score_result['ours_first_s']} s); toad disagrees on {score_result['toad_disagrees']}")

    _log("(b) baseline: COPY out + COPY in of the same rows (rolled back)")
    base = await asyncio.to_thread(baseline_copy, engine)
    await asyncio.to_thread(_vacuum, engine)
    _log(f"(b) baseline {base['seconds']:.2f} s for {base['rows']:,} rows")
    busy = _machine_busy_s()
    if client is not None:
        real = await batch_workflow(client, engine, settings)
    else:
        real = await asyncio.to_thread(batch_direct, engine, chunk_size=chunk_size, parallel=parallel)
    after = _machine_busy_s()
    if busy is not None and after is not None:
        real["machine_cores_busy"] = round((after - busy) / real["seconds"], 2)
    _log(f"(b) batch {real['seconds']:.2f} s: {real['rated']:,} rated, {real['failed']:,} reported")
    checks = await asyncio.to_thread(verify, engine, real["run_id"], data, card, contrib)
    if not checks["ok"]:
        _log(f"CHECK FAILED: {checks}")

    _log(f"(c) real-time latency over {latency_samples} ratings")
    latency = await asyncio.to_thread(realtime_latency, engine, card, contrib, latency_samples, households)
    _log(f"(c) p50 {latency['p50_ms']} ms, p99 {latency['p99_ms']} ms")

    rated = real["rated"] + real["failed"]
    ratio = base["seconds"] / real["seconds"]
    return {
        "bench": BENCH, "value": round(rated / real["seconds"], 1), "unit": "households/s",
        "baseline": round(base["rows"] / base["seconds"], 1), "ratio": round(ratio, 3), "n": households,
        "target": E2E_FLOOR, "meets_floor": ratio >= E2E_FLOOR,
        "batch_s": round(real["seconds"], 3), "baseline_s": round(base["seconds"], 3),
        "chunk_size": chunk_size, "parallel_chunks": parallel,
        "batch": {k: v for k, v in real.items() if k != "seconds"},
        "baseline_copy": {k: v for k, v in base.items() if k != "seconds"},
        "scoring": score_result, "realtime": latency, "data": data, "checks": checks,
    }


async def _main_async(args: argparse.Namespace) -> dict[str, Any]:
    from config.settings import Settings
    from db.engine import make_engine

    with bench_database(keep=args.keep) as url:
        settings = Settings(database_url=url, render_processes=0)
        engine = make_engine(url)
        try:
            kwargs = {"households": args.households, "chunk_size": args.chunk_size, "parallel": args.parallel,
                      "latency_samples": args.latency_samples}
            if args.direct:
                return await run_bench(engine, settings, **kwargs)
            from bench.common import dev_server

            async with dev_server(_log) as client:
                return await run_bench(engine, settings, client=client, **kwargs)
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=int(os.environ.get("RATING_BENCH_HOUSEHOLDS", 1_000_000)),
                        help="households to generate and rate (default 1,000,000; env RATING_BENCH_HOUSEHOLDS)")
    parser.add_argument("--chunk-size", type=int, default=None, help="default: settings.rating_batch_chunk_size")
    parser.add_argument("--parallel", type=int, default=None, help="default: settings.rating_batch_parallel_chunks")
    parser.add_argument("--latency-samples", type=int, default=2000, help="real-time ratings timed for (c)")
    parser.add_argument("--direct", action="store_true",
                        help="call db.rating_batch directly (plan, rate_chunk on threads, finish), not the workflow")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (for EXPLAIN)")
    args = parser.parse_args(argv)
    result = asyncio.run(_main_async(args))
    _log(f"(b) {result['value']} households/s vs {result['baseline']} rows/s by COPY: ratio {result['ratio']} "
         f"(floor {E2E_FLOOR}); (a) scoring ratio {result['scoring']['ratio']} vs toad (target {SCORING_TARGET}); "
         f"(c) p50 {result['realtime']['p50_ms']} ms p99 {result['realtime']['p99_ms']} ms; "
         f"checks {'ok' if result['checks']['ok'] else 'FAILED'}")
    print(json_line(result))
    return 0 if result["checks"]["ok"] else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.rating_batch import main as _main

    sys.exit(_main())
