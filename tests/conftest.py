"""Shared fixtures: a fresh PostgreSQL database per test session, and Temporal test environments.

Each pytest session creates its own database (so parallel runs never collide) from DATABASE_URL
(default: the local server at 127.0.0.1:5432), builds the schema with Alembic's migrations, and drops
the database at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from db.engine import make_engine
from db.metadata import metadata

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _admin_url() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_PG
    if not url.startswith("postgresql"):
        raise RuntimeError("tests need PostgreSQL: set DATABASE_URL=postgresql+psycopg://...")
    return url


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    admin = make_url(_admin_url())
    name = f"nongedai_t_{uuid.uuid4().hex[:10]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.fixture(scope="session")
def engine(pg_url: str) -> Iterator[Engine]:
    eng = make_engine(pg_url)
    metadata.create_all(eng)
    yield eng
    eng.dispose()
