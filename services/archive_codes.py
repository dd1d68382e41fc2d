"""The archive form's code tables as staff read them: villages of their branch, production codes, finance kinds."""

from __future__ import annotations

from sqlmodel import Session

from db.repositories import archive_codes
from domain.archive import FINANCE_KINDS, IMAGE_KINDS, MAIN_BUSINESS, RELATIONS
from services.principal import ALL_BRANCH_ROLES, Principal
from services.schemas.households import CodeTables, CodeView, VillageView


def villages(session: Session, principal: Principal) -> list[VillageView]:
    branch = None if principal.role in ALL_BRANCH_ROLES else principal.branch_code
    return [VillageView.model_validate(v, from_attributes=True) for v in archive_codes.villages(session, branch)]


def code_tables(session: Session) -> CodeTables:
    return CodeTables(production=[CodeView.model_validate(c, from_attributes=True) for c in archive_codes.codes(session)],
                      finance={k: dict(v) for k, v in FINANCE_KINDS.items()}, relations=dict(RELATIONS),
                      main_business=dict(MAIN_BUSINESS), image_kinds=dict(IMAGE_KINDS))
