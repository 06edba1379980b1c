"""Use cases of the users domain: users and roles, passwords, web sessions, API tokens, logins.

Every function takes a SQLAlchemy ``Session`` (the caller owns the transaction) except
:func:`login`, which takes the :class:`~kehu.store.db.Database`: a failed login must be counted
(committed) even though the request then fails.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from kehu.audit import record_audit
from kehu.auth import Principal, register_scope, require, scoped
from kehu.auth.principal import PERMISSIONS, ROLES
from kehu.config import Settings
from kehu.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from kehu.store.base import Base, utc_now
from kehu.store.db import Database
from kehu.users.tables import LOCALES, ApiToken, LoginAttempt, User, WebSession

TOKEN_PREFIX = "kehu_"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_hasher = PasswordHasher()
# Verified against when the account does not exist, so that an unknown email costs the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
_TOUCH_EVERY = timedelta(seconds=60)
_USER_NOT_FOUND = "no such user"
_TOKEN_NOT_FOUND = "no such API token"


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (session id, API token)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# --- passwords -----------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_policy(password: str, settings: Settings, field: str = "password") -> None:
    if len(password) < settings.password_min_length:
        raise InputError(
            f"the password must have at least {settings.password_min_length} characters",
            column=field,
        )
    if len(password) > 1024:
        raise InputError("the password is too long (1024 characters at most)", column=field)


# --- users -----------------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InputError("not an email address", column="email", value=email)
    return email


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"unknown role; roles are {', '.join(ROLES)}", column="role", value=role)
    return role


def _check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise InputError(
            f"unknown locale; locales are {', '.join(LOCALES)}", column="locale", value=locale
        )
    return locale


def user_record(user: User) -> dict[str, Any]:
    """What the audit log keeps of a user (never the password hash)."""
    return {
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "locale": user.locale,
        "is_active": user.is_active,
    }


def team_ids(session: Session, user_id: int) -> frozenset[int]:
    """The user's teams, from the service desk's ``team_members`` table when it exists."""
    table = Base.metadata.tables.get("team_members")
    if table is None:
        return frozenset()
    rows = session.execute(select(table.c.team_id).where(table.c.user_id == user_id)).scalars()
    return frozenset(int(team_id) for team_id in rows)


def principal_for(session: Session, user: User) -> Principal:
    """The principal of ``user`` as they are now (role and teams read fresh)."""
    return Principal.for_user(
        user.id, [user.role], team_ids(session, user.id), display_name=user.display_name
    )


def users_query(principal: Principal) -> Select[User]:
    return scoped(select(User), principal, User)


def get_user(session: Session, principal: Principal, user_id: int) -> User:
    """A user by id: one's own record, or any for an administrator."""
    if principal.user_id != user_id:
        require(principal, "users:admin")
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(_USER_NOT_FOUND)
    return user


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.execute(
        select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()


def create_user(
    session: Session,
    principal: Principal,
    *,
    email: str,
    display_name: str,
    role: str,
    password: str,
    settings: Settings,
    locale: str = "en",
) -> User:
    require(principal, "users:admin")
    email = normalize_email(email)
    display_name = display_name.strip()
    if not display_name:
        raise InputError("a display name is required", column="display_name")
    _check_role(role)
    _check_locale(locale)
    check_password_policy(password, settings)
    if get_user_by_email(session, email) is not None:
        raise ConflictError(f"a user with the email {email} already exists")
    user = User(
        email=email,
        display_name=display_name,
        role=role,
        locale=locale,
        is_active=True,
        password_hash=hash_password(password),
        password_changed_at=utc_now(),
    )
    session.add(user)
    session.flush()
    record_audit(session, principal, "user.created", "user", user.id, None, user_record(user))
    return user


def _active_admins_other_than(session: Session, user_id: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(User)
            .where(User.role == "admin", User.is_active.is_(True), User.id != user_id)
        ).scalar_one()
    )


def _keep_an_admin(session: Session, user: User) -> None:
    if user.role == "admin" and user.is_active and _active_admins_other_than(session, user.id) == 0:
        raise ConflictError(f"{user.email} is the last active administrator; appoint another first")


def update_user(
    session: Session,
    principal: Principal,
    user_id: int,
    *,
    display_name: str | None = None,
    role: str | None = None,
    locale: str | None = None,
) -> User:
    """Change a user's name, role or locale. Users may change their own name and locale; the
    role needs ``users:admin``."""
    user = get_user(session, principal, user_id)
    before = user_record(user)
    if role is not None and role != user.role:
        require(principal, "users:admin")
        _check_role(role)
        if role != "admin":
            _keep_an_admin(session, user)
        user.role = role
    if display_name is not None:
        if not display_name.strip():
            raise InputError("a display name is required", column="display_name")
        user.display_name = display_name.strip()
    if locale is not None:
        user.locale = _check_locale(locale)
    after = user_record(user)
    if after != before:
        session.flush()
        record_audit(session, principal, "user.updated", "user", user.id, before, after)
    return user


def deactivate_user(session: Session, principal: Principal, user_id: int) -> User:
    """Deactivate a user: their sessions end now, their API tokens stop working (a token's
    rights come from its creator's current rights)."""
    require(principal, "users:admin")
    user = get_user(session, principal, user_id)
    if not user.is_active:
        return user
    _keep_an_admin(session, user)
    before = user_record(user)
    user.is_active = False
    user.deactivated_at = utc_now()
    revoke_user_sessions(session, user.id)
    session.flush()
    record_audit(session, principal, "user.deactivated", "user", user.id, before, user_record(user))
    return user


def activate_user(session: Session, principal: Principal, user_id: int) -> User:
    require(principal, "users:admin")
    user = get_user(session, principal, user_id)
    if user.is_active:
        return user
    before = user_record(user)
    user.is_active = True
    user.deactivated_at = None
    session.flush()
    record_audit(session, principal, "user.activated", "user", user.id, before, user_record(user))
    return user


def _set_password(session: Session, user: User, new_password: str) -> None:
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utc_now()
    revoke_user_sessions(session, user.id)
    session.flush()


def change_password(
    session: Session,
    principal: Principal,
    *,
    current_password: str,
    new_password: str,
    settings: Settings,
) -> User:
    """Change one's own password; every web session of the user is revoked."""
    if principal.user_id is None or principal.token_id is not None:
        raise PermissionDeniedError("a password can only be changed by its user, signed in")
    user = get_user(session, principal, principal.user_id)
    if not verify_password(user.password_hash, current_password):
        raise InputError("the current password is wrong", column="current_password")
    check_password_policy(new_password, settings, field="new_password")
    _set_password(session, user, new_password)
    record_audit(session, principal, "user.password_changed", "user", user.id)
    return user


def reset_password(
    session: Session, principal: Principal, user_id: int, new_password: str, settings: Settings
) -> User:
    """An administrator sets another user's password; their sessions are revoked."""
    require(principal, "users:admin")
    user = get_user(session, principal, user_id)
    check_password_policy(new_password, settings)
    _set_password(session, user, new_password)
    record_audit(session, principal, "user.password_reset", "user", user.id)
    return user


# --- logins and web sessions -----------------------------------------------------------------


def _retry_after(oldest: datetime, window: timedelta, now: datetime) -> int:
    return max(1, math.ceil((oldest + window - now).total_seconds()))


def check_login_rate(session: Session, email: str, client_address: str, settings: Settings) -> None:
    """Raise :class:`RateLimitedError` when the account or the client address has failed to log
    in too often within the window."""
    now = utc_now()
    window = timedelta(seconds=settings.login_window_seconds)
    since = now - window
    for column, value, limit in (
        (LoginAttempt.email, email, settings.login_max_failures_per_account),
        (LoginAttempt.client_address, client_address, settings.login_max_failures_per_address),
    ):
        count, oldest = session.execute(
            select(func.count(), func.min(LoginAttempt.attempted_at)).where(
                column == value, LoginAttempt.attempted_at > since
            )
        ).one()
        if count >= limit:
            raise RateLimitedError(
                "too many failed logins; try again later",
                retry_after=_retry_after(oldest or now, window, now),
            )


def _record_login_failure(
    session: Session, email: str, client_address: str, settings: Settings
) -> None:
    now = utc_now()
    stale = now - timedelta(seconds=settings.login_window_seconds)
    session.execute(
        delete(LoginAttempt).where(
            (LoginAttempt.email == email) | (LoginAttempt.client_address == client_address),
            LoginAttempt.attempted_at <= stale,
        )
    )
    session.add(LoginAttempt(email=email, client_address=client_address, attempted_at=now))


@dataclass(frozen=True)
class NewSession:
    """A web session just opened: ``secret`` goes into the cookie, ``csrf_token`` to the page."""

    user: User
    web_session: WebSession
    secret: str

    @property
    def csrf_token(self) -> str:
        return self.web_session.csrf_token


def open_web_session(
    session: Session,
    user: User,
    settings: Settings,
    client_address: str | None = None,
    user_agent: str | None = None,
) -> NewSession:
    secret = secrets.token_urlsafe(32)
    now = utc_now()
    web_session = WebSession(
        session_digest=digest(secret),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_lifetime_hours),
        client_address=(client_address or "")[:64] or None,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(web_session)
    session.flush()
    return NewSession(user, web_session, secret)


def login(
    database: Database,
    email: str,
    password: str,
    client_address: str,
    settings: Settings,
    user_agent: str | None = None,
) -> NewSession:
    """Check a password login against the rate limits and open a web session.

    Failures are committed (they count towards the limits) before ``AuthenticationError`` is
    raised; the message never says whether the account exists.
    """
    email = email.strip().lower()[:320]
    client_address = (client_address or "unknown")[:64]
    with database.session() as session:
        check_login_rate(session, email, client_address, settings)
        user = get_user_by_email(session, email)
        valid = verify_password(user.password_hash if user else _DUMMY_HASH, password)
        if user is not None and valid and user.is_active:
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
            return open_web_session(session, user, settings, client_address, user_agent)
        _record_login_failure(session, email, client_address, settings)
    raise AuthenticationError("wrong email or password, or the account is deactivated")


def resolve_web_session(
    session: Session, secret: str, settings: Settings
) -> tuple[User, WebSession]:
    """The user and session behind a session cookie; ``AuthenticationError`` if it has ended."""
    web_session = session.execute(
        select(WebSession).where(WebSession.session_digest == digest(secret))
    ).scalar_one_or_none()
    now = utc_now()
    if (
        web_session is None
        or web_session.revoked_at is not None
        or web_session.expires_at <= now
        or web_session.last_seen_at + timedelta(minutes=settings.session_idle_minutes) <= now
    ):
        raise AuthenticationError("the session has ended; log in again")
    user = session.get(User, web_session.user_id)
    if user is None or not user.is_active:
        raise AuthenticationError("the session has ended; log in again")
    if now - web_session.last_seen_at >= _TOUCH_EVERY:
        web_session.last_seen_at = now
    return user, web_session


def revoke_web_session(session: Session, web_session: WebSession) -> None:
    if web_session.revoked_at is None:
        web_session.revoked_at = utc_now()
        session.flush()


def revoke_user_sessions(session: Session, user_id: int) -> int:
    result = session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=utc_now())
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- API tokens --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``secret`` is shown once and never stored."""

    token: ApiToken
    secret: str


def _check_scopes(principal: Principal, scopes: Iterable[str]) -> list[str]:
    wanted = sorted(set(scopes))
    if not wanted:
        raise InputError("give the token at least one scope", column="scopes")
    unknown = [scope for scope in wanted if scope not in PERMISSIONS]
    if unknown:
        raise InputError(
            f"unknown scopes {unknown}; scopes are {', '.join(sorted(PERMISSIONS))}",
            column="scopes",
        )
    beyond = [scope for scope in wanted if scope not in principal.permissions]
    if beyond:
        raise InputError(f"you do not hold the scopes {beyond} yourself", column="scopes")
    return wanted


def create_api_token(
    session: Session,
    principal: Principal,
    *,
    name: str,
    scopes: Iterable[str],
    settings: Settings,
    lifetime_days: int | None = None,
) -> NewToken:
    """Create an API token for the signed-in user (tokens cannot create tokens)."""
    if principal.user_id is None or principal.token_id is not None:
        raise PermissionDeniedError("API tokens are created by a signed-in user, not by a token")
    name = name.strip()
    if not name:
        raise InputError("give the token a name", column="name")
    wanted = _check_scopes(principal, scopes)
    days = settings.token_default_lifetime_days if lifetime_days is None else lifetime_days
    if not 0 < days <= settings.token_max_lifetime_days:
        raise InputError(
            f"a token lives between 1 and {settings.token_max_lifetime_days} days",
            column="expires_in_days",
            value=days,
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utc_now()
    token = ApiToken(
        user_id=principal.user_id,
        name=name[:200],
        prefix=secret[:12],
        token_digest=digest(secret),
        scopes=wanted,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    record_audit(
        session,
        principal,
        "token.created",
        "api_token",
        token.id,
        None,
        {"name": token.name, "scopes": wanted, "expires_at": token.expires_at},
    )
    return NewToken(token, secret)


def api_tokens_query(principal: Principal, all_users: bool = False) -> Select[ApiToken]:
    if principal.user_id is None:
        raise PermissionDeniedError("only users have API tokens")
    statement = select(ApiToken)
    if all_users:
        require(principal, "users:admin")
        return statement
    return statement.where(ApiToken.user_id == principal.user_id)


def revoke_api_token(session: Session, principal: Principal, token_id: int) -> ApiToken:
    """Revoke one's own token (an administrator: anyone's). Revoking twice is harmless."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != principal.user_id and not principal.can("users:admin")):
        raise NotFoundError(_TOKEN_NOT_FOUND)
    if token.revoked_at is None:
        token.revoked_at = utc_now()
        session.flush()
        record_audit(session, principal, "token.revoked", "api_token", token.id)
    return token


def resolve_api_token(session: Session, secret: str) -> Principal:
    """The principal of a bearer token: its scopes intersected with its creator's current
    rights; ``AuthenticationError`` for unknown, revoked or expired tokens and for tokens of
    deactivated users."""
    invalid = AuthenticationError("the API token is not valid (unknown, expired or revoked)")
    if not secret.startswith(TOKEN_PREFIX):
        raise invalid
    token = session.execute(
        select(ApiToken).where(ApiToken.token_digest == digest(secret))
    ).scalar_one_or_none()
    now = utc_now()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise invalid
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise invalid
    if token.last_used_at is None or now - token.last_used_at >= _TOUCH_EVERY:
        token.last_used_at = now
    return principal_for(session, user).with_scopes(token.scopes, token_id=token.id)


register_scope(User, "users:admin")
