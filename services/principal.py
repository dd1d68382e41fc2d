"""Who is calling: a staff user or a customer, their role, branch, and the rows they may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from db.repositories.scope import EVERYTHING, Scope

CUSTOMER = "customer"
CUSTOMER_MANAGER = "customer_manager"
APPROVER = "approver"
OPS = "ops"
ADMIN = "admin"
STAFF_ROLES = frozenset({CUSTOMER_MANAGER, APPROVER, OPS, ADMIN})
ALL_BRANCH_ROLES = frozenset({OPS, ADMIN})


@dataclass(frozen=True)
class Principal:
    kind: Literal["staff", "customer"]
    id: int
    role: str
    branch_code: str | None = None

    @property
    def subject(self) -> str:
        """The token subject, also the idempotency principal and the actor written to history."""
        return f"{self.kind}:{self.id}"

    @property
    def is_customer(self) -> bool:
        return self.kind == "customer"

    def sees_branch(self, branch_code: str) -> bool:
        """Staff see their own branch's requests and records; ops and admins every branch's."""
        return self.role in ALL_BRANCH_ROLES or branch_code == self.branch_code

    def scope(self) -> Scope:
        if self.is_customer:
            return Scope(customer_id=self.id)
        if self.role in ALL_BRANCH_ROLES:
            return EVERYTHING
        assignee = f"approver@{self.branch_code}" if self.role == APPROVER else None
        return Scope(branch_code=self.branch_code, assignee=assignee)
