"""A survey's definition: its questions, their types and dimensions, and the skip logic, as one
pydantic document (stored as JSON, immutable once a response was recorded on it; see
:mod:`kehu.feedback.surveys` for the versioning rule).

Question types and their answers
--------------------------------

=====================  =========  ==========================================================
type                   scale      answer (in the API's ``answers`` map, keyed by question id)
=====================  =========  ==========================================================
``nps``                0..10      a whole number: likelihood to recommend
``csat``               1..5       a whole number: satisfaction
``ces``                1..7       a whole number: agreement with an effort statement
``rating``             min..max   a whole number on the question's own scale (ECSI's 1..10,
                                  a share of wallet's 0..100 per cent)
``servqual_pair``      1..7       ``{"expectation": e, "perception": p}`` (one statement, two
                                  answers)
``importance_points``  0..100     ``{option_id: points}`` over the question's options; the
                                  points sum to 100
``competitor_rating``  min..max   ``{"<attribute>.us": r, "<attribute>.c<competitor id>": r}``
                                  for each attribute and each competitor named in the question
``single_choice``      --         one option id
``multiple_choice``    --         a list of option ids
``free_text``          --         a text (personal data: erased with the customer)
=====================  =========  ==========================================================

A question's *items* are the parts of its answer: ``""`` for a one-part answer, the two of a
pair, the options of importance points, the ``<attribute>.<subject>`` cells of a competitor
rating. The store keeps one answer row per (response, question, item); the response import names
a column ``<question>`` for a one-part answer and ``<question>.<item>`` for each item
(:mod:`kehu.feedback.importing`).

Skip logic
----------
``show_if`` names an *earlier* question and a condition on its answer: ``any_of`` (the answer, or
one chosen option, is one of the values) and/or ``min``/``max`` (a numeric answer within the
bounds). A question whose condition is not met -- the earlier question unanswered or hidden
itself included -- is *hidden*. The rule: an answer to a hidden question is **refused** (an input
error naming the question), and a stored answer whose question became hidden because an earlier
answer changed is **dropped** when that change is saved. A required question is required only
when shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kehu.core.i18n import N_

__all__ = [
    "FIXED_SCALES",
    "LANGUAGES",
    "QUESTION_TYPES",
    "Dimension",
    "LocalText",
    "Option",
    "Question",
    "QuestionType",
    "ShowIf",
    "SurveyDefinition",
]

#: The languages every text of a definition is written in.
LANGUAGES = ("en", "zh-Hans")

QuestionType = Literal[
    "nps",
    "csat",
    "ces",
    "rating",
    "servqual_pair",
    "importance_points",
    "competitor_rating",
    "single_choice",
    "multiple_choice",
    "free_text",
]

#: Each question type's name, for the pages (catalog messages).
QUESTION_TYPES: dict[str, str] = {
    "nps": N_("Likelihood to recommend (0-10)"),
    "csat": N_("Satisfaction (1-5)"),
    "ces": N_("Customer effort (1-7)"),
    "rating": N_("Rating scale"),
    "servqual_pair": N_("Expectation and perception (1-7)"),
    "importance_points": N_("Importance (split 100 points)"),
    "competitor_rating": N_("Rating of us and competitors"),
    "single_choice": N_("Single choice"),
    "multiple_choice": N_("Multiple choice"),
    "free_text": N_("Free text"),
}

#: The fixed scales (inclusive bounds) of the standard question types.
FIXED_SCALES: dict[str, tuple[int, int]] = {
    "nps": (0, 10),
    "csat": (1, 5),
    "ces": (1, 7),
    "servqual_pair": (1, 7),
    "importance_points": (0, 100),
}
PAIR_ITEMS = ("expectation", "perception")
#: The item of a one-part answer.
SINGLE = ""
#: The subject of a competitor rating that is the business itself.
US = "us"

ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,39}$"
_ID = re.compile(ID_PATTERN)
MAX_QUESTIONS = 200
MAX_OPTIONS = 50
MAX_TEXT = 2_000
Identifier = Field(pattern=ID_PATTERN, description="letters, digits and _, a letter first")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class LocalText(_Strict):
    """A text in every language of :data:`LANGUAGES` (both required)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True,
                              populate_by_name=True)  # fmt: skip

    en: str = Field(min_length=1, max_length=MAX_TEXT)
    zh_hans: str = Field(alias="zh-Hans", min_length=1, max_length=MAX_TEXT)

    def in_language(self, language: str) -> str:
        return self.zh_hans if language == "zh-Hans" else self.en


class Option(_Strict):
    """A choice, an importance option or a rated attribute: a stable id and its text."""

    id: str = Identifier
    text: LocalText


class Dimension(_Strict):
    """A group of questions (SERVQUAL's five, an ECSI construct ...)."""

    id: str = Identifier
    name: LocalText


class ShowIf(_Strict):
    """Show the question only when the earlier ``question``'s answer meets every condition
    given: ``any_of`` (the answer, or one of the chosen options, is among the values), ``min``
    and ``max`` (a numeric answer within the bounds, inclusive)."""

    question: str = Identifier
    any_of: list[int | str] | None = Field(default=None, min_length=1, max_length=MAX_OPTIONS)
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _has_a_condition(self) -> ShowIf:
        if self.any_of is None and self.min is None and self.max is None:
            raise ValueError("show_if needs any_of, min or max")
        return self

    def met_by(self, answer: Any) -> bool:
        """Whether an answer (as :meth:`Question.normalise` gives it; ``None``: unanswered)
        meets the condition."""
        if answer is None:
            return False
        values = answer if isinstance(answer, list) else [answer]
        if self.any_of is not None and not any(v in self.any_of for v in values):
            return False
        if self.min is not None or self.max is not None:
            if isinstance(answer, bool) or not isinstance(answer, int | float):
                return False
            if self.min is not None and answer < self.min:
                return False
            if self.max is not None and answer > self.max:
                return False
        return True


class Question(_Strict):
    """One question. ``options``: the choices (single/multiple choice), the options points are
    split over (importance points) or the attributes rated (competitor rating);
    ``competitors``: the competitor ids rated beside us; ``min``/``max``: the scale of a
    ``rating`` or ``competitor_rating`` (whole numbers)."""

    id: str = Identifier
    type: QuestionType
    text: LocalText
    required: bool = False
    dimension: str | None = Field(default=None, pattern=ID_PATTERN)
    show_if: ShowIf | None = None
    options: list[Option] = Field(default_factory=list, max_length=MAX_OPTIONS)
    competitors: list[int] = Field(default_factory=list, max_length=MAX_OPTIONS)
    min: int | None = Field(default=None, ge=-1_000, le=1_000)
    max: int | None = Field(default=None, ge=-1_000, le=1_000)

    @model_validator(mode="after")
    def _fits_its_type(self) -> Question:
        kind = self.type
        uses_options = kind in (
            "single_choice",
            "multiple_choice",
            "importance_points",
            "competitor_rating",
        )
        if uses_options and len(self.options) < (1 if kind == "competitor_rating" else 2):
            raise ValueError(f"a {kind} question needs options")
        if not uses_options and self.options:
            raise ValueError(f"a {kind} question has no options")
        ids = [option.id for option in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError("an option id is used twice")
        if kind != "competitor_rating" and self.competitors:
            raise ValueError("only a competitor_rating question names competitors")
        if len(set(self.competitors)) != len(self.competitors):
            raise ValueError("a competitor is named twice")
        scaled = kind in ("rating", "competitor_rating")
        if scaled:
            if self.min is None or self.max is None or self.min >= self.max:
                raise ValueError(f"a {kind} question needs a scale: min below max")
        elif self.min is not None or self.max is not None:
            raise ValueError(f"a {kind} question has a fixed scale (no min or max)")
        return self

    @property
    def scale(self) -> tuple[int, int] | None:
        """The inclusive bounds of a numeric answer (``None`` for choices and text)."""
        if self.type in FIXED_SCALES:
            return FIXED_SCALES[self.type]
        if self.min is not None and self.max is not None:
            return (self.min, self.max)
        return None

    def items(self) -> list[str]:
        """The parts of the answer (see the module documentation)."""
        if self.type == "servqual_pair":
            return list(PAIR_ITEMS)
        if self.type == "importance_points":
            return [option.id for option in self.options]
        if self.type == "competitor_rating":
            subjects = [US, *(f"c{competitor}" for competitor in self.competitors)]
            return [f"{option.id}.{subject}" for option in self.options for subject in subjects]
        return [SINGLE]

    def option_ids(self) -> list[str]:
        return [option.id for option in self.options]


class SurveyDefinition(_Strict):
    """The whole survey: a title and an introduction in both languages, its dimensions and its
    questions in the order they are asked."""

    title: LocalText
    intro: LocalText | None = None
    dimensions: list[Dimension] = Field(default_factory=list, max_length=MAX_OPTIONS)
    questions: list[Question] = Field(min_length=1, max_length=MAX_QUESTIONS)

    @model_validator(mode="after")
    def _refers_to_what_it_has(self) -> SurveyDefinition:
        dimension_ids = [d.id for d in self.dimensions]
        if len(set(dimension_ids)) != len(dimension_ids):
            raise ValueError("a dimension id is used twice")
        seen: dict[str, Question] = {}
        for position, question in enumerate(self.questions):
            where = f"questions[{position}] ({question.id})"
            if question.id in seen:
                raise ValueError(f"{where}: the question id is used twice")
            if question.dimension is not None and question.dimension not in dimension_ids:
                raise ValueError(f"{where}: no dimension {question.dimension!r} in the survey")
            condition = question.show_if
            if condition is not None:
                earlier = seen.get(condition.question)
                if earlier is None:
                    raise ValueError(
                        f"{where}: show_if names {condition.question!r}, which is not an "
                        "earlier question"
                    )
                if earlier.type in ("servqual_pair", "importance_points", "competitor_rating"):
                    raise ValueError(f"{where}: show_if cannot depend on a {earlier.type} question")
                if earlier.type == "free_text" and (
                    condition.min is not None or condition.max is not None
                ):
                    raise ValueError(f"{where}: a free text answer has no min or max")
                if condition.any_of is not None and earlier.type in (
                    "single_choice",
                    "multiple_choice",
                ):
                    unknown = [v for v in condition.any_of if v not in earlier.option_ids()]
                    if unknown:
                        raise ValueError(
                            f"{where}: show_if names option {unknown[0]!r}, which "
                            f"{earlier.id} does not have"
                        )
            seen[question.id] = question
        return self

    def question(self, question_id: str) -> Question | None:
        for question in self.questions:
            if question.id == question_id:
                return question
        return None

    def by_id(self) -> dict[str, Question]:
        return {question.id: question for question in self.questions}

    def competitor_ids(self) -> set[int]:
        return {c for question in self.questions for c in question.competitors}

    def visible(self, answers: Mapping[str, Any]) -> Iterator[tuple[Question, bool]]:
        """Each question with whether it is shown, given the (normalised) answers so far."""
        shown: dict[str, bool] = {}
        for question in self.questions:
            condition = question.show_if
            if condition is None:
                visible = True
            else:
                visible = shown.get(condition.question, False) and condition.met_by(
                    answers.get(condition.question)
                )
            shown[question.id] = visible
            yield question, visible


def is_identifier(text: str) -> bool:
    return bool(_ID.match(text))
