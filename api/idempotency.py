"""The Idempotency-Key dependency: run a route's work once per (caller, key) and replay its answer."""

# Status codes follow the IETF idempotency-key draft: a missing required key is 400, a key reused with
# another body 422, a duplicate still in flight 409. The key also becomes the Temporal update id, so a
# retried update is deduplicated by the workflow as well.

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import CurrentUser, EngineDep
from api.errors import MEDIA_TYPE, problem_for
from services import idempotency
from services.blocking import in_thread
from services.clock import utcnow
from services.errors import ProblemError

_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")

Action = Callable[[dict[str, Any] | None], Awaitable[BaseModel]]


class Idempotency:
    def __init__(self, request: Request, user: CurrentUser, engine: EngineDep,
                 key: Annotated[str | None, Header(alias=idempotency.HEADER,
                                                   description="a unique key per operation; retries reuse it")] = None):
        if key is not None and not _KEY.match(key):
            raise ProblemError(422, "IDEMPOTENCY_KEY_FORMAT", "幂等键须为1至128个可见ASCII字符",
                               "the Idempotency-Key is 1-128 visible ASCII characters", idempotency.HEADER)
        self._request, self._user, self._engine, self.key = request, user, engine, key

    @property
    def update_id(self) -> str | None:
        return f"{self._user.subject}:{self.key}" if self.key else None

    async def run(self, payload: BaseModel | None, action: Action, *, status_code: int = 200,
                  required: bool = False) -> JSONResponse:
        if self.key is None:
            if required:
                raise ProblemError(400, "IDEMPOTENCY_KEY_REQUIRED", "此操作须带幂等键(Idempotency-Key)请求头",
                                   "this operation needs an Idempotency-Key header", idempotency.HEADER)
            return JSONResponse((await action(None)).model_dump(mode="json"), status_code=status_code)
        scope = {"principal": self._user.subject, "key": self.key}
        digest = idempotency.request_hash(self._request.method, self._request.url.path,
                                          payload.model_dump(mode="json") if payload is not None else None)
        outcome = await in_thread(idempotency.begin, self._engine, method=self._request.method,
                                  path=self._request.url.path, digest=digest, now=utcnow(), **scope)
        if isinstance(outcome, idempotency.Replay):
            media = MEDIA_TYPE if outcome.status_code >= 400 else "application/json"
            return JSONResponse(outcome.body, status_code=outcome.status_code, media_type=media,
                                headers={"Idempotent-Replayed": "true"})
        try:
            result = await action(outcome.prior)
        except Exception as exc:
            problem = problem_for(exc)
            if problem is None:
                await in_thread(idempotency.abandon, self._engine, **scope)
                raise
            await in_thread(idempotency.finish, self._engine, status_code=problem.status, body=problem.body(), **scope)
            if problem is exc:
                raise
            raise problem from exc
        body = result.model_dump(mode="json")
        await in_thread(idempotency.finish, self._engine, status_code=status_code, body=body, **scope)
        return JSONResponse(body, status_code=status_code)


IdempotencyDep = Annotated[Idempotency, Depends(Idempotency)]
