"""What the survey pages show beside a survey's definition: each survey's number of responses
and its last one (the survey list), and what changed from one version of a definition to the
next (the survey's versions).

A *change* is one of ``("title", "")`` (the title or the introduction), ``("dimensions", "")``,
``("added", question id)``, ``("removed", question id)``, ``("changed", question id)`` (its
text, type, scale, options, competitors, dimension, required flag or condition) and
``("moved", question id)`` (the same question asked at another place among those kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu.core.auth import Principal, require, scoped
from kehu.feedback.definition import SurveyDefinition
from kehu.feedback.tables import Survey, SurveyResponse

__all__ = ["SurveySummary", "definition_changes", "survey_summaries"]


@dataclass(frozen=True)
class SurveySummary:
    id: int
    name: str
    template: str | None
    status: str
    current_version: int
    n_responses: int
    last_response_at: datetime | None


def survey_summaries(session: Session, principal: Principal) -> list[SurveySummary]:
    """Every survey, newest first, with its number of responses (partial ones included: they
    are answers too) and when the last one was started (``feedback:read``)."""
    require(principal, "feedback:read")
    counts = {
        survey_id: (int(n), last)
        for survey_id, n, last in session.execute(
            scoped(
                select(SurveyResponse.survey_id, func.count(), func.max(SurveyResponse.started_at)),
                principal,
                SurveyResponse,
            ).group_by(SurveyResponse.survey_id)
        )
    }
    surveys = session.scalars(scoped(select(Survey), principal, Survey).order_by(Survey.id.desc()))
    return [
        SurveySummary(
            id=survey.id,
            name=survey.name,
            template=survey.template,
            status=survey.status,
            current_version=survey.current_version,
            n_responses=counts.get(survey.id, (0, None))[0],
            last_response_at=counts.get(survey.id, (0, None))[1],
        )
        for survey in surveys
    ]


def definition_changes(before: SurveyDefinition, after: SurveyDefinition) -> list[tuple[str, str]]:
    """What changed from ``before`` to ``after`` (see the module documentation), in the order
    of ``after``'s questions, the removed ones last."""
    changes: list[tuple[str, str]] = []
    if before.title != after.title or before.intro != after.intro:
        changes.append(("title", ""))
    if before.dimensions != after.dimensions:
        changes.append(("dimensions", ""))
    old = before.by_id()
    new_ids = [q.id for q in after.questions]
    kept_old_order = [q.id for q in before.questions if q.id in set(new_ids)]
    kept_new_order = [qid for qid in new_ids if qid in old]
    for question in after.questions:
        previous = old.get(question.id)
        if previous is None:
            changes.append(("added", question.id))
        elif previous != question:
            changes.append(("changed", question.id))
        elif kept_old_order.index(question.id) != kept_new_order.index(question.id):
            changes.append(("moved", question.id))
    changes += [("removed", q.id) for q in before.questions if q.id not in set(new_ids)]
    return changes
