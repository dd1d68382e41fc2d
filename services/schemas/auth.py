"""Login bodies and the token answer."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.fields import Mobile, OtpCode, ResidentId
from services.schemas.common import RequestModel


class StaffLoginIn(RequestModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class OtpRequestIn(RequestModel):
    mobile: Mobile
    resident_id: ResidentId | None = Field(default=None, description="needed only when family members share the number")


class OtpVerifyIn(RequestModel):
    mobile: Mobile
    code: OtpCode
    resident_id: ResidentId | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds")
    role: str
    branch_code: str | None = None
