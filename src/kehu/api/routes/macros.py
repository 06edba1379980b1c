"""Canned replies (macros): list, read, create, change, delete, and fill one in for a ticket.

Staff who read tickets read the macros of their teams and those for every team; changing them
needs ``macros:write`` (managers and admins). Placeholders (``{customer_name}`` ...) are listed
at ``GET /api/macros/placeholders``; a body naming an unknown one is a 422 naming it
(:mod:`kehu.desk.macros`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from kehu.core.auth import Principal
from kehu.desk import macros
from kehu.http.deps import DbSession, get_settings
from kehu.http.deps import require_permission as permission
from kehu.store.bounds import Id, Version

router = APIRouter(tags=["canned replies"])

Reader = Annotated[Principal, Depends(permission("tickets:read"))]
Editor = Annotated[Principal, Depends(permission("macros:write"))]


class MacroIn(BaseModel):
    """``team_id`` null: for every team. At least one of the bodies; placeholders in braces."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=macros.NAME_MAX)
    team_id: Id | None = None
    body_en: str = Field(default="", max_length=macros.BODY_MAX)
    body_zh: str = Field(default="", max_length=macros.BODY_MAX)


class MacroUpdate(MacroIn):
    expected_version: Version | None = None


class MacroOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    team_id: int | None
    body_en: str
    body_zh: str
    version: int
    created_at: datetime
    updated_at: datetime


class PlaceholderOut(BaseModel):
    name: str
    description: str


class RenderedMacroOut(BaseModel):
    macro_id: int
    name: str
    language: str
    text: str


@router.get("/api/macros", summary="The macros the caller sees (of a team and every team)")
def list_macros(
    session: DbSession,
    principal: Reader,
    team_id: Annotated[Id | None, Query(description="only this team's and every team's")] = None,
) -> list[MacroOut]:
    return [
        MacroOut.model_validate(m) for m in macros.list_macros(session, principal, team_id=team_id)
    ]


@router.get("/api/macros/placeholders", summary="The placeholders a macro may use")
def placeholders(_principal: Reader) -> list[PlaceholderOut]:
    return [PlaceholderOut(name=n, description=d) for n, d in macros.PLACEHOLDERS.items()]


@router.post("/api/macros", status_code=status.HTTP_201_CREATED, summary="Add a macro")
def create_macro(body: MacroIn, session: DbSession, principal: Editor) -> MacroOut:
    macro = macros.create_macro(
        session,
        principal,
        name=body.name,
        team_id=body.team_id,
        body_en=body.body_en,
        body_zh=body.body_zh,
    )
    return MacroOut.model_validate(macro)


@router.get("/api/macros/{macro_id}", summary="One macro")
def get_macro(macro_id: Id, session: DbSession, principal: Reader) -> MacroOut:
    return MacroOut.model_validate(macros.get_macro(session, principal, macro_id))


@router.put("/api/macros/{macro_id}", summary="Replace a macro's name, team and bodies")
def update_macro(
    macro_id: Id, body: MacroUpdate, session: DbSession, principal: Editor
) -> MacroOut:
    macro = macros.update_macro(
        session,
        principal,
        macro_id,
        name=body.name,
        team_id=body.team_id,
        body_en=body.body_en,
        body_zh=body.body_zh,
        expected_version=body.expected_version,
    )
    return MacroOut.model_validate(macro)


@router.delete(
    "/api/macros/{macro_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a macro"
)
def delete_macro(
    macro_id: Id,
    session: DbSession,
    principal: Editor,
    expected_version: Annotated[Version | None, Query()] = None,
) -> Response:
    macros.delete_macro(session, principal, macro_id, expected_version=expected_version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/api/tickets/{ticket_id}/macros/{macro_id}",
    summary="A macro filled in for a ticket, in the customer's language",
)
def render_macro(
    ticket_id: Id,
    macro_id: Id,
    request: Request,
    session: DbSession,
    principal: Reader,
    language: Annotated[
        str, Query(max_length=20, description="when the customer's language is unknown")
    ] = "en",
) -> RenderedMacroOut:
    rendered = macros.render_for_ticket(
        session,
        principal,
        macro_id,
        ticket_id,
        settings=get_settings(request),
        default_language=language,
    )
    return RenderedMacroOut(
        macro_id=rendered.macro_id,
        name=rendered.name,
        language=rendered.language,
        text=rendered.text,
    )
