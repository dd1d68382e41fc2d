"""Liveness (/healthz: the process answers) and readiness (/readyz: database and Temporal reachable)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import EngineDep, WorkflowsDep
from services import health

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(engine: EngineDep, workflows: WorkflowsDep) -> JSONResponse:
    checks = await health.check(engine, workflows)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not_ready", **checks}, status_code=200 if ready else 503)
