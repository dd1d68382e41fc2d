"""Running the real worker wiring against a test Temporal server, and waiting on workflow state."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.worker import Worker

from config.settings import Settings
from worker import Adapters, activities_for, make_worker, simulators
from workflows import names
from workflows.messages import SignInput


@asynccontextmanager
async def running_worker(client: Client, engine: Engine, settings: Settings, *, adapters: Adapters | None = None,
                         replace: dict[str, Any] | None = None) -> AsyncIterator[tuple[str, Adapters]]:
    """A worker on a fresh task queue. `replace` swaps activities by name (to inject a failing step)."""
    adapters = adapters or simulators(engine, settings)
    acts = activities_for(engine, adapters, settings)
    if replace:
        acts = [a for a in acts if a.__temporal_activity_definition.name not in replace] + list(replace.values())
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker: Worker = make_worker(client, queue, acts, threads=8, workflow_failure_exception_types=[Exception])
    try:
        async with worker:
            yield queue, adapters
    finally:
        adapters.renderer.close()


async def until(check: Callable[[], Any], *, timeout: float = 30.0, every: float = 0.1) -> Any:
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        try:
            last = check()
            if asyncio.iscoroutine(last):
                last = await last
        except RPCError as err:  # e.g. a child workflow that has not started yet
            last = err
        else:
            if last:
                return last
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


async def until_stage(handle: WorkflowHandle, *stages: str, timeout: float = 30.0) -> Any:
    seen: list[Any] = []

    async def check() -> Any:
        state = await handle.query(names.QUERY_STATE)
        seen[:] = [state]
        return state if state["stage"] in stages else None
    try:
        return await until(check, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"{handle.id} never reached {stages}; last state {seen}") from None


async def has_contract(guarantor_handle: WorkflowHandle) -> bool:
    """The guarantor workflow has been told its guarantee contract is ready to sign."""
    return (await guarantor_handle.query(names.QUERY_STATE))["document_id"] is not None


async def sign_note(client: Client, accepted: Any, *, otp_ref: str = "otp-note") -> Any:
    """The borrower signs a drawdown's note (借据) once it waits for them, as POST /v1/documents/{no}/sign does."""
    handle = client.get_workflow_handle(accepted.workflow_id)

    async def awaiting() -> Any:
        state = await handle.query(names.QUERY_STATE)
        return state if state["stage"] == "awaiting_signature" else None
    state = await until(awaiting)
    return await handle.execute_update(names.UPDATE_SIGN_NOTE, SignInput(
        document_id=state["note_document_id"], signer_customer_id=state["borrower_customer_id"], otp_ref=otp_ref))
