"""Readiness: can this process reach its database and Temporal right now?"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.blocking import in_thread
from services.gateway import WorkflowGateway

log = logging.getLogger(__name__)
TIMEOUT_S = 3.0


def _database(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def check(engine: Engine, workflows: WorkflowGateway) -> dict[str, str]:
    """'ok' or the failure's type for each dependency; the caller answers 503 unless all are ok."""
    results: dict[str, str] = {}
    for name, probe in (("database", in_thread(_database, engine)), ("temporal", workflows.ping())):
        try:
            await asyncio.wait_for(probe, TIMEOUT_S)
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure instead of raising it
            log.warning("readiness: %s not reachable (%s)", name, type(exc).__name__)
            results[name] = type(exc).__name__
    return results
