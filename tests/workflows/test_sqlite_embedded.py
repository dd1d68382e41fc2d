"""`make up` runs on SQLite, which allows one writer at a time: a whole loan, contract and drawdown
included, must go through there too (the simulators write on their own connections)."""

from __future__ import annotations

import os
from decimal import Decimal

from adapters.core_banking.simulator import CoreBankingSimulator
from cli.migrate import upgrade
from config.settings import Settings
from db.engine import make_engine
from tests import factories
from tests.workflows.support import has_contract, running_worker, sign_note, until, until_stage
from workflows import names
from workflows.loan_application import LoanApplicationWorkflow
from workflows.messages import DrawdownAccepted, DrawdownRequest, SignInput


async def test_a_guaranteed_loan_runs_end_to_end_on_sqlite(dev_env, tmp_path):
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    upgrade(url, quiet=True)
    engine = make_engine(url)
    settings = Settings(env="test", database_url=url, render_processes=0)
    product = factories.ensure_reference_data(engine)
    borrower, guarantor = factories.customer(engine), factories.customer(engine, name="陈保")
    # Its own database numbers from 1 again: keep clear of the workflow ids the PostgreSQL tests use.
    row = factories.application(engine, borrower, guarantee_type="guaranteed", number=990000 + os.getpid() % 9999)
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run,
                                             factories.loan_input(row, product, [guarantor]),
                                             id=row.workflow_id, task_queue=queue)
        await until_stage(handle, "awaiting_guarantors")
        child = client.get_workflow_handle(names.guarantor_workflow_id(row.app_no, 1, 1))
        await child.execute_update(names.UPDATE_CONSENT, {"customer_id": guarantor.id, "accept": True})
        state = await until_stage(handle, "awaiting_signatures")
        docs = {d["kind"]: d["document_id"] for d in state["documents"]}
        await handle.execute_update(names.UPDATE_SIGN, SignInput(
            document_id=docs["loan_contract"], signer_customer_id=borrower.id, otp_ref="o"))
        await until_stage(handle, "awaiting_signatures")
        await until(lambda: has_contract(child))
        await child.execute_update(names.UPDATE_GUARANTOR_SIGN, SignInput(
            document_id=docs["guarantee_contract"], signer_customer_id=guarantor.id, otp_ref="o"))
        result = await handle.result()
        line = client.get_workflow_handle(names.credit_line_workflow_id(result.line_no))
        accepted = await line.execute_update(names.UPDATE_REQUEST_DRAWDOWN, DrawdownRequest(
            amount=Decimal("10000"), term_months=12, repayment_method="equal_installment", requested_by="customer"),
            result_type=DrawdownAccepted)
        await sign_note(client, accepted)
        outcome = await client.get_workflow_handle(accepted.workflow_id).result()
    assert outcome["status"] == "disbursed"
    bank = CoreBankingSimulator(engine)
    assert bank.count_postings(kind="disbursement", reference=accepted.note_no) == 1
    assert bank.trial_balance() == Decimal("0")
    engine.dispose()
