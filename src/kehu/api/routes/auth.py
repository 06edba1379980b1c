"""Login, logout, the signed-in user, and changing one's own password.

What a bearer token may do here: read who it acts for (``GET /me``, any token); change the
profile (``PATCH /me``) only with the ``profile:write`` scope; never log out (a token has no web
session; revoke it with ``DELETE /api/tokens/{id}``) nor change the password.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.core.users.schemas import (
    LoginIn,
    MeOut,
    PasswordChange,
    ProfileUpdate,
    SessionOut,
    UserOut,
)
from kehu.http.client_address import client_address
from kehu.http.deps import AppSettings, Authentication, DbSession, get_database

router = APIRouter(prefix="/api/auth", tags=["auth"])


def set_session_cookie(
    response: Response, request: Request, settings: Settings, new: users.NewSession
) -> None:
    secure = settings.session_cookie_secure
    if secure is None:
        secure = request.url.scheme == "https"
    response.set_cookie(
        settings.session_cookie_name,
        new.secret,
        max_age=int(settings.session_lifetime_hours * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def _session_out(new: users.NewSession) -> SessionOut:
    return SessionOut(
        user=UserOut.model_validate(new.user),
        csrf_token=new.csrf_token,
        expires_at=new.web_session.expires_at,
    )


@router.post(
    "/login",
    summary="Log in with email and password: a session cookie and its CSRF token",
    responses={401: {"description": "wrong credentials"}, 429: {"description": "rate limited"}},
)
def login(body: LoginIn, request: Request, response: Response, settings: AppSettings) -> SessionOut:
    new = users.login(
        get_database(request),
        body.email,
        body.password,
        client_address(request, settings),
        settings,
        user_agent=request.headers.get("user-agent"),
    )
    set_session_cookie(response, request, settings, new)
    return _session_out(new)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this web session (403 with an API token: it has none; revoke the token)",
)
def logout(
    session: DbSession, authenticated: Authentication, settings: AppSettings, response: Response
) -> None:
    users.log_out(session, authenticated.web_session)
    response.delete_cookie(settings.session_cookie_name, path="/", httponly=True, samesite="lax")


@router.get("/me", summary="Who is signed in, with what rights")
def me(authenticated: Authentication) -> MeOut:
    principal = authenticated.principal
    return MeOut(
        user=UserOut.model_validate(authenticated.user),
        permissions=sorted(principal.permissions),
        team_ids=sorted(principal.team_ids),
        authenticated_by=authenticated.method,
        csrf_token=authenticated.web_session.csrf_token if authenticated.web_session else None,
        token_id=principal.token_id,
    )


@router.patch(
    "/me",
    summary="Change one's own display name or language (a token needs the profile:write scope)",
)
def update_me(body: ProfileUpdate, session: DbSession, authenticated: Authentication) -> UserOut:
    principal = authenticated.principal
    assert principal.user_id is not None
    user = users.update_user(
        session, principal, principal.user_id, display_name=body.display_name, locale=body.locale
    )
    return UserOut.model_validate(user)


@router.post(
    "/password",
    summary="Change one's own password (signed in with a session, not a token); every session "
    "of the user ends, every API token of the user is revoked, and this browser gets a new "
    "session",
)
def change_password(
    body: PasswordChange,
    request: Request,
    response: Response,
    session: DbSession,
    authenticated: Authentication,
    settings: AppSettings,
) -> SessionOut:
    user = users.change_password(
        session,
        authenticated.principal,
        current_password=body.current_password,
        new_password=body.new_password,
        settings=settings,
    )
    new = users.open_web_session(
        session,
        user,
        settings,
        client_address(request, settings),
        request.headers.get("user-agent"),
    )
    set_session_cookie(response, request, settings, new)
    return _session_out(new)
