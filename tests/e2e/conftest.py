"""The product as it runs: API (uvicorn) and worker as separate processes, a Temporal dev server, a
PostgreSQL database migrated by Alembic and seeded with the demo data; tests talk HTTP only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cli.migrate import upgrade
from db.engine import make_engine
from db.seed import seed_demo

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def e2e_db(pg_url: str) -> Iterator[str]:
    """Its own database, built by the migrations (not create_all) and seeded like `nongedai up` does."""
    admin = make_url(pg_url)
    name = f"nongedai_e2e_{uuid.uuid4().hex[:8]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name).render_as_string(hide_password=False)
    upgrade(url, quiet=True)
    engine = make_engine(url)
    with engine.begin() as conn:
        # Workflow ids come from application numbers, and this database shares the Temporal server with
        # the session's: number its applications far from the ones the other tests make.
        conn.execute(text("ALTER SEQUENCE loan_application_id_seq RESTART WITH 800001"))
    seed_demo(engine, now=datetime.now(UTC))
    engine.dispose()
    yield url
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


@pytest.fixture(scope="session")
def product_stack(dev_env, e2e_db: str, tmp_path_factory) -> Iterator[str]:
    """Start worker and API against the dev server; yield the API's base URL."""
    port = _free_port()
    env = {**os.environ, "NONGEDAI_ENV": "test", "DATABASE_URL": e2e_db, "NONGEDAI_OTP_ECHO": "true",
           "NONGEDAI_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
           "NONGEDAI_TASK_QUEUE": f"e2e-{uuid.uuid4().hex[:8]}",
           "NONGEDAI_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    logs = tmp_path_factory.mktemp("e2e")
    procs = [
        subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env,
                         stdout=(logs / "worker.log").open("wb"), stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1",
                          "--port", str(port), "--no-access-log"], cwd=ROOT, env=env,
                         stdout=(logs / "api.log").open("wb"), stderr=subprocess.STDOUT),
    ]
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as r:  # noqa: S310 - loopback
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError("API/worker did not come up:\n" + (logs / "api.log").read_text()[-3000:]
                                   + (logs / "worker.log").read_text()[-3000:])
            time.sleep(0.3)
        yield base
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
