"""Shared simulator parts: aware UTC timestamps on both databases and validation of injected faults."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from adapters.simkit import SimulatedLink, utcnow
from adapters.sms.tables import SmsFault
from db.engine import session_scope


def test_timestamps_come_back_aware_utc_whatever_zone_went_in(db_engine: Engine) -> None:
    beijing = timezone(timedelta(hours=8))
    at = datetime(2025, 6, 1, 9, 30, tzinfo=beijing)
    with session_scope(db_engine) as session:
        row = SmsFault(operation="send", kind="unavailable", remaining=0, created_at=at)
        session.add(row)
    with Session(db_engine) as session:
        stored = session.get(SmsFault, row.id)
        assert stored is not None
        assert stored.created_at == at and stored.created_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(db_engine: Engine) -> None:
    with pytest.raises(Exception, match="naive"), session_scope(db_engine) as session:
        session.add(SmsFault(operation="send", kind="unavailable", remaining=0,
                             created_at=utcnow().replace(tzinfo=None)))


@pytest.mark.parametrize("kwargs", [
    {"operation": "send", "kind": "refuse:lowercase"},
    {"operation": "send", "kind": "timeout"},
    {"operation": "send", "kind": "unavailable", "times": 0},
    {"operation": "nope", "kind": "unavailable"},
])
def test_bad_fault_injections_are_rejected(db_engine: Engine, kwargs: dict) -> None:
    link = SimulatedLink(db_engine, system="test", fault_table=SmsFault, operations=frozenset({"send"}))
    with pytest.raises(ValueError):
        link.inject_fault(**kwargs)


def test_negative_latency_is_rejected(db_engine: Engine) -> None:
    with pytest.raises(ValueError):
        SimulatedLink(db_engine, system="test", fault_table=SmsFault, operations=frozenset(), latency_s=-1)
