"""Rule decisions per second through the full decision path, against raw zen-engine evaluation of the same model.

The full path is what the review activity does for every application (activities.decisions.decide): look
for a decision already recorded under the step's key (a retried activity), find the approval rule set in
force in PostgreSQL, evaluate it with zen-engine with the trace on, record the
decision (version, input facts, result, reason codes, trace) and commit. The baseline, in the same run and
process, is zen-engine alone: the same JDM compiled once, `ZenDecision.evaluate(facts)` without trace, over
the same facts. Two more passes say where the gap goes: domain.rules.evaluate alone (trace on, compacted,
no database), and writing the same decision records one transaction each with nothing evaluated.

    .venv/bin/python bench/rules.py [--decisions 5000] [--keep]

The rule set is the shipped 农e贷 approval rule set, installed as version 1 in a scratch database. The facts
cycle through grades, amounts and pre-filter hits so every branch of the graph runs. Progress goes to
stderr; the last line of stdout is one JSON object (see bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

if not __package__:  # run as a script (`python bench/x.py`): the project root is not on the path yet
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import json_line, scratch_database  # noqa: E402

BENCH = "rules"
PRODUCT = "NONG_E_DAI"
AS_OF = date(2026, 6, 15)


def _log(message: str) -> None:
    print(f"[{BENCH} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_database(admin_url: str | None = None, *, keep: bool = False) -> Iterator[str]:
    """A scratch database with the tables (bench.common.scratch_database), named for this bench."""
    return scratch_database("rules", _log, admin_url, keep=keep)


def facts_for(n: int) -> list[dict[str, Any]]:
    """N approval facts covering every branch: pre-filter hits, grade C, each review reason, approval."""
    from domain.approval import rule_facts
    from domain.products import nongedai_default
    from domain.scorecard import RatingOutcome

    product = nongedai_default()
    grades = ["AAA", "AA", "A", "B", "C"]
    out = []
    for i in range(n):
        grade = grades[i % 5]
        hits = ["BLACKLIST"] if i % 17 == 0 else []
        limit = Decimal(20_000 + (i * 7919) % 180_000).quantize(Decimal(1000))
        amount = Decimal(5_000 + (i * 104_729) % 145_000) + Decimal(i % 100) / 100
        rating = RatingOutcome(score=60, grade=grade, credit_limit=limit, items=[], prefilter_hits=hits)
        out.append(rule_facts(product, amount, "credit", rating))
    return out


def run_bench(engine: Any, *, decisions: int = 5000) -> dict[str, Any]:
    import zen
    from sqlalchemy import func
    from sqlmodel import Session, select

    from activities.decisions import decide
    from db import rule_store
    from db.engine import session_scope
    from db.models import DecisionRecord
    from domain import approval, rules

    with session_scope(engine) as session:
        rule_store.install_shipped(session, PRODUCT, datetime.now(UTC))
        in_force = rule_store.in_force(session, PRODUCT, "approval", AS_OF)
    facts = facts_for(decisions)
    texts = [rules.facts_json(f) for f in facts]

    _log("warm-up (untimed): compile, one decision each way")
    raw_decision = zen.ZenEngine().create_decision(json.dumps(in_force.content))
    raw_decision.evaluate(texts[0])
    rules.evaluate(in_force.content, facts[0], key=in_force.checksum)

    _log(f"baseline: {decisions:,} raw zen-engine evaluations")
    started = time.perf_counter()
    raw_outcomes = Counter(raw_decision.evaluate(t)["result"]["decision"] for t in texts)
    raw_s = time.perf_counter() - started

    _log(f"engine with trace: {decisions:,} domain.rules.evaluate")
    started = time.perf_counter()
    for f in facts:
        rules.evaluate(in_force.content, f, key=in_force.checksum)
    traced_s = time.perf_counter() - started

    _log(f"record only: {decisions:,} decision records written and committed one by one, nothing evaluated")
    evaluated = rules.evaluate(in_force.content, facts[0], key=in_force.checksum)
    started = time.perf_counter()
    for f in facts:
        with session_scope(engine) as session:
            rule_store.record(session, application_id=None, product_code=PRODUCT, scenario="bench-record",
                              rule_set=in_force, outcome="approve", reason_codes=["AUTO_WITHIN_RULES"], inputs=f,
                              result=evaluated.result, trace=evaluated.trace, now=datetime.now(UTC))
    record_s = time.perf_counter() - started

    with Session(engine) as session:
        before = session.exec(select(func.count()).select_from(DecisionRecord)).one()
    _log(f"full path: {decisions:,} decisions (load version, evaluate, record)")
    started = time.perf_counter()
    run = f"bench-{time.time_ns()}"
    # Keyed as the review activity keys them (workflow id, step, scenario): a look-up by key comes first.
    outcomes = Counter(decide(engine, application_id=None, product_code=PRODUCT, scenario="approval", inputs=f,
                              as_of=AS_OF, read=approval.outcome, key=f"{run}:{n}:approval").outcome
                       for n, f in enumerate(facts))
    full_s = time.perf_counter() - started
    with Session(engine) as session:
        recorded = session.exec(select(func.count()).select_from(DecisionRecord)).one() - before

    value, baseline = decisions / full_s, decisions / raw_s
    checks = {"recorded": recorded, "every_decision_recorded": recorded == decisions,
              "same_outcomes_as_raw": outcomes == raw_outcomes}
    checks["ok"] = checks["every_decision_recorded"] and checks["same_outcomes_as_raw"]
    return {"bench": BENCH, "value": round(value, 1), "unit": "decisions/s", "baseline": round(baseline, 1),
            "ratio": round(value / baseline, 4), "n": decisions, "rule_set": in_force.version,
            "full_s": round(full_s, 3), "raw_s": round(raw_s, 3), "traced_engine_s": round(traced_s, 3),
            "record_only_s": round(record_s, 3),
            "per_decision_us": {"full": round(full_s / decisions * 1e6, 1),
                                "record_only": round(record_s / decisions * 1e6, 1),
                                "engine_with_trace": round(traced_s / decisions * 1e6, 1),
                                "raw_engine": round(raw_s / decisions * 1e6, 1)},
            "outcomes": dict(sorted(outcomes.items())), "checks": checks}




def main(argv: list[str] | None = None) -> int:
    from db.engine import make_engine

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=int(os.environ.get("RULES_BENCH_DECISIONS", 5000)),
                        help="decisions per pass (default 5,000; env RULES_BENCH_DECISIONS)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    with bench_database(keep=args.keep) as url:
        engine = make_engine(url)
        try:
            result = run_bench(engine, decisions=args.decisions)
        finally:
            engine.dispose()
    _log(f"{result['value']} decisions/s through the full path vs {result['baseline']} raw: ratio {result['ratio']}")
    print(json_line(result))
    return 0 if result["checks"]["ok"] else 1


if __name__ == "__main__":
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.rules import main as _main

    sys.exit(_main())
