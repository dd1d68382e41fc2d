"""Rating service port: grade, score and credit limit for one customer, with model version and reasons."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from domain.scorecard import RatingFacts, RatingOutcome


class RatingService(Protocol):
    def rate(self, *, facts: RatingFacts, limit_coefficient: Decimal, cap: Decimal,
             grade_factors: dict[str, Decimal] | None = None, asset_weight: Decimal = Decimal("0.3"),
             income_weight: Decimal = Decimal("1.0")) -> RatingOutcome:
        """The limit's factors and weights are the product's (ProductTerms); the defaults are DOMAIN.md's."""
        ...
