"""Kill -9 the worker after core banking committed a disbursement but before it answered: the loan
still completes on a new worker, with exactly one disbursement posting and a balanced ledger."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

from adapters.core_banking.simulator import CoreBankingSimulator
from tests import factories
from tests.workflows.support import sign_note, until, until_stage
from workflows import names
from workflows.loan_application import LoanApplicationWorkflow
from workflows.messages import DrawdownAccepted, DrawdownRequest, SignInput

ROOT = Path(__file__).resolve().parents[2]


def start_worker(target: str, pg_url: str, queue: str, log: Path, **extra: str) -> subprocess.Popen:
    env = {**os.environ, "NONGEDAI_ENV": "test", "DATABASE_URL": pg_url, "NONGEDAI_TEMPORAL_ADDRESS": target,
           "NONGEDAI_TASK_QUEUE": queue, **extra}
    # A file, not a pipe: nobody reads a pipe while the worker runs, and a full one would block it.
    return subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=log.open("ab"))


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        proc.wait(timeout=30)


async def test_worker_killed_mid_disbursement_pays_out_once(dev_env, engine, pg_url, tmp_path):
    product = factories.ensure_reference_data(engine)
    client = dev_env.client
    target = client.service_client.config.target_host
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    bank = CoreBankingSimulator(engine)
    borrower = factories.customer(engine)
    row = factories.application(engine, borrower, amount="60000")

    log = tmp_path / "workers.log"
    first = start_worker(target, pg_url, queue, log)
    try:
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        state = await until_stage(handle, "awaiting_signatures", timeout=60)
        await handle.execute_update(names.UPDATE_SIGN, SignInput(
            document_id=state["documents"][0]["document_id"], signer_customer_id=borrower.id, otp_ref="o"))
        line_no = (await handle.result()).line_no
    finally:
        stop(first)

    # This worker's core banking commits each posting, then takes 60 s to answer: we kill it in between.
    doomed = start_worker(target, pg_url, queue, log, NONGEDAI_CORE_BANKING_ANSWER_DELAY_S="60")
    try:
        line = client.get_workflow_handle(names.credit_line_workflow_id(line_no))
        accepted = await line.execute_update(names.UPDATE_REQUEST_DRAWDOWN, DrawdownRequest(
            amount=Decimal("25000"), term_months=6, repayment_method="equal_installment", requested_by="customer"),
            result_type=DrawdownAccepted)
        await sign_note(client, accepted)
        await until(lambda: bank.count_postings(kind="disbursement", reference=accepted.note_no) == 1, timeout=60)
    finally:
        stop(doomed, signal.SIGKILL)
    assert doomed.returncode == -signal.SIGKILL

    survivor = start_worker(target, pg_url, queue, log)
    try:
        outcome = await until(lambda: _result(client, accepted.workflow_id), timeout=90)
        assert outcome["status"] == "disbursed"
    finally:
        stop(survivor)
    assert survivor.returncode == 0, log.read_text()[-2000:]
    assert bank.count_postings(kind="disbursement", reference=accepted.note_no) == 1
    assert bank.trial_balance() == Decimal("0")
    history = await client.get_workflow_handle(accepted.workflow_id).fetch_history()
    attempts = [e.activity_task_started_event_attributes.attempt for e in history.events
                if e.HasField("activity_task_started_event_attributes")]
    assert max(attempts) >= 2, "the disbursement should have been retried after the crash"


async def _result(client, workflow_id: str):
    desc = await client.get_workflow_handle(workflow_id).describe()
    if desc.status is None or desc.status.name == "RUNNING":
        return None
    return await client.get_workflow_handle(workflow_id).result()
