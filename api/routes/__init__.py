"""The JSON API under /v1, one router per resource, plus the health probes."""

from __future__ import annotations

from api.routes import (
    applications,
    approvals,
    auth,
    credit_lines,
    customers,
    documents,
    guarantees,
    health,
    loans,
    ops,
    whitelist,
)

ROUTERS = [health.router, auth.router, customers.router, applications.router, approvals.router, guarantees.router,
           documents.router, credit_lines.router, loans.router, ops.router,
           whitelist.router]
