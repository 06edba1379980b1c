"""Canned replies (macros): a name, a team (or every team), and a body per language, English and
Chinese (at least one), with placeholders an agent's reply gets filled in.

Placeholders are written in single braces, ``{customer_name}``; ``{{`` and ``}}`` are a literal
brace. The known ones are :data:`PLACEHOLDERS`:

==================  =========================================================================
``customer_name``   the customer's name
``ticket_number``   the ticket's number (``44``; write ``#{ticket_number}`` for ``#44``)
``ticket_subject``  the ticket's subject
``agent_name``      the name of the agent who uses the macro
``team_name``       the ticket's team
``promise_due``     when the running service promise is due, in the macro's language and the
                    desk's time zone (empty when no promise runs)
==================  =========================================================================

A macro naming any other placeholder is refused when saved (``InputError`` naming it: 422).
Managing macros needs ``macros:write`` (managers and administrators); every staff member who
reads tickets reads the macros of their teams and those for every team (the macro scope, the
same rule as the tickets'), and :func:`render_for_ticket` fills one in for a ticket: in the
customer's preferred language, else the other language when the macro has only that one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from kehu.core.audit import record_audit, snapshot
from kehu.core.auth import Principal, require, scoped
from kehu.core.config import Settings
from kehu.core.i18n import format_instant, supported_language
from kehu.customers.queries import customer_names, preferred_language
from kehu.desk.tables import Macro, Team, sees_every_team
from kehu.desk.ticket_queries import get_ticket
from kehu.errors import ConflictError, InputError, NotFoundError
from kehu.store.base import utc_now

__all__ = [
    "MACRO_LANGUAGES",
    "PLACEHOLDERS",
    "RenderedMacro",
    "create_macro",
    "delete_macro",
    "fill_placeholders",
    "get_macro",
    "list_macros",
    "macro_scope",
    "macros_for_ticket",
    "render_for_ticket",
    "unknown_placeholders",
    "update_macro",
]

#: The placeholders a macro may use, with what each is filled with.
PLACEHOLDERS: dict[str, str] = {
    "customer_name": "the customer's name",
    "ticket_number": "the ticket's number (44; write #{ticket_number} for #44)",
    "ticket_subject": "the ticket's subject",
    "agent_name": "the name of the agent who uses the macro",
    "team_name": "the ticket's team",
    "promise_due": "when the running service promise is due (empty when none runs)",
}
#: The languages a macro has a body in (codes of :data:`kehu.core.i18n.LOCALES`) -> its column.
MACRO_LANGUAGES: dict[str, str] = {"en": "body_en", "zh-Hans": "body_zh"}
NAME_MAX = 200
BODY_MAX = 20_000

# ``{{`` / ``}}``: a literal brace; ``{anything}`` up to the next brace: a placeholder
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def unknown_placeholders(body: str) -> list[str]:
    """The placeholders in ``body`` that :data:`PLACEHOLDERS` does not know, in order, once each."""
    unknown: list[str] = []
    for match in _TOKEN.finditer(body):
        name = match.group(1)
        if name is not None and name not in PLACEHOLDERS and name not in unknown:
            unknown.append(name)
    return unknown


def fill_placeholders(body: str, values: Mapping[str, str]) -> str:
    """``body`` with each placeholder replaced by its value (a known one without a value:
    empty) and ``{{`` / ``}}`` by one brace."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return values.get(match.group(1), "")

    return _TOKEN.sub(replace, body)


def macro_scope(statement: Select[Any], principal: Principal) -> Select[Any]:
    """The macros of the principal's teams and those for every team; ``tickets:all_teams``
    sees all (the ticket scope's rule)."""
    if sees_every_team(principal):
        return statement
    return statement.where(
        or_(Macro.team_id.is_(None), Macro.team_id.in_(sorted(principal.team_ids)))
    )


# -- managing macros ---------------------------------------------------------------------------


def _checked_body(body: str | None, column: str) -> str:
    text = (body or "").strip()
    if len(text) > BODY_MAX:
        raise InputError(f"at most {BODY_MAX} characters", column=column)
    unknown = unknown_placeholders(text)
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        raise InputError(
            f"unknown placeholder {{{unknown[0]}}}; known: {known}", column=column, value=unknown[0]
        )
    return text


def _apply(
    session: Session,
    macro: Macro,
    *,
    name: str,
    team_id: int | None,
    body_en: str | None,
    body_zh: str | None,
) -> None:
    """Check the input and set it on ``macro`` (``InputError`` naming the field)."""
    name = name.strip()
    if not name:
        raise InputError("a macro needs a name", column="name")
    if len(name) > NAME_MAX:
        raise InputError(f"at most {NAME_MAX} characters", column="name")
    if team_id is not None and session.get(Team, team_id) is None:
        raise InputError("no such team", column="team_id", value=team_id)
    english = _checked_body(body_en, "body_en")
    chinese = _checked_body(body_zh, "body_zh")
    if not english and not chinese:
        raise InputError("a macro needs a body in English or in Chinese", column="body_en")
    duplicate = select(Macro.id).where(
        Macro.name == name,
        Macro.team_id.is_(None) if team_id is None else Macro.team_id == team_id,
    )
    if macro.id is not None:
        duplicate = duplicate.where(Macro.id != macro.id)
    if session.scalar(duplicate) is not None:
        raise ConflictError(f"a macro named {name!r} exists already for this team")
    macro.name = name
    macro.team_id = team_id
    macro.body_en = english
    macro.body_zh = chinese


def create_macro(
    session: Session,
    principal: Principal,
    *,
    name: str,
    team_id: int | None = None,
    body_en: str | None = None,
    body_zh: str | None = None,
    now: datetime | None = None,
) -> Macro:
    """A new macro (``macros:write``)."""
    require(principal, "macros:write")
    now = now or utc_now()
    macro = Macro(created_by=principal.user_id, created_at=now, updated_at=now)
    _apply(session, macro, name=name, team_id=team_id, body_en=body_en, body_zh=body_zh)
    session.add(macro)
    session.flush()
    record_audit(session, principal, "macro.created", "macro", macro.id, None, snapshot(macro))
    return macro


def get_macro(session: Session, principal: Principal, macro_id: int) -> Macro:
    """One macro in the caller's scope (``NotFoundError`` otherwise, like an unknown id)."""
    macro = session.scalar(scoped(select(Macro), principal, Macro).where(Macro.id == macro_id))
    if macro is None:
        raise NotFoundError(f"no macro with id {macro_id}")
    return macro


def _for_change(
    session: Session, principal: Principal, macro_id: int, expected_version: int | None
) -> Macro:
    require(principal, "macros:write")
    macro = get_macro(session, principal, macro_id)
    if expected_version is not None and macro.version != expected_version:
        raise ConflictError(
            f"the macro was changed by someone else (version {macro.version}, "
            f"not {expected_version}); reload it and make your change again"
        )
    return macro


def update_macro(
    session: Session,
    principal: Principal,
    macro_id: int,
    *,
    name: str,
    team_id: int | None = None,
    body_en: str | None = None,
    body_zh: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Macro:
    """Replace a macro's name, team and bodies (``macros:write``; a stale ``expected_version``
    is a ``ConflictError``)."""
    macro = _for_change(session, principal, macro_id, expected_version)
    before = snapshot(macro)
    _apply(session, macro, name=name, team_id=team_id, body_en=body_en, body_zh=body_zh)
    macro.updated_at = now or utc_now()
    session.flush()
    record_audit(session, principal, "macro.updated", "macro", macro.id, before, snapshot(macro))
    return macro


def delete_macro(
    session: Session, principal: Principal, macro_id: int, *, expected_version: int | None = None
) -> None:
    """Delete a macro (``macros:write``); replies written with it keep their text."""
    macro = _for_change(session, principal, macro_id, expected_version)
    before = snapshot(macro)
    session.delete(macro)
    session.flush()
    record_audit(session, principal, "macro.deleted", "macro", macro_id, before, None)


def list_macros(
    session: Session, principal: Principal, *, team_id: int | None = None
) -> list[Macro]:
    """The macros the caller sees, by name; with ``team_id``, that team's and every team's."""
    statement = scoped(select(Macro), principal, Macro)
    if team_id is not None:
        statement = statement.where(or_(Macro.team_id.is_(None), Macro.team_id == team_id))
    return list(session.scalars(statement.order_by(Macro.name, Macro.id)))


# -- using a macro on a ticket -----------------------------------------------------------------


def macros_for_ticket(session: Session, principal: Principal, ticket_id: int) -> list[Macro]:
    """The macros for a ticket: its team's and every team's (a ticket without a team: the
    every-team ones), by name."""
    ticket = get_ticket(session, principal, ticket_id)
    statement = scoped(select(Macro), principal, Macro)
    if ticket.team_id is None:
        statement = statement.where(Macro.team_id.is_(None))
    else:
        statement = statement.where(or_(Macro.team_id.is_(None), Macro.team_id == ticket.team_id))
    return list(session.scalars(statement.order_by(Macro.name, Macro.id)))


@dataclass(frozen=True)
class RenderedMacro:
    macro_id: int
    name: str
    language: str  # a code of MACRO_LANGUAGES
    text: str


def body_in(macro: Macro, language: str) -> tuple[str, str]:
    """``(language, body)``: the macro's body in ``language``, else in the other language."""
    wanted = supported_language(language)
    order = [wanted, *(code for code in MACRO_LANGUAGES if code != wanted)]
    for code in order:
        body = getattr(macro, MACRO_LANGUAGES[code], "") or ""
        if body:
            return code, body
    return wanted, ""


def render_for_ticket(
    session: Session,
    principal: Principal,
    macro_id: int,
    ticket_id: int,
    *,
    settings: Settings,
    default_language: str = "en",
) -> RenderedMacro:
    """The macro filled in for the ticket, in the customer's preferred language (unknown:
    ``default_language``), or the other one when the macro has only that. A macro for another
    team than the ticket's is "not found", like one out of scope."""
    ticket = get_ticket(session, principal, ticket_id)
    macro = get_macro(session, principal, macro_id)
    if macro.team_id is not None and macro.team_id != ticket.team_id:
        raise NotFoundError(f"no macro with id {macro_id} for this ticket's team")
    preferred = preferred_language(session, ticket.customer_id)
    language, body = body_in(macro, preferred or default_language)
    team = session.get(Team, ticket.team_id) if ticket.team_id is not None else None
    customer = customer_names(session, principal, {ticket.customer_id}).get(ticket.customer_id)
    values = {
        "customer_name": customer or "",
        "ticket_number": str(ticket.id),
        "ticket_subject": ticket.subject,
        "agent_name": principal.display_name or "",
        "team_name": team.name if team is not None else "",
        "promise_due": (
            format_instant(ticket.sla_due_at, settings.timezone, language)
            if ticket.sla_due_at is not None and ticket.status_category == "open"
            else ""
        ),
    }
    return RenderedMacro(macro.id, macro.name, language, fill_placeholders(body, values))
