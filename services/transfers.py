"""Moving an archive to another customer manager (移交) or sharing it with one more (共享), decided by a second
person: an approver of the archive's branch or an administrator, never the one who asked.

States: pending -> approved | rejected | cancelled (by the requester); an approved share -> revoked.
An approved transfer changes the archive's manager (a new version, in its change history); an approved share
lets the other manager read and edit the archive until it is revoked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from db.models import ArchiveTransfer
from db.repositories import archive_transfers, households
from services.errors import ProblemError, forbidden, not_found
from services.households import check_manager, record, visible
from services.principal import ADMIN, ALL_BRANCH_ROLES, APPROVER, CUSTOMER_MANAGER, Principal
from services.schemas.households import TransferDecisionIn, TransferIn, TransferView
from services.unique_requests import insert_unless


def _views(rows: Sequence[ArchiveTransfer]) -> list[TransferView]:
    return [TransferView.of(r) for r in rows]


def request(session: Session, principal: Principal, household_id: int, body: TransferIn, now: datetime) -> TransferView:
    row = visible(session, principal, household_id)
    assert row.id is not None
    if principal.role != ADMIN and row.manager_staff_id != principal.id:
        raise forbidden("只有管户客户经理或管理员可以移交或共享档案",
                        "only the archive's manager or an administrator may transfer or share it", "NOT_ARCHIVE_MANAGER")
    check_manager(session, body.to_staff_id, row.branch_code, "to_staff_id")
    if body.to_staff_id == row.manager_staff_id:
        raise ProblemError(422, "ALREADY_MANAGER", "该客户经理已是管户经理", "this customer manager already manages the archive",
                           "to_staff_id")
    assert not principal.is_customer
    household = row.id
    created = insert_unless(  # held by uq_archive_transfer_pending and uq_archive_share_live
        session, lambda: _conflict(session, household, body),
        lambda: archive_transfers.insert(session, household_id=household, kind=body.kind,
                                         from_staff_id=row.manager_staff_id, to_staff_id=body.to_staff_id,
                                         branch_code=row.branch_code, requested_by=principal.id, reason=body.reason,
                                         status="pending", requested_at=now))
    session.commit()
    return TransferView.of(created)


def _conflict(session: Session, household_id: int, body: TransferIn) -> ProblemError | None:
    """One pending transfer per archive; one pending or approved share per archive and manager."""
    if body.kind == "transfer" and archive_transfers.open_request(session, household_id) is not None:
        return ProblemError(409, "TRANSFER_PENDING", "该档案已有待审批的移交申请", "a transfer of this archive is already pending")
    if body.kind == "share" and archive_transfers.share_in_force_or_pending(session, household_id, body.to_staff_id):
        return ProblemError(409, "SHARE_EXISTS", "已与该客户经理共享或正在申请共享", "already shared with this manager, or pending")
    return None


def _decidable(session: Session, principal: Principal, transfer_id: int) -> ArchiveTransfer:
    row = archive_transfers.get(session, transfer_id)
    if row is None or not principal.sees_branch(row.branch_code):
        raise not_found("TRANSFER", "未找到该移交或共享申请", "transfer or share request not found", "transfer_id")
    return row


def decide(session: Session, principal: Principal, transfer_id: int, body: TransferDecisionIn,
           now: datetime) -> TransferView:
    if principal.role not in (APPROVER, ADMIN):
        raise forbidden("只有审批员或管理员可以审批移交和共享", "only an approver or administrator decides transfers and shares",
                        "ROLE_FORBIDDEN")
    row = _decidable(session, principal, transfer_id)
    if principal.id in (row.requested_by, row.to_staff_id):
        raise forbidden("不能审批自己发起或涉及自己的申请", "a request is decided by a second person, not its requester or recipient",
                        "SAME_PERSON")
    if row.status != "pending":
        raise ProblemError(409, "TRANSFER_NOT_PENDING", "该申请已处理", f"the request is already {row.status}", "status")
    assert row.id is not None
    status = "approved" if body.approve else "rejected"
    if body.approve:
        _apply(session, principal, row, now)
    if not archive_transfers.set_status(session, row.id, expected="pending", status=status, decided_by=principal.id,
                                        decision_note=body.note, decided_at=now):
        session.rollback()
        raise ProblemError(409, "TRANSFER_NOT_PENDING", "该申请已被他人处理", "someone else decided the request first", "status")
    session.commit()
    decided = archive_transfers.get(session, row.id)
    assert decided is not None
    return TransferView.of(decided)


def _apply(session: Session, principal: Principal, row: ArchiveTransfer, now: datetime) -> None:
    household = households.get(session, row.household_id)
    assert household is not None and household.id is not None
    if row.kind == "share":
        record(session, household.id, household.version, "share", principal, now,
               [("shared_with_staff_ids", None, str(row.to_staff_id))])
        return
    if household.manager_staff_id != row.from_staff_id:
        raise ProblemError(409, "TRANSFER_STALE", "档案的管户经理已变更,请重新发起移交",
                           "the archive's manager changed since the request; ask again")
    version = household.version
    if not households.update_if_version(session, household.id, version, manager_staff_id=row.to_staff_id,
                                        updated_at=now):
        session.rollback()
        raise ProblemError(409, "VERSION_CONFLICT", "档案正在被修改,请稍后重试", "the archive is being changed; try again", "version")
    record(session, household.id, version + 1, "transfer", principal, now,
           [("manager_staff_id", None if row.from_staff_id is None else str(row.from_staff_id), str(row.to_staff_id))])


def cancel(session: Session, principal: Principal, transfer_id: int, now: datetime) -> TransferView:
    row = _decidable(session, principal, transfer_id)
    if row.requested_by != principal.id:
        raise forbidden("只有申请人可以撤回申请", "only the requester may cancel the request", "NOT_REQUESTER")
    assert row.id is not None
    if not archive_transfers.set_status(session, row.id, expected="pending", status="cancelled", decided_at=now):
        raise ProblemError(409, "TRANSFER_NOT_PENDING", "该申请已处理", "the request is no longer pending", "status")
    session.commit()
    done = archive_transfers.get(session, row.id)
    assert done is not None
    return TransferView.of(done)


def revoke_share(session: Session, principal: Principal, transfer_id: int, now: datetime) -> TransferView:
    """Ending a share narrows access, so it needs no second person: the archive's manager, the manager it is shared
    with (giving it up) or an administrator ends it at once."""
    row = _decidable(session, principal, transfer_id)
    household = households.get(session, row.household_id)
    assert household is not None and household.id is not None and row.id is not None
    if row.kind != "share" or row.status != "approved":
        raise ProblemError(409, "SHARE_NOT_IN_FORCE", "该共享未生效", "this is not a share in force", "status")
    if principal.role != ADMIN and principal.id not in (household.manager_staff_id, row.to_staff_id):
        raise forbidden("只有管户经理、被共享经理或管理员可以取消共享",
                        "only the archive's manager, the sharing manager or an administrator may end a share",
                        "NOT_ARCHIVE_MANAGER")
    if not archive_transfers.set_status(session, row.id, expected="approved", status="revoked", decided_at=now):
        raise ProblemError(409, "SHARE_NOT_IN_FORCE", "该共享未生效", "this is not a share in force", "status")
    record(session, household.id, household.version, "share", principal, now,
           [("shared_with_staff_ids", str(row.to_staff_id), None)])
    session.commit()
    done = archive_transfers.get(session, row.id)
    assert done is not None
    return TransferView.of(done)


def listing(session: Session, principal: Principal, *, status: str | None, limit: int, offset: int) -> list[TransferView]:
    """Managers see the requests that involve them; approvers their branch's; ops and administrators all."""
    branch = None if principal.role in ALL_BRANCH_ROLES else principal.branch_code
    involving = principal.id if principal.role == CUSTOMER_MANAGER else None
    return _views(archive_transfers.listing(session, branch_code=branch, involving_staff_id=involving, status=status,
                                            limit=limit, offset=offset))


def for_household(session: Session, principal: Principal, household_id: int) -> list[TransferView]:
    visible(session, principal, household_id)
    return _views(archive_transfers.for_household(session, household_id))
