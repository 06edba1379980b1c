"""The feedback domain's job: ``survey_invitations`` (every five minutes), the round of
:func:`kehu.feedback.invitations.run_invitations`."""

from __future__ import annotations

from kehu.core.jobs import JobContext
from kehu.feedback.invitations import run_invitations

__all__ = ["survey_invitations_job"]


def survey_invitations_job(context: JobContext) -> None:
    run_invitations(context.database, context.now, context.settings)
