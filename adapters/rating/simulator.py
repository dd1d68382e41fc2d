"""Rating service simulator behind adapters.rating.port: the spine scorecard with latency and outages."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

from adapters.errors import AdapterUnavailable
from domain import scorecard
from domain.scorecard import RatingFacts, RatingOutcome


class RatingSimulator:
    """Stateless like the real service, so its faults are an in-memory counter rather than a table."""

    def __init__(self, latency_s: float = 0.0) -> None:
        if latency_s < 0:
            raise ValueError("latency_s must be >= 0")
        self.latency_s = latency_s
        self._outages = 0
        self._lock = threading.Lock()

    def rate(self, *, facts: RatingFacts, limit_coefficient: Decimal, cap: Decimal,
             grade_factors: dict[str, Decimal] | None = None, asset_weight: Decimal = Decimal("0.3"),
             income_weight: Decimal = Decimal("1.0")) -> RatingOutcome:
        if self.latency_s:
            time.sleep(self.latency_s)
        with self._lock:
            down = self._outages > 0
            if down:
                self._outages -= 1
        if down:
            raise AdapterUnavailable("rating service did not answer rate (injected fault)")
        return scorecard.rate(facts, limit_coefficient, cap, grade_factors=grade_factors, asset_weight=asset_weight,
                              income_weight=income_weight)

    def inject_fault(self, *, kind: str = "unavailable", times: int = 1) -> None:
        if kind != "unavailable":
            raise ValueError(f"the rating simulator only fails as 'unavailable', not {kind!r}")
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._outages += times

    def clear_faults(self) -> None:
        with self._lock:
            self._outages = 0
