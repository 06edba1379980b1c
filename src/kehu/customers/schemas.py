"""What the customer use cases accept and return (pydantic).

Input models validate on construction; :func:`parse` turns a ``ValidationError`` into an
``InputError`` naming the field, for callers that build models from raw dictionaries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kehu.customers.normalize import phone_digits
from kehu.errors import InputError
from kehu.store.bounds import Id, Version, utc_instant

CustomerKind = Literal["person", "organisation"]
ContactType = Literal["email", "phone", "wechat", "address", "other"]
Channel = Literal["email", "sms", "phone", "wechat", "post"]
Consent = Literal["granted", "withdrawn", "unknown"]
Preference = Literal["preferred", "allowed", "refused"]
Purpose = Literal["service", "marketing"]

Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], data: Any) -> Model:
    """``model`` validated from ``data``; the first problem becomes an ``InputError`` naming the
    field (``contacts.0.value``) and the value."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise input_error(exc) from exc


def input_error(exc: ValidationError) -> InputError:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or None
    return InputError(error["msg"], column=field, value=error.get("input"))


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: ContactType
    value: str = Field(min_length=1, max_length=500)
    label: str | None = Field(default=None, max_length=100)
    is_primary: bool = False

    @field_validator("value")
    @classmethod
    def _plausible(cls, value: str, info: Any) -> str:
        kind = info.data.get("type")
        if kind == "email" and ("@" not in value or any(ch.isspace() for ch in value)):
            raise ValueError("an email address needs an @ and no spaces")
        if kind == "phone" and len(phone_digits(value)) < 5:
            raise ValueError("a phone number needs at least 5 digits")
        return value


class CustomerCreate(BaseModel):
    """A new customer. A person without ``name`` is named from family and given name."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: CustomerKind = "person"
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=300)
    given_name: str | None = Field(default=None, max_length=200)
    family_name: str | None = Field(default=None, max_length=200)
    owner_user_id: Id | None = None
    preferred_language: str | None = Field(default=None, max_length=20)
    notes: str | None = Field(default=None, max_length=10_000)
    contacts: list[ContactIn] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class CustomerUpdate(BaseModel):
    """An edit: only the fields given change. ``version`` is the one the editor loaded."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    version: Version
    name: str | None = Field(default=None, max_length=300)
    given_name: str | None = Field(default=None, max_length=200)
    family_name: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    preferred_language: str | None = Field(default=None, max_length=20)
    notes: str | None = Field(default=None, max_length=10_000)


class PreferenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Channel
    consent: Consent | None = None
    preference: Preference | None = None
    source: str = Field(min_length=1, max_length=200)
    recorded_at: datetime | None = None

    @field_validator("recorded_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone")
        return value if value is None else utc_instant(value)


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    type: str
    value: str
    label: str | None
    is_primary: bool


class MembershipOut(BaseModel):
    id: int
    person_id: int
    organisation_id: int
    role: str | None
    person_name: str | None
    organisation_name: str | None


class PreferenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    channel: str
    consent: str
    preference: str
    recorded_at: datetime
    source: str


class CustomerOut(BaseModel):
    """A customer as shown to a caller allowed to read it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    external_id: str
    kind: str
    name: str | None
    given_name: str | None
    family_name: str | None
    owner_user_id: int | None
    preferred_language: str | None
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    merged_into_id: int | None


class CustomerDetail(CustomerOut):
    contacts: list[ContactOut] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    memberships: list[MembershipOut] = Field(default_factory=list)
    preferences: list[PreferenceOut] = Field(default_factory=list)


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    total: int
    limit: int
    offset: int


class ImportSummary(BaseModel):
    source: str
    rows: int
    created: int
    updated: int
    unchanged: int
