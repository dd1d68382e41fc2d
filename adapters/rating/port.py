"""Rating service port: the customer rating system (客户评级系统) rates one customer in real time — contribution
stars, the credit scorecard behind its pre-filters, the credit limit for a product with its breakdown — records
the rating and answers with grade, score, limit, model versions, reason codes, stars and policy tags.

The caller names the customer, not their data: the rating system reads the archive itself. `request_key`
makes a retried call idempotent (the same key returns the same rating, recorded once).
"""

from __future__ import annotations

from typing import Protocol

from domain.products import ProductTerms
from domain.scorecard import RatingOutcome


class RatingService(Protocol):
    def rate(self, *, customer_id: int, product: ProductTerms, guarantee_type: str, request_key: str,
             application_id: int | None = None) -> RatingOutcome:
        ...
