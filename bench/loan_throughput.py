"""Full loan lifecycles per second, against the same number of no-op activities on bare Temporal.

One lifecycle: application -> automatic approval -> contract PDF -> borrower signature -> credit line ->
one drawdown disbursed through the core-banking simulator. It runs on the real worker wiring
(worker.simulators / activities_for / make_worker) against a Temporal dev server (in memory) and a fresh
PostgreSQL database, both created here. The baseline, in the same run on the same server, is a bare
workflow that runs as many no-op activities, one after the other, as one lifecycle scheduled (counted
from the histories of a warm-up lifecycle), on a worker with the same number of activity threads.

    .venv/bin/python bench/loan_throughput.py [--loans 40] [--concurrency 8] [--threads N] [--profile FILE]

Progress goes to stderr; the last line of stdout is one JSON object (see bench/README.md).

The workflow sandbox re-imports this module for every run of the bare workflow, so its top level
imports only the standard library and temporalio: the project, SQLAlchemy and the server helpers are
imported inside functions. (Importing them at the top would slow the baseline down, not the loans.)
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow

if not __package__:  # run as a script (`python bench/x.py`): the project root is not on the path yet
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import dev_server, json_line, scratch_database  # noqa: E402

BENCH = "loan_throughput"
FLOOR = 0.5  # the floor for value / baseline
LOAN_AMOUNT = "50000"
DRAWDOWN_AMOUNT = "20000"
LIFECYCLE_TIMEOUT_S = 300.0
POLL_EVERY_S = 0.05
FAILED_STAGES = frozenset({"rejected", "expired", "withdrawn", "cancelled", "awaiting_approval", "referred_back",
                           "awaiting_confirmation", "awaiting_guarantors"})



def _log(message: str) -> None:
    print(f"[{BENCH} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- the baseline: bare Temporal --------------------------------------------------------------------


@activity.defn(name="bench_noop")
def noop(step: int) -> int:
    return step


@dataclass
class BareShape:
    """No-op activities per workflow of one loan lifecycle: application, its credit line, one drawdown."""

    application: int
    credit_line: int
    drawdown: int


async def _noops(count: int) -> None:
    for step in range(count):
        await workflow.execute_activity(noop, step, start_to_close_timeout=timedelta(seconds=30))


@workflow.defn(name="BenchBareDrawdown")
class BareDrawdownWorkflow:
    @workflow.run
    async def run(self, shape: BareShape) -> None:
        await _noops(shape.drawdown)


@workflow.defn(name="BenchBareCreditLine")
class BareCreditLineWorkflow:
    """Half its no-ops before the drawdown child, half after, as the real line saves before and after."""

    @workflow.run
    async def run(self, shape: BareShape) -> None:
        before = shape.credit_line // 2
        await _noops(before)
        await workflow.execute_child_workflow(BareDrawdownWorkflow.run, shape,
                                              id=f"{workflow.info().workflow_id}-drawdown")
        await _noops(shape.credit_line - before)


@workflow.defn(name="BenchBareLifecycle")
class BareLifecycleWorkflow:
    """The lifecycle's shape on bare Temporal: the same workflows, children and no-op activities per
    workflow as a real loan (application -> credit line child, abandoned -> drawdown child)."""

    @workflow.run
    async def run(self, shape: BareShape) -> str:
        await _noops(shape.application)
        line = await workflow.start_child_workflow(
            BareCreditLineWorkflow.run, shape, id=f"{workflow.info().workflow_id}-line",
            parent_close_policy=workflow.ParentClosePolicy.ABANDON)
        return line.id


# ---- measuring ----------------------------------------------------------------------------------------


class ActivityClock:
    """CPU time of each activity call, measured on its own thread inside the worker (time.thread_time).

    Wall time per activity comes from the histories; CPU time says how much of it was work in this
    process (rendering, SQLAlchemy, pydantic) rather than waiting for PostgreSQL or for the GIL.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cpu_s: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def reset(self) -> None:
        with self._lock:
            self.cpu_s.clear()
            self.calls.clear()

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """The same activity (name, argument and result types), timed. Sync activities only."""
        defn = getattr(fn, "__temporal_activity_definition")
        if defn.is_async:
            raise TypeError(f"{defn.name} is async: the bench times thread-pool activities only")
        name = defn.name

        def timed(*args: Any) -> Any:
            start = time.thread_time()
            try:
                return fn(*args)
            finally:
                spent = time.thread_time() - start
                with self._lock:
                    self.cpu_s[name] += spent
                    self.calls[name] += 1

        timed.__name__ = getattr(fn, "__name__", name)
        # arg_types/ret_type are already resolved on defn, so the payload converter decodes as before.
        setattr(timed, "__temporal_activity_definition", dataclasses.replace(defn, fn=timed))
        return timed


def _ticks_to_s(ticks: int) -> float:
    return ticks / os.sysconf("SC_CLK_TCK")


def _proc_cpu_s(pid: int) -> float | None:
    """utime + stime of one process from /proc, or None when it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return _ticks_to_s(int(fields[11]) + int(fields[12]))


def _child_pids(name: str, *, exclude: bool = False) -> list[int]:
    """Our own child processes called `name` (the dev server the SDK started for us), or all the others."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                head, rest = fh.read().rsplit(")", 1)
        except OSError:
            continue
        if int(rest.split()[1]) == me and (head.split("(", 1)[1] == name) != exclude:
            found.append(int(entry))
    return found


def _machine_busy_s() -> float | None:
    try:
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
    except OSError:
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return _ticks_to_s(sum(values[:8]) - idle)


class CpuMeter:
    """CPU seconds spent during a phase by this process, the Temporal dev server, the PostgreSQL backends
    serving the bench database, and the whole machine (which includes anything else running on it)."""

    def __init__(self, engine: Any, server_pids: list[int]) -> None:
        self._engine = engine
        self._server_pids = server_pids

    def _pg_pids(self) -> list[int]:
        from sqlalchemy import text
        try:
            with self._engine.connect() as conn:
                return [r[0] for r in conn.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))]
        except Exception:  # noqa: BLE001 - not PostgreSQL, or no rights: report no figure
            return []

    def snapshot(self) -> dict[str, Any]:
        return {"python": time.process_time(),
                "server": {pid: _proc_cpu_s(pid) for pid in self._server_pids},
                "pg": {pid: _proc_cpu_s(pid) for pid in self._pg_pids()},
                # The contract render pool (documents/renderer.py) runs in our child processes.
                "renderer": {pid: _proc_cpu_s(pid) for pid in _child_pids("temporal", exclude=True)},
                "machine": _machine_busy_s()}

    def delta(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, float | None]:
        def summed(key: str) -> float | None:
            now = {pid: v for pid, v in after[key].items() if v is not None}
            if not now:
                return None
            # A backend that appeared during the phase started from zero.
            return sum(v - (before[key].get(pid) or 0.0) for pid, v in now.items())
        out = {"python": after["python"] - before["python"], "temporal_server": summed("server"),
               "postgres": summed("pg"), "renderer": summed("renderer")}
        if before["machine"] is not None and after["machine"] is not None:
            out["machine"] = after["machine"] - before["machine"]
            # Anything else on the box (other jobs, the kernel): a large figure means a noisy run.
            out["other"] = out["machine"] - sum(out[k] or 0.0 for k in ("python", "temporal_server", "postgres",
                                                                          "renderer"))
        return out


class ThreadProfiler:
    """cProfile on every thread started after `start()` (activity and workflow-task pools, to_thread) and
    on the calling thread; for the side run with --profile, which is slower than the measured one.

    Each profiler counts its own thread's CPU time (time.thread_time), not wall time: with a dozen
    threads taking turns on the GIL, wall time would charge every function for the turns it waited."""

    def __init__(self) -> None:
        import cProfile
        self._cprofile = cProfile
        self._lock = threading.Lock()
        self.profiles: list[tuple[str, Any]] = []

    def _hook(self, *_: Any) -> None:
        # Runs once, on a new thread's first call: hand the thread over to its own cProfile.
        sys.setprofile(None)
        prof = self._cprofile.Profile(time.thread_time)
        with self._lock:
            self.profiles.append((threading.current_thread().name, prof))
        prof.enable()

    def start(self) -> None:
        main = self._cprofile.Profile(time.thread_time)
        self.profiles.append(("main", main))
        threading.setprofile(self._hook)
        main.enable()

    def clear(self) -> None:
        """Forget what was recorded so far (the warm-up): the profilers stay on."""
        with self._lock:
            for _, prof in self.profiles:
                prof.clear()

    def stop(self, path: str, top: int = 25) -> list[dict[str, Any]]:
        import pstats
        threading.setprofile(None)
        with self._lock:
            profiles = list(self.profiles)
        profiles[0][1].disable()  # the calling thread's
        snapshots = []
        for _, prof in profiles:
            # Not create_stats(): from this thread, its disable() would close the other threads' open
            # calls (an idle pool thread's queue wait) with this thread's clock.
            prof.snapshot_stats()
            snapshots.append(_Snapshot(prof.stats))
        stats = pstats.Stats(*snapshots)
        stats.dump_stats(path)
        rows = []
        for (filename, line, func), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
            rows.append({"function": f"{_short(filename)}:{line}({func})", "calls": calls,
                         "self_s": round(tottime, 3), "cumulative_s": round(cumtime, 3)})
        rows.sort(key=lambda r: r["self_s"], reverse=True)
        return rows[:top]


@dataclass
class _Snapshot:
    """What pstats.Stats reads from a profiler, taken without stopping it."""

    stats: dict[Any, Any]

    def create_stats(self) -> None:
        pass


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# ---- histories ----------------------------------------------------------------------------------------


@dataclass
class Span:
    kind: str  # activity type, or "workflow_task"
    scheduled: float
    started: float | None = None
    closed: float | None = None
    ok: bool = False


def _t(event: Any) -> float:
    return event.event_time.ToNanoseconds() / 1e9


def _spans(events: Iterable[Any]) -> tuple[list[Span], list[Span]]:
    """Activity spans (scheduled -> started -> closed) and workflow-task spans of one history."""
    from temporalio.api.enums.v1 import EventType as E

    activities: dict[int, Span] = {}
    tasks: dict[int, Span] = {}
    for ev in events:
        et = ev.event_type
        if et == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            activities[ev.event_id] = Span(ev.activity_task_scheduled_event_attributes.activity_type.name, _t(ev))
        elif et == E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            activities[ev.activity_task_started_event_attributes.scheduled_event_id].started = _t(ev)
        elif et == E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            span = activities[ev.activity_task_completed_event_attributes.scheduled_event_id]
            span.closed, span.ok = _t(ev), True
        elif et in (E.EVENT_TYPE_ACTIVITY_TASK_FAILED, E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
                    E.EVENT_TYPE_ACTIVITY_TASK_CANCELED):
            attrs = (ev.activity_task_failed_event_attributes if et == E.EVENT_TYPE_ACTIVITY_TASK_FAILED else
                     ev.activity_task_timed_out_event_attributes if et == E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT else
                     ev.activity_task_canceled_event_attributes)
            activities[attrs.scheduled_event_id].closed = _t(ev)
        elif et == E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            tasks[ev.event_id] = Span("workflow_task", _t(ev))
        elif et == E.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            tasks[ev.workflow_task_started_event_attributes.scheduled_event_id].started = _t(ev)
        elif et == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            span = tasks[ev.workflow_task_completed_event_attributes.scheduled_event_id]
            span.closed, span.ok = _t(ev), True
        elif et in (E.EVENT_TYPE_WORKFLOW_TASK_FAILED, E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT):
            attrs = (ev.workflow_task_failed_event_attributes if et == E.EVENT_TYPE_WORKFLOW_TASK_FAILED else
                     ev.workflow_task_timed_out_event_attributes)
            tasks[attrs.scheduled_event_id].closed = _t(ev)
    return list(activities.values()), list(tasks.values())


async def _quiet_history(handle: Any, *, signalled: bool = False, timeout: float = 30.0) -> Any:
    """The history once nothing is in flight: no open activity or workflow task (and, for a credit line,
    after the drawdown's settlement signal was handled). A credit line keeps running after its drawdown
    returns: it saves the new balance, an activity that belongs to the lifecycle."""
    from temporalio.api.enums.v1 import EventType as E

    deadline = time.monotonic() + timeout
    while True:
        history = await handle.fetch_history()
        activities, tasks = _spans(history.events)
        seen_signal = not signalled or any(
            ev.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED for ev in history.events)
        if seen_signal and all(s.closed for s in activities) and all(s.closed for s in tasks):
            return history
        if time.monotonic() > deadline:
            raise RuntimeError(f"{handle.id} still busy after {timeout}s")
        await asyncio.sleep(0.1)


# ---- the lifecycle ------------------------------------------------------------------------------------


@dataclass
class PreparedLoan:
    application_id: int
    customer_id: int
    workflow_id: str
    inp: Any  # LoanApplicationInput


@dataclass
class Lifecycle:
    loan: PreparedLoan
    started: float
    finished: float = 0.0
    line_workflow_id: str = ""
    drawdown_workflow_id: str = ""
    histories: dict[str, Any] = field(default_factory=dict)


def _prepare_loans(engine: Any, count: int) -> list[PreparedLoan]:
    """Borrowers and submitted applications, as the API would have written them (not timed)."""
    from datetime import date, timedelta

    from tests import factories

    product = factories.ensure_reference_data(engine)
    loans = []
    for i in range(count):
        # factories.resident_id repeats after 1000 customers of one birth date: move the date by a day.
        borrower = factories.customer(engine, born=date(1985, 6, 15) + timedelta(days=i // 1000))
        row = factories.application(engine, borrower, amount=LOAN_AMOUNT)
        loans.append(PreparedLoan(application_id=row.id, customer_id=borrower.id, workflow_id=row.workflow_id,
                                  inp=factories.loan_input(row, product)))
    return loans


class ReadModelWatcher:
    """Waits for the database to show a document ready to sign, as the app sees it: the loan contract once
    the application is `awaiting_signatures`, the drawdown note once its signing SMS is in the outbox (the
    drawdown sends it right after it starts waiting for the signature). One poller for every loan in
    flight, so watching costs the same whatever the concurrency; querying each workflow instead, every
    50 ms through a 5 s render, cost the dev server and the worker more than the lifecycle's own work."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._waiting: dict[tuple[str, Any], asyncio.Future[int]] = {}
        self._task: asyncio.Task[None] | None = None

    async def contract_ready(self, application_id: int) -> int:
        return await self._wait(("contract", application_id))

    async def note_ready(self, note_no: str, drawdown_workflow_id: str) -> int:
        return await self._wait(("note", (note_no, drawdown_workflow_id)))

    async def _wait(self, key: tuple[str, Any]) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        try:
            return await future
        finally:
            self._waiting.pop(key, None)

    def _poll(self, keys: list[tuple[str, Any]]) -> dict[tuple[str, Any], int | Exception]:
        """The document id (or the failure) of each waiter whose document is ready."""
        from sqlalchemy import and_
        from sqlmodel import Session, col, select

        from adapters.sms.tables import SmsMessage
        from db.models import Document, LoanApplication

        apps = [k[1] for k in keys if k[0] == "contract"]
        notes = dict(k[1] for k in keys if k[0] == "note")
        out: dict[tuple[str, Any], int | Exception] = {}
        with Session(self._engine) as session:
            if apps:
                for app_id, stage, document_id in session.exec(
                        select(LoanApplication.id, LoanApplication.stage, Document.id)
                        .outerjoin(Document, and_(Document.application_id == LoanApplication.id,
                                                  Document.kind == "loan_contract"))
                        .where(col(LoanApplication.id).in_(apps))).all():
                    if stage == "awaiting_signatures" and document_id is not None:
                        out[("contract", app_id)] = document_id
                    elif stage in FAILED_STAGES:
                        out[("contract", app_id)] = RuntimeError(f"application {app_id} stopped at stage {stage!r}")
            if notes:
                asked = {f"{wf}:drawdown_sign_request": no for no, wf in notes.items()}
                texted = {asked[k] for k in session.exec(select(SmsMessage.idempotency_key).where(
                    col(SmsMessage.idempotency_key).in_(list(asked)))).all()}
                for doc_no, document_id in session.exec(select(Document.doc_no, Document.id).where(
                        col(Document.doc_no).in_(list(texted)), Document.kind == "drawdown_note")).all():
                    out[("note", (doc_no, notes[doc_no]))] = document_id
        return out

    async def _run(self) -> None:
        while self._waiting:
            try:
                ready = await asyncio.to_thread(self._poll, list(self._waiting))
            except Exception as err:  # noqa: BLE001 - hand the failure to every waiter
                for future in self._waiting.values():
                    if not future.done():
                        future.set_exception(err)
                return
            for key, found in ready.items():
                future = self._waiting.get(key)
                if future is None or future.done():
                    continue
                if isinstance(found, Exception):
                    future.set_exception(found)
                else:
                    future.set_result(found)
            await asyncio.sleep(POLL_EVERY_S)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


async def _one_lifecycle(client: Any, queue: str, loan: PreparedLoan, watcher: ReadModelWatcher) -> Lifecycle:
    from decimal import Decimal

    from workflows import names
    from workflows.loan_application import LoanApplicationWorkflow
    from workflows.messages import DrawdownAccepted, DrawdownRequest, DrawdownResult, SignInput

    life = Lifecycle(loan=loan, started=time.time())
    handle = await client.start_workflow(LoanApplicationWorkflow.run, loan.inp, id=loan.workflow_id,
                                         task_queue=queue)
    document_id = await watcher.contract_ready(loan.application_id)
    await handle.execute_update(names.UPDATE_SIGN, SignInput(
        document_id=document_id, signer_customer_id=loan.customer_id, otp_ref=f"otp-bench-{loan.application_id}"))
    result = await handle.result()
    if result.status != "active" or not result.line_no:
        raise RuntimeError(f"{loan.workflow_id} ended {result.status} {result.reason_codes}")
    life.line_workflow_id = names.credit_line_workflow_id(result.line_no)
    line = client.get_workflow_handle(life.line_workflow_id)
    accepted: DrawdownAccepted = await line.execute_update(
        names.UPDATE_REQUEST_DRAWDOWN,
        DrawdownRequest(amount=Decimal(DRAWDOWN_AMOUNT), term_months=12, repayment_method="equal_installment",
                        requested_by="customer"),
        result_type=DrawdownAccepted)
    life.drawdown_workflow_id = accepted.workflow_id
    drawdown = client.get_workflow_handle(accepted.workflow_id, result_type=DrawdownResult)
    # The borrower signs the note (借据) once the SMS asks, as the API's sign endpoint does; a drawdown that
    # fails before that ends the wait through its result.
    note_ready = asyncio.ensure_future(watcher.note_ready(accepted.note_no, accepted.workflow_id))
    ended = asyncio.ensure_future(drawdown.result())
    await asyncio.wait([note_ready, ended], return_when=asyncio.FIRST_COMPLETED)
    if note_ready.done() and not ended.done():
        await drawdown.execute_update(names.UPDATE_SIGN_NOTE, SignInput(
            document_id=note_ready.result(), signer_customer_id=loan.customer_id,
            otp_ref=f"otp-bench-note-{loan.application_id}"))
    else:
        note_ready.cancel()
    outcome = await ended
    if outcome.status != "disbursed":
        raise RuntimeError(f"{accepted.workflow_id} ended {outcome.status} {outcome.failure_code}")
    life.finished = time.time()
    return life


async def _bounded(count: int, concurrency: int, one: Callable[[int], Awaitable[Any]], what: str) -> list[Any]:
    """Run one(i) for i in range(count), at most `concurrency` at a time, logging progress."""
    semaphore = asyncio.Semaphore(concurrency)
    done = 0
    step = max(1, count // 10)

    async def guarded(i: int) -> Any:
        nonlocal done
        async with semaphore:
            out = await asyncio.wait_for(one(i), LIFECYCLE_TIMEOUT_S)
        done += 1
        if done % step == 0 or done == count:
            _log(f"{what}: {done}/{count}")
        return out

    return list(await asyncio.gather(*(guarded(i) for i in range(count))))


async def _collect_histories(client: Any, lives: list[Lifecycle]) -> None:
    """Each lifecycle's three histories; a lifecycle ends when the last of its activities did."""
    semaphore = asyncio.Semaphore(8)

    async def one(life: Lifecycle) -> None:
        async with semaphore:
            life.histories["application"] = await client.get_workflow_handle(life.loan.workflow_id).fetch_history()
            life.histories["credit_line"] = await _quiet_history(
                client.get_workflow_handle(life.line_workflow_id), signalled=True)
            life.histories["drawdown"] = await client.get_workflow_handle(life.drawdown_workflow_id).fetch_history()
        closed = [s.closed for h in life.histories.values() for s in _spans(h.events)[0] if s.closed]
        life.finished = max([life.finished, *closed])

    await asyncio.gather(*(one(life) for life in lives))


async def _terminate_lines(client: Any, lives: list[Lifecycle]) -> None:
    """Credit lines live until they expire; end them so a shared server is left idle."""
    async def one(life: Lifecycle) -> None:
        try:
            await client.get_workflow_handle(life.line_workflow_id).terminate(reason="benchmark finished")
        except Exception:  # noqa: BLE001 - already closed, or the server is going away
            pass
    await asyncio.gather(*(one(life) for life in lives if life.line_workflow_id))


# ---- summaries ----------------------------------------------------------------------------------------


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _latency(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"mean": round(statistics.fmean(ordered), 3), "p50": round(statistics.median(ordered), 3),
            "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3)}


def _cores(cpu: dict[str, float | None], elapsed: float) -> dict[str, float | None]:
    return {k: (None if v is None else round(v / elapsed, 2)) for k, v in cpu.items()}


def _per_loan(cpu: dict[str, float | None], n: int) -> dict[str, float | None]:
    return {k: (None if v is None else _ms(v / n)) for k, v in cpu.items()}


def _activity_table(histories: list[Any], clock: ActivityClock, n: int) -> dict[str, dict[str, float | None]]:
    """Per activity type, over every timed lifecycle, sorted by wall time per loan.

    wall_ms: ActivityTaskStarted -> ActivityTaskCompleted event times. The SDK starts activities eagerly
    (in the reply to the workflow task), so Started is stamped when Scheduled is and wall time includes
    any wait for a free thread and for the GIL. cpu_ms: the activity thread's own CPU time.
    """
    spans: dict[str, list[Span]] = defaultdict(list)
    for history in histories:
        for span in _spans(history.events)[0]:
            spans[span.kind].append(span)
    total_wall = sum(s.closed - s.started for ss in spans.values() for s in ss if s.started and s.closed)
    total_cpu = sum(clock.cpu_s.values())
    table = {}
    for kind, ss in spans.items():
        wall = [s.closed - s.started for s in ss if s.started and s.closed]
        calls = clock.calls.get(kind, 0)
        table[kind] = {
            "per_loan": round(len(ss) / n, 2),
            "wall_ms": _ms(statistics.fmean(wall)) if wall else None,
            "cpu_ms": _ms(clock.cpu_s[kind] / calls) if calls else None,
            "share_of_activity_wall": round(sum(wall) / total_wall, 3) if total_wall else None,
            "share_of_activity_cpu": round(clock.cpu_s[kind] / total_cpu, 3) if total_cpu else None,
        }
    return dict(sorted(table.items(), key=lambda kv: -(kv[1]["wall_ms"] or 0) * kv[1]["per_loan"]))


def _workflow_tasks(histories: list[Any], n: int) -> dict[str, float]:
    tasks = [s for h in histories for s in _spans(h.events)[1]]
    ran = [s.closed - s.started for s in tasks if s.started and s.closed]
    waited = [s.started - s.scheduled for s in tasks if s.started]
    return {"per_loan": round(len(tasks) / n, 2), "run_ms": _ms(statistics.fmean(ran)) if ran else None,
            "queue_ms": _ms(statistics.fmean(waited)) if waited else None}


# ---- the benchmark ------------------------------------------------------------------------------------


async def run_bench(client: Any, engine: Any, settings: Any, *, loans: int = 40, concurrency: int = 8,
                    threads: int | None = None, profile_path: str | None = None) -> dict[str, Any]:
    """Measure and return the result object (the JSON line). Needs a server with our search attributes
    and the pydantic data converter on `client`, and a database with the schema on `engine`."""
    from temporalio.worker import Worker

    from worker import activities_for, make_worker, simulators

    if loans < 1 or concurrency < 1:
        raise ValueError("loans and concurrency must be >= 1")
    threads = threads or settings.activity_threads
    run_id = uuid.uuid4().hex[:8]
    clock = ActivityClock()
    meter = CpuMeter(engine, _child_pids("temporal"))
    profiler = ThreadProfiler() if profile_path else None

    _log(f"preparing {loans + 1} borrowers and applications")
    prepared = await asyncio.to_thread(_prepare_loans, engine, loans + 1)
    warmup_loan, timed_loans = prepared[0], prepared[1:]

    # -- the real lifecycle
    queue = f"bench-loans-{run_id}"
    adapters = simulators(engine, settings)
    # Only the loan path's activities are timed; end of day's async notice delivery never runs here.
    acts = [a if getattr(a, "__temporal_activity_definition").is_async else clock.wrap(a)
            for a in activities_for(engine, adapters, settings)]
    if profiler:
        profiler.start()  # before the worker, so its thread pools start profiled
    watcher = ReadModelWatcher(engine)
    real_worker = make_worker(client, queue, acts, threads=threads, workflow_failure_exception_types=[Exception])
    async with real_worker:
        _log("warm-up lifecycle (fonts, CA root, caches); its histories give the activity count")
        warm = await asyncio.wait_for(_one_lifecycle(client, queue, warmup_loan, watcher), LIFECYCLE_TIMEOUT_S)
        await _collect_histories(client, [warm])
        by_workflow = {name: len(_spans(h.events)[0]) for name, h in warm.histories.items()}
        per_loan = sum(by_workflow.values())
        _log(f"one lifecycle schedules {per_loan} activities {by_workflow}")

        _log(f"timed: {loans} lifecycles, {concurrency} at a time, {threads} activity threads")
        clock.reset()
        if profiler:
            profiler.clear()
        before, t0 = meter.snapshot(), time.time()
        lives = await _bounded(loans, concurrency,
                               lambda i: _one_lifecycle(client, queue, timed_loans[i], watcher), "lifecycles")
        cpu_real = meter.delta(before, meter.snapshot())
        profile_rows = profiler.stop(profile_path) if profiler else None
        await _collect_histories(client, lives)
        elapsed = max(life.finished for life in lives) - t0
        await watcher.close()
    adapters.renderer.close()
    histories = [h for life in lives for h in life.histories.values()]
    activity_table = _activity_table(histories, clock, loans)
    workflow_tasks = _workflow_tasks(histories, loans)
    await _terminate_lines(client, [warm, *lives])

    # -- the baseline: the same number of no-op activities on bare Temporal, same server, same threads
    from concurrent.futures import ThreadPoolExecutor

    bare_queue = f"bench-bare-{run_id}"
    shape = BareShape(application=by_workflow["application"], credit_line=by_workflow["credit_line"],
                      drawdown=by_workflow["drawdown"])
    noop_name = getattr(noop, "__temporal_activity_definition").name
    bare_clock = ActivityClock()
    bare_pool = ThreadPoolExecutor(threads)
    # What worker.make_worker sets up, with the bare workflow and the no-op activity instead of ours.
    bare_worker = Worker(client, task_queue=bare_queue,
                         workflows=[BareLifecycleWorkflow, BareCreditLineWorkflow, BareDrawdownWorkflow],
                         activities=[bare_clock.wrap(noop)], activity_executor=bare_pool,
                         max_concurrent_activities=threads, workflow_failure_exception_types=[Exception])

    async def bare(i: int, tag: str) -> tuple[str, float, float]:
        wf_id, started = f"bench-bare-{run_id}-{tag}-{i}", time.time()
        line_id = await client.execute_workflow(BareLifecycleWorkflow.run, shape, id=wf_id, task_queue=bare_queue)
        # Like a real lifecycle, it is over when the line has finished its drawdown and saved.
        await client.get_workflow_handle(line_id).result()
        return wf_id, started, time.time()

    async with bare_worker:
        _log("baseline warm-up")
        await _bounded(min(concurrency, 4), concurrency, lambda i: bare(i, "warm"), "bare warm-up")
        _log(f"baseline: {loans} bare lifecycles of {shape}, {concurrency} at a time")
        bare_clock.reset()
        before, b0 = meter.snapshot(), time.time()
        bare_runs = await _bounded(loans, concurrency, lambda i: bare(i, "timed"), "bare workflows")
        cpu_bare = meter.delta(before, meter.snapshot())
    bare_pool.shutdown()
    bare_elapsed = max(end for _, _, end in bare_runs) - b0
    bare_histories = [await client.get_workflow_handle(each).fetch_history() for wf_id, _, _ in bare_runs
                      for each in (wf_id, f"{wf_id}-line", f"{wf_id}-line-drawdown")]

    value, baseline = loans / elapsed, loans / bare_elapsed
    activity_cpu = sum(clock.cpu_s.values())
    # Contract renders run in the pool's processes: their CPU belongs to issue_contracts.
    render_s = (cpu_real.get("renderer") or 0.0) / loans

    def cpu_per_loan_s(name: str, row: dict[str, Any]) -> float:
        return (row["cpu_ms"] or 0) * row["per_loan"] / 1000 + (render_s if name == "issue_contracts" else 0.0)

    top_name, top = max(activity_table.items(), key=lambda kv: cpu_per_loan_s(*kv))
    top_cpu_s = cpu_per_loan_s(top_name, top)
    result: dict[str, Any] = {
        "bench": BENCH, "value": round(value, 3), "unit": "loans/s", "baseline": round(baseline, 3),
        "ratio": round(value / baseline, 3), "n": loans,
        "floor": FLOOR, "meets_floor": value / baseline >= FLOOR,
        "concurrency": concurrency, "threads": threads,
        "activities_per_loan": per_loan, "activities_by_workflow": by_workflow,
        "elapsed_s": round(elapsed, 2), "baseline_elapsed_s": round(bare_elapsed, 2),
        "latency_s": _latency([life.finished - life.started for life in lives]),
        "baseline_latency_s": _latency([end - start for _, start, end in bare_runs]),
        "activities": activity_table,
        "baseline_activity": _activity_table(bare_histories, bare_clock, loans)[noop_name],
        # Workflow tasks: queue = scheduled -> started, run = started -> completed (history event times).
        "workflow_tasks": workflow_tasks, "baseline_workflow_tasks": _workflow_tasks(bare_histories, loans),
        # CPU per lifecycle: this process (client, worker, workflow tasks, activities; one GIL), the dev
        # server, the PostgreSQL backends of the bench database, the machine, and everything else on it.
        "cpu_ms_per_loan": {**_per_loan(cpu_real, loans), "activities": _ms(activity_cpu / loans)},
        "baseline_cpu_ms_per_loan": _per_loan(cpu_bare, loans),
        # Cores kept busy while timing: this process near 1.0 means the GIL is the bottleneck.
        "cores_busy": _cores(cpu_real, elapsed), "baseline_cores_busy": _cores(cpu_bare, bare_elapsed),
        "dominant": {"activity": top_name, "cpu_ms_per_loan": _ms(top_cpu_s),
                     "share_of_machine_cpu": round(top_cpu_s / ((cpu_real.get("machine") or cpu_real["python"]) / loans),
                                                   3)},
    }
    if profile_rows is not None:
        result["profile"] = {"file": profile_path, "top_self_time": profile_rows}
    return result



async def _main_async(args: argparse.Namespace) -> dict[str, Any]:
    from config.settings import Settings
    from db.engine import make_engine

    with scratch_database("loans", _log) as url:
        engine = make_engine(url)
        try:
            async with dev_server(_log) as client:
                return await run_bench(client, engine, Settings(database_url=url), loans=args.loans,
                                       concurrency=args.concurrency, threads=args.threads,
                                       profile_path=args.profile)
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=40, help="lifecycles to time (default 40)")
    parser.add_argument("--concurrency", type=int, default=8, help="lifecycles in flight (default 8)")
    parser.add_argument("--threads", type=int, default=None,
                        help="activity threads of both workers (default: settings.activity_threads)")
    parser.add_argument("--profile", metavar="FILE", default=None,
                        help="side run: cProfile every worker thread, dump pstats to FILE, add the top "
                             "functions to the JSON (slower: don't compare its figures with a plain run)")
    args = parser.parse_args(argv)
    result = asyncio.run(_main_async(args))
    _log(f"{result['value']} loans/s vs {result['baseline']} bare workflows/s: ratio {result['ratio']} "
         f"(floor {FLOOR}); dominant: {result['dominant']}")
    print(json_line(result))
    return 0


if __name__ == "__main__":
    # Run as a script: import the module under its package name, so the bare workflow's module is
    # bench.loan_throughput (which the sandbox can re-import), not __main__.
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.loan_throughput import main as _main

    sys.exit(_main())
