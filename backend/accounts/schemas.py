"""What the accounts API speaks."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from backend.accounts.tables import Role


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    device_id: str | None = Field(
        default=None,
        max_length=64,
        description="the tablet's stable id; the refresh credential is bound to it",
    )
    device_name: str = Field(default="", max_length=128)


class UserInfo(BaseModel):
    id: UUID
    username: str
    display_name: str
    role: Role
    role_label: str
    region_code: str | None = None
    region_name: str | None = None
    institution_id: UUID | None = None
    institution_code: str | None = None
    institution_name: str | None = None


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str | None = Field(
        default=None,
        description="only at login: keep it on the device, send it to /api/auth/refresh",
    )
    refresh_expires_at: datetime | None = None
    device_id: str
    session_id: UUID
    user: UserInfo


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=16, max_length=128)
    device_id: str = Field(min_length=1, max_length=64)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    role: Role
    region_code: str | None = None
    institution_code: str | None = None
    display_name: str = Field(default="", max_length=64)
    enforcement_cert_no: str = Field(default="", max_length=32, description="执法证号")


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    region_code: str | None = None
    institution_code: str | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)
    unlock: bool = False
    display_name: str | None = Field(default=None, max_length=64)
    enforcement_cert_no: str | None = Field(default=None, max_length=32, description="执法证号")


class UserOut(BaseModel):
    id: UUID
    username: str
    display_name: str
    role: Role
    is_active: bool
    locked_until: datetime | None = None
    locked: bool = False
    last_login_at: datetime | None = None
    region_code: str | None = None
    region_name: str | None = None
    institution_code: str | None = None
    institution_name: str | None = None
    enforcement_cert_no: str = Field(default="", description="执法证号")


class SessionOut(BaseModel):
    id: UUID
    username: str
    device_id: str
    device_name: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None


class RevokeResult(BaseModel):
    revoked: int
