"""Users (administrators only): list, create, change, deactivate, reset a password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import or_

from kehu.core.auth import Principal
from kehu.core.users import service as users
from kehu.core.users.schemas import PasswordReset, Role, UserCreate, UserOut, UserUpdate
from kehu.core.users.tables import User
from kehu.http.deps import (
    AppSettings,
    DbSession,
    Page,
    Pagination,
    page_of,
    require_permission,
    sort_by,
)
from kehu.store.bounds import Id

router = APIRouter(prefix="/api/users", tags=["users"])
Admin = Annotated[Principal, Depends(require_permission("users:admin"))]

SORT_FIELDS = {
    "id": User.id,
    "email": User.email,
    "display_name": User.display_name,
    "role": User.role,
    "created_at": User.created_at,
}


@router.get("", summary="List users")
def list_users(
    session: DbSession,
    principal: Admin,
    paging: Pagination,
    role: Role | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="part of email or name")] = None,
    sort: Annotated[str, Query(description=f"one of {', '.join(SORT_FIELDS)}; -desc")] = "email",
) -> Page[UserOut]:
    statement = users.users_query(principal)
    if role is not None:
        statement = statement.where(User.role == role)
    if active is not None:
        statement = statement.where(User.is_active.is_(active))
    if q:
        pattern = f"%{q.lower()}%"
        statement = statement.where(
            or_(User.email.like(pattern), User.display_name.ilike(f"%{q}%"))
        )
    order = sort_by(sort, SORT_FIELDS, default="email", tiebreak=User.id)
    return page_of(session, statement, paging, order, UserOut.model_validate)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a user")
def create_user(
    body: UserCreate, session: DbSession, principal: Admin, settings: AppSettings
) -> UserOut:
    user = users.create_user(
        session,
        principal,
        email=body.email,
        display_name=body.display_name,
        role=body.role,
        password=body.password,
        locale=body.locale,
        settings=settings,
    )
    return UserOut.model_validate(user)


@router.get("/{user_id}", summary="One user")
def get_user(user_id: Id, session: DbSession, principal: Admin) -> UserOut:
    return UserOut.model_validate(users.get_user(session, principal, user_id))


@router.patch("/{user_id}", summary="Change a user's name, role or language")
def update_user(user_id: Id, body: UserUpdate, session: DbSession, principal: Admin) -> UserOut:
    user = users.update_user(
        session,
        principal,
        user_id,
        display_name=body.display_name,
        role=body.role,
        locale=body.locale,
    )
    return UserOut.model_validate(user)


@router.post(
    "/{user_id}/deactivate",
    summary="Deactivate a user: sessions end, API tokens are revoked (activating the user "
    "again revives neither)",
)
def deactivate_user(user_id: Id, session: DbSession, principal: Admin) -> UserOut:
    return UserOut.model_validate(users.deactivate_user(session, principal, user_id))


@router.post(
    "/{user_id}/activate",
    summary="Activate a deactivated user again (they log in again and make new tokens)",
)
def activate_user(user_id: Id, session: DbSession, principal: Admin) -> UserOut:
    return UserOut.model_validate(users.activate_user(session, principal, user_id))


@router.post(
    "/{user_id}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a user's password (their sessions end, their API tokens are revoked)",
)
def reset_password(
    user_id: Id, body: PasswordReset, session: DbSession, principal: Admin, settings: AppSettings
) -> None:
    users.reset_password(session, principal, user_id, body.new_password, settings)
