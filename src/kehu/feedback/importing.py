"""Import past responses from CSV into a survey's current version: all or nothing.

Columns (header names; UTF-8, a byte-order mark allowed)
--------------------------------------------------------
- ``<question id>`` for a question with a one-part answer (scales, ratings, single choice, free
  text) and for a multiple choice (its option ids separated by ``;``);
- ``<question id>.<item>`` for each part of a multi-part answer: ``servqual_q1.expectation`` and
  ``servqual_q1.perception``; ``<question>.<option id>`` for importance points;
  ``<question>.<attribute>.us`` and ``<question>.<attribute>.c<competitor id>`` for a competitor
  rating (:mod:`kehu.feedback.definition`);
- optional: ``customer`` (the customer's external id, else a kehu customer id; a merged
  customer's responses go to its survivor), ``submitted_at`` (ISO 8601 date or date and time;
  without a zone, UTC; empty: the time of the import), ``channel``
  (:data:`~kehu.feedback.responses.CHANNELS`), ``language`` (``en`` or ``zh-Hans``).

A column that is neither is refused (every unknown column named) before any row is read; a
question without a column is unanswered in every row. An empty cell is no answer.

Every row is checked as a submitted response is (:mod:`kehu.feedback.answers`: range, options,
skip logic, required questions, importance points summing to 100). Every bad row is reported
in one :class:`~kehu.errors.InvalidRowsError`, grouped by column and reason, with the file line
of each bad row (the header is line 1; a quoted cell spanning lines counts its lines, as an
editor does) and its value; nothing is imported then. Otherwise every row becomes one submitted
response with ``source`` ``imported``, in the caller's transaction. Imports need
``feedback:write``.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from kehu.core.auth import Principal, require
from kehu.core.i18n import LOCALES
from kehu.customers.queries import customer_exists, customer_id_by_external_id, survivor_of
from kehu.errors import (
    ColumnsError,
    EmptyInputError,
    EncodingError,
    InputError,
    InvalidRowsError,
    RowProblem,
)
from kehu.feedback.answers import Normalised, check_answer, check_complete
from kehu.feedback.definition import SINGLE, Question, SurveyDefinition
from kehu.feedback.responses import CHANNELS, answer_rows
from kehu.feedback.surveys import _survey, current_version_of, definition_of
from kehu.feedback.tables import SurveyAnswer, SurveyResponse
from kehu.store.base import utc_now

__all__ = ["CONTEXT_COLUMNS", "ImportResult", "import_columns", "import_responses_csv"]

CONTEXT_COLUMNS = ("customer", "submitted_at", "channel", "language")


@dataclass(frozen=True)
class ImportResult:
    source: str
    survey_id: int
    survey_version: int
    rows: int
    imported: int


def import_columns(definition: SurveyDefinition) -> dict[str, tuple[Question, str]]:
    """Every answer column an import of ``definition`` may have -> (question, item)."""
    columns: dict[str, tuple[Question, str]] = {}
    for question in definition.questions:
        if question.type == "multiple_choice":
            columns[question.id] = (question, SINGLE)
            continue
        for item in question.items():
            columns[question.id if item == SINGLE else f"{question.id}.{item}"] = (question, item)
    return columns


def _text_of(file: Path | IO[bytes] | IO[str], source: str) -> str:
    try:
        if isinstance(file, Path):
            return file.read_bytes().decode("utf-8-sig")
        content = file.read()
        return content.decode("utf-8-sig") if isinstance(content, bytes) else content
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"not UTF-8 text (byte {exc.start}); save the file as UTF-8 (Excel: CSV UTF-8), "
            "or convert it from GB18030",
            file=source,
        ) from exc


def _instant(text: str) -> datetime:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError("an ISO 8601 date or date and time is expected") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass
class _Row:
    line: int
    answers: dict[str, Normalised]
    customer_id: int | None
    submitted_at: datetime | None
    channel: str | None
    language: str


class _Problems:
    """Problems by (column, reason), with every bad row's line and value."""

    def __init__(self) -> None:
        self.places: dict[tuple[str | None, str], list[tuple[int, object]]] = defaultdict(list)
        self.lines: set[int] = set()

    def add(self, column: str | None, reason: str, line: int, value: object) -> None:
        self.places[(column, reason)].append((line, value))
        self.lines.add(line)

    def raise_if_any(self, source: str) -> None:
        if not self.places:
            return
        problems = [
            RowProblem(column=column, reason=reason, places=tuple(places), n_rows=len(places))
            for (column, reason), places in self.places.items()
        ]
        raise InvalidRowsError(problems, file=source, n_rows=len(self.lines))


def _customer(session: Session, text: str) -> int | None:
    found = customer_id_by_external_id(session, text)
    if found is None and text.isdigit() and customer_exists(session, int(text)):
        found = survivor_of(session, int(text))
    return found


def import_responses_csv(
    session: Session,
    principal: Principal,
    survey_id: int,
    file: Path | IO[bytes] | IO[str],
    *,
    source: str | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Import the CSV ``file`` (see the module documentation) into the survey's current
    version, in the caller's transaction."""
    require(principal, "feedback:write")
    name = source or (str(file) if isinstance(file, Path) else str(getattr(file, "name", "upload")))
    survey = _survey(session, principal, survey_id)
    version = current_version_of(session, survey)
    definition = definition_of(version)
    known = import_columns(definition)

    text = _text_of(file, name)
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise EmptyInputError("the file is empty", file=name)
    unknown = [h for h in header if h not in known and h not in CONTEXT_COLUMNS]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if unknown or repeated:
        problem = (
            f"unknown column(s) {', '.join(unknown)}" if unknown else
            f"column(s) named twice: {', '.join(repeated)}"
        )  # fmt: skip
        raise ColumnsError(
            f"{problem}; the columns of survey {survey_id} version {version.number} are "
            f"{', '.join([*known, *CONTEXT_COLUMNS])}",
            file=name,
            line=1,
            column=(unknown or repeated)[0],
        )
    reader.fieldnames = header
    questions_in_file: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for column in header:
        if column in known:
            question, item = known[column]
            questions_in_file[question.id].append((column, item))

    problems = _Problems()
    rows: list[_Row] = []
    customers: dict[str, int | None] = {}
    for raw in reader:
        cells = [*raw.values()]
        breaks = sum(v.count("\n") for v in cells if isinstance(v, str))
        line = reader.line_num - breaks
        if None in raw:
            problems.add(None, f"more cells than the {len(header)} columns", line, None)
            continue
        values = {k: (v or "").strip() for k, v in raw.items()}
        answers: dict[str, Normalised] = {}
        bad = False
        for question in definition.questions:
            given = questions_in_file.get(question.id)
            if not given:
                continue
            if len(given) == 1 and given[0][1] == SINGLE:
                column = given[0][0]
                value: Any = values[column] or None
                if value is not None and question.type == "free_text":
                    value = values[column]
            else:
                value = {item: values[column] for column, item in given if values[column]}
            try:
                checked = check_answer(question, value)
            except InputError as exc:
                column = exc.column if exc.column in header else given[0][0]
                shown = exc.value if exc.value is not None else values.get(column)
                problems.add(column, exc.reason, line, shown)
                bad = True
                continue
            if checked is not None:
                answers[question.id] = checked
        if not bad:
            try:
                check_complete(definition, answers)
            except InputError as exc:
                assert exc.column is not None
                column = next((c for c, _ in questions_in_file.get(exc.column, [])), exc.column)
                problems.add(column, exc.reason, line, values.get(column) or None)
                bad = True
        customer_id: int | None = None
        if values.get("customer"):
            ref = values["customer"]
            if ref not in customers:
                customers[ref] = _customer(session, ref)
            customer_id = customers[ref]
            if customer_id is None:
                problems.add("customer", "no customer with this external id or id", line, ref)
                bad = True
        submitted_at: datetime | None = None
        if values.get("submitted_at"):
            try:
                submitted_at = _instant(values["submitted_at"])
            except InputError as exc:
                problems.add("submitted_at", exc.reason, line, values["submitted_at"])
                bad = True
        channel = values.get("channel") or None
        if channel is not None and channel not in CHANNELS:
            problems.add("channel", f"channel is one of {', '.join(CHANNELS)}", line, channel)
            bad = True
        language = values.get("language") or "en"
        codes = list(LOCALES)
        if language not in codes:
            problems.add("language", f"language is one of {', '.join(codes)}", line, language)
            bad = True
        if not bad:
            rows.append(_Row(line, answers, customer_id, submitted_at, channel, language))
    problems.raise_if_any(name)
    if not rows:
        raise EmptyInputError("no data rows after the header", file=name)

    now = now or utc_now()
    responses = [
        SurveyResponse(
            survey_id=survey.id,
            survey_version_id=version.id,
            version_number=version.number,
            status="submitted",
            source="imported",
            language=row.language,
            customer_id=row.customer_id,
            channel=row.channel,
            recorded_by=principal.user_id,
            started_at=row.submitted_at or now,
            updated_at=now,
            submitted_at=row.submitted_at or now,
        )
        for row in rows
    ]
    session.add_all(responses)
    session.flush()
    answer_cells = [
        cell
        for response, row in zip(responses, rows, strict=True)
        for cell in answer_rows(definition, response.id, row.answers)
    ]
    if answer_cells:
        session.execute(insert(SurveyAnswer), answer_cells)
    return ImportResult(
        source=name,
        survey_id=survey.id,
        survey_version=version.number,
        rows=len(rows),
        imported=len(responses),
    )
