"""The JSON API under /v1, one router per resource, plus the health probes."""

from __future__ import annotations

from api.routes import (
    applications,
    approvals,
    auth,
    ca,
    credit_lines,
    customers,
    documents,
    guarantees,
    health,
    households,
    loans,
    lpr,
    ops,
    products,
    ratings,
    reminders,
    rules,
    whitelist,
)

ROUTERS = [health.router, auth.router, customers.router, customers.changes, applications.router, approvals.router, guarantees.router,
           documents.router, ca.router, credit_lines.router, loans.router, ops.router,
           rules.router, lpr.router, lpr.price_router, products.router, whitelist.router,
           households.router, reminders.router, ratings.router]
