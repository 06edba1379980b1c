"""Survey invitations: who is asked, when, through which link, and the respondent's side of it.

Triggers (each a rule of ``survey_invitation_rules``: which survey, how long after):

- **a resolved ticket** (:class:`~kehu.core.events.TicketResolved`, published by the desk):
  the desk's CSAT. One invitation per ticket at most (a unique column): a ticket reopened and
  resolved again is not asked twice; a manager may re-send it (:func:`resend_for_ticket`);
- **a purchase** (:class:`~kehu.core.events.PurchaseRecorded`, published by the value domain's
  import): only when the newest purchase of the import happened within
  :data:`PURCHASE_RECENT` of being recorded, so an import of past purchases never invites;
- **a segment** (value tier, RFM segment and/or tag) every ``every_days`` days, run by the job.

An event only *schedules* an invitation (``send_at`` = the event + the rule's delay); the
``survey_invitations`` job of ``kehu worker`` (:func:`run_invitations`) sends what is due, sends
the one reminder ``KEHU_SURVEY_REMINDER_DAYS`` after an unanswered invitation, expires
invitations whose link ran out and invites the segments that are due.

At send time, in this order: the survey must be published; the customer must not have refused
e-mail nor withdrawn their consent (an unsubscribe link withdraws it:
:func:`kehu.customers.service.record_unsubscribe`); the **contact cap**: no other invitation
sent to the customer within ``KEHU_SURVEY_CONTACT_DAYS`` days, whatever its trigger; and an
e-mail address. Otherwise the invitation is ``skipped`` with the reason, and nothing is sent.

Each invitation is a platform signed link (:mod:`kehu.core.links`, purpose ``survey``,
single-use, valid ``KEHU_SURVEY_LINK_DAYS``) and carries an unsubscribe link (purpose
``survey_unsubscribe``, a year). The message goes through the outbox in the customer's language
(:mod:`kehu.feedback.messages`). A reminder carries a new link to the same invitation (the store
keeps only links' digests, so the first token cannot be sent again); both work until they expire.

The respondent (no account; the use cases act as :data:`~kehu.core.auth.SYSTEM` for exactly the
invitation the token opens): :func:`open_survey` shows the survey with the answers saved so far;
:func:`answer_survey` records through :mod:`kehu.feedback.responses` (start, save, submit); the
submission spends the link, after which :func:`open_survey` raises :class:`AlreadyAnswered`. An
unknown, forged, expired or revoked link is a :class:`~kehu.errors.NotFoundError` and records
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu.core import outbox
from kehu.core.auth import SYSTEM, Principal, require
from kehu.core.config import Settings, public_url
from kehu.core.events import PurchaseRecorded, TicketResolved
from kehu.core.i18n import supported_language
from kehu.core.links import SignedLink, issue_link, resolve_link, token_digest, use_link
from kehu.customers.queries import customer_names, customers_tagged, preferred_language
from kehu.customers.service import (
    marketing_consent,
    may_contact,
    primary_address,
    record_unsubscribe,
)
from kehu.errors import ConflictError, InputError, NotFoundError
from kehu.feedback.answers import Normalised, check_answer
from kehu.feedback.definition import SurveyDefinition
from kehu.feedback.invitation_tables import TRIGGERS, InvitationRule, SurveyInvitation
from kehu.feedback.messages import invitation_message
from kehu.feedback.responses import (
    ResponseContext,
    get_response,
    save_answers,
    start_response,
    submit_response,
)
from kehu.feedback.surveys import current_version_of, definition_of, list_competitors
from kehu.feedback.tables import Survey, SurveyResponse, SurveyVersion
from kehu.store.base import utc_now
from kehu.store.db import Database
from kehu.value.queries import customers_scored

__all__ = [
    "PURCHASE_RECENT",
    "SURVEY_LINK",
    "UNSUBSCRIBE_LINK",
    "AlreadyAnswered",
    "InvitationReport",
    "Respondent",
    "answer_survey",
    "create_rule",
    "form_answers",
    "invitation_for_ticket",
    "list_rules",
    "on_purchase_recorded",
    "on_ticket_resolved",
    "open_survey",
    "resend_for_ticket",
    "run_invitations",
    "send_invitation",
    "set_rule_active",
    "survey_path",
    "unsubscribe",
    "unsubscribe_path",
]

SURVEY_LINK = "survey"
UNSUBSCRIBE_LINK = "survey_unsubscribe"
CHANNEL = "email"
#: a purchase older than this when it is recorded is history: it invites nobody
PURCHASE_RECENT = timedelta(days=2)
UNSUBSCRIBE_LIFETIME = timedelta(days=365)
LINK_REFUSAL = "this survey link is not valid: it may have expired or been replaced"


class AlreadyAnswered(Exception):
    """The link's survey was submitted already: the page thanks, and records nothing."""


@dataclass
class InvitationReport:
    scheduled: int = 0
    sent: int = 0
    skipped: int = 0
    reminded: int = 0
    expired: int = 0


@dataclass(frozen=True)
class Respondent:
    """What the response page shows: the survey's current definition, the answers saved so
    far, the invitation's language and when the link expires."""

    invitation_id: int
    survey_id: int
    definition: SurveyDefinition
    language: str
    expires_at: datetime
    answers: dict[str, Normalised] = field(default_factory=dict)
    #: the names of the competitors the survey's questions rate us against, by id
    competitors: dict[int, str] = field(default_factory=dict)


def survey_path(token: str) -> str:
    return f"/s/{token}"


def unsubscribe_path(token: str) -> str:
    return f"/unsubscribe/{token}"


# --- rules ------------------------------------------------------------------------------------


def create_rule(
    session: Session,
    principal: Principal,
    survey_id: int,
    trigger: str,
    *,
    delay_hours: int = 0,
    tier: str | None = None,
    rfm_segment: str | None = None,
    tag: str | None = None,
    every_days: int | None = None,
    now: datetime | None = None,
) -> InvitationRule:
    """A rule sending survey ``survey_id`` on ``trigger`` (``feedback:write``)."""
    require(principal, "feedback:write")
    if trigger not in TRIGGERS or trigger == "manual":
        raise InputError(
            "trigger is ticket_resolved, purchase or segment", column="trigger", value=trigger
        )
    if session.get(Survey, survey_id) is None:
        raise InputError("no survey with this id", column="survey_id", value=survey_id)
    if delay_hours < 0:
        raise InputError("a delay is 0 hours or more", column="delay_hours", value=delay_hours)
    if trigger == "segment":
        if tier is None and rfm_segment is None and tag is None:
            raise InputError("a segment rule needs a tier, an RFM segment or a tag", column="tag")
        if every_days is None or every_days < 1:
            raise InputError(
                "a segment rule needs every_days of 1 or more",
                column="every_days",
                value=every_days,
            )
    rule = InvitationRule(
        survey_id=survey_id,
        trigger=trigger,
        delay_hours=delay_hours,
        segment_tier=tier,
        segment_rfm=rfm_segment,
        segment_tag=tag,
        every_days=every_days,
        next_run_at=now or utc_now(),
        active=True,
        created_by=principal.user_id,
    )
    session.add(rule)
    session.flush()
    return rule


def list_rules(session: Session, principal: Principal, survey_id: int) -> list[InvitationRule]:
    """The rules of a survey, oldest first (``feedback:read``)."""
    require(principal, "feedback:read")
    if session.get(Survey, survey_id) is None:
        raise NotFoundError(f"no survey with id {survey_id}")
    return list(
        session.scalars(
            select(InvitationRule)
            .where(InvitationRule.survey_id == survey_id)
            .order_by(InvitationRule.id)
        )
    )


def set_rule_active(
    session: Session, principal: Principal, rule_id: int, active: bool
) -> InvitationRule:
    """Switch a rule on or off (``feedback:write``); invitations already scheduled stay."""
    require(principal, "feedback:write")
    rule = session.get(InvitationRule, rule_id)
    if rule is None:
        raise NotFoundError(f"no invitation rule with id {rule_id}")
    rule.active = active
    session.flush()
    return rule


def _active_rules(session: Session, trigger: str) -> list[InvitationRule]:
    return list(
        session.scalars(
            select(InvitationRule)
            .where(InvitationRule.trigger == trigger, InvitationRule.active.is_(True))
            .order_by(InvitationRule.id)
        )
    )


def _schedule(
    session: Session,
    rule: InvitationRule,
    customer_id: int,
    send_at: datetime,
    *,
    ticket_id: int | None = None,
    purchase_import_id: int | None = None,
) -> SurveyInvitation:
    invitation = SurveyInvitation(
        survey_id=rule.survey_id,
        rule_id=rule.id,
        customer_id=customer_id,
        trigger=rule.trigger,
        ticket_id=ticket_id,
        purchase_import_id=purchase_import_id,
        language=supported_language(preferred_language(session, customer_id)),
        status="scheduled",
        send_at=send_at,
        created_at=send_at,
    )
    session.add(invitation)
    session.flush()
    return invitation


# --- triggers ---------------------------------------------------------------------------------


def invitation_for_ticket(session: Session, ticket_id: int) -> SurveyInvitation | None:
    return session.scalar(select(SurveyInvitation).where(SurveyInvitation.ticket_id == ticket_id))


def on_ticket_resolved(session: Session, event: TicketResolved) -> None:
    """Schedule the desk's CSAT survey for a resolved ticket (once per ticket)."""
    rules = _active_rules(session, "ticket_resolved")
    if not rules or invitation_for_ticket(session, event.ticket_id) is not None:
        return
    rule = rules[0]
    _schedule(
        session,
        rule,
        event.customer_id,
        event.at + timedelta(hours=rule.delay_hours),
        ticket_id=event.ticket_id,
    )


def on_purchase_recorded(session: Session, event: PurchaseRecorded) -> None:
    """Schedule the purchase survey for a customer's recent purchase (never a past one)."""
    if event.latest < event.at - PURCHASE_RECENT:
        return
    for rule in _active_rules(session, "purchase"):
        _schedule(
            session,
            rule,
            event.customer_id,
            event.at + timedelta(hours=rule.delay_hours),
            purchase_import_id=event.import_id,
        )


def _invite_segments(session: Session, now: datetime) -> int:
    scheduled = 0
    for rule in _active_rules(session, "segment"):
        if rule.next_run_at is not None and rule.next_run_at > now:
            continue
        members: set[int] | None = None
        if rule.segment_tier is not None or rule.segment_rfm is not None:
            members = set(
                customers_scored(session, tier=rule.segment_tier, rfm_segment=rule.segment_rfm)
            )
        if rule.segment_tag is not None:
            tagged = set(customers_tagged(session, rule.segment_tag))
            members = tagged if members is None else members & tagged
        for customer_id in sorted(members or ()):
            _schedule(session, rule, customer_id, now)
            scheduled += 1
        rule.next_run_at = now + timedelta(days=rule.every_days or 1)
    return scheduled


# --- sending ----------------------------------------------------------------------------------


def _skip_reason(
    session: Session, invitation: SurveyInvitation, now: datetime, settings: Settings, cap: bool
) -> str | None:
    survey = session.get(Survey, invitation.survey_id)
    if survey is None or survey.status != "published":
        return "survey_not_published"
    customer = invitation.customer_id
    if not may_contact(session, customer, CHANNEL, "service"):
        return "refused_email"
    if marketing_consent(session, customer, CHANNEL) == "withdrawn":
        return "unsubscribed"
    if cap and settings.survey_contact_days > 0:
        since = now - timedelta(days=settings.survey_contact_days)
        recent = session.scalar(
            select(func.count()).where(
                SurveyInvitation.customer_id == customer,
                SurveyInvitation.id != invitation.id,
                SurveyInvitation.sent_at.is_not(None),
                SurveyInvitation.sent_at > since,
            )
        )
        if recent:
            return "contact_cap"
    if primary_address(session, customer, CHANNEL) is None:
        return "no_address"
    return None


def _deliver(
    session: Session,
    invitation: SurveyInvitation,
    now: datetime,
    settings: Settings,
    *,
    reminder: bool,
) -> None:
    """Issue a survey link (and an unsubscribe link) and put the message in the outbox."""
    survey = session.get(Survey, invitation.survey_id)
    assert survey is not None
    definition = definition_of(current_version_of(session, survey))
    expires = (
        invitation.expires_at
        if reminder and invitation.expires_at is not None
        else now + timedelta(days=settings.survey_link_days)
    )
    link = issue_link(
        session,
        SURVEY_LINK,
        ("survey_invitation", invitation.id),
        now=now,
        lifetime=expires - now,
        single_use=True,
    )
    stop = issue_link(
        session,
        UNSUBSCRIBE_LINK,
        ("customer", invitation.customer_id),
        now=now,
        lifetime=UNSUBSCRIBE_LIFETIME,
    )
    language = invitation.language
    name = customer_names(session, SYSTEM, [invitation.customer_id]).get(invitation.customer_id, "")
    message = invitation_message(
        reminder=reminder,
        name=name,
        title=definition.title.in_language(language),
        url=public_url(settings, survey_path(link.token)),
        unsubscribe_url=public_url(settings, unsubscribe_path(stop.token)),
        expires=expires,
        zone=settings.timezone,
        language=language,
    )
    step = "reminder" if reminder else f"invitation:{link.link.id}"
    outbox.enqueue(
        session,
        purpose="survey_reminder" if reminder else "survey_invitation",
        customer_id=invitation.customer_id,
        regarding=("survey_invitation", invitation.id),
        subject=message.subject,
        body=message.body,
        now=now,
        dedupe_key=f"survey_invitation:{invitation.id}:{step}",
    )
    invitation.link_id = link.link.id
    invitation.expires_at = expires
    if reminder:
        invitation.reminded_at = now
        if invitation.status == "sent":
            invitation.status = "reminded"
    else:
        invitation.survey_version = survey.current_version
        invitation.sent_at = now
        invitation.status = "sent"
        invitation.skip_reason = None


def send_invitation(
    session: Session,
    invitation: SurveyInvitation,
    now: datetime,
    settings: Settings,
    *,
    cap: bool = True,
) -> bool:
    """Send a scheduled invitation, or skip it with the reason; whether it was sent."""
    reason = _skip_reason(session, invitation, now, settings, cap)
    if reason is not None:
        invitation.status = "skipped"
        invitation.skip_reason = reason
        session.flush()
        return False
    _deliver(session, invitation, now, settings, reminder=False)
    session.flush()
    return True


def run_invitations(database: Database, now: datetime, settings: Settings) -> InvitationReport:
    """The worker's round (idempotent: every step moves an invitation on once)."""
    report = InvitationReport()
    with database.session() as session:
        report.scheduled = _invite_segments(session, now)
        due = list(
            session.scalars(
                select(SurveyInvitation)
                .where(SurveyInvitation.status == "scheduled", SurveyInvitation.send_at <= now)
                .order_by(SurveyInvitation.send_at, SurveyInvitation.id)
            )
        )
        for invitation in due:
            if send_invitation(session, invitation, now, settings):
                report.sent += 1
            else:
                report.skipped += 1
        live = ("sent", "reminded", "opened")
        for invitation in session.scalars(
            select(SurveyInvitation).where(
                SurveyInvitation.status.in_(live), SurveyInvitation.expires_at <= now
            )
        ):
            invitation.status = "expired"
            report.expired += 1
        if settings.survey_reminder_days > 0:
            before = now - timedelta(days=settings.survey_reminder_days)
            for invitation in session.scalars(
                select(SurveyInvitation).where(
                    SurveyInvitation.status.in_(("sent", "opened")),
                    SurveyInvitation.reminded_at.is_(None),
                    SurveyInvitation.sent_at <= before,
                    SurveyInvitation.expires_at > now,
                )
            ):
                if _skip_reason(session, invitation, now, settings, cap=False) is None:
                    _deliver(session, invitation, now, settings, reminder=True)
                    report.reminded += 1
                else:  # unsubscribed since: no reminder, ever
                    invitation.reminded_at = now
        session.flush()
    return report


def resend_for_ticket(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    now: datetime | None = None,
    settings: Settings,
) -> SurveyInvitation:
    """A manager sends a ticket's survey again, now, with a new link (``feedback:write``).
    The contact cap is the manager's to overrule; consent is not: an unsubscribed customer or
    one who refused e-mail is a conflict, as is a ticket already answered."""
    require(principal, "feedback:write")
    now = now or utc_now()
    invitation = invitation_for_ticket(session, ticket_id)
    if invitation is None:
        raise NotFoundError(f"ticket {ticket_id} has no survey invitation")
    if invitation.status == "responded":
        raise ConflictError(f"the survey of ticket {ticket_id} was answered already")
    reason = _skip_reason(session, invitation, now, settings, cap=False)
    if reason is not None:
        raise ConflictError(f"the survey of ticket {ticket_id} cannot be sent: {reason}")
    invitation.reminded_at = None
    _deliver(session, invitation, now, settings, reminder=False)
    session.flush()
    return invitation


# --- the respondent ---------------------------------------------------------------------------


def _used_link(session: Session, token: str) -> bool:
    """Whether ``token`` is a survey link that was spent (its survey submitted) and has not
    expired: the page then thanks instead of refusing."""
    link = session.scalar(select(SignedLink).where(SignedLink.digest == token_digest(token)))
    return (
        link is not None
        and link.purpose == SURVEY_LINK
        and link.used_at is not None
        and link.revoked_at is None
    )


def _invitation_of(session: Session, token: str, now: datetime) -> SurveyInvitation:
    try:
        link = resolve_link(session, SURVEY_LINK, token, now=now, refusal=LINK_REFUSAL)
    except NotFoundError:
        if isinstance(token, str) and len(token) <= 200 and _used_link(session, token):
            raise AlreadyAnswered from None
        raise
    invitation = session.get(SurveyInvitation, link.subject_id)
    if invitation is None or link.subject_type != "survey_invitation":
        raise NotFoundError(LINK_REFUSAL)
    if invitation.status == "responded":
        raise AlreadyAnswered
    return invitation


def _survey_open(session: Session, invitation: SurveyInvitation) -> Survey:
    survey = session.get(Survey, invitation.survey_id)
    assert survey is not None
    if survey.status != "published":
        raise ConflictError(f"survey {survey.id} is {survey.status}: it takes no responses")
    return survey


def open_survey(session: Session, token: str, *, now: datetime | None = None) -> Respondent:
    """The survey behind ``token`` with the answers saved so far; the first opening is
    recorded (status ``opened``)."""
    now = now or utc_now()
    invitation = _invitation_of(session, token, now)
    survey = _survey_open(session, invitation)
    answers: dict[str, Normalised] = {}
    if invitation.response_id is not None:
        answers = get_response(session, SYSTEM, invitation.response_id).answers
    if invitation.opened_at is None:
        invitation.opened_at = now
    if invitation.status in ("sent", "reminded"):
        invitation.status = "opened"
    session.flush()
    definition = _definition_for(session, invitation, survey)
    rated = definition.competitor_ids()
    return Respondent(
        invitation_id=invitation.id,
        survey_id=survey.id,
        definition=definition,
        language=invitation.language,
        expires_at=invitation.expires_at or now,
        answers=answers,
        competitors={c.id: c.name for c in list_competitors(session, SYSTEM) if c.id in rated},
    )


def _definition_for(
    session: Session, invitation: SurveyInvitation, survey: Survey
) -> SurveyDefinition:
    """The definition the respondent answers: their response's version once started, else the
    survey's current one (the version a new response is recorded on)."""
    if invitation.response_id is not None:
        response = session.get(SurveyResponse, invitation.response_id)
        assert response is not None
        version = session.get(SurveyVersion, response.survey_version_id)
        assert version is not None
        return definition_of(version)
    return definition_of(current_version_of(session, survey))


def form_answers(
    definition: SurveyDefinition,
    stored: Mapping[str, Normalised],
    posted: Mapping[str, Any],
) -> dict[str, Any]:
    """The answers a page posted, made ready to save: each checked (an ``InputError`` naming
    the question), and those of questions the posted answers hide set to ``None`` (the page
    showed them before the answer that hides them changed)."""
    questions = definition.by_id()
    checked: dict[str, Any] = {}
    for question_id, value in posted.items():
        question = questions.get(question_id)
        if question is None:
            raise InputError("no such question in this survey", column=question_id)
        checked[question_id] = check_answer(question, value)
    candidate: dict[str, Any] = {**stored, **checked}
    candidate = {q: a for q, a in candidate.items() if a is not None}
    shown = {question.id: visible for question, visible in definition.visible(candidate)}
    return {q: (a if shown.get(q) else None) for q, a in checked.items()}


def answer_survey(
    session: Session,
    token: str,
    posted: Mapping[str, Any],
    *,
    submit: bool,
    now: datetime | None = None,
    language: str | None = None,
) -> Respondent | None:
    """Save the posted answers of the respondent behind ``token`` (starting the response the
    first time) and, with ``submit``, submit it and spend the link. Returns the respondent's
    state after a save; ``None`` after a submission."""
    now = now or utc_now()
    invitation = _invitation_of(session, token, now)
    survey = _survey_open(session, invitation)
    definition = _definition_for(session, invitation, survey)
    stored: dict[str, Normalised] = {}
    if invitation.response_id is not None:
        stored = get_response(session, SYSTEM, invitation.response_id).answers
    answers = form_answers(definition, stored, posted)
    if language is not None:
        invitation.language = supported_language(language)
    started = invitation.response_id is None
    if started:
        response = start_response(
            session,
            SYSTEM,
            survey.id,
            ResponseContext(
                customer_id=invitation.customer_id,
                ticket_id=invitation.ticket_id,
                channel=CHANNEL,
                invitation_id=invitation.id,
                language=invitation.language,
            ),
            answers={q: a for q, a in answers.items() if a is not None},
            now=now,
        )
        invitation.response_id = response.id
        session.flush()
    elif not submit:
        assert invitation.response_id is not None
        save_answers(session, SYSTEM, invitation.response_id, answers, now=now)
    if submit:
        assert invitation.response_id is not None
        submit_response(
            session, SYSTEM, invitation.response_id, None if started else answers, now=now
        )
        use_link(session, SURVEY_LINK, token, now=now, refusal=LINK_REFUSAL)
        invitation.status = "responded"
        invitation.responded_at = now
        session.flush()
        return None
    return open_survey(session, token, now=now)


# --- unsubscribing ----------------------------------------------------------------------------


def unsubscribe(session: Session, token: str, *, now: datetime | None = None, confirm: bool) -> int:
    """The customer behind an unsubscribe link (checked); with ``confirm``, their opt-out is
    recorded through the customers domain (every later invitation and reminder is skipped)."""
    now = now or utc_now()
    link = resolve_link(session, UNSUBSCRIBE_LINK, token, now=now)
    if confirm:
        record_unsubscribe(session, link.subject_id, CHANNEL, source="survey unsubscribe link")
    return link.subject_id
