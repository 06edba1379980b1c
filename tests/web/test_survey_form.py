"""The builder's form fields and back: every template survives the round trip unchanged (the
template is the expected value); the edit buttons add, move and remove; a malformed field is an
input error naming the field the page marks."""

from __future__ import annotations

import pytest

from kehu.errors import InputError
from kehu.feedback.surveys import parse_definition
from kehu.feedback.templates import TEMPLATES, template
from kehu.web.views import survey_form


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_every_template_survives_the_form(key: str) -> None:
    definition = template(key)
    form = survey_form.form_of(definition)
    assert parse_definition(survey_form.definition_data(form)) == definition


def test_skip_logic_conditions_are_written_as_the_definition_has_them() -> None:
    form = survey_form.form_of(template("nps"))
    form["questions"].append(survey_form.blank_question(form["questions"], "free_text"))
    low, why, extra = form["questions"][0], form["questions"][1], form["questions"][2]
    extra.update({"en": "E", "zh": "中", "if": low["id"]})
    cases = {
        ("is", "6"): {"any_of": [6]},
        ("one_of", "0, 1,2"): {"any_of": [0, 1, 2]},
        ("at_most", "6"): {"max": 6},
        ("at_least", "9"): {"min": 9},
        ("between", "7..8"): {"min": 7, "max": 8},
    }
    for (op, value), expected in cases.items():
        extra["if-op"], extra["if-value"] = op, value
        condition = survey_form.definition_data(form)["questions"][2]["show_if"]
        assert condition == {"question": "recommend", **expected}
    extra.update({"if": why["id"], "if-op": "is", "if-value": "slow"})
    condition = survey_form.definition_data(form)["questions"][2]["show_if"]
    assert condition == {"question": "why", "any_of": ["slow"]}  # text stays text


def test_the_edit_buttons_add_move_and_remove() -> None:
    form = survey_form.form_of(template("nps"))
    assert survey_form.apply_edit(form, "add", "rating")
    added = form["questions"][-1]
    assert (added["type"], added["min"], added["max"]) == ("rating", "1", "10")
    assert survey_form.apply_edit(form, "up-2", "")
    assert [q["id"] for q in form["questions"]] == ["recommend", added["id"], "why"]
    assert survey_form.apply_edit(form, "remove-0", "")
    assert [q["id"] for q in form["questions"]] == [added["id"], "why"]
    assert not survey_form.apply_edit(form, "save", "")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("options", "a | only two"), "q-0-options"),
        (("min", "low"), "q-0-scale"),
    ],
)
def test_a_malformed_field_names_the_field(change: tuple[str, str], field: str) -> None:
    form = survey_form.form_of(template("customer_value"))
    rated = next(n for n, q in enumerate(form["questions"]) if q["type"] == "competitor_rating")
    form["questions"][0], form["questions"][rated] = form["questions"][rated], form["questions"][0]
    form["questions"][0][change[0]] = change[1]
    with pytest.raises(InputError) as refused:
        survey_form.definition_data(form)
    assert survey_form.error_field(refused.value) == field


def test_errors_of_the_definition_name_the_field() -> None:
    form = survey_form.form_of(template("nps"))
    form["questions"][1]["zh"] = ""
    with pytest.raises(InputError) as refused:
        parse_definition(survey_form.definition_data(form))
    assert survey_form.error_field(refused.value) == "q-1-zh"
    form = survey_form.form_of(template("nps"))
    form["questions"][1]["if"] = "nowhere"
    form["questions"][1]["if-value"] = "1"
    with pytest.raises(InputError) as refused:
        parse_definition(survey_form.definition_data(form))
    assert survey_form.error_field(refused.value) == "q-1-if"
