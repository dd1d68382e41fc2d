"""Login: staff with a password, customers with an SMS code."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep, SettingsDep, SmsDep, ThrottleDep
from api.errors import responses
from services import auth
from services.clock import utcnow
from services.schemas.auth import OtpRequestIn, OtpVerifyIn, StaffLoginIn, TokenOut
from services.schemas.common import CodeSent

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/staff/login", response_model=TokenOut, responses=responses())
def staff_login(body: StaffLoginIn, session: SessionDep, settings: SettingsDep) -> TokenOut:
    return auth.staff_login(session, settings, body, utcnow())


@router.post("/otp", status_code=202, response_model=CodeSent, response_model_exclude_none=True,
             responses=responses(429, 503))
def request_otp(body: OtpRequestIn, session: SessionDep, settings: SettingsDep, sms: SmsDep,
                throttle: ThrottleDep) -> CodeSent:
    """Text a login code. An unknown number gets the same 202, so registration cannot be probed."""
    return auth.request_login_code(session, settings, sms, throttle, body, utcnow())


@router.post("/otp/verify", response_model=TokenOut, responses=responses(429))
def verify_otp(body: OtpVerifyIn, session: SessionDep, settings: SettingsDep) -> TokenOut:
    return auth.verify_login_code(session, settings, body, utcnow())
