"""Access tokens: HS256 JWTs signed with settings.jwt_secret, carrying subject, role and branch only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from config.settings import Settings
from services.errors import ProblemError
from services.principal import STAFF_ROLES, Principal

ALGORITHM = "HS256"


def issue(settings: Settings, principal: Principal, now: datetime) -> str:
    claims = {"sub": principal.subject, "role": principal.role, "branch": principal.branch_code,
              "iat": now, "exp": now + timedelta(minutes=settings.jwt_ttl_minutes)}
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def _unauthorised(code: str, zh: str, en: str) -> ProblemError:
    return ProblemError(401, code, zh, en, "Authorization", headers={"WWW-Authenticate": "Bearer"})


def read(settings: Settings, token: str) -> Principal:
    return read_issued(settings, token)[0]


def read_issued(settings: Settings, token: str) -> tuple[Principal, datetime]:
    """The token's principal and when it was issued (its `iat`, to the second), from one decode."""
    try:
        claims = jwt.decode(token, settings.jwt_secret, algorithms=[ALGORITHM],
                            options={"require": ["sub", "role", "exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorised("TOKEN_EXPIRED", "登录已过期,请重新登录", "the token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise _unauthorised("TOKEN_INVALID", "登录凭证无效", "the token is not valid") from exc
    kind, _, raw_id = str(claims["sub"]).partition(":")
    role = claims["role"]
    valid = raw_id.isdigit() and ((kind == "customer" and role == "customer") or (kind == "staff" and role in STAFF_ROLES))
    if not valid:
        raise _unauthorised("TOKEN_INVALID", "登录凭证无效", "the token is not valid")
    principal = Principal(kind=kind, id=int(raw_id), role=role, branch_code=claims.get("branch"))  # type: ignore[arg-type]
    return principal, datetime.fromtimestamp(int(claims.get("iat", 0)), UTC)
