"""Pydantic shapes of users, tokens and sessions at the front doors (never a secret's digest)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["admin", "manager", "agent", "read_only"]
Locale = Literal["en", "zh-Hans"]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    role: str
    locale: str
    is_active: bool
    created_at: datetime
    deactivated_at: datetime | None = None
    absent: bool = False
    absent_until: datetime | None = None


class AbsenceIn(BaseModel):
    """Away (``absent``), optionally until an instant (with its time zone); or back."""

    model_config = ConfigDict(extra="forbid")

    absent: bool
    absent_until: datetime | None = None


class UserCreate(BaseModel):
    email: str = Field(max_length=320)
    display_name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(max_length=1024)
    locale: Locale = "en"


class UserUpdate(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    locale: Locale | None = None


class ProfileUpdate(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    locale: Locale | None = None


class PasswordReset(BaseModel):
    new_password: str = Field(max_length=1024)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class SessionOut(BaseModel):
    """After login or a password change: the signed-in user and the CSRF token to send in
    ``X-CSRF-Token`` with every cookie-authenticated write."""

    user: UserOut
    csrf_token: str
    expires_at: datetime


class MeOut(BaseModel):
    user: UserOut
    permissions: list[str]
    team_ids: list[int]
    authenticated_by: Literal["session", "token"]
    csrf_token: str | None = None
    token_id: int | None = None


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(
        min_length=1,
        description="permission names, e.g. value:read; profile:write lets the token change its "
        "user's display name and language. No scope lets a token log out, change a password or "
        "create tokens. A token is revoked when its user's password is changed or reset and "
        "when the user is deactivated.",
    )
    expires_in_days: int | None = Field(default=None, ge=1)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class TokenCreated(TokenOut):
    """The new token, with its secret: shown this once, never again."""

    secret: str
