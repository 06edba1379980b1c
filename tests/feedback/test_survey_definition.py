"""Survey definitions and the ready templates: every template validates and has every text in
English and Chinese; SERVQUAL has the 22 items of Parasuraman, Berry & Zeithaml (1991) in their
five dimensions (tangibles 1-4, reliability 5-9, responsiveness 10-13, assurance 14-17, empathy
18-22, as numbered in the paper); the ECSI template's ids are the 24 columns of the mobi data
(Tenenhaus et al. 2005; ../shared/datasets/feedback/README.md); the CES statement is CES 2.0's
(Dixon, Toman & DeLisi 2013). And the rules: skip logic (hidden answers refused, answers of
questions that became hidden dropped, required only when shown), ranges, importance points."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kehu.errors import InputError
from kehu.feedback.answers import check_answer, check_complete, merge_answers
from kehu.feedback.definition import SurveyDefinition
from kehu.feedback.surveys import parse_definition
from kehu.feedback.templates import TEMPLATE_NAMES, TEMPLATES, template

CJK = re.compile(r"[\u4e00-\u9fff]")
MOBI_COLUMNS = [
    "CUEX1",
    "CUEX2",
    "CUEX3",
    "CUSA1",
    "CUSA2",
    "CUSA3",
    "CUSCO",
    "CUSL1",
    "CUSL2",
    "CUSL3",
    "IMAG1",
    "IMAG2",
    "IMAG3",
    "IMAG4",
    "IMAG5",
    "PERQ1",
    "PERQ2",
    "PERQ3",
    "PERQ4",
    "PERQ5",
    "PERQ6",
    "PERQ7",
    "PERV1",
    "PERV2",
]


def _texts(data: Any) -> list[dict[str, str]]:
    """Every {en, zh-Hans} text in a definition's JSON."""
    if isinstance(data, dict):
        if set(data) == {"en", "zh-Hans"}:
            return [data]
        return [text for value in data.values() for text in _texts(value)]
    if isinstance(data, list):
        return [text for value in data for text in _texts(value)]
    return []


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_every_template_validates_and_speaks_both_languages(key: str) -> None:
    definition = template(key)
    dumped = definition.model_dump(mode="json", by_alias=True)
    texts = _texts(dumped)
    # the title and every question's text at least; each non-empty in both, the Chinese in Han
    assert len(texts) >= 1 + len(definition.questions)
    for text in texts:
        assert text["en"].strip() and not CJK.search(text["en"])
        assert CJK.search(text["zh-Hans"]), text
    assert key in TEMPLATE_NAMES
    # a stored template reads back as the same definition
    assert SurveyDefinition.model_validate(dumped) == definition


def test_servqual_has_the_22_items_in_their_five_dimensions() -> None:
    definition = template("servqual")
    pairs = [q for q in definition.questions if q.type == "servqual_pair"]
    assert [q.id for q in pairs] == [f"servqual_q{n}" for n in range(1, 23)]
    expected = ["tangibles"] * 4 + ["reliability"] * 5 + ["responsiveness"] * 4
    expected += ["assurance"] * 4 + ["empathy"] * 5
    assert [q.dimension for q in pairs] == expected
    assert all(q.items() == ["expectation", "perception"] and q.scale == (1, 7) for q in pairs)
    # positively worded: no item of the 1991 revision says "not" or "never ... should"
    assert (
        pairs[4].text.en
        == "When the company promises to do something by a certain time, it does so."
    )
    importance = definition.question("servqual_importance")
    assert importance is not None and importance.items() == [d.id for d in definition.dimensions]


def test_ecsi_ids_are_the_mobi_columns_on_1_to_10() -> None:
    definition = template("ecsi")
    assert sorted(q.id for q in definition.questions) == MOBI_COLUMNS
    assert {q.scale for q in definition.questions} == {(1, 10)}
    constructs = {q.id[:4]: q.dimension for q in definition.questions}
    assert constructs == {
        "IMAG": "image", "CUEX": "expectation", "PERQ": "quality", "PERV": "value",
        "CUSA": "satisfaction", "CUSC": "complaints", "CUSL": "loyalty",
    }  # fmt: skip


def test_ces_is_the_seven_point_agreement_statement() -> None:
    effort = template("ces").questions[0]
    assert effort.scale == (1, 7)
    assert "made it easy for me to handle my issue" in effort.text.en
    assert template("nps").questions[0].scale == (0, 10)
    assert template("csat").questions[0].scale == (1, 5)


def _survey(*questions: dict[str, Any]) -> SurveyDefinition:
    return parse_definition({"title": {"en": "T", "zh-Hans": "标题"}, "questions": list(questions)})


def _text(en: str) -> dict[str, str]:
    return {"en": en, "zh-Hans": "问题"}


SKIPPING = [
    {"id": "recommend", "type": "nps", "text": _text("Recommend?"), "required": True},
    {
        "id": "why_not",
        "type": "free_text",
        "text": _text("Why not?"),
        "required": True,
        "show_if": {"question": "recommend", "max": 6},
    },
    {
        "id": "channel",
        "type": "single_choice",
        "text": _text("How?"),
        "options": [{"id": "web", "text": _text("Web")}, {"id": "phone", "text": _text("Phone")}],
    },
    {
        "id": "phone_wait",
        "type": "ces",
        "text": _text("Easy?"),
        "show_if": {"question": "channel", "any_of": ["phone"]},
    },
]


def test_skip_logic_refuses_hidden_answers_and_drops_those_made_hidden() -> None:
    definition = _survey(*SKIPPING)
    # a promoter is not asked why not: answering it is refused, naming the question
    with pytest.raises(InputError) as refused:
        merge_answers(definition, {}, {"recommend": 9, "why_not": "too slow"})
    assert refused.value.column == "why_not"
    stored = merge_answers(definition, {}, {"recommend": 3, "why_not": "too slow"})
    assert stored == {"recommend": 3, "why_not": "too slow"}
    # changing the score to a promoter's drops the now hidden answer
    assert merge_answers(definition, stored, {"recommend": 10}) == {"recommend": 10}
    # required only when shown: a promoter submits without "why not"
    check_complete(definition, {"recommend": 10})
    with pytest.raises(InputError) as missing:
        check_complete(definition, {"recommend": 2})
    assert missing.value.column == "why_not"
    assert merge_answers(definition, {}, {"channel": "phone", "phone_wait": 2})["phone_wait"] == 2
    with pytest.raises(InputError):
        merge_answers(definition, {}, {"channel": "web", "phone_wait": 2})


@pytest.mark.parametrize(
    ("question", "value", "column"),
    [
        ({"id": "q", "type": "nps", "text": _text("?")}, 11, "q"),
        ({"id": "q", "type": "csat", "text": _text("?")}, 0, "q"),
        ({"id": "q", "type": "ces", "text": _text("?")}, 4.5, "q"),
        ({"id": "q", "type": "ces", "text": _text("?")}, True, "q"),
        ({"id": "q", "type": "rating", "text": _text("?"), "min": 1, "max": 10}, 0, "q"),
        (
            {"id": "q", "type": "servqual_pair", "text": _text("?")},
            {"perception": 8},
            "q.perception",
        ),
        ({"id": "q", "type": "servqual_pair", "text": _text("?")}, {"hope": 3}, "q"),
    ],
)
def test_out_of_range_answers_name_the_question(
    question: dict[str, Any], value: Any, column: str
) -> None:
    definition = _survey(question)
    with pytest.raises(InputError) as refused:
        check_answer(definition.questions[0], value)
    assert refused.value.column == column


def test_importance_points_split_100_and_choices_are_options() -> None:
    options = [{"id": o, "text": _text(o)} for o in ("price", "speed", "care")]
    definition = _survey(
        {"id": "weights", "type": "importance_points", "text": _text("?"), "options": options},
        {"id": "many", "type": "multiple_choice", "text": _text("?"), "options": options},
    )
    weights, many = definition.questions
    with pytest.raises(InputError, match="sum to 110"):
        check_answer(weights, {"price": 60, "speed": 50})
    with pytest.raises(InputError, match="sum to 90"):
        check_complete(definition, {"weights": {"price": 40, "speed": 40, "care": 10}})
    check_complete(definition, {"weights": {"price": 40, "speed": 40, "care": 20}})
    assert check_answer(many, ["care", "price"]) == ["price", "care"]  # the question's order
    with pytest.raises(InputError):
        check_answer(many, ["price", "colour"])


@pytest.mark.parametrize(
    ("questions", "field"),
    [
        ([{"id": "q", "type": "nps", "text": {"en": "Only English"}}], "zh-Hans"),
        (
            [
                {
                    "id": "a",
                    "type": "nps",
                    "text": _text("?"),
                    "show_if": {"question": "b", "min": 1},
                },
                {"id": "b", "type": "nps", "text": _text("?")},
            ],
            "not an earlier question",
        ),
        ([{"id": "a", "type": "nps", "text": _text("?")}] * 2, "used twice"),
        ([{"id": "a", "type": "rating", "text": _text("?")}], "min below max"),
        ([{"id": "a", "type": "nps", "text": _text("?"), "dimension": "x"}], "no dimension"),
        ([{"id": "a.b", "type": "nps", "text": _text("?")}], "pattern"),
    ],
)
def test_a_bad_definition_is_an_input_error_naming_the_field(
    questions: list[dict[str, Any]], field: str
) -> None:
    with pytest.raises(InputError) as refused:
        _survey(*questions)
    assert field in f"{refused.value.column} {refused.value.reason}"
    assert str(refused.value.column).startswith("definition")
