"""Survey responses on the customer's 360 timeline.

:func:`response_timeline_entries` is the ``survey_responses`` source of
:mod:`kehu.customers.timeline`: each submitted response of the customer, dated when it was
submitted, for staff with ``feedback:read``. The detail names the survey, its version and the
response; the answers themselves are read from the response.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.auth import Principal, scoped
from kehu.core.i18n import N_
from kehu.customers.timeline import TimelineEntry
from kehu.feedback.tables import Survey, SurveyResponse

#: The entry's title (a catalog message; ``%(name)s`` is the survey's name).
TITLE = N_("Survey answered: %(name)s")


def response_timeline_entries(
    session: Session,
    customer_id: int,
    principal: Principal,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> Iterator[TimelineEntry]:
    """Timeline entries of the customer's submitted responses."""
    if not principal.can("feedback:read"):
        return
    statement = (
        select(SurveyResponse, Survey.name)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(
            SurveyResponse.customer_id == customer_id,
            SurveyResponse.status == "submitted",
            SurveyResponse.submitted_at.is_not(None),
        )
    )
    if since is not None:
        statement = statement.where(SurveyResponse.submitted_at >= since)
    if until is not None:
        statement = statement.where(SurveyResponse.submitted_at <= until)
    statement = scoped(statement, principal, SurveyResponse)
    statement = statement.order_by(
        SurveyResponse.submitted_at.desc(), SurveyResponse.id.desc()
    ).limit(limit)
    for response, name in session.execute(statement):
        assert response.submitted_at is not None
        yield TimelineEntry(
            at=response.submitted_at,
            kind="survey_response",
            title=TITLE % {"name": name},
            detail={
                "response_id": response.id,
                "survey_id": response.survey_id,
                "survey_version": response.version_number,
                "channel": response.channel,
                "ticket_id": response.ticket_id,
            },
            ref=f"survey_response:{response.id}",
        )
