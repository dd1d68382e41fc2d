"""A loan's review through the rating adapter on the new engines: the archive's facts, an outage and a lost
answer retried by Temporal, and exactly one rating recorded for the review, the one the application shows."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel import Session, select

from adapters.errors import AdapterUnavailable
from db.models import CustomerRating, Household, LoanApplication, RatingRecord, Village
from tests import factories
from tests.workflows.support import running_worker, until_stage
from worker import simulators
from workflows.loan_application import LoanApplicationWorkflow


class LosesFirstAnswer:
    """The rating service rates (and records) but its answer never arrives, once."""

    def __init__(self, inner) -> None:
        self.inner, self.calls, self._lock = inner, 0, threading.Lock()

    def rate(self, **kw):
        outcome = self.inner.rate(**kw)
        with self._lock:
            self.calls += 1
            first = self.calls == 1
        if first:
            raise AdapterUnavailable("the answer was lost on the way back")
        return outcome


async def test_review_rates_once_from_the_archive_despite_outage_and_lost_answer(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    borrower = factories.customer(engine, income="0", assets="0", liabilities="0")  # the archive has the figures
    with Session(engine) as s:
        if s.get(Village, "350322101298") is None:
            s.add(Village(code="350322101298", name="评级村", branch_code=factories.BRANCH, credit_village=True))
            s.flush()
        now = datetime.now(UTC)
        s.add(Household(customer_id=borrower.id, village_code="350322101298", branch_code=factories.BRANCH,
                        status="archived", annual_income=Decimal("96000"), annual_expenses=Decimal("20000"),
                        total_assets=Decimal("420000"), total_liabilities=Decimal("30000"), business_years=15,
                        house_owned=True, policy_tags=["young_farmer"], created_at=now, updated_at=now))
        s.commit()
    row = factories.application(engine, borrower, amount="50000")
    base = simulators(engine, settings)
    base.rating.inject_fault(times=1)  # first attempt: no answer at all
    flaky = LosesFirstAnswer(base.rating)
    adapters = dataclasses.replace(base, rating=flaky)
    client = dev_env.client
    async with running_worker(client, engine, settings, adapters=adapters) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        state = await until_stage(handle, "awaiting_signatures", timeout=60)
        await handle.terminate("test done")
    assert flaky.calls == 2  # the outage, then the lost answer, then the answer
    # 30 + 8 + 14 (net income 76,000) + 12 + 12 + 6 + 3 house + 3 credit village = 88, AA; (117,000 + 76,000) x 0.8
    assert (state["grade"], state["status"]) == ("AA", "approved")
    with Session(engine) as s:
        records = s.exec(select(RatingRecord).where(RatingRecord.customer_id == borrower.id)).all()
        app = s.get(LoanApplication, row.id)
        current = s.get(CustomerRating, borrower.id)
    assert len(records) == 1
    record = records[0]
    assert (record.application_id, record.score, record.grade, record.credit_limit) == (row.id, 88, "AA",
                                                                                        Decimal("154000.00"))
    assert (app.score, app.grade, app.credit_limit) == (88, "AA", Decimal("154000.00"))
    assert record.detail["policy_tags"] == ["credit_village", "young_farmer"] and record.request_key.startswith(row.workflow_id)
    assert current.rating_record_id == record.id
