"""The simulator under test, on PostgreSQL and on SQLite: whatever a test did, the ledger balances after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from adapters.core_banking.simulator import CoreBankingSimulator


@pytest.fixture
def cbs(db_engine: Engine) -> Iterator[CoreBankingSimulator]:
    sim = CoreBankingSimulator(db_engine)
    sim.clear_faults()
    yield sim
    sim.clear_faults()
    assert sim.trial_balance() == 0
