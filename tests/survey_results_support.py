"""Demo survey responses for the results tests and pages: an experience survey (NPS, CSAT, CES
and the five service qualities' expectation/perception pairs with importance points) and a
customer-value survey rating us against two competitors, their responses made up here with a
seeded generator, written as CSV and entered through kehu's own response import
(:func:`kehu.feedback.importing.import_responses_csv`). The generated answers are returned as
well, so that a test computes what the analytics make of them directly, not through kehu's
reading of the store.

Customers get a latest value score (segment and tier) and responses a team, so that results
by segment, tier, team, channel and month have groups."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import update
from sqlalchemy.orm import Session

from kehu.core.auth import SYSTEM, Principal
from kehu.customers.schemas import CustomerCreate
from kehu.customers.service import create_customer
from kehu.desk import routing
from kehu.feedback import importing, surveys
from kehu.feedback.tables import SurveyResponse
from kehu.value.tables import CustomerScore, ValueRun

MANAGER = Principal.for_user(1, ["manager"])
MOBI = Path(__file__).resolve().parents[1] / "../shared/datasets/feedback/mobi.csv"

QUALITIES = ("promise_kept", "speed", "expertise", "attitude", "standards")
QUALITY_DIMENSIONS = ("reliability", "responsiveness", "assurance", "empathy", "tangibles")
SEGMENTS = ("champions", "loyal", "at_risk")
TIERS = ("high", "middle", "low")
CHANNELS = ("email", "web", "phone")
TEAMS = ("Front desk", "Key accounts")
#: the months the responses are spread over (UTC), in order
MONTHS = ("2026-09", "2026-10", "2026-11")


def _t(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh-Hans": zh}


def experience_definition() -> dict[str, Any]:
    """NPS, CSAT, CES and the five service qualities (from the template) with importance."""
    qualities = surveys.template("service_qualities").model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    head = [
        {"id": "recommend", "type": "nps", "text": _t("Recommend us?", "推荐我们吗？")},
        {"id": "satisfaction", "type": "csat", "text": _t("Satisfied?", "满意吗？")},
        {"id": "effort", "type": "ces", "text": _t("Easy?", "轻松吗？")},
    ]
    return {
        "title": _t("Experience", "体验"),
        "dimensions": qualities["dimensions"],
        "questions": head + qualities["questions"],
    }


@dataclass
class Demo:
    """The surveys made and the answers generated, one row per response in file order."""

    experience_id: int
    value_id: int
    competitor_ids: tuple[int, int]
    experience: dict[str, np.ndarray]
    value: dict[str, np.ndarray]
    months: np.ndarray  # "YYYY-MM" of each experience response
    channels: np.ndarray
    segments: np.ndarray  # the customer's segment (every respondent has one)
    tiers: np.ndarray
    teams: np.ndarray


def _csv(header: list[str], rows: list[list[Any]]) -> io.BytesIO:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode())


def _clip(values: np.ndarray, low: int, high: int) -> np.ndarray:
    return np.clip(np.rint(values), low, high)


def make_demo(session: Session, n: int = 120, seed: int = 7) -> Demo:
    """Both surveys with ``n`` responses each (submitted), in the caller's transaction."""
    rng = np.random.default_rng(seed)
    customers = [
        create_customer(
            session, SYSTEM, CustomerCreate(external_id=f"R-{i}", name=f"Respondent {i}")
        ).id
        for i in range(n)
    ]
    run = ValueRun(
        status="succeeded",
        source="demo",
        input_fingerprint="d" * 64,
        currency="CNY",
        settings={},
        started_at=datetime(2026, 12, 1, tzinfo=UTC),
        finished_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    session.add(run)
    session.flush()
    segments = np.array([SEGMENTS[i % 3] for i in range(n)], dtype=object)
    tiers = np.array([TIERS[(i // 3) % 3] for i in range(n)], dtype=object)
    for i, customer in enumerate(customers):
        session.add(
            CustomerScore(
                customer_id=customer, run_id=run.id, frequency=2, recency=10.0, age=20.0,
                total_spend_minor=5000, rfm_recency=3, rfm_frequency=3, rfm_monetary=3,
                rfm_segment=segments[i], clv_minor=1000, value_tier=tiers[i], margin_minor=100,
                cost_to_serve_minor=0, profit_minor=100,
            )
        )  # fmt: skip
    session.flush()
    teams = {name: routing.create_team(session, SYSTEM, name).id for name in TEAMS}
    competitors = (
        surveys.create_competitor(session, MANAGER, name="Rival A").id,
        surveys.create_competitor(session, MANAGER, name="Rival B").id,
    )

    # the experience survey: a latent quality drives the perceptions, the perceptions the scores
    latent = rng.normal(0.0, 1.0, n)
    answers: dict[str, np.ndarray] = {}
    perceptions = []
    for j, quality in enumerate(QUALITIES):
        expectation = _clip(5.5 + 0.8 * rng.normal(size=n), 1, 7)
        perception = _clip(4.6 + 0.25 * j + latent * (0.6 + 0.15 * j) + rng.normal(size=n), 1, 7)
        answers[f"{quality}.expectation"] = expectation
        answers[f"{quality}.perception"] = perception
        perceptions.append(perception)
    drive = np.column_stack(perceptions) @ np.array([0.5, 0.3, 0.1, 0.25, 0.05])
    drive = (drive - drive.mean()) / drive.std()
    answers["satisfaction"] = _clip(3.8 + 0.9 * drive + 0.6 * rng.normal(size=n), 1, 5)
    answers["effort"] = _clip(5.0 + 0.8 * drive + 1.0 * rng.normal(size=n), 1, 7)
    answers["recommend"] = _clip(7.5 + 1.6 * drive + 1.2 * rng.normal(size=n), 0, 10)
    points = rng.dirichlet(np.array([4.0, 3.0, 2.0, 2.0, 1.0]) * 3, size=n) * 100
    points = np.floor(points)
    points[:, 0] += 100 - points.sum(axis=1)
    for j, quality in enumerate(QUALITIES):
        answers[f"qualities_importance.{quality}"] = points[:, j]
    months = np.array([MONTHS[i * len(MONTHS) // n] for i in range(n)], dtype=object)
    channels = np.array([CHANNELS[i % len(CHANNELS)] for i in range(n)], dtype=object)
    team_of = np.array([TEAMS[(i // 2) % 2] for i in range(n)], dtype=object)

    experience = surveys.create_survey(
        session, MANAGER, name="Experience", definition=experience_definition()
    )
    columns = list(answers)
    header = ["customer", "submitted_at", "channel", "language", *columns]
    rows = [
        [f"R-{i}", f"{months[i]}-{1 + i % 27:02d}T10:00:00", channels[i], "en"]
        + [int(answers[c][i]) for c in columns]
        for i in range(n)
    ]
    importing.import_responses_csv(session, MANAGER, experience.id, _csv(header, rows), source="x")
    by_customer = dict(zip(customers, team_of, strict=True))
    for customer, team in by_customer.items():
        session.execute(
            update(SurveyResponse)
            .where(SurveyResponse.survey_id == experience.id)
            .where(SurveyResponse.customer_id == customer)
            .values(team_id=teams[team])
        )

    # the customer-value survey: us and two competitors on 1-10
    value_survey = surveys.create_survey(
        session, MANAGER, name="Value", template_key="customer_value", competitor_ids=competitors
    )
    value: dict[str, np.ndarray] = {}
    attributes = ("product", "service", "personnel", "image", "price")
    weights = rng.dirichlet(np.array([5.0, 3.0, 2.0, 1.5, 4.0]) * 2, size=n) * 100
    weights = np.floor(weights)
    weights[:, 0] += 100 - weights.sum(axis=1)
    for j, attribute in enumerate(attributes):
        value[f"value_importance.{attribute}"] = weights[:, j]
    taste = rng.normal(0.0, 0.8, n)  # a respondent rates every brand a bit higher or lower
    level_of = {"us": 7.2, f"c{competitors[0]}": 6.6, f"c{competitors[1]}": 6.0}
    for subject, base in level_of.items():
        for j, attribute in enumerate(attributes):
            shift = 0.3 * (j - 2) if subject == "us" else 0.0
            value[f"value_performance.{attribute}.{subject}"] = _clip(
                base + shift + taste + rng.normal(0.0, 1.2, n), 1, 10
            )
    for j, cost in enumerate(("cost_money", "cost_time", "cost_energy", "cost_worry")):
        value[cost] = _clip(4.0 + 0.5 * j + rng.normal(0.0, 1.5, n), 1, 10)
    value_columns = list(value)
    rows = [
        [f"R-{i}", f"{months[i]}-{1 + i % 27:02d}T11:00:00", channels[i], "zh-Hans"]
        + [int(value[c][i]) for c in value_columns]
        for i in range(n)
    ]
    importing.import_responses_csv(
        session,
        MANAGER,
        value_survey.id,
        _csv(["customer", "submitted_at", "channel", "language", *value_columns], rows),
        source="y",
    )
    return Demo(
        experience_id=experience.id,
        value_id=value_survey.id,
        competitor_ids=competitors,
        experience=answers,
        value=value,
        months=months,
        channels=channels,
        segments=segments,
        tiers=tiers,
        teams=team_of,
    )


def import_mobi(session: Session) -> int | None:
    """A survey from the ECSI template with the 250 mobi responses (``None`` without
    ../shared)."""
    if not MOBI.exists():
        return None
    survey = surveys.create_survey(session, MANAGER, name="ECSI", template_key="ecsi")
    importing.import_responses_csv(session, MANAGER, survey.id, MOBI)
    return survey.id
