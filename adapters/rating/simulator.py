"""Rating service simulator behind adapters.rating.port: the in-project rating engines (services.ratings,
the same code the staff API's "rate now" runs) in their own short transaction, with latency and outages.

A real deployment would reach the rating system over the network; this stands in for it with the same
answers, recorded in the same tables, so what a loan's review saw can be read back and explained.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy.engine import Engine

from adapters.errors import AdapterUnavailable
from db.engine import session_scope
from domain.products import ProductTerms
from domain.scorecard import RatingOutcome
from services.ratings import rate_customer


class RatingSimulator:
    """Its faults are an in-memory counter: the real service keeps no state a fault could live in."""

    def __init__(self, engine: Engine, latency_s: float = 0.0) -> None:
        if latency_s < 0:
            raise ValueError("latency_s must be >= 0")
        self._engine = engine
        self.latency_s = latency_s
        self._outages = 0
        self._lock = threading.Lock()

    def rate(self, *, customer_id: int, product: ProductTerms, guarantee_type: str, request_key: str,
             application_id: int | None = None) -> RatingOutcome:
        if self.latency_s:
            time.sleep(self.latency_s)
        with self._lock:
            down = self._outages > 0
            if down:
                self._outages -= 1
        if down:
            raise AdapterUnavailable("rating service did not answer rate (injected fault)")
        with session_scope(self._engine) as session:
            _, outcome = rate_customer(session, customer_id, terms=product, guarantee_type=guarantee_type,
                                       application_id=application_id, request_key=request_key)
        return outcome

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
