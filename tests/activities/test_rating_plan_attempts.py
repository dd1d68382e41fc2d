"""plan_rating_run: waiting for another run retries without end, any other failure ends the run after
PLAN_ATTEMPTS attempts (RATING_PLAN itself retries forever, for the wait)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.rating_batch import PLAN_ATTEMPTS, RatingBatchActivities
from db import rating_batch
from workflows.messages import RatingPlanInput

REQUEST = RatingPlanInput(run_key="attempts/1", quarter="2026Q4", as_of=date(2026, 11, 30))


def run_plan(activities: RatingBatchActivities, attempt: int):
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=attempt)
    return env.run(activities.plan_rating_run, REQUEST)


def test_a_failure_other_than_waiting_ends_the_run_after_the_last_attempt(own_engine, monkeypatch):
    activities = RatingBatchActivities(own_engine, chunk_size=10, parallel_chunks=1, lease=rating_batch.RUN_LEASE)

    def broken(*_args, **_kwargs):
        raise ValueError("stored model does not load")

    monkeypatch.setattr(rating_batch, "plan", broken)
    with pytest.raises(ValueError):
        run_plan(activities, PLAN_ATTEMPTS - 1)  # still retried by the policy
    with pytest.raises(ApplicationError) as final:
        run_plan(activities, PLAN_ATTEMPTS)
    assert final.value.non_retryable and final.value.type == "RatingPlanFailed"


def test_waiting_for_another_run_stays_retryable_however_many_attempts(own_engine, monkeypatch):
    activities = RatingBatchActivities(own_engine, chunk_size=10, parallel_chunks=1, lease=rating_batch.RUN_LEASE)
    other = rating_batch.LiveRun(run_id=7, run_key="quarterly-rating/abc", last_active=rating_batch.utcnow())

    def busy(*_args, **_kwargs):
        raise rating_batch.RunInProgress(other)

    monkeypatch.setattr(rating_batch, "plan", busy)
    with pytest.raises(ApplicationError) as waiting:
        run_plan(activities, PLAN_ATTEMPTS * 5)
    assert not waiting.value.non_retryable and waiting.value.type == "RatingRunInProgress"
