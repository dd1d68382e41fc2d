"""What a caller may see: everything, one branch (plus its approval queue), or one customer's own rows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    branch_code: str | None = None
    customer_id: int | None = None
    # Approvers also see applications escalated to their branch's queue from other branches.
    assignee: str | None = None

    @property
    def everything(self) -> bool:
        return self.branch_code is None and self.customer_id is None


EVERYTHING = Scope()
