"""What the feedback domain registers with the platform: its permissions and role grants, the
row scopes of its tables, the merge reference and timeline source of responses, and its
personal fields for erasure. Imported once by :mod:`kehu.domains`; nothing else imports it.

Permissions (a judgement, documented in docs/surveys.md): managers change surveys and
competitors and import responses (``feedback:write``); managers and agents record a response
on a customer's behalf, e.g. on the phone (``feedback:record``); every staff role reads
surveys and responses (``feedback:read``). Every staff member who reads feedback sees every
survey and response (no row narrowing: results are read across teams).
"""

from __future__ import annotations

from datetime import timedelta

from kehu.core.auth import register_scope
from kehu.core.auth.permissions import register_permissions
from kehu.core.events import PurchaseRecorded, TicketResolved, subscribe
from kehu.core.jobs import register_job
from kehu.core.personal_data import declare_not_personal, register_personal_fields, through
from kehu.customers.references import register_customer_reference
from kehu.customers.timeline import register_timeline_source
from kehu.feedback.events import SurveyResponseSubmitted
from kehu.feedback.follow_up import (
    AUTO_OPEN_JOB,
    auto_open_job,
    follow_up_timeline_entries,
    on_response_submitted,
)
from kehu.feedback.follow_up_tables import FollowUp, FollowUpRules
from kehu.feedback.invitation_tables import InvitationRule, SurveyInvitation
from kehu.feedback.invitations import on_purchase_recorded, on_ticket_resolved
from kehu.feedback.messages import register_messages
from kehu.feedback.tables import Competitor, Survey, SurveyAnswer, SurveyResponse, SurveyVersion
from kehu.feedback.theme_tables import Theme, ThemeTag, ThemeText
from kehu.feedback.themes import TAGGING_JOB, theme_tagging_job
from kehu.feedback.timeline import response_timeline_entries
from kehu.feedback.worker import survey_invitations_job

register_permissions(
    "feedback",
    {
        "feedback:read": "read surveys, their versions and responses, and the competitors",
        "feedback:write": "create and change surveys and competitors; import past responses",
        "feedback:record": "record a customer's response to a survey (on the phone, in person)",
    },
    grants={
        "manager": ["feedback:read", "feedback:write", "feedback:record"],
        "agent": ["feedback:read", "feedback:record"],
        "read_only": ["feedback:read"],
    },
)

register_scope(Survey, "feedback:read")
register_scope(SurveyVersion, "feedback:read")
register_scope(SurveyResponse, "feedback:read")
register_scope(Competitor, "feedback:read")

# A merged customer's responses follow it, and are on its 360 timeline.
register_customer_reference(SurveyResponse, "customer_id")
register_timeline_source("survey_responses", response_timeline_entries)

# --- personal data (kehu.core.personal_data) ---------------------------------------------------
# Free-text answers are the customer's own words: redacted with the customer. The numbers and
# chosen options stay (anonymous figures once the customer is erased).
register_personal_fields(
    SurveyAnswer,
    ["text"],
    rows=through(SurveyAnswer.response_id, SurveyResponse),
    erase="redact",
)
declare_not_personal(
    SurveyAnswer,
    ["question_id", "item", "choice"],
    "codes: a question's id, the part of its answer and a chosen option's id",
)
declare_not_personal(
    SurveyResponse,
    ["status", "source", "language", "channel"],
    "codes: a response's status, source, language and channel",
)
declare_not_personal(Survey, ["name", "template", "status"], "a survey's name and codes")
declare_not_personal(
    SurveyVersion, ["definition"], "a survey's questions and texts (configuration)"
)
declare_not_personal(Competitor, ["name"], "a competing business's name (configuration)")

# --- survey invitations (kehu.feedback.invitations) -------------------------------------------
register_scope(SurveyInvitation, "feedback:read")
register_scope(InvitationRule, "feedback:read")
register_customer_reference(SurveyInvitation, "customer_id")
declare_not_personal(
    SurveyInvitation,
    ["trigger", "language", "status", "skip_reason"],
    "codes: an invitation's trigger, language, status and why it was skipped",
)
declare_not_personal(
    InvitationRule,
    ["trigger", "segment_tier", "segment_rfm", "segment_tag"],
    "a rule's trigger and segment (configuration)",
)
subscribe(TicketResolved, on_ticket_resolved)
subscribe(PurchaseRecorded, on_purchase_recorded)
register_job("survey_invitations", survey_invitations_job, every=timedelta(minutes=5))
register_messages()
# --- complaint themes (kehu.feedback.themes) ---------------------------------------------------
# Themes and their texts are read with feedback:read; the tags of a ticket are read and
# corrected through the ticket's own permission (kehu.feedback.themes checks it). A merged
# customer's texts follow it. The copy of a text is the customer's words: redacted with them.
register_scope(Theme, "feedback:read")
register_scope(ThemeText, "feedback:read")
register_scope(ThemeTag, "feedback:read")
register_customer_reference(ThemeText, "customer_id")
register_job(TAGGING_JOB, theme_tagging_job, every=timedelta(minutes=15))
register_personal_fields(ThemeText, ["text"], customer_column="customer_id", erase="redact")
declare_not_personal(
    ThemeText, ["target_kind"], "a code: whether the text is a ticket's or a survey answer's"
)
declare_not_personal(ThemeTag, ["source"], "a code: whether a tag is the model's or an agent's")
declare_not_personal(
    Theme, ["key", "name_en", "name_zh", "seed_words"], "a theme's names and words (configuration)"
)
# --- closing the loop (kehu.feedback.follow_up) -------------------------------------------------
# A submitted response may open a follow-up item; items are on the 360 timeline, follow a merged
# customer, and the automatic rule's job opens recovery tickets (when the rule is on).
subscribe(SurveyResponseSubmitted, on_response_submitted)
register_scope(FollowUp, "feedback:read")
register_scope(FollowUpRules, "feedback:read")
register_customer_reference(FollowUp, "customer_id")
register_timeline_source("follow_ups", follow_up_timeline_entries)
register_job(AUTO_OPEN_JOB, auto_open_job, every=timedelta(minutes=5))
register_personal_fields(FollowUp, ["note"], erase="redact")
declare_not_personal(
    FollowUp,
    ["reason", "question_id", "score", "theme", "status", "opened_by_rule"],
    "codes and a score: why an item was opened and where it stands",
)
declare_not_personal(
    FollowUpRules,
    ["nps_at_most", "ces_at_most", "csat_at_most", "due_days", "auto_open_high_value"],
    "thresholds (configuration)",
)
