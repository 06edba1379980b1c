"""Use cases of the users domain: users and roles, passwords, web sessions, API tokens, logins.

Every function takes a SQLAlchemy ``Session`` (the caller owns the transaction) except
:func:`login`, which takes the :class:`~kehu.store.db.Database`: a failed login must be counted
(committed) even though the request then fails.

When credentials end:

- logging out ends that web session; a request made with an API token has none to end, and is
  refused (``PermissionDeniedError``) rather than answered as if something ended;
- changing one's own password ends every web session of the user (the browser that changed it
  gets a new one) and revokes every API token of the user: a password is changed because
  someone else may know it, and whoever knew it could have made tokens with it; scripts get new
  tokens;
- an administrator's password reset and a deactivation do the same. Revoked is for good:
  activating a user again revives neither sessions nor tokens.

Login limits (:func:`check_login_rate`) count failures per account *and* client address, so
that failing from one place never locks the account out from another (the front door works
out the client address: ``kehu.http.client_address``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from kehu.core.audit import record_audit
from kehu.core.auth import Principal, register_scope, require, scoped
from kehu.core.auth.permissions import ROLES, all_permissions
from kehu.core.config import Settings
from kehu.core.users.tables import LOCALES, ApiToken, LoginAttempt, User, WebSession
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

logger = logging.getLogger("kehu.core.users")

TOKEN_PREFIX = "kehu_"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_hasher = PasswordHasher()
# Verified against when the account does not exist, so that an unknown email costs the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
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
        "absent": bool(user.absent),
        "absent_until": user.absent_until.isoformat() if user.absent_until else None,
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
    """Change a user's name, role or locale. One's own name and locale need ``profile:write``
    (every role holds it; a token only when it was given that scope); anyone else's, and any
    role, need ``users:admin``."""
    user = get_user(session, principal, user_id)
    if not principal.can("users:admin"):
        require(principal, "profile:write")
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
    """Deactivate a user: their sessions end now and their API tokens are revoked, for good
    (activating the user again does not revive them)."""
    require(principal, "users:admin")
    user = get_user(session, principal, user_id)
    if not user.is_active:
        return user
    _keep_an_admin(session, user)
    before = user_record(user)
    user.is_active = False
    user.deactivated_at = utc_now()
    revoke_user_sessions(session, user.id)
    revoke_user_tokens(session, user.id)
    session.flush()
    record_audit(session, principal, "user.deactivated", "user", user.id, before, user_record(user))
    return user


def activate_user(session: Session, principal: Principal, user_id: int) -> User:
    """Activate a deactivated user; they log in again and make new tokens."""
    require(principal, "users:admin")
    user = get_user(session, principal, user_id)
    if user.is_active:
        return user
    before = user_record(user)
    # A user deactivated by an older kehu still holds unrevoked tokens (they were only refused
    # while the user was inactive): revoke them now, so that none comes back.
    revoke_user_tokens(session, user.id)
    user.is_active = True
    user.deactivated_at = None
    session.flush()
    record_audit(session, principal, "user.activated", "user", user.id, before, user_record(user))
    return user


def is_away(user: User, now: datetime) -> bool:
    """Whether ``user`` is away at ``now``: marked absent, and the until-date (exclusive) not
    reached. An absence whose until-date has passed is over without anyone clearing it."""
    if not user.absent:
        return False
    return user.absent_until is None or user.absent_until > now


def set_absence(
    session: Session,
    principal: Principal,
    user_id: int,
    *,
    absent: bool,
    until: datetime | None = None,
    now: datetime | None = None,
) -> User:
    """Mark a user away (``absent``, optionally until an instant) or back. One's own absence
    needs ``profile:write``; a colleague's ``users:absence`` (managers) or ``users:admin``.
    Automatic assignment passes an away user over; the work they hold stays theirs."""
    if principal.user_id == user_id and principal.can("profile:write"):
        user = get_user(session, principal, user_id)
    else:
        if not principal.can("users:admin"):
            require(principal, "users:absence")
        found = session.get(User, user_id)
        if found is None:
            raise NotFoundError(_USER_NOT_FOUND)
        user = found
    now = now or utc_now()
    if until is not None:
        if until.tzinfo is None:
            raise InputError("the until-date needs a time zone", column="absent_until")
        if not absent:
            raise InputError("an until-date goes with an absence", column="absent_until")
        if until <= now:
            raise InputError("the until-date must be in the future", column="absent_until")
    before = user_record(user)
    user.absent = absent
    user.absent_until = until if absent else None
    after = user_record(user)
    if after != before:
        session.flush()
        record_audit(session, principal, "user.absence_changed", "user", user.id, before, after)
    return user


def staff_list(session: Session, principal: Principal) -> list[User]:
    """Every staff account, by name, for the people settings (``users:absence`` or
    ``users:admin``): who is active, away, in which role."""
    if not principal.can("users:admin"):
        require(principal, "users:absence")
    return list(session.scalars(select(User).order_by(User.display_name, User.id)))


def _set_password(session: Session, user: User, new_password: str) -> None:
    """Set the password; every web session and API token of the user ends."""
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utc_now()
    revoke_user_sessions(session, user.id)
    revoke_user_tokens(session, user.id)
    session.flush()


def change_password(
    session: Session,
    principal: Principal,
    *,
    current_password: str,
    new_password: str,
    settings: Settings,
) -> User:
    """Change one's own password; every web session and API token of the user is revoked
    (the caller opens a new session for the browser that changed it)."""
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
    """An administrator sets another user's password; their sessions and API tokens are
    revoked."""
    require(principal, "users:admin")
    user = get_user(session, principal, user_id)
    check_password_policy(new_password, settings)
    _set_password(session, user, new_password)
    record_audit(session, principal, "user.password_reset", "user", user.id)
    return user


# --- logins and web sessions -----------------------------------------------------------------


def _retry_after(oldest: datetime, window: timedelta, now: datetime) -> int:
    return max(1, math.ceil((oldest + window - now).total_seconds()))


def _account_backoff(failures_beyond: int, settings: Settings) -> timedelta:
    """1 s after the threshold, doubled with every further failure, at most the cap."""
    seconds = 2 ** min(failures_beyond, 32)
    return timedelta(seconds=min(seconds, settings.login_account_backoff_max_seconds))


def check_login_rate(session: Session, email: str, client_address: str, settings: Settings) -> None:
    """Raise :class:`RateLimitedError` when this login attempt has to wait. Failures are counted
    within ``settings.login_window_seconds``, three ways:

    - one account from one address: after ``login_max_failures_per_account_and_address`` that
      address waits until the oldest failure ages out, the right password included;
    - one address, whatever the accounts: ``login_max_failures_per_address`` (guessing across
      accounts);
    - one account from every address: after ``login_account_backoff_after`` failures (many
      addresses' worth) the account takes one attempt per back-off delay, 1 s doubled with
      every further failure up to ``login_account_backoff_max_seconds``.

    So an attacker at one address cannot lock the owner out from another; many addresses
    together slow the account down, never for longer than the cap after their last failure.
    """
    now = utc_now()
    window = timedelta(seconds=settings.login_window_seconds)
    recent = LoginAttempt.attempted_at > now - window
    for where, limit in (
        (
            (LoginAttempt.email == email, LoginAttempt.client_address == client_address),
            settings.login_max_failures_per_account_and_address,
        ),
        ((LoginAttempt.client_address == client_address,), settings.login_max_failures_per_address),
    ):
        count, oldest = session.execute(
            select(func.count(), func.min(LoginAttempt.attempted_at)).where(recent, *where)
        ).one()
        if count >= limit:
            raise RateLimitedError(
                "too many failed logins; try again later",
                retry_after=_retry_after(oldest or now, window, now),
            )
    failures, latest = session.execute(
        select(func.count(), func.max(LoginAttempt.attempted_at)).where(
            recent, LoginAttempt.email == email
        )
    ).one()
    if failures >= settings.login_account_backoff_after:
        delay = _account_backoff(failures - settings.login_account_backoff_after, settings)
        if (latest or now) + delay > now:
            raise RateLimitedError(
                "too many failed logins for this account; try again later",
                retry_after=_retry_after(latest or now, delay, now),
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
            # Only this address's failures are forgiven: failures from elsewhere may be an attack
            # still going on, and keep counting towards the account's back-off.
            session.execute(
                delete(LoginAttempt).where(
                    LoginAttempt.email == email, LoginAttempt.client_address == client_address
                )
            )
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
    return user, web_session


# --- last seen: bookkeeping kept out of the request's unit of work -----------------------------


@dataclass(frozen=True)
class LastSeen:
    """That a web session or an API token was used at ``at``: written after the response by
    :func:`record_last_seen`, never inside the request's transaction, so that a request that only
    reads never takes the store's write lock (SQLite has one writer at a time) and a form's write
    never waits behind its own request's bookkeeping."""

    kind: Literal["web_session", "api_token"]
    row_id: int
    at: datetime


def last_seen_due(
    kind: Literal["web_session", "api_token"],
    row_id: int,
    seen_before: datetime | None,
    settings: Settings,
    now: datetime | None = None,
) -> LastSeen | None:
    """A :class:`LastSeen` to record when the stored time is older than
    ``settings.session_touch_seconds`` (else ``None``: the stored time is close enough)."""
    now = now or utc_now()
    if seen_before is not None and now - seen_before < timedelta(
        seconds=settings.session_touch_seconds
    ):
        return None
    return LastSeen(kind, row_id, now)


def record_last_seen(database: Database, seen: LastSeen) -> None:
    """Store ``seen`` in a short transaction of its own. Only ever moves the time forward; a
    store that is busy or unreachable loses this one note (the next request makes another),
    never the request it belongs to."""
    statement = (
        update(WebSession)
        .where(WebSession.id == seen.row_id, WebSession.last_seen_at < seen.at)
        .values(last_seen_at=seen.at)
        if seen.kind == "web_session"
        else update(ApiToken)
        .where(
            ApiToken.id == seen.row_id,
            ApiToken.last_used_at.is_(None) | (ApiToken.last_used_at < seen.at),
        )
        .values(last_used_at=seen.at)
    )
    try:
        with database.session() as session:
            session.execute(statement.execution_options(synchronize_session=False))
    except OperationalError as error:
        logger.warning("could not record that %s %s was used: %s", seen.kind, seen.row_id, error)


def revoke_web_session(session: Session, web_session: WebSession) -> None:
    """End ``web_session`` (which may come from the request's authentication, another
    session)."""
    if web_session.revoked_at is None:
        now = utc_now()
        session.execute(
            update(WebSession)
            .where(WebSession.id == web_session.id, WebSession.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(web_session, "revoked_at", now)


def log_out(session: Session, web_session: WebSession | None) -> None:
    """End the web session a request came with. A request made with an API token has none, and
    is refused rather than answered as if something ended: a token ends by being revoked."""
    if web_session is None:
        raise PermissionDeniedError(
            "an API token has no web session to log out of; to end the token, revoke it "
            "(DELETE /api/tokens/{id})"
        )
    revoke_web_session(session, web_session)


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
    unknown = [scope for scope in wanted if scope not in all_permissions()]
    if unknown:
        raise InputError(
            f"unknown scopes {unknown}; scopes are {', '.join(sorted(all_permissions()))}",
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


def revoke_user_tokens(session: Session, user_id: int) -> int:
    """Revoke every live API token of the user (password set, deactivation); how many."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utc_now())
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


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
    return principal_for(session, user).with_scopes(token.scopes, token_id=token.id)


register_scope(User, "users:admin")
