"""Checking answers against a survey's definition, and turning them into answer rows and back.

An answer is checked when it is saved (its type and range: a value outside the question's scale,
an unknown option or item is an :class:`~kehu.errors.InputError` whose ``column`` is the question
id, so the API's 422 names the question) and the whole set again when the response is
submitted (every shown required question answered, every multi-part answer complete, importance
points summing to 100). The skip-logic rule is :mod:`kehu.feedback.definition`'s: an answer to a
hidden question is refused, a stored one whose question became hidden is dropped.

Answers are *normalised* to: a whole number (scales), an option id (single choice), a list of
option ids in the question's order (multiple choice), a text (free text), a map item -> whole
number (pairs, importance points, competitor ratings).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kehu.errors import InputError
from kehu.feedback.definition import SINGLE, Question, SurveyDefinition

__all__ = [
    "AnswerCell",
    "Normalised",
    "answers_from_cells",
    "cells_of",
    "check_answer",
    "check_complete",
    "merge_answers",
]

Normalised = int | str | list[str] | dict[str, int]
MAX_FREE_TEXT = 10_000
ITEM_MAPS = ("servqual_pair", "importance_points", "competitor_rating")


@dataclass(frozen=True)
class AnswerCell:
    """One stored answer row: ``item`` ``""`` for a one-part answer; one of ``number``,
    ``text`` or ``choice`` set."""

    question_id: str
    item: str
    number: float | None = None
    text: str | None = None
    choice: str | None = None


def _whole_number(question: Question, value: Any, item: str = SINGLE) -> int:
    where = question.id if item == SINGLE else f"{question.id}.{item}"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError("a whole number is expected", column=where, value=value)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InputError("a whole number is expected", column=where, value=value) from None
    if value != value or value % 1:  # NaN or a fraction
        raise InputError("a whole number is expected", column=where, value=value)
    number = int(value)
    scale = question.scale
    assert scale is not None
    low, high = scale
    if not low <= number <= high:
        raise InputError(f"out of range: answers are {low} to {high}", column=where, value=number)
    return number


def check_answer(question: Question, value: Any) -> Normalised | None:
    """``value`` checked against ``question`` and normalised (``None``: no answer: a null, an
    empty text, an empty list or map)."""
    if value is None:
        return None
    kind = question.type
    if kind == "free_text":
        if not isinstance(value, str):
            raise InputError("a text is expected", column=question.id, value=value)
        text = value.strip()
        if len(text) > MAX_FREE_TEXT:
            raise InputError(f"at most {MAX_FREE_TEXT} characters", column=question.id)
        return text or None
    if kind == "single_choice":
        if not isinstance(value, str) or value not in question.option_ids():
            raise InputError(
                f"not an option of this question (options: {', '.join(question.option_ids())})",
                column=question.id,
                value=value,
            )
        return value
    if kind == "multiple_choice":
        if isinstance(value, str):
            value = [part.strip() for part in value.split(";") if part.strip()]
        if not isinstance(value, list):
            raise InputError("a list of option ids is expected", column=question.id, value=value)
        unknown = [v for v in value if v not in question.option_ids()]
        if unknown:
            raise InputError(
                f"not an option of this question (options: {', '.join(question.option_ids())})",
                column=question.id,
                value=unknown[0],
            )
        chosen = set(value)
        return [option for option in question.option_ids() if option in chosen] or None
    if kind in ITEM_MAPS:
        if not isinstance(value, Mapping):
            raise InputError(
                f"a map of {', '.join(question.items()[:3])} ... to numbers is expected",
                column=question.id,
                value=value,
            )
        items = question.items()
        unknown = [k for k in value if k not in items]
        if unknown:
            raise InputError(
                f"no item {unknown[0]!r} in this question (items: {', '.join(items)})",
                column=question.id,
                value=unknown[0],
            )
        checked = {
            item: _whole_number(question, value[item], item)
            for item in items
            if item in value and value[item] is not None and value[item] != ""
        }
        if kind == "importance_points" and sum(checked.values()) > 100:
            raise InputError(
                f"the points sum to {sum(checked.values())}; split 100 points",
                column=question.id,
            )
        return checked or None
    return _whole_number(question, value)


def check_complete(definition: SurveyDefinition, answers: Mapping[str, Normalised]) -> None:
    """Raise an :class:`InputError` naming the first question a submitted response cannot
    have as it is: a shown required question unanswered, a multi-part answer incomplete,
    importance points not summing to 100, or an answer to a hidden question."""
    for question, shown in definition.visible(answers):
        answer = answers.get(question.id)
        if not shown:
            if answer is not None:
                raise InputError("this question is hidden by its show_if", column=question.id)
            continue
        if answer is None:
            if question.required:
                raise InputError("this question needs an answer", column=question.id)
            continue
        if question.type in ITEM_MAPS:
            assert isinstance(answer, dict)
            missing = [item for item in question.items() if item not in answer]
            if missing:
                raise InputError(
                    f"incomplete: no answer for {', '.join(missing)}",
                    column=f"{question.id}.{missing[0]}",
                )
            if question.type == "importance_points" and sum(answer.values()) != 100:
                raise InputError(
                    f"the points sum to {sum(answer.values())}; split 100 points",
                    column=question.id,
                )


def merge_answers(
    definition: SurveyDefinition,
    stored: Mapping[str, Normalised],
    given: Mapping[str, Any],
) -> dict[str, Normalised]:
    """The answers after saving ``given`` over ``stored``: each given answer checked (an
    unknown question id, a bad value, an answer to a question hidden by the answers as they
    now are: ``InputError`` naming the question), a given ``None`` removing the answer, and
    the stored answers of questions now hidden dropped."""
    questions = definition.by_id()
    merged: dict[str, Normalised] = dict(stored)
    for question_id, value in given.items():
        question = questions.get(question_id)
        if question is None:
            raise InputError("no such question in this survey", column=question_id)
        checked = check_answer(question, value)
        if checked is None:
            merged.pop(question_id, None)
        else:
            merged[question_id] = checked
    result: dict[str, Normalised] = {}
    for question, shown in definition.visible(merged):
        if question.id not in merged:
            continue
        if shown:
            result[question.id] = merged[question.id]
        elif question.id in given and given[question.id] is not None:
            raise InputError("this question is hidden by its show_if", column=question.id)
        # else: a stored answer of a question the new answers hide is dropped
    return result


def cells_of(question: Question, answer: Normalised) -> list[AnswerCell]:
    """The answer rows of one normalised answer."""
    if question.type == "free_text":
        return [AnswerCell(question.id, SINGLE, text=str(answer))]
    if question.type == "single_choice":
        return [AnswerCell(question.id, SINGLE, choice=str(answer))]
    if question.type == "multiple_choice":
        assert isinstance(answer, list)
        return [AnswerCell(question.id, option, choice=option) for option in answer]
    if isinstance(answer, dict):
        return [AnswerCell(question.id, item, number=float(v)) for item, v in answer.items()]
    assert isinstance(answer, int)
    return [AnswerCell(question.id, SINGLE, number=float(answer))]


def answers_from_cells(
    definition: SurveyDefinition, cells: Iterable[AnswerCell]
) -> dict[str, Normalised]:
    """The normalised answers of stored rows (rows of questions the definition lacks are
    left out: they cannot happen for a version's own responses)."""
    questions = definition.by_id()
    grouped: dict[str, list[AnswerCell]] = {}
    for cell in cells:
        if cell.question_id in questions:
            grouped.setdefault(cell.question_id, []).append(cell)
    answers: dict[str, Normalised] = {}
    for question_id, rows in grouped.items():
        question = questions[question_id]
        if question.type == "free_text":
            answers[question_id] = rows[0].text or ""
        elif question.type == "single_choice":
            answers[question_id] = rows[0].choice or ""
        elif question.type == "multiple_choice":
            chosen = {row.choice for row in rows}
            answers[question_id] = [o for o in question.option_ids() if o in chosen]
        elif question.type in ITEM_MAPS:
            values = {row.item: int(row.number or 0) for row in rows}
            answers[question_id] = {i: values[i] for i in question.items() if i in values}
        else:
            answers[question_id] = int(rows[0].number or 0)
    return answers
