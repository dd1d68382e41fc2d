"""The quarterly batch rating in SQL: plan a run, rate a chunk of households set-based, finish, report.

A chunk is a range of household ids rated in one short transaction: one INSERT..SELECT copies every
archived household of the range with its customer, village and contribution facts into a temporary
table, server-side; one SELECT reads their numbers from it (money as whole fen); the numpy scorer
(domain/rating/vector.py) rates them all at once; the results go into a second temporary table (COPY on
PostgreSQL) from which the writes are set-based: the grade migrations are counted against the current
ratings, then every rating_record row is inserted (its input snapshot built in SQL from the same facts
table, so it is exactly what was scored) and customer_rating is upserted from what was inserted.
Households that cannot be rated get a rating_batch_failure row with every reason. The chunk's rating_batch_chunk row
commits with all of it: a retried chunk finds it and does nothing, so no chunk is ever done twice.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSON as PG_JSON
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.models import (
    ContributionFacts,
    Customer,
    CustomerRating,
    Household,
    RatingBatchChunk,
    RatingBatchFailure,
    RatingBatchRun,
    RatingRecord,
    Village,
)
from db.types import UtcDateTime
from domain.rating.model import ContributionModel, CreditScorecard
from domain.rating.vector import (
    BOOL_COLUMNS,
    FEN_COLUMNS,
    GRADES,
    HouseholdArrays,
    ages_on,
    distinct_codes,
    problem,
    reason_codes,
    reason_lists,
    row_problems,
    score_arrays,
)

GRADE_RANK = {g: i for i, g in enumerate(reversed(GRADES))}  # C 0 ... AAA 4
CHUNK_RANDOM_PAGE_COST = 1.1  # see rate_chunk


class BatchPlan(BaseModel):
    run_id: int
    chunks_total: int
    chunks_done: list[int]


class ChunkOutcome(BaseModel):
    chunk_no: int
    rated: int
    failed: int
    already_done: bool = False


class Migration(BaseModel):
    from_grade: str | None
    to_grade: str
    prefiltered: bool
    households: int
    override_kept: bool = False


class MigrationSummary(BaseModel):
    upgrades: int = 0
    downgrades: int = 0
    unchanged: int = 0
    new: int = 0
    prefiltered: int = 0
    overrides_kept: int = 0


def utcnow() -> datetime:
    return datetime.now(UTC)


def model_version(card: CreditScorecard) -> str:
    return f"{card.code}@v{card.version}"


# ---- a run ----

class LiveRun(BaseModel):
    """A run in progress whose last sign of life (its start or its latest chunk) is within the lease."""

    run_id: int
    run_key: str
    last_active: datetime

    @property
    def workflow_id(self) -> str:
        """The workflow that started it: run keys are `<workflow id>/<run id>`."""
        return self.run_key.rsplit("/", 1)[0]


class RunInProgress(RuntimeError):
    """Another run is in progress and alive: a new run is not created beside it (retryable: the caller waits)."""

    def __init__(self, other: LiveRun) -> None:
        super().__init__(f"rating run {other.run_id} ({other.run_key}) is in progress, last active "
                         f"{other.last_active.isoformat()}; a new run waits for it to finish")
        self.other = other


class RunAbandoned(RuntimeError):
    """The run went quiet past its lease and a newer run has started: it rates nothing more (its workflow,
    should it wake up, fails instead of writing older ratings over the newer run's)."""

    def __init__(self, run_id: int) -> None:
        super().__init__(f"rating run {run_id} was abandoned: it was idle past its lease and a newer run started")
        self.run_id = run_id


RUN_LEASE = timedelta(minutes=30)  # Settings.rating_run_lease_minutes' default
_NEW_RUN_LOCK = 0x6E67_6462_7262  # pg_advisory_xact_lock key: one transaction at a time creates a run


def live_runs(session: Session, *, lease: timedelta, now: datetime | None = None,
              exclude_id: int | None = None) -> list[LiveRun]:
    """Runs not completed whose start or latest chunk is within `lease` of now: a run terminated mid-way
    stops counting once its lease ran out."""
    cutoff = (now or utcnow()) - lease
    query = (select(RatingBatchRun.id, RatingBatchRun.run_key, RatingBatchRun.started_at,
                    func.max(RatingBatchChunk.done_at))
             .outerjoin(RatingBatchChunk, RatingBatchChunk.run_id == RatingBatchRun.id)  # type: ignore[arg-type]
             .where(RatingBatchRun.status != "completed")
             .group_by(RatingBatchRun.id, RatingBatchRun.run_key, RatingBatchRun.started_at)
             .order_by(RatingBatchRun.id))
    if exclude_id is not None:
        query = query.where(RatingBatchRun.id != exclude_id)
    live = []
    for run_id, run_key, started_at, last_chunk in session.exec(query).all():  # type: ignore[call-overload]
        active = _latest(started_at, last_chunk)
        if active >= cutoff:
            live.append(LiveRun(run_id=run_id, run_key=run_key, last_active=active))
    return live


def _latest(started_at: datetime, last_chunk: datetime | None) -> datetime:
    """A run's last sign of life, as the lease counts it: its start or its latest chunk."""
    return started_at if last_chunk is None else max(started_at, last_chunk)


def plan(engine: Engine, *, run_key: str, quarter: str, as_of: date, card: CreditScorecard,
         contrib: ContributionModel, chunk_size: int, lease: timedelta = RUN_LEASE) -> BatchPlan:
    """The run started by `run_key`, created on first call with the models it will use throughout.

    Runs are exclusive: a new run is not created while another is in progress and alive (see live_runs);
    RunInProgress says which, and the caller retries later. Runs left unfinished past their lease are marked
    abandoned when the new run is created. The run already made for `run_key` (a retried plan, a continued
    workflow) is returned, unless it was abandoned (RunAbandoned)."""
    with Session(engine, expire_on_commit=False) as session:
        run = session.exec(select(RatingBatchRun).where(RatingBatchRun.run_key == run_key)).scalars().first()  # type: ignore[call-overload]
        if run is None:
            if engine.dialect.name == "postgresql":
                # Two plans at once would each miss the other's uncommitted run. (On SQLite the INSERT below
                # takes the single write lock first, so the check after it sees every committed run.)
                session.execute(select(func.pg_advisory_xact_lock(_NEW_RUN_LOCK)))
            first, last = session.exec(select(func.min(Household.id), func.max(Household.id))  # type: ignore[call-overload]
                                       .where(Household.status == "archived")).one()
            total = math.ceil((last - first + 1) / chunk_size) if first is not None else 0
            now = utcnow()
            run = RatingBatchRun(run_key=run_key, quarter=quarter, as_of=as_of, model_code=card.code,
                                 model_version=card.version, contribution_code=contrib.code,
                                 contribution_version=contrib.version,
                                 models={"scorecard": card.model_dump(mode="json"),
                                         "contribution": contrib.model_dump(mode="json")},
                                 first_household_id=first or 0, chunk_size=chunk_size, chunks_total=total,
                                 started_at=now)
            session.add(run)
            try:
                session.flush()
            except IntegrityError:  # a retried plan whose first attempt committed meanwhile
                session.rollback()
                run = session.exec(select(RatingBatchRun).where(RatingBatchRun.run_key == run_key)).scalars().one()  # type: ignore[call-overload]
            else:
                others = live_runs(session, lease=lease, now=now, exclude_id=run.id)
                if others:
                    session.rollback()
                    raise RunInProgress(others[0])
                session.execute(update(RatingBatchRun).where(  # type: ignore[call-overload]
                    RatingBatchRun.status == "running", RatingBatchRun.id != run.id).values(status="abandoned"))
                session.commit()
        if run.status == "abandoned":
            raise RunAbandoned(run.id)  # type: ignore[arg-type]
        done = session.exec(select(RatingBatchChunk.chunk_no).where(RatingBatchChunk.run_id == run.id)).scalars().all()  # type: ignore[call-overload]
        return BatchPlan(run_id=run.id, chunks_total=run.chunks_total, chunks_done=sorted(done))  # type: ignore[arg-type]


def run_models(run: RatingBatchRun) -> tuple[CreditScorecard, ContributionModel]:
    return (CreditScorecard.model_validate(run.models["scorecard"]),
            ContributionModel.model_validate(run.models["contribution"]))


def finish(engine: Engine, run_id: int) -> RatingBatchRun:
    with Session(engine, expire_on_commit=False) as session:
        run = session.get(RatingBatchRun, run_id)
        if run is None:
            raise LookupError(f"no rating run {run_id}")
        if run.status == "abandoned":
            raise RunAbandoned(run_id)
        chunks, rated, failed, _ = _chunk_totals(session, run_id)
        if chunks != run.chunks_total:
            raise RuntimeError(f"rating run {run_id}: {chunks} of {run.chunks_total} chunks rated")
        if run.status != "completed":
            # Only from running: a plan that marked the run abandoned meanwhile wins (its UPDATE is
            # conditional on running too, so exactly one of the two takes effect).
            done = session.execute(update(RatingBatchRun).where(  # type: ignore[call-overload]
                RatingBatchRun.id == run_id, RatingBatchRun.status == "running").values(
                status="completed", finished_at=utcnow(), households_rated=rated, households_failed=failed))
            session.commit()
            session.refresh(run)
            if done.rowcount == 0 and run.status == "abandoned":
                raise RunAbandoned(run_id)
        return run


def _chunk_totals(session: Session, run_id: int) -> tuple[int, int, int, datetime | None]:
    """(chunks done, households rated, households failed, when the latest chunk was done) in one read."""
    return session.exec(select(func.count(), func.coalesce(func.sum(RatingBatchChunk.rated), 0),  # type: ignore[call-overload]
                               func.coalesce(func.sum(RatingBatchChunk.failed), 0), func.max(RatingBatchChunk.done_at))
                        .where(RatingBatchChunk.run_id == run_id)).one()


# ---- reading a chunk ----

def _money(column: Any, postgres: bool) -> Any:
    """Whole fen: exact integer SQL on PostgreSQL; on SQLite the stored decimal string, decoded in Python."""
    if postgres:
        return func.coalesce(cast(column * 100, BigInteger), 0)
    return func.coalesce(type_coerce(column, String), "0")


_TEXT_COLUMNS = ("annual_income", "annual_expenses", "total_assets", "total_liabilities", "acreage_mu",
                 "avg_daily_assets", "avg_loan_balance")


def _facts_columns(postgres: bool) -> list[tuple[str, Any, Any]]:
    """(name, type, source expression) of the chunk's facts: money twice, as whole fen for the scorer and as
    the column's exact decimal text for the snapshot (on SQLite both are the stored string)."""
    h, c, v, cf = Household.__table__, Customer.__table__, Village.__table__, ContributionFacts.__table__  # type: ignore[attr-defined]
    fen_type = BigInteger if postgres else String
    money = {"annual_income": h.c.annual_income, "annual_expenses": h.c.annual_expenses,
             "total_assets": h.c.total_assets, "total_liabilities": h.c.total_liabilities,
             "acreage_mu": h.c.acreage_mu, "avg_daily_assets": cf.c.avg_daily_assets,
             "avg_loan_balance": cf.c.avg_loan_balance}
    out: list[tuple[str, Any, Any]] = [
        ("household_id", BigInteger, h.c.id), ("customer_id", BigInteger, h.c.customer_id),
        ("birth_date", Date, c.c.birth_date), ("customer_type", String, c.c.customer_type)]
    out += [(name.replace("acreage_mu", "acreage_centi"), fen_type, _money(col, postgres)) for name, col in money.items()]
    out += [(f"{name}_text", String, type_coerce(col, String) if not postgres else cast(col, String))
            for name, col in money.items()]
    out += [("livestock_heads", Integer, h.c.livestock_heads), ("business_years", Integer, h.c.business_years),
            ("labour_count", Integer, h.c.labour_count), ("member_count", Integer, h.c.member_count),
            ("house_owned", Boolean, h.c.house_owned), ("credit_village", Boolean, v.c.credit_village),
            ("blacklisted", Boolean, c.c.blacklisted), ("currently_overdue", Boolean, c.c.currently_overdue),
            ("bad_history", Boolean, c.c.bad_history), ("court_dishonest", Boolean, c.c.court_dishonest),
            ("has_contribution", Boolean, cf.c.customer_id.is_not(None)),
            ("settlement_txns", Integer, func.coalesce(cf.c.settlement_txns, 0))]
    return out


def load_facts(conn: Connection, lo: int, hi: int) -> Table:
    """The archived households of [lo, hi] with everything rating reads, copied server-side into a temporary
    table in one statement: the scorer reads its numbers from it and the snapshot is written from it, so
    what is stored as the input is exactly what was scored."""
    postgres = conn.dialect.name == "postgresql"
    h, c, v, cf = Household.__table__, Customer.__table__, Village.__table__, ContributionFacts.__table__  # type: ignore[attr-defined]
    spec = _facts_columns(postgres)
    facts = Table("rating_batch_facts", MetaData(), *(Column(name, kind) for name, kind, _ in spec),
                  prefixes=["TEMPORARY"], postgresql_on_commit="DROP")
    if not postgres:
        facts.drop(conn, checkfirst=True)
    facts.create(conn)
    source = (select(*(expr for _, _, expr in spec))
              .select_from(h.join(c, c.c.id == h.c.customer_id).join(v, v.c.code == h.c.village_code)
                           .outerjoin(cf, cf.c.customer_id == h.c.customer_id))
              .where(h.c.id.between(lo, hi), h.c.status == "archived"))
    conn.execute(insert(facts).from_select([name for name, _, _ in spec], source))
    return facts


_FEN_READ = (*FEN_COLUMNS, "acreage_centi")


def _decode_fen(raw: list[Any], name: str, bad: dict[int, list[dict[str, str]]]) -> np.ndarray:
    """SQLite's decimal strings as whole fen; what does not decode is a problem of its row, read as 0."""
    out = np.zeros(len(raw), dtype=np.int64)
    for i, text in enumerate(raw):
        try:
            value = Decimal(str(text).strip()) * 100
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            bad.setdefault(i, []).append(problem("NOT_A_NUMBER", name.replace("_centi", "_mu")))
            continue
        if value != value.to_integral_value():
            bad.setdefault(i, []).append(problem("TOO_MANY_DECIMALS", name.replace("_centi", "_mu")))
            continue
        out[i] = int(min(max(value, -(2**62)), 2**62))  # absurd sizes are reported by the range checks
    return out


def read_facts(conn: Connection, facts: Table, as_of: date) -> tuple[np.ndarray, HouseholdArrays, np.ndarray,
                                                                     dict[int, list[dict[str, str]]]]:
    """(household ids, the columns, birth dates, problems by row index) of the chunk's facts, in one query."""
    postgres = conn.dialect.name == "postgresql"
    names = [c.name for c in facts.columns if not c.name.endswith("_text") and c.name != "customer_type"]
    query = select(*(facts.c[n] for n in names)).order_by(facts.c.household_id)
    bad: dict[int, list[dict[str, str]]] = {}
    if postgres:
        # Straight into numpy: every column here is fixed-width and NOT NULL, so binary COPY rows have one
        # layout and no Python object is made per value.
        rows_ = _copy_out(conn, query, [facts.c[n] for n in names])
        raw: dict[str, Any] = {n: rows_[n] for n in names}
        raw["birth_date"] = np.datetime64("2000-01-01") + raw["birth_date"].astype("timedelta64[D]")
    else:
        rows = conn.execute(query).all()
        raw = dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else {n: () for n in names}
    columns: dict[str, np.ndarray] = {}
    for name in _FEN_READ:
        columns[name] = np.array(raw[name], dtype=np.int64) if postgres else _decode_fen(list(raw[name]), name, bad)
    for name in ("customer_id", "livestock_heads", "business_years", "labour_count", "member_count",
                 "settlement_txns"):
        columns[name] = np.array(raw[name], dtype=np.int64)
    for name in (*BOOL_COLUMNS, "has_contribution"):
        columns[name] = np.array(raw[name], dtype=bool)
    births = np.array(raw["birth_date"], dtype="datetime64[D]")
    columns["age"] = ages_on(births, as_of)
    for i in np.flatnonzero(~columns["has_contribution"]):
        bad.setdefault(int(i), []).append(problem("MISSING_CONTRIBUTION_FACTS", "contribution_facts"))
    return np.array(raw["household_id"], dtype=np.int64), HouseholdArrays(columns), births, bad


# ---- writing a chunk ----

def _scored_table() -> Table:
    return Table("rating_batch_scored", MetaData(), Column("customer_id", BigInteger, primary_key=True),
                 Column("household_id", BigInteger), Column("age", Integer), Column("score", Integer),
                 Column("grade_no", SmallInteger), Column("stars", SmallInteger), Column("reason_key", BigInteger),
                 Column("prefiltered", Boolean), prefixes=["TEMPORARY"], postgresql_on_commit="DROP")


# ---- binary COPY (PostgreSQL): fixed-width columns to and from numpy without a Python object per value ----

_PG_BINARY = {BigInteger: ">i8", Integer: ">i4", SmallInteger: ">i2", Boolean: "?", Date: ">i4"}
_PG_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags 0, no header extension


def _row_dtype(columns: list[Any]) -> np.dtype:
    fields: list[tuple[str, str]] = [("_fields", ">i2")]
    for col in columns:
        fields += [(f"_len_{col.name}", ">i4"), (col.name, _PG_BINARY[type(col.type)])]
    return np.dtype(fields)


def _copy_out(conn: Connection, query: Any, columns: list[Any]) -> np.ndarray:
    dtype = _row_dtype(columns)
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    data = bytearray()
    with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy("COPY (" + sql + ") TO STDOUT (FORMAT binary)") as copy:
            for block in copy:
                data += block
    start = len(_PG_HEADER) + int.from_bytes(data[15:19], "big")  # past any header extension
    rows = np.frombuffer(bytes(data[start:len(data) - 2]), dtype=dtype)
    for col in columns:  # a NULL would have length -1 and shift the layout: refuse rather than misread
        if len(rows) and (rows[f"_len_{col.name}"] != dtype[col.name].itemsize).any():
            raise ValueError(f"binary COPY of {col.name}: a NULL or an unexpected width")
    return rows


def _copy_in(conn: Connection, table: Table, values: dict[str, np.ndarray]) -> None:
    columns = list(table.columns)
    dtype = _row_dtype(columns)
    rows = np.zeros(len(next(iter(values.values()))), dtype=dtype)
    rows["_fields"] = len(columns)
    for col in columns:
        rows[f"_len_{col.name}"] = dtype[col.name].itemsize
        rows[col.name] = values[col.name]
    names = ", ".join(c.name for c in columns)
    with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN (FORMAT binary)") as copy:
            copy.write(_PG_HEADER + rows.tobytes() + b"\xff\xff")


def _reasons_table() -> Table:
    return Table("rating_batch_reasons", MetaData(), Column("reason_key", BigInteger, primary_key=True),
                 Column("reasons", Text), prefixes=["TEMPORARY"], postgresql_on_commit="DROP")


def _fill(conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        names = ", ".join(c.name for c in table.columns)
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    conn.execute(insert(table), [dict(zip(table.columns.keys(), row, strict=True)) for row in rows])


def _snapshot(postgres: bool, scored: Table, facts: Table) -> Any:
    """The rating's input snapshot (domain.rating.scoring.HouseholdFacts as JSON) from the facts scored."""
    f = facts.c
    pairs = [("customer_id", f.customer_id), ("age", scored.c.age), ("customer_type", f.customer_type)]
    pairs += [(name, f[f"{name}_text"]) for name in ("annual_income", "annual_expenses", "total_assets",
                                                     "total_liabilities", "acreage_mu")]
    pairs += [(name, f[name]) for name in ("livestock_heads", "business_years", "labour_count", "house_owned",
                                           "credit_village", "blacklisted", "currently_overdue", "bad_history",
                                           "court_dishonest")]
    pairs += [("avg_daily_assets", f.avg_daily_assets_text), ("avg_loan_balance", f.avg_loan_balance_text),
              ("settlement_txns", f.settlement_txns)]
    args = [x for key, col in pairs for x in (literal(key), col)]
    return func.json_build_object(*args) if postgres else func.json_object(*args)


def _as_json(expr: Any, postgres: bool) -> Any:
    """Text holding JSON as the json column's value (SQLite keeps JSON as text anyway)."""
    return cast(expr, PG_JSON) if postgres else expr


def _write(conn: Connection, run: RatingBatchRun, scored: Table, reasons: Table, facts: Table,
           card: CreditScorecard) -> list[Migration]:
    postgres = conn.dialect.name == "postgresql"
    rr, cr = RatingRecord.__table__, CustomerRating.__table__  # type: ignore[attr-defined]
    grade = case(dict(enumerate(GRADES)), value=scored.c.grade_no)
    # A grade a second person approved by hand (source override) stays in force: the batch still records its
    # own rating, and the report counts it apart. New facts end an override at the next real-time rating.
    kept = func.coalesce(cr.c.source == "override", False)
    migrations = [Migration(from_grade=old, to_grade=new, prefiltered=bool(pf), households=n, override_kept=bool(ov))
                  for old, new, pf, ov, n in conn.execute(
                      select(cr.c.grade, grade, scored.c.prefiltered, kept, func.count())
                      .select_from(scored.outerjoin(cr, cr.c.customer_id == scored.c.customer_id))
                      .group_by(cr.c.grade, grade, scored.c.prefiltered, kept))]
    now = utcnow()
    version = model_version(card)
    source = (select(scored.c.customer_id, literal(version), scored.c.score, grade,
                     literal(Decimal("0.00"), RatingRecord.__table__.c.credit_limit.type),  # type: ignore[attr-defined]
                     _as_json(reasons.c.reasons, postgres), _snapshot(postgres, scored, facts),
                     literal(now, UtcDateTime()), scored.c.stars, literal("batch"), literal(run.id))
              .select_from(scored.join(reasons, reasons.c.reason_key == scored.c.reason_key)
                           .join(facts, facts.c.household_id == scored.c.household_id)))
    columns = ["customer_id", "model_version", "score", "grade", "credit_limit", "reasons", "inputs", "rated_at",
               "stars", "source", "batch_run_id"]
    current = ["customer_id", "rating_record_id", "model_version", "score", "grade", "stars", "source", "rated_at"]
    if postgres:
        # One statement: the upsert takes the new records' ids from RETURNING instead of looking them up.
        inserted = insert(rr).from_select(columns, source).returning(
            rr.c.customer_id, rr.c.id, rr.c.model_version, rr.c.score, rr.c.grade, rr.c.stars, rr.c.source,
            rr.c.rated_at).cte("inserted")
        upsert = pg_insert(cr).from_select(current, select(*inserted.c))
    else:
        conn.execute(insert(rr).from_select(columns, source))
        upsert = sqlite_insert(cr).from_select(current, select(
            rr.c.customer_id, rr.c.id, rr.c.model_version, rr.c.score, rr.c.grade, rr.c.stars, rr.c.source,
            rr.c.rated_at).select_from(scored.join(rr, rr.c.customer_id == scored.c.customer_id))
            .where(rr.c.batch_run_id == run.id))
    conn.execute(upsert.on_conflict_do_update(index_elements=[cr.c.customer_id], set_={
        k: upsert.excluded[k] for k in current[1:]}, where=cr.c.source != "override"))
    return migrations


def rate_chunk(engine: Engine, run_id: int, chunk_no: int, *, heartbeat: Callable[[str], None] = lambda _: None
               ) -> ChunkOutcome:
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        with conn.begin():
            if postgres:
                # Shared among chunks, exclusive with plan: no new run is created while a chunk of an older run
                # is being written, and a chunk that comes after it sees its own run abandoned.
                conn.execute(select(func.pg_advisory_xact_lock_shared(_NEW_RUN_LOCK)))
            run = _get_run(conn, run_id)
            if run.status == "abandoned":
                raise RunAbandoned(run_id)
            done = conn.execute(select(RatingBatchChunk.__table__).where(  # type: ignore[attr-defined]
                RatingBatchChunk.run_id == run_id, RatingBatchChunk.chunk_no == chunk_no)).first()
            if done is not None:
                return ChunkOutcome(chunk_no=chunk_no, rated=done.rated, failed=done.failed, already_done=True)
            if postgres:
                conn.exec_driver_sql("SET LOCAL jit = off")  # short statements: compiling costs more than running
                # A chunk reads ~10,000 rows by key from tables of millions (customer, contribution_facts,
                # customer_rating). At the default random_page_cost of 4 the planner hashes whole tables instead
                # of probing their primary keys, and every chunk then scans millions of rows: at 1,000,000
                # households that was 0.6 s of a 1.0 s chunk. Index pages this hot are read from cache, so for
                # this transaction random reads are priced near sequential ones.
                conn.exec_driver_sql(f"SET LOCAL random_page_cost = {CHUNK_RANDOM_PAGE_COST}")
            card, contrib = run_models(run)
            lo = run.first_household_id + chunk_no * run.chunk_size
            facts = load_facts(conn, lo, lo + run.chunk_size - 1)
            ids, arrays, births, bad = read_facts(conn, facts, run.as_of)
            heartbeat(f"read {len(ids)}")
            for mask, code, field in row_problems(arrays, births, run.as_of):
                for i in np.flatnonzero(mask):
                    bad.setdefault(int(i), []).append(problem(code, field))
            ok = np.ones(len(ids), dtype=bool)
            ok[list(bad)] = False
            good = HouseholdArrays({k: col[ok] for k, col in arrays.columns.items()})
            result = score_arrays(good, card, contrib)
            codes = reason_codes(result, card)
            heartbeat(f"scored {int(ok.sum())}")
            scored, reasons = _scored_table(), _reasons_table()
            if not postgres:
                for table in (scored, reasons):
                    table.drop(conn, checkfirst=True)
            scored.create(conn)
            reasons.create(conn)
            present = distinct_codes(codes)
            _fill(conn, reasons, [(k, json.dumps(r, ensure_ascii=False))
                                  for k, r in zip(present.tolist(), reason_lists(present, card), strict=True)])
            values = {"customer_id": good["customer_id"], "household_id": ids[ok], "age": good["age"],
                      "score": result.score, "grade_no": result.grade, "stars": result.stars, "reason_key": codes,
                      "prefiltered": result.any_hit}
            if postgres:
                _copy_in(conn, scored, values)
            else:
                _fill(conn, scored, list(zip(*(v.tolist() for v in values.values()), strict=True)))
            migrations = _write(conn, run, scored, reasons, facts, card)
            # SQLite: checked again now that this transaction has written. It holds the one write lock from
            # its first write on (its first read ran before it began), so a plan that abandoned the run since
            # then is seen here, and none can commit until this one does; the chunk's writes roll back.
            # (PostgreSQL: the shared run lock already keeps such a plan out.)
            if not postgres and conn.execute(select(RatingBatchRun.status).where(  # type: ignore[call-overload]
                    RatingBatchRun.id == run_id)).scalar_one() == "abandoned":
                raise RunAbandoned(run_id)
            if bad:
                conn.execute(insert(RatingBatchFailure.__table__), [  # type: ignore[attr-defined]
                    {"run_id": run_id, "chunk_no": chunk_no, "household_id": int(ids[i]),
                     "customer_id": int(arrays["customer_id"][i]), "reasons": reasons_}
                    for i, reasons_ in sorted(bad.items())])
            if not postgres:
                for table in (scored, reasons, facts):
                    table.drop(conn)
            rated = int(ok.sum())
            conn.execute(insert(RatingBatchChunk.__table__).values(  # type: ignore[attr-defined]
                run_id=run_id, chunk_no=chunk_no, rated=rated, failed=len(bad),
                migrations=[m.model_dump() for m in migrations], done_at=utcnow()))
            heartbeat(f"written {rated}")
            return ChunkOutcome(chunk_no=chunk_no, rated=rated, failed=len(bad))


def _get_run(conn: Connection, run_id: int) -> RatingBatchRun:
    row = conn.execute(select(RatingBatchRun.__table__).where(RatingBatchRun.id == run_id)).mappings().first()  # type: ignore[attr-defined]
    if row is None:
        raise LookupError(f"no rating run {run_id}")
    return RatingBatchRun.model_validate(dict(row))


# ---- the run's report ----

def migrations_of(session: Session, run_id: int) -> list[Migration]:
    totals: Counter[tuple[str | None, str, bool, bool]] = Counter()
    for chunk_migrations in session.exec(select(RatingBatchChunk.migrations).where(  # type: ignore[call-overload]
            RatingBatchChunk.run_id == run_id)).scalars():
        for m in chunk_migrations:
            totals[(m["from_grade"], m["to_grade"], m["prefiltered"], m.get("override_kept", False))] += m["households"]
    return [Migration(from_grade=f, to_grade=t, prefiltered=p, override_kept=o, households=n)
            for (f, t, p, o), n in sorted(totals.items(), key=lambda kv: (kv[0][0] or "", *kv[0][1:]))]


def summarise(migrations: list[Migration]) -> MigrationSummary:
    """Kept overrides first, then prefiltered (whatever came before), then new (no rating before), then by grade rank."""
    out = MigrationSummary()
    for m in migrations:
        if m.override_kept:
            out.overrides_kept += m.households
        elif m.prefiltered:
            out.prefiltered += m.households
        elif m.from_grade is None:
            out.new += m.households
        elif GRADE_RANK.get(m.to_grade, 0) > GRADE_RANK.get(m.from_grade, 0):
            out.upgrades += m.households
        elif GRADE_RANK.get(m.to_grade, 0) < GRADE_RANK.get(m.from_grade, 0):
            out.downgrades += m.households
        else:
            out.unchanged += m.households
    return out


def progress(session: Session, run: RatingBatchRun) -> tuple[int, int, int, datetime]:
    """(chunks done, households rated, households failed) so far, and the run's last sign of life as the
    lease counts it (see live_runs)."""
    done, rated, failed, last_chunk = _chunk_totals(session, run.id)  # type: ignore[arg-type]
    return done, rated, failed, _latest(run.started_at, last_chunk)


def runs(session: Session, *, limit: int, offset: int) -> list[RatingBatchRun]:
    return list(session.exec(select(RatingBatchRun).order_by(RatingBatchRun.id.desc())  # type: ignore[call-overload,union-attr]
                             .limit(limit).offset(offset)).scalars())


def failures(session: Session, run_id: int, *, limit: int, offset: int) -> list[RatingBatchFailure]:
    return list(session.exec(select(RatingBatchFailure).where(RatingBatchFailure.run_id == run_id)  # type: ignore[call-overload]
                             .order_by(RatingBatchFailure.household_id).limit(limit).offset(offset)).scalars())


def get_run(session: Session, run_id: int) -> RatingBatchRun:
    run = session.get(RatingBatchRun, run_id)
    if run is None:
        raise LookupError(f"no rating run {run_id}")
    return run
