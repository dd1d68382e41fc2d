"""Idempotency-Key records: the first answer to a (principal, key) is stored and replayed to retries."""

# A stored 5xx answer is not final: a retry re-runs the work and is handed that answer as `prior`
# (creating an application uses it to re-attempt the start of the workflow it already recorded).

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from db.engine import session_scope
from db.repositories import idempotency
from services.errors import ProblemError

# A claim older than this with no answer belongs to a request that died; a retry may take it over.
ABANDONED_AFTER = timedelta(minutes=5)
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Proceed:
    prior: dict[str, Any] | None = None


def request_hash(method: str, path: str, payload: Any) -> str:
    canonical = json.dumps([method, path, payload], sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _in_flight() -> ProblemError:
    return ProblemError(409, "IDEMPOTENCY_IN_FLIGHT", "相同幂等键的请求正在处理中,请稍后查询结果",
                        "a request with this Idempotency-Key is still being processed", HEADER,
                        headers={"Retry-After": "2"})


def begin(engine: Engine, *, principal: str, key: str, method: str, path: str, digest: str,
          now: datetime) -> Replay | Proceed:
    with session_scope(engine) as session:
        row, created = idempotency.claim(session, principal=principal, key=key, method=method, path=path,
                                         request_hash=digest, now=now)
        if created:
            return Proceed()
        if row.request_hash != digest:
            raise ProblemError(422, "IDEMPOTENCY_KEY_REUSED", "该幂等键已用于另一个请求",
                               "this Idempotency-Key was used for a different request", HEADER)
        if row.status_code is None:
            if now - row.created_at < ABANDONED_AFTER:
                raise _in_flight()
            if not idempotency.retake(session, principal=principal, key=key, status_code=None,
                                      created_at=row.created_at, now=now):
                raise _in_flight()
            return Proceed()
        if row.status_code >= 500:
            prior = row.response
            if not idempotency.retake(session, principal=principal, key=key, status_code=row.status_code,
                                      created_at=row.created_at, now=now):
                raise _in_flight()
            return Proceed(prior=prior)
        return Replay(status_code=row.status_code, body=row.response or {})


def finish(engine: Engine, *, principal: str, key: str, status_code: int, body: dict[str, Any]) -> None:
    with session_scope(engine) as session:
        idempotency.complete(session, principal=principal, key=key, status_code=status_code, response=body)


def abandon(engine: Engine, *, principal: str, key: str) -> None:
    """Forget the claim after an unexpected error, so a retry runs the work afresh."""
    with session_scope(engine) as session:
        idempotency.release(session, principal=principal, key=key)
