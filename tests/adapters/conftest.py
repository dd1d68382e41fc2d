"""Simulator fixtures: every database-backed simulator test runs on PostgreSQL and on SQLite (`nongedai up`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from db.engine import make_engine
from db.metadata import metadata


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('simulators') / 'sim.db'}")
    metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def db_engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue("engine" if request.param == "postgresql" else "sqlite_engine")
