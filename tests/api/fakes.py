"""A stand-in for services.gateway.WorkflowGateway: records calls, answers or raises as a test arranges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from temporalio.common import TypedSearchAttributes

from services.gateway import TemporalUnavailable
from workflows.messages import ApplicationState, DrawdownAccepted, GuarantorState


@dataclass
class Call:
    workflow_id: str
    name: str
    arg: BaseModel | None
    update_id: str | None = None
    search_attributes: TypedSearchAttributes | None = None


def _default(result_type: type, workflow_id: str, arg: Any) -> Any:
    if result_type is ApplicationState:
        return ApplicationState(app_no=workflow_id.removeprefix("loan-app-"), stage="accepting", status="open")
    if result_type is GuarantorState:
        return GuarantorState(slot=1, attempt=1, status="consented")
    if result_type is DrawdownAccepted:
        return DrawdownAccepted(note_no="LN000001", workflow_id="drawdown-LN000001")
    raise AssertionError(f"no default answer for {result_type}")


@dataclass
class FakeWorkflows:
    starts: list[Call] = field(default_factory=list)
    updates: list[Call] = field(default_factory=list)
    queries: list[Call] = field(default_factory=list)
    # What the next calls raise or answer, by update/query name; a start failure applies to every start.
    start_error: BaseException | None = None
    update_outcomes: dict[str, Any] = field(default_factory=dict)
    query_outcomes: dict[str, Any] = field(default_factory=dict)
    reachable: bool = True

    async def start(self, workflow: str, arg: BaseModel, *, id: str, search_attributes: TypedSearchAttributes) -> None:
        self.starts.append(Call(id, workflow, arg, search_attributes=search_attributes))
        if self.start_error is not None:
            raise self.start_error

    async def update(self, workflow_id: str, update: str, arg: BaseModel, *, result_type: type,
                     update_id: str | None = None) -> Any:
        self.updates.append(Call(workflow_id, update, arg, update_id=update_id))
        outcome = self.update_outcomes.get(update)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome if outcome is not None else _default(result_type, workflow_id, arg)

    async def query(self, workflow_id: str, query: str, *, result_type: type) -> Any:
        self.queries.append(Call(workflow_id, query, None))
        outcome = self.query_outcomes.get(query)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome if outcome is not None else _default(result_type, workflow_id, None)

    async def ping(self) -> None:
        if not self.reachable:
            raise TemporalUnavailable("fake: down")
