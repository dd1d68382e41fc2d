"""Dependencies as Annotated aliases: the runtime's parts, a DB session, the caller and role checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from adapters.ca.port import SignatureAuthority
from adapters.imaging.port import ImageStore
from adapters.sms.port import SmsGateway
from api.runtime import Runtime
from config.settings import Settings
from services import auth, tokens
from services.errors import ProblemError
from services.gateway import WorkflowGateway
from services.ops import Ledger, Outbox
from services.principal import ADMIN, APPROVER, CUSTOMER, CUSTOMER_MANAGER, OPS, STAFF_ROLES, Principal
from services.throttle import Throttle


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


def get_engine(runtime: RuntimeDep) -> Engine:
    return runtime.engine


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    # Services commit what they mean to keep; anything left uncommitted is rolled back on close.
    with Session(runtime.engine, expire_on_commit=False) as session:
        yield session


def get_workflows(runtime: RuntimeDep) -> WorkflowGateway:
    return runtime.workflows


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
WorkflowsDep = Annotated[WorkflowGateway, Depends(get_workflows)]


def get_sms(runtime: RuntimeDep) -> SmsGateway:
    return runtime.sms


def get_outbox(runtime: RuntimeDep) -> Outbox:
    return runtime.outbox


def get_imaging(runtime: RuntimeDep) -> ImageStore:
    return runtime.imaging


def get_ca(runtime: RuntimeDep) -> SignatureAuthority:
    return runtime.ca


def get_ledger(runtime: RuntimeDep) -> Ledger:
    return runtime.ledger


def get_otp_throttle(runtime: RuntimeDep) -> Throttle:
    return runtime.otp_throttle


SmsDep = Annotated[SmsGateway, Depends(get_sms)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
ImagingDep = Annotated[ImageStore, Depends(get_imaging)]
LedgerDep = Annotated[Ledger, Depends(get_ledger)]
CaDep = Annotated[SignatureAuthority, Depends(get_ca)]
ThrottleDep = Annotated[Throttle, Depends(get_otp_throttle)]

_bearer = HTTPBearer(auto_error=False, description="access_token from /v1/auth/staff/login or /v1/auth/otp/verify")


def get_current_user(settings: SettingsDep, engine: Annotated[Engine, Depends(get_engine)],
                     credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    if credentials is None:
        raise ProblemError(401, "NOT_AUTHENTICATED", "请先登录", "a bearer token is required", "Authorization",
                           headers={"WWW-Authenticate": "Bearer"})
    principal, issued_at = tokens.read_issued(settings, credentials.credentials)
    if principal.is_customer:
        # A token issued to a number the customer has since given up (a lost phone) stops working.
        if not auth.customer_token_current(engine, principal.id, issued_at):
            raise ProblemError(401, "TOKEN_REVOKED", "手机号已变更,请用新手机号重新登录",
                               "the customer's mobile changed since this token was issued; sign in again",
                               "Authorization", headers={"WWW-Authenticate": "Bearer"})
    else:
        # A token outlives a deactivation by hours: staff accounts are checked on every request.
        if not auth.staff_is_active(engine, principal.id):
            raise ProblemError(401, "STAFF_INACTIVE", "账号已停用,请联系管理员", "this staff account is not active",
                               "Authorization", headers={"WWW-Authenticate": "Bearer"})
    return principal


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def require_role(*roles: str) -> Callable[[Principal], Principal]:
    allowed = frozenset(roles)

    def check(user: CurrentUser) -> Principal:
        if user.role not in allowed:
            raise ProblemError(403, "ROLE_FORBIDDEN", "您的岗位无权执行此操作",
                               f"this needs one of the roles: {', '.join(sorted(allowed))}")
        return user

    return check


CustomerUser = Annotated[Principal, Depends(require_role(CUSTOMER))]
ManagerOrCustomer = Annotated[Principal, Depends(require_role(CUSTOMER, CUSTOMER_MANAGER))]
ManagerUser = Annotated[Principal, Depends(require_role(CUSTOMER_MANAGER))]
ApproverUser = Annotated[Principal, Depends(require_role(APPROVER))]
StaffMember = Annotated[Principal, Depends(require_role(*STAFF_ROLES))]
CustomerAdmin = Annotated[Principal, Depends(require_role(CUSTOMER_MANAGER, ADMIN))]
OpsUser = Annotated[Principal, Depends(require_role(OPS, ADMIN))]
# Rules management: ops or an administrator upload (maker); only another administrator activates (checker).
RulesMaker = Annotated[Principal, Depends(require_role(OPS, ADMIN))]
RulesChecker = Annotated[Principal, Depends(require_role(ADMIN))]
