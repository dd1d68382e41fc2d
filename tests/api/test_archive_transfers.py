"""Transfers and shares of archives between customer managers, decided by a second person, over HTTP."""

from __future__ import annotations

import pytest

from tests.api import archives, data
from tests.api.asserts import assert_problem


@pytest.fixture(autouse=True)
def reference(engine):
    archives.ensure_reference(engine)


def _staff(engine, api_settings, role: str = "customer_manager", branch: str = data.BRANCH_A):
    user = data.add_staff(engine, role, branch=branch)
    return user, data.staff_headers(api_settings, user)


@pytest.fixture
def team(engine, api_settings):
    """Two managers and an approver of branch A, and an archive managed by the first."""
    owner, owner_h = _staff(engine, api_settings)
    other, other_h = _staff(engine, api_settings)
    approver, approver_h = _staff(engine, api_settings, "approver")
    return owner, owner_h, other, other_h, approver, approver_h


def _archive(client, headers) -> dict:
    r = client.post("/v1/households", json={**archives.form(), "head": archives.person()}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _request(client, headers, household_id: int, kind: str, to: int, status: int = 201) -> dict:
    r = client.post(f"/v1/households/{household_id}/transfers", json={"kind": kind, "to_staff_id": to,
                                                                        "reason": "片区调整"}, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def _decide(client, headers, transfer_id: int, approve: bool = True):
    return client.post(f"/v1/archive-transfers/{transfer_id}/decision", json={"approve": approve, "note": "同意"},
                       headers=headers)


def test_an_approved_transfer_moves_the_archive_to_the_other_manager(client, team):
    owner, owner_h, other, other_h, approver, approver_h = team
    view = _archive(client, owner_h)
    url = f"/v1/households/{view['id']}"
    request = _request(client, owner_h, view["id"], "transfer", other.id)
    assert (request["status"], request["from_staff_id"], request["requested_by"]) == ("pending", owner.id, owner.id)
    # Until decided nothing changes; the owner cannot decide, nor ask twice.
    assert_problem(client.get(url, headers=other_h), 404, "HOUSEHOLD_NOT_FOUND")
    assert_problem(_decide(client, owner_h, request["id"]), 403, "ROLE_FORBIDDEN")
    _request(client, owner_h, view["id"], "transfer", other.id, status=409)
    pending = client.get("/v1/archive-transfers", params={"status": "pending"}, headers=approver_h).json()
    assert request["id"] in [t["id"] for t in pending]
    r = _decide(client, approver_h, request["id"])
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decided_by"]) == ("approved", approver.id)
    moved = client.get(url, headers=other_h).json()
    assert moved["manager_staff_id"] == other.id and moved["version"] == 2
    assert_problem(client.get(url, headers=owner_h), 404, "HOUSEHOLD_NOT_FOUND")
    assert_problem(_decide(client, approver_h, request["id"]), 409, "TRANSFER_NOT_PENDING")
    history = client.get(f"{url}/history", headers=other_h).json()["items"]
    assert (history[0]["action"], history[0]["field"], history[0]["old_value"], history[0]["new_value"],
            history[0]["actor_staff_id"]) == ("transfer", "manager_staff_id", str(owner.id), str(other.id), approver.id)


def test_a_rejected_or_cancelled_request_changes_nothing(client, team):
    owner, owner_h, other, other_h, approver, approver_h = team
    view = _archive(client, owner_h)
    first = _request(client, owner_h, view["id"], "transfer", other.id)
    assert _decide(client, approver_h, first["id"], approve=False).json()["status"] == "rejected"
    second = _request(client, owner_h, view["id"], "transfer", other.id)
    assert_problem(client.post(f"/v1/archive-transfers/{second['id']}/cancel", headers=approver_h), 403, "NOT_REQUESTER")
    r = client.post(f"/v1/archive-transfers/{second['id']}/cancel", headers=owner_h)
    assert r.json()["status"] == "cancelled"
    assert client.get(f"/v1/households/{view['id']}", headers=owner_h).json()["manager_staff_id"] == owner.id
    statuses = [t["status"] for t in client.get(f"/v1/households/{view['id']}/transfers", headers=owner_h).json()]
    assert statuses == ["cancelled", "rejected"]


def test_a_share_lets_the_other_manager_read_and_edit_until_revoked(client, team):
    owner, owner_h, other, other_h, approver, approver_h = team
    view = _archive(client, owner_h)
    url = f"/v1/households/{view['id']}"
    share = _request(client, owner_h, view["id"], "share", other.id)
    _request(client, owner_h, view["id"], "share", other.id, status=409)
    assert _decide(client, approver_h, share["id"]).json()["status"] == "approved"
    seen = client.get(url, headers=other_h).json()
    assert seen["shared_with_staff_ids"] == [other.id] and seen["manager_staff_id"] == owner.id
    body = {**archives.form(business_years=30), "version": seen["version"]}
    body["members"][0] |= {"resident_id": seen["members"][0]["resident_id"], "mobile": seen["members"][0]["mobile"]}
    r = client.put(url, json=body, headers=other_h)
    assert r.status_code == 200 and r.json()["business_years"] == 30
    # A shared manager cannot hand the archive on.
    assert_problem(client.post(f"{url}/transfers", json={"kind": "transfer", "to_staff_id": other.id}, headers=other_h),
                   403, "NOT_ARCHIVE_MANAGER")
    r = client.post(f"/v1/archive-transfers/{share['id']}/revocation", headers=owner_h)
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert_problem(client.get(url, headers=other_h), 404, "HOUSEHOLD_NOT_FOUND")
    fields = [(e["action"], e["old_value"], e["new_value"]) for e in client.get(f"{url}/history", headers=owner_h).json()["items"]
              if e["field"] == "shared_with_staff_ids"]
    assert fields == [("share", str(other.id), None), ("share", None, str(other.id))]


def test_a_second_person_decides(client, engine, api_settings, team):
    owner, owner_h, other, _, _, _ = team
    admin, admin_h = _staff(engine, api_settings, "admin", branch=data.COUNTY)
    view = _archive(client, owner_h)
    request = _request(client, admin_h, view["id"], "transfer", other.id)
    assert request["requested_by"] == admin.id
    assert_problem(_decide(client, admin_h, request["id"]), 403, "SAME_PERSON")
    _, other_branch_approver = _staff(engine, api_settings, "approver", branch=data.BRANCH_B)
    assert_problem(_decide(client, other_branch_approver, request["id"]), 404, "TRANSFER_NOT_FOUND")


def test_the_receiving_manager_must_be_an_active_manager_of_the_branch(client, engine, api_settings, team):
    owner, owner_h, _, _, approver, _ = team
    view = _archive(client, owner_h)
    elsewhere, _ = _staff(engine, api_settings, branch=data.BRANCH_B)
    r = client.post(f"/v1/households/{view['id']}/transfers", json={"kind": "share", "to_staff_id": elsewhere.id},
                    headers=owner_h)
    assert_problem(r, 422, "MANAGER_OTHER_BRANCH", "to_staff_id")
    r = client.post(f"/v1/households/{view['id']}/transfers", json={"kind": "transfer", "to_staff_id": approver.id},
                    headers=owner_h)
    assert_problem(r, 422, "MANAGER_UNKNOWN", "to_staff_id")
    r = client.post(f"/v1/households/{view['id']}/transfers", json={"kind": "transfer", "to_staff_id": owner.id},
                    headers=owner_h)
    assert_problem(r, 422, "ALREADY_MANAGER", "to_staff_id")


def _pending_rows(engine, household_id: int) -> list[tuple[str, int, str]]:
    from sqlmodel import Session, select

    from db.models import ArchiveTransfer
    with Session(engine) as s:
        return [(t.kind, t.to_staff_id, t.status) for t in s.exec(select(ArchiveTransfer).where(
            ArchiveTransfer.household_id == household_id, ArchiveTransfer.status.in_(["pending", "approved"])))]


@pytest.mark.parametrize("kind", ["transfer", "share"])
def test_two_requests_passing_the_check_at_once_leave_one_pending_and_the_other_a_409(client, engine, team, monkeypatch,
                                                                                     kind):
    """The check is read-then-insert: the partial unique indexes hold when a concurrent request got in between."""
    from db.repositories import archive_transfers
    owner, owner_h, other, other_h, approver, approver_h = team
    view = _archive(client, owner_h)
    first = _request(client, owner_h, view["id"], kind, other.id)
    # The second request's check runs before the first commits: it sees nothing pending.
    check = "open_request" if kind == "transfer" else "share_in_force_or_pending"
    real = getattr(archive_transfers, check)
    calls: list[int] = []

    def racing(*args, **kwargs):
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(archive_transfers, check, racing)
    r = client.post(f"/v1/households/{view['id']}/transfers", json={"kind": kind, "to_staff_id": other.id,
                                                                    "reason": "片区调整"}, headers=owner_h)
    assert_problem(r, 409, "TRANSFER_PENDING" if kind == "transfer" else "SHARE_EXISTS")
    assert len(calls) == 2  # the insert was refused by the database, then the check answered
    assert _pending_rows(engine, view["id"]) == [(kind, other.id, "pending")]
    if kind == "share":  # approved, a share still holds its place
        assert _decide(client, approver_h, first["id"]).json()["status"] == "approved"
        calls.clear()
        r = client.post(f"/v1/households/{view['id']}/transfers", json={"kind": kind, "to_staff_id": other.id,
                                                                        "reason": "片区调整"}, headers=owner_h)
        assert_problem(r, 409, "SHARE_EXISTS")
        assert _pending_rows(engine, view["id"]) == [("share", other.id, "approved")]
