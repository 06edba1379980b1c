"""What the platform itself registers: its own tables and its jobs (outbox delivery). Imported
once by :mod:`kehu.domains`, like each domain's ``registrations`` module."""

from __future__ import annotations

from datetime import timedelta

# the platform's own tables are part of the schema
from kehu.core import idempotency, links, ratelimit  # noqa: F401
from kehu.core.jobs import JobContext, register_job
from kehu.core.outbox import deliver_outbox


def outbox_deliver_job(context: JobContext) -> None:
    deliver_outbox(context.database, context.now, settings=context.settings)


register_job("outbox_deliver", outbox_deliver_job, every=timedelta(seconds=30))
