"""The services' one boundary to Temporal: start, update and query workflows by name, never by class."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel
from temporalio.client import Client
from temporalio.common import TypedSearchAttributes, WorkflowIDConflictPolicy

T = TypeVar("T")
RPC_TIMEOUT = timedelta(seconds=10)
# Updates may run an activity (signing) before they answer.
UPDATE_TIMEOUT = timedelta(seconds=60)


class TemporalUnavailable(Exception):
    """The Temporal service could not be reached; the API answers 503."""


class WorkflowGateway(Protocol):
    async def start(self, workflow: str, arg: BaseModel, *, id: str, search_attributes: TypedSearchAttributes) -> None:
        """Start the workflow, or attach to the running one with the same id."""
        ...

    async def update(self, workflow_id: str, update: str, arg: BaseModel, *, result_type: type[T],
                     update_id: str | None = None) -> T:
        """Run an update to completion; validator refusals raise WorkflowUpdateFailedError."""
        ...

    async def query(self, workflow_id: str, query: str, *, result_type: type[T]) -> T:
        ...

    async def ping(self) -> None:
        """Raise TemporalUnavailable unless the frontend answers a health check."""
        ...


async def _reachable(call: Awaitable[Any]) -> Any:
    try:
        return await call
    except RuntimeError as exc:
        # The SDK reports a failed (lazy) connect as a bare RuntimeError.
        if "connect" in str(exc).lower():
            raise TemporalUnavailable(str(exc)) from exc
        raise


class TemporalGateway:
    def __init__(self, client: Client, *, task_queue: str) -> None:
        self._client = client
        self._task_queue = task_queue

    async def start(self, workflow: str, arg: BaseModel, *, id: str, search_attributes: TypedSearchAttributes) -> None:
        await _reachable(self._client.start_workflow(
            workflow, arg, id=id, task_queue=self._task_queue, search_attributes=search_attributes,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING, rpc_timeout=RPC_TIMEOUT))

    async def update(self, workflow_id: str, update: str, arg: BaseModel, *, result_type: type[T],
                     update_id: str | None = None) -> T:
        handle = self._client.get_workflow_handle(workflow_id)
        return await _reachable(handle.execute_update(update, arg, id=update_id, result_type=result_type,
                                                      rpc_timeout=UPDATE_TIMEOUT))

    async def query(self, workflow_id: str, query: str, *, result_type: type[T]) -> T:
        handle = self._client.get_workflow_handle(workflow_id)
        return await _reachable(handle.query(query, result_type=result_type, rpc_timeout=RPC_TIMEOUT))

    async def ping(self) -> None:
        healthy = await _reachable(self._client.service_client.check_health(timeout=RPC_TIMEOUT))
        if not healthy:
            raise TemporalUnavailable("health check answered not serving")
