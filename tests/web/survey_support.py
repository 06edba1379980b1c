"""Helpers of the survey response page tests: a published survey with skip logic (a free-text
"why" shown only for a score of 6 or less), and an invitation sent to a customer in their
language through the worker's round, whose link token is read back from the outbox."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import Settings
from kehu.core.events import PurchaseRecorded, publish
from kehu.core.outbox import OutboxMessage
from kehu.customers.schemas import ContactIn, CustomerCreate
from kehu.customers.service import create_customer
from kehu.feedback import invitations, surveys
from kehu.store.db import Database
from staff_support import add_staff

MANAGER = Principal.for_user(1, ["manager"])

SKIPPING_SURVEY = {
    "title": {"en": "After your visit", "zh-Hans": "访问之后"},
    "questions": [
        {
            "id": "score",
            "type": "nps",
            "text": {
                "en": "How likely are you to recommend us to a friend?",
                "zh-Hans": "您向朋友推荐我们的可能性有多大？",
            },
            "required": True,
        },
        {
            "id": "why_low",
            "type": "free_text",
            "text": {"en": "What should we do better?", "zh-Hans": "我们应该在哪些方面改进？"},
            "show_if": {"question": "score", "max": 6},
        },
        {
            "id": "visit",
            "type": "csat",
            "text": {
                "en": "How satisfied are you with your visit?",
                "zh-Hans": "您对这次访问满意吗？",
            },
        },
    ],
}
LINK = re.compile(r"/s/([A-Za-z0-9_-]+)")


def invite(
    database: Database, settings: Settings, now: datetime, *, language: str = "en", key: str = "C-1"
) -> str:
    """Publish the survey, invite one customer after a purchase, return the link's token."""
    with database.session() as session:
        add_staff(session, 1)
        survey = surveys.create_survey(
            session, MANAGER, name="After a visit", definition=SKIPPING_SURVEY, now=now
        )
        surveys.publish_survey(session, MANAGER, survey.id)
        invitations.create_rule(session, MANAGER, survey.id, "purchase", now=now)
        customer = create_customer(
            session,
            SYSTEM,
            CustomerCreate(
                external_id=key,
                name="Erika Mustermann",
                preferred_language=language,
                contacts=[ContactIn(type="email", value=f"{key.lower()}@example.com")],
            ),
        ).id
        publish(
            session,
            PurchaseRecorded(at=now, customer_id=customer, import_id=1, count=1, latest=now),
        )
    invitations.run_invitations(database, now, settings)
    with database.session() as session:
        body = session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.purpose == "survey_invitation")
        ).all()[-1]
    found = LINK.search(body)
    assert found is not None, body
    return found.group(1)
