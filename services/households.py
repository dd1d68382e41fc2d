"""Household archives (农户建档) for staff: create, edit with optimistic locking, submit (draft -> archived), read,
search with personal data masked, and the change history.

Customer managers see and edit the archives they manage or that are shared with them; approvers read their
branch's; ops and administrators read all, and administrators may edit. The head is a customer (one per
resident ID, `services.customers`); the other members stay in `household_member`, a personal-data table.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.models import (
    Customer,
    Household,
    HouseholdChange,
    HouseholdFinance,
    HouseholdImage,
    HouseholdMember,
    HouseholdProduction,
    StaffUser,
    Village,
)
from db.repositories import archive_codes, customers, households, staff
from db.repositories.households import ArchiveScope, SearchCriteria
from domain.archive import FINANCE_KINDS, IMAGE_KINDS, FinanceFacts, ProductionFacts, Totals, diff, totals
from domain.archive_completeness import ArchiveFacts, Completeness, completeness
from domain.identity import (
    IdProblem,
    birth_date_of,
    mask_mobile,
    mask_name,
    mask_resident_id,
    normalise_mobile,
    normalise_resident_id,
)
from services import customers as customer_service
from services import ratings as rating_service
from services.archive_forms import parse
from services.clock import business_date
from services.errors import ProblemError, field_error, forbidden, not_found
from services.principal import ADMIN, ALL_BRANCH_ROLES, CUSTOMER_MANAGER, Principal
from services.schemas.common import Page
from services.schemas.households import (
    ChangeView,
    CompletenessView,
    FinanceView,
    HeadView,
    HouseholdCreate,
    HouseholdSearchIn,
    HouseholdSummary,
    HouseholdUpdate,
    HouseholdView,
    ImageView,
    MemberView,
    MissingItem,
    ProductionView,
    VersionIn,
)

EDITOR_ROLES = frozenset({CUSTOMER_MANAGER, ADMIN})


# ---- Who sees and edits what -------------------------------------------------------------------------------


log = logging.getLogger(__name__)


def archive_scope(principal: Principal) -> ArchiveScope:
    if principal.role in ALL_BRANCH_ROLES:
        return ArchiveScope()
    if principal.role == CUSTOMER_MANAGER:
        return ArchiveScope(branch_code=principal.branch_code, staff_id=principal.id)
    return ArchiveScope(branch_code=principal.branch_code)


def visible(session: Session, principal: Principal, household_id: int) -> Household:
    row = households.visible(session, archive_scope(principal), household_id)
    if row is None:
        raise not_found("HOUSEHOLD", "未找到该农户档案", "household archive not found", "household_id")
    return row


def editable(session: Session, principal: Principal, household_id: int) -> Household:
    row = visible(session, principal, household_id)
    if principal.role not in EDITOR_ROLES:
        raise forbidden("您的岗位只能查看档案", "this role may read archives but not change them", "ARCHIVE_READ_ONLY")
    return row


# ---- Reading -----------------------------------------------------------------------------------------------


def _facts(head: Customer, row: Household, counts: households.ItemCounts) -> ArchiveFacts:
    return ArchiveFacts(head_mobile=bool(head.mobile), head_address=bool(head.address.strip()),
                        manager_assigned=row.manager_staff_id is not None, member_count=row.member_count,
                        members_listed=counts.members, main_business=row.main_business,
                        business_years=row.business_years, production_items=counts.production,
                        income_items=counts.income, expense_items=counts.expense, asset_items=counts.asset,
                        image_kinds=counts.image_kinds)


def completeness_of(session: Session, row: Household, head: Customer) -> Completeness:
    assert row.id is not None
    return completeness(_facts(head, row, households.item_counts(session, [row.id])[row.id]))


def completeness_of_many(session: Session, rows: Sequence[tuple[Household, Customer]]) -> dict[int, Completeness]:
    counts = households.item_counts(session, [h.id for h, _ in rows if h.id is not None])
    return {h.id: completeness(_facts(c, h, counts[h.id])) for h, c in rows if h.id is not None}


def _completeness_view(c: Completeness) -> CompletenessView:
    return CompletenessView(score=c.score, missing=[MissingItem(field=m.field, zh=m.zh, en=m.en, required=m.required)
                                                    for m in c.missing])


def _view(session: Session, row: Household) -> HouseholdView:
    assert row.id is not None
    head = customers.get(session, row.customer_id)
    village = archive_codes.village(session, row.village_code)
    assert head is not None and village is not None
    names = {(c.kind, c.code): c.name_zh for c in archive_codes.codes(session)}
    return HouseholdView(
        id=row.id, status=row.status, version=row.version,
        head=HeadView(customer_id=row.customer_id, customer_no=head.customer_no, name=head.name,
                      resident_id=head.resident_id, mobile=head.mobile, address=head.address,
                      birth_date=head.birth_date),
        village_code=row.village_code, village_name=village.name, branch_code=row.branch_code,
        manager_staff_id=row.manager_staff_id, shared_with_staff_ids=households.shared_staff_ids(session, row.id),
        member_count=row.member_count, labour_count=row.labour_count, main_business=row.main_business,
        business_years=row.business_years, house_owned=row.house_owned, acreage_mu=row.acreage_mu,
        livestock_heads=row.livestock_heads, annual_income=row.annual_income, annual_expenses=row.annual_expenses,
        total_assets=row.total_assets, total_liabilities=row.total_liabilities, policy_tags=list(row.policy_tags),
        members=[MemberView.model_validate(m, from_attributes=True) for m in households.members(session, row.id)],
        production=[ProductionView(kind=p.kind, code=p.code, name_zh=names.get((p.kind, p.code), p.code),
                                   quantity=p.quantity, unit=p.unit, acreage_mu=p.acreage_mu,
                                   annual_revenue=p.annual_revenue) for p in households.production(session, row.id)],
        finance=[FinanceView(category=f.category, kind=f.kind, name_zh=FINANCE_KINDS[f.category].get(f.kind, f.kind),
                             amount=f.amount, note=f.note) for f in households.finance(session, row.id)],
        images=[ImageView.of(i, IMAGE_KINDS.get(i.kind, i.kind)) for i in households.images(session, row.id)],
        completeness=_completeness_view(completeness_of(session, row, head)),
        archived_at=row.archived_at, created_at=row.created_at, updated_at=row.updated_at)


def get(session: Session, principal: Principal, household_id: int) -> HouseholdView:
    return _view(session, visible(session, principal, household_id))


def search(session: Session, principal: Principal, body: HouseholdSearchIn) -> Page[HouseholdSummary]:
    """`q` is read as a resident ID, a mobile, a customer number or the start of a name, in that order."""
    criteria = SearchCriteria(village_code=body.village_code, status=body.status, **_criteria((body.q or "").strip()))
    rows, total = households.search(session, archive_scope(principal), criteria, limit=body.limit, offset=body.offset)
    return Page(items=[_summary(h, c, v) for h, c, v in rows], total=total, limit=body.limit, offset=body.offset)


def _criteria(text: str) -> dict[str, str]:
    if not text:
        return {}
    for key, normalise in (("resident_id", normalise_resident_id), ("mobile", normalise_mobile)):
        try:
            return {key: normalise(text)}
        except IdProblem:
            continue
    if text.upper().startswith("CIF"):
        return {"customer_no": text.upper()}
    return {"name_prefix": text}


def _summary(row: Household, head: Customer, village: Village) -> HouseholdSummary:
    assert row.id is not None
    return HouseholdSummary(id=row.id, customer_no=head.customer_no, name=mask_name(head.name),
                            resident_id=mask_resident_id(head.resident_id), mobile=mask_mobile(head.mobile),
                            village_code=row.village_code, village_name=village.name, branch_code=row.branch_code,
                            manager_staff_id=row.manager_staff_id, status=row.status, version=row.version,
                            updated_at=row.updated_at)


def history(session: Session, principal: Principal, household_id: int, *, limit: int, offset: int) -> Page[ChangeView]:
    visible(session, principal, household_id)
    rows, total = households.changes(session, household_id, limit=limit, offset=offset)
    return Page(items=[ChangeView.of(r) for r in rows], total=total, limit=limit, offset=offset)


# ---- Writing -----------------------------------------------------------------------------------------------


def _village_for(session: Session, principal: Principal, code: str) -> Village:
    village = archive_codes.village(session, code)
    assert village is not None  # the form's code check refused unknown villages
    if principal.role != ADMIN and village.branch_code != principal.branch_code:
        raise ProblemError(422, "VILLAGE_OUT_OF_SCOPE", "该行政村不属于您所在的网点", "this village belongs to another branch",
                           "village_code", [field_error("village_code", "VILLAGE_OUT_OF_SCOPE", "该行政村不属于您所在的网点",
                                                       "this village belongs to another branch")])
    return village


def _manager_for(session: Session, principal: Principal, requested: int | None, branch_code: str) -> int | None:
    if principal.role == CUSTOMER_MANAGER:
        if requested not in (None, principal.id):
            raise ProblemError(422, "MANAGER_NOT_SELF", "客户经理建档时管户经理只能是本人,请用移交转给他人",
                               "a customer manager creates archives for themselves; hand over with a transfer",
                               "manager_staff_id")
        return principal.id
    if requested is None:
        return None
    check_manager(session, requested, branch_code, "manager_staff_id")
    return requested


def check_manager(session: Session, staff_id: int, branch_code: str, field: str) -> StaffUser:
    user = staff.get(session, staff_id)
    if user is None or not user.active or user.role != CUSTOMER_MANAGER:
        raise ProblemError(422, "MANAGER_UNKNOWN", "该客户经理不存在或已停用", "no active customer manager with this id", field)
    if user.branch_code != branch_code:
        raise ProblemError(422, "MANAGER_OTHER_BRANCH", "该客户经理不属于档案所在网点",
                           "this customer manager works at another branch", field)
    return user


def _head_resident_id(session: Session, principal: Principal, raw: object) -> str | None:
    """The head's resident ID, read before the form is validated, so a member repeating it is refused too."""
    if not isinstance(raw, dict):
        return None
    head = raw.get("head")
    if isinstance(head, dict) and isinstance(head.get("resident_id"), str):
        try:
            return normalise_resident_id(head["resident_id"])
        except IdProblem:
            return None
    if isinstance(raw.get("customer_id"), int):
        row = customers.visible(session, principal.scope(), raw["customer_id"])
        return row.resident_id if row is not None else None
    return None


def _head(session: Session, principal: Principal, body: HouseholdCreate, village: Village, now: datetime) -> Customer:
    if (body.customer_id is None) == (body.head is None):
        raise ProblemError(422, "HEAD_REQUIRED", "请填写户主:已有客户的customer_id或户主身份信息head(二选一)",
                           "name the head: either customer_id of an existing customer or head with their identity",
                           "head")
    if body.head is not None:
        head = customer_service.find_or_create(session, body.head, branch_code=village.branch_code, now=now,
                                               field="head")
        field = "head.resident_id"
    else:
        assert body.customer_id is not None
        found = customers.visible(session, principal.scope(), body.customer_id)
        if found is None:
            raise ProblemError(422, "CUSTOMER_UNKNOWN", "未找到该客户", "no such customer in your scope", "customer_id")
        head, field = found, "customer_id"
    if head.branch_code != village.branch_code:
        # The archive belongs to the village's branch: its head may not be a customer another branch serves.
        raise ProblemError(422, "CUSTOMER_OTHER_BRANCH", "该客户属于其他网点", "this customer belongs to another branch", field)
    return head


def _items(body: HouseholdCreate | HouseholdUpdate, units: dict[tuple[str, str], str]) -> tuple[
        list[HouseholdMember], list[HouseholdProduction], list[HouseholdFinance]]:
    members = [HouseholdMember(household_id=0, seq=i, relation=m.relation, name=m.name, resident_id=m.resident_id,
                               mobile=m.mobile,
                               birth_date=m.birth_date or (birth_date_of(m.resident_id) if m.resident_id else None),
                               is_labour=m.is_labour, occupation=m.occupation) for i, m in enumerate(body.members)]
    production = [HouseholdProduction(household_id=0, seq=i, kind=p.kind, code=p.code, quantity=p.quantity,
                                      unit=p.unit or units.get((p.kind, p.code), ""), acreage_mu=p.acreage_mu,
                                      annual_revenue=p.annual_revenue) for i, p in enumerate(body.production)]
    finance = [HouseholdFinance(household_id=0, seq=i, category=f.category, kind=f.kind, amount=f.amount, note=f.note)
               for i, f in enumerate(body.finance)]
    return members, production, finance


def _totals(production: list[HouseholdProduction], finance: list[HouseholdFinance]) -> Totals:
    return totals([ProductionFacts(p.kind, p.quantity, p.acreage_mu) for p in production],
                  [FinanceFacts(f.category, f.amount) for f in finance])


def _columns(body: HouseholdCreate | HouseholdUpdate, village: Village, t: Totals) -> dict[str, object]:
    """The household row's columns from the form: aggregates from the items, policy tags from the village."""
    return dict(village_code=village.code, branch_code=village.branch_code, member_count=body.member_count,
                labour_count=body.labour_count, main_business=body.main_business, business_years=body.business_years,
                house_owned=body.house_owned, acreage_mu=t.acreage_mu, livestock_heads=t.livestock_heads,
                annual_income=t.annual_income, annual_expenses=t.annual_expenses, total_assets=t.total_assets,
                total_liabilities=t.total_liabilities, policy_tags=["credit_village"] if village.credit_village else [])


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def snapshot(columns: dict[str, object], members: Sequence[HouseholdMember], production: Sequence[HouseholdProduction],
             finance: Sequence[HouseholdFinance]) -> dict[str, str | None]:
    """The archive as flat field paths -> text: what the change history compares."""
    flat: dict[str, str | None] = {k: _text(v) for k, v in columns.items() if k not in ("policy_tags", "branch_code")}
    for i, m in enumerate(members):
        for key in ("relation", "name", "resident_id", "mobile", "birth_date", "is_labour", "occupation"):
            flat[f"members[{i}].{key}"] = _text(getattr(m, key))
    for i, p in enumerate(production):
        for key in ("kind", "code", "quantity", "unit", "acreage_mu", "annual_revenue"):
            flat[f"production[{i}].{key}"] = _text(getattr(p, key))
    for i, f in enumerate(finance):
        for key in ("category", "kind", "amount", "note"):
            flat[f"finance[{i}].{key}"] = _text(getattr(f, key))
    return flat


def _contact_snapshot(mobile: str, address: str) -> dict[str, str | None]:
    return {"head.mobile": mobile, "head.address": address}


def _stored_snapshot(session: Session, row: Household) -> dict[str, str | None]:
    assert row.id is not None
    columns = {k: getattr(row, k) for k in ("village_code", "member_count", "labour_count", "main_business",
                                            "business_years", "house_owned", "acreage_mu", "livestock_heads",
                                            "annual_income", "annual_expenses", "total_assets", "total_liabilities")}
    return snapshot(columns, households.members(session, row.id), households.production(session, row.id),
                    households.finance(session, row.id))


def record(session: Session, household_id: int, version: int, action: str, principal: Principal, now: datetime,
           changes: Sequence[tuple[str, str | None, str | None]]) -> None:
    """Write history rows; `changes` must already be masked (domain.archive.diff masks personal fields)."""
    actor = None if principal.is_customer else principal.id
    households.add_changes(session, [
        HouseholdChange(household_id=household_id, version=version, action=action, field=path, old_value=old,
                        new_value=new, actor_staff_id=actor, changed_at=now) for path, old, new in changes])


def _units(session: Session) -> dict[tuple[str, str], str]:
    return {(c.kind, c.code): c.unit for c in archive_codes.codes(session)}


def create(session: Session, principal: Principal, raw: object, now: datetime) -> HouseholdView:
    body = parse(HouseholdCreate, raw, today=business_date(now), codes=archive_codes.codebook(session),
                 head_resident_id=_head_resident_id(session, principal, raw))
    village = _village_for(session, principal, body.village_code)
    manager_id = _manager_for(session, principal, body.manager_staff_id, village.branch_code)
    head = _head(session, principal, body, village, now)
    assert head.id is not None
    existing = households.by_customer(session, head.id)
    if existing is not None:
        raise _exists(existing.id)
    members, production, finance = _items(body, _units(session))
    columns = _columns(body, village, _totals(production, finance))
    try:
        row = households.insert(session, customer_id=head.id, manager_staff_id=manager_id, status="draft", version=1,
                                created_at=now, updated_at=now, **columns)
    except IntegrityError as exc:
        session.rollback()  # another collector archived the same head a moment ago
        again = households.by_customer(session, head.id)
        raise _exists(again.id if again else None) from exc
    assert row.id is not None
    households.replace_items(session, row.id, member_rows=members, production_rows=production, finance_rows=finance)
    new = {**snapshot({**columns, "manager_staff_id": manager_id, "status": "draft"}, members, production, finance),
           **_contact_snapshot(head.mobile, head.address)}
    record(session, row.id, 1, "create", principal, now, diff({}, new))
    session.commit()
    return _view(session, row)


def _exists(household_id: int | None) -> ProblemError:
    return ProblemError(409, "HOUSEHOLD_EXISTS", "该户主已建档", "this customer already heads an archive", "customer_id",
                        extra={"household_id": household_id})


def _stale(session: Session, household_id: int) -> ProblemError:
    current = households.get(session, household_id)
    return ProblemError(409, "VERSION_CONFLICT", "档案已被他人修改,请刷新后重试",
                        "the archive changed since you read it; reload and try again", "version",
                        extra={"current_version": current.version if current else None})


def update(session: Session, principal: Principal, household_id: int, raw: object, now: datetime) -> HouseholdView:
    row = editable(session, principal, household_id)
    head = customers.get(session, row.customer_id)
    assert head is not None
    body = parse(HouseholdUpdate, raw, today=business_date(now), codes=archive_codes.codebook(session),
                 head_resident_id=head.resident_id)
    if body.version != row.version:
        raise _stale(session, household_id)
    # A manager's villages are all of their branch, so only an administrator can move an archive to another.
    village = _village_for(session, principal, body.village_code)
    members, production, finance = _items(body, _units(session))
    columns = _columns(body, village, _totals(production, finance))
    contact = {"mobile": head.mobile, "address": head.address}
    if body.head is not None:
        contact = {"mobile": body.head.mobile, "address": body.head.address}
    if contact["mobile"] != head.mobile:
        # The mobile receives the customer's sign-in and signing codes: a manager changing it could sign in as
        # the customer. It changes only through services/mobile_changes.py (verified, decided by a second person).
        raise ProblemError(422, "HEAD_MOBILE_LOCKED", "客户手机号用于登录和签署验证码，不能在档案中修改，请客户本人到网点办理",
                           "the head's mobile receives sign-in and signing codes and cannot be changed through the "
                           "archive", "head.mobile")
    before = {**_stored_snapshot(session, row), **_contact_snapshot(head.mobile, head.address)}
    changes = diff(before, {**snapshot(columns, members, production, finance), **_contact_snapshot(**contact)})
    if not changes:
        return _view(session, row)
    if not households.update_if_version(session, household_id, body.version, updated_at=now, **columns):
        session.rollback()
        raise _stale(session, household_id)
    head = customers.get(session, row.customer_id)
    assert head is not None
    head.mobile, head.address = contact["mobile"], contact["address"]
    session.add(head)
    households.replace_items(session, household_id, member_rows=members, production_rows=production,
                             finance_rows=finance)
    refuse_if_incomplete_archive(session, household_id)
    record(session, household_id, body.version + 1, "edit", principal, now, changes)
    session.commit()
    return get(session, principal, household_id)


def _incomplete(state: Completeness, zh: str, en: str) -> ProblemError:
    missing = [field_error(m.field, "MISSING", f"缺少{m.zh}", f"missing: {m.en}") for m in state.missing if m.required]
    return ProblemError(422, "ARCHIVE_INCOMPLETE", zh, en, missing[0]["field"] if missing else None, missing,
                        extra={"completeness": state.score})


def refuse_if_incomplete_archive(session: Session, household_id: int) -> None:
    """An archived archive stays complete: an edit that would drop a required item is refused (and rolled back)."""
    row = households.get(session, household_id)
    assert row is not None
    if row.status != "archived":
        return
    head = customers.get(session, row.customer_id)
    assert head is not None
    state = completeness_of(session, row, head)
    if not state.submittable:
        session.rollback()
        raise _incomplete(state, "已归档的档案不能缺少必填信息", "an archived archive cannot lose a required item")


def submit(session: Session, principal: Principal, household_id: int, body: VersionIn, now: datetime) -> HouseholdView:
    """Draft -> archived once every required item is present; then `on_archived` runs."""
    row = editable(session, principal, household_id)
    if row.status != "draft":
        raise ProblemError(409, "ALREADY_ARCHIVED", "档案已提交", "the archive is already archived", "status")
    if body.version != row.version:
        raise _stale(session, household_id)
    head = customers.get(session, row.customer_id)
    assert head is not None
    state = completeness_of(session, row, head)
    if not state.submittable:
        raise _incomplete(state, "档案信息不完整,不能提交", "the archive is incomplete and cannot be submitted")
    if not households.update_if_version(session, household_id, body.version, status="archived", archived_at=now,
                                        updated_at=now):
        session.rollback()
        raise _stale(session, household_id)
    record(session, household_id, body.version + 1, "submit", principal, now, [("status", "draft", "archived")])
    session.commit()
    on_archived(session, household_id, now=now)
    return get(session, principal, household_id)


def on_archived(session: Session, household_id: int, *, now: datetime) -> None:
    """Real-time rating (实时评级) of the household's head once the archive is committed as archived. It runs
    after that commit on purpose: a rating that fails never loses the submission, and staff can rate again
    (POST /v1/customers/{id}/rating)."""
    row = households.get(session, household_id)
    assert row is not None
    try:
        rating_service.on_archived(session, row.customer_id, now=now)
        session.commit()
    except Exception:  # noqa: BLE001 — the archive is committed; the rating can be redone, the submission not lost
        session.rollback()
        log.warning("real-time rating after submission failed for household %s", household_id, exc_info=True)


def image_row(session: Session, principal: Principal, household_id: int, image_id: int) -> HouseholdImage:
    visible(session, principal, household_id)
    row = households.image(session, household_id, image_id)
    if row is None:
        raise not_found("IMAGE", "未找到该影像", "image not found", "image_id")
    return row
