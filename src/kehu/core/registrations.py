"""What the platform itself registers: its own tables and its jobs (outbox delivery, forgetting
expired idempotency keys). Imported once by :mod:`kehu.domains`, like each domain's
``registrations`` module."""

from __future__ import annotations

from datetime import timedelta

# the platform's own tables are part of the schema
from kehu.core import idempotency, links, ratelimit  # noqa: F401
from kehu.core.idempotency import purge_expired_idempotency_keys
from kehu.core.jobs import JobContext, register_job
from kehu.core.outbox import deliver_outbox


def outbox_deliver_job(context: JobContext) -> None:
    deliver_outbox(context.database, context.now, settings=context.settings)


def idempotency_purge_job(context: JobContext) -> None:
    purge_expired_idempotency_keys(context.database, context.now)


register_job("outbox_deliver", outbox_deliver_job, every=timedelta(seconds=30))
register_job("idempotency_purge", idempotency_purge_job, every=timedelta(hours=1))

# --- personal data (kehu.core.personal_data): the platform's own tables ---------------------------
# (imported here, not at the top, so that this block stays one appended piece)
from kehu.core.audit.tables import AuditChainHead, AuditEvent  # noqa: E402
from kehu.core.idempotency import IdempotencyRecord  # noqa: E402
from kehu.core.jobs.tables import Job  # noqa: E402
from kehu.core.links import SignedLink  # noqa: E402
from kehu.core.outbox import OutboxMessage  # noqa: E402
from kehu.core.personal_data import declare_not_personal, register_personal_fields  # noqa: E402
from kehu.core.ratelimit import RateLimitHit  # noqa: E402
from kehu.core.users.tables import ApiToken, LoginAttempt, User, WebSession  # noqa: E402

# Messages to a customer: the address, the text, and a delivery error that may quote the address.
# A pending message loses its address and so is not sent (undeliverable).
register_personal_fields(
    OutboxMessage,
    ["recipient", "subject", "body", "last_error"],
    erase={"recipient": "null", "subject": "redact", "body": "redact", "last_error": "null"},
)
declare_not_personal(
    OutboxMessage,
    ["regarding_type", "purpose", "channel", "consent", "status", "dedupe_key"],
    "codes, and a de-duplication key made of ids and codes",
)
# Audit payloads are erased per entity (register_audit_entity, by the domains owning the
# entities), which accounts for before/after/salt; the rest is the chain's metadata.
declare_not_personal(
    AuditEvent,
    ["action", "entity", "entity_id", "payload_digest", "prev_hash", "chain_hash"],
    "the audit chain's metadata: codes, ids and digests, which must stay for it to verify",
)
declare_not_personal(
    AuditEvent, ["actor_name"], "the staff member (or 'system') who acted, not a customer"
)
declare_not_personal(AuditChainHead, ["last_hash"], "a digest of the chain's end")
declare_not_personal(
    SignedLink, ["purpose", "subject_type", "digest"], "codes and the SHA-256 of a random token"
)
declare_not_personal(
    RateLimitHit,
    ["action", "bucket"],
    "a code and a key (a client address or the SHA-256 of an address), linked to no customer "
    "and kept only for the rate limit's window",
)
declare_not_personal(
    IdempotencyRecord,
    [
        "principal_key",
        "key",
        "request_digest",
        "authority_digest",
        "method",
        "path",
        "response_headers",
        "response_body",
    ],
    "a replayable API answer kept only until expires_at (hours) and then purged: it is linked "
    "to no customer, so it expires rather than being erased",
)
declare_not_personal(
    Job,
    ["name", "key", "payload", "lease_owner", "last_error"],
    "job names, keys and payloads of ids, codes and digests, never names, addresses or text",
)
# Staff accounts: personal data of colleagues, not of customers; a customer's erasure leaves them.
declare_not_personal(
    User,
    ["email", "display_name", "role", "locale", "password_hash"],
    "staff accounts, not customers (a user's own data is managed with the user)",
)
declare_not_personal(
    ApiToken, ["name", "prefix", "token_digest", "scopes"], "staff API tokens, not customers"
)
declare_not_personal(
    WebSession,
    ["session_digest", "csrf_token", "client_address", "user_agent"],
    "staff sign-in sessions, not customers",
)
declare_not_personal(
    LoginAttempt, ["email", "client_address"], "staff sign-in attempts, not customers"
)

# --- notifications (kehu.core.notifications): one's own, for every role ----------------------
from kehu.core.auth import register_scope  # noqa: E402
from kehu.core.auth.permissions import register_permissions  # noqa: E402
from kehu.core.notifications import Notification  # noqa: E402
from kehu.core.notifications.service import (  # noqa: E402
    register_notification_email,
    scope_to_recipient,
)

register_permissions(
    "platform",
    {
        "notifications:read": "read one's own notifications",
        "notifications:write": "mark one's own notifications read; turn their e-mails on or off",
    },
    grants={
        role: ["notifications:read", "notifications:write"]
        for role in ("manager", "agent", "read_only")
    },
)
register_scope(Notification, "notifications:read", scope_to_recipient)
register_notification_email()
# The title quotes what it is about (a ticket's subject): the domain whose records a kind regards
# registers the titles as personal, with the rows of its customer (kehu.desk.registrations for
# tickets); the rest are codes.
declare_not_personal(
    Notification, ["kind", "regarding_type"], "codes: a notification kind and a record type"
)
