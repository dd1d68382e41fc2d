"""Rating service port: grade, score and credit limit for one customer, with model version and reasons."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from domain.scorecard import RatingFacts, RatingOutcome


class RatingService(Protocol):
    def rate(self, *, facts: RatingFacts, limit_coefficient: Decimal, cap: Decimal) -> RatingOutcome:
        ...
