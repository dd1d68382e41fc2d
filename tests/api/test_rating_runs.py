"""The ops views of the quarterly batch rating over HTTP: runs with progress, the migration report, the rows
that could not be rated with their reasons; starting a run; ops and admin only."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from db import rating_batch
from db.models import RatingBatchChunk
from domain.rating.model import ContributionModel, default_scorecard
from tests.api import data
from tests.api.asserts import assert_problem
from tests.rating_households import AS_OF, archive
from workflows import names


def test_a_finished_run_shows_its_progress_migrations_and_failed_rows(client, engine, api_settings):
    h = archive(engine)
    plan = rating_batch.plan(engine, run_key="api-test/1", quarter="2026Q4", as_of=AS_OF, card=default_scorecard(),
                             contrib=ContributionModel(), chunk_size=4)
    rating_batch.rate_chunk(engine, plan.run_id, 0)  # one chunk of three or more: the run is still going
    ops = data.staff_headers(api_settings, data.add_staff(engine, "ops"))

    listed = {r["id"]: r for r in client.get("/v1/ops/rating-runs", headers=ops).json()}
    going = listed[plan.run_id]
    assert plan.chunks_total >= 3
    assert (going["status"], going["chunks_done"], going["quarter"]) == ("running", 1, "2026Q4")
    assert going["model_version"] == "NONG_E_DAI_CREDIT@v1"
    assert going["contribution_version"] == "NONG_E_DAI_CONTRIBUTION@v1"
    with Session(engine) as s:  # the chunk's time, not the start: what the lease counts from
        chunk_done = s.get(RatingBatchChunk, (plan.run_id, 0)).done_at
    assert datetime.fromisoformat(going["last_active_at"]) == chunk_done

    for n in range(1, plan.chunks_total):
        rating_batch.rate_chunk(engine, plan.run_id, n)
    rating_batch.finish(engine, plan.run_id)
    report = client.get(f"/v1/ops/rating-runs/{plan.run_id}", headers=ops).json()
    assert report["status"] == "completed" and report["chunks_done"] == report["chunks_total"] == plan.chunks_total
    # The session's database may hold other tests' households: these counts are at least ours.
    assert report["households_rated"] >= 6 and report["households_failed"] >= 4
    summary = report["summary"]
    assert summary["upgrades"] >= 1 and summary["downgrades"] >= 1 and summary["prefiltered"] >= 2
    assert sum(summary.values()) == report["households_rated"] == sum(m["households"] for m in report["migrations"])
    assert {"from_grade": "A", "to_grade": "AAA", "prefiltered": False} in [
        {k: m[k] for k in ("from_grade", "to_grade", "prefiltered")} for m in report["migrations"]]

    failed = client.get(f"/v1/ops/rating-runs/{plan.run_id}/failures?limit=500", headers=ops).json()
    by_household = {f["household_id"]: f for f in failed}
    negative = by_household[h["negative"].id]
    assert negative["customer_id"] == h["negative"].customer_id
    assert negative["reasons"] == [{"code": "NEGATIVE_VALUE", "field": "annual_income", "zh": "数值不能为负",
                                    "en": "the value may not be negative"}]
    assert [r["code"] for r in by_household[h["labour"].id]["reasons"]] == ["NEGATIVE_VALUE", "LABOUR_EXCEEDS_MEMBERS"]
    assert h["draft"].id not in by_household


def test_unknown_runs_are_404_and_only_ops_and_admin_see_runs(client, engine, api_settings):
    ops = data.staff_headers(api_settings, data.add_staff(engine, "admin"))
    assert_problem(client.get("/v1/ops/rating-runs/999999", headers=ops), 404, "RATING_RUN_NOT_FOUND", "run_id")
    assert_problem(client.get("/v1/ops/rating-runs/999999/failures", headers=ops), 404, "RATING_RUN_NOT_FOUND")
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    assert client.get("/v1/ops/rating-runs", headers=manager).status_code == 403
    assert client.post("/v1/ops/rating-runs", json={}, headers=manager).status_code == 403


def test_ops_start_a_run_now(client, engine, api_settings, workflows):
    ops = data.staff_headers(api_settings, data.add_staff(engine, "ops"))
    r = client.post("/v1/ops/rating-runs", json={"as_of": "2026-12-01"}, headers=ops)
    assert r.status_code == 202 and r.json() == {"workflow_id": names.QUARTERLY_RATING_WORKFLOW_ID, "as_of": "2026-12-01"}
    start = workflows.starts[-1]
    assert (start.workflow_id, start.name, start.arg.as_of.isoformat()) == (
        names.QUARTERLY_RATING_WORKFLOW_ID, names.QUARTERLY_RATING, "2026-12-01")
    assert_problem(client.post("/v1/ops/rating-runs", json={"as_of": "someday"}, headers=ops), 422, "VALIDATION_FAILED",
                   "as_of")
    assert client.post("/v1/ops/rating-runs", json={"quarter": "2026Q4"}, headers=ops).status_code == 422


def test_ops_start_is_refused_while_another_run_is_in_progress(client, engine, api_settings, workflows):
    """The Schedule's run is going: an ops start answers 409 at once (runs are exclusive); an ops run that is
    going is attached to as before; once the other run is completed, ops start again."""
    from sqlmodel import Session

    from db.models import RatingBatchRun
    ops = data.staff_headers(api_settings, data.add_staff(engine, "ops"))
    scheduled = rating_batch.plan(engine, run_key="quarterly-rating-2026-12-31T18:00:00Z/r1", quarter="2027Q1",
                                  as_of=AS_OF, card=default_scorecard(), contrib=ContributionModel(), chunk_size=10000)
    starts = len(workflows.starts)
    try:
        r = client.post("/v1/ops/rating-runs", json={}, headers=ops)
        assert_problem(r, 409, "RATING_RUN_IN_PROGRESS")
        assert r.json()["run_id"] == scheduled.run_id and "另一批量评级正在进行" in r.json()["zh"]
        assert len(workflows.starts) == starts  # nothing started
    finally:
        with Session(engine) as s:  # completed: it blocks no one
            run = s.get(RatingBatchRun, scheduled.run_id)
            run.status = "completed"
            s.add(run)
            s.commit()
    ops_run = rating_batch.plan(engine, run_key=f"{names.QUARTERLY_RATING_WORKFLOW_ID}/r2", quarter="2027Q1",
                                as_of=AS_OF, card=default_scorecard(), contrib=ContributionModel(), chunk_size=10000)
    try:
        r = client.post("/v1/ops/rating-runs", json={}, headers=ops)  # the ops run itself: attach
        assert r.status_code == 202, r.text
        assert workflows.starts[-1].workflow_id == names.QUARTERLY_RATING_WORKFLOW_ID
    finally:
        with Session(engine) as s:
            run = s.get(RatingBatchRun, ops_run.run_id)
            run.status = "completed"
            s.add(run)
            s.commit()
