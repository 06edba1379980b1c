"""The survey builder's form: a definition as plain form fields and back, and the edits the
form's buttons make (add, remove, move a question) before anything is saved.

The builder works without JavaScript: every button posts the whole form, and the page comes back
with the edit made and nothing saved until "Save". The fields:

- ``title_en``, ``title_zh``, ``intro_en``, ``intro_zh``; ``dimensions``: one line each,
  ``id | English | Chinese``;
- per question ``n`` (0-based): ``q-n-id``, ``q-n-type``, ``q-n-en``, ``q-n-zh``,
  ``q-n-required``, ``q-n-dimension``, ``q-n-min``/``q-n-max`` (a rating's scale),
  ``q-n-options`` (one line each, ``id | English | Chinese``), ``q-n-competitors`` (ids),
  ``q-n-if`` (the earlier question), ``q-n-if-op`` and ``q-n-if-value`` (the condition).

This module only moves text between the form and the definition's JSON shape; whether the
definition is valid is :func:`kehu.feedback.surveys.parse_definition`'s to say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kehu.core.i18n import N_
from kehu.errors import InputError
from kehu.feedback.definition import QUESTION_TYPES, SurveyDefinition, is_identifier

__all__ = [
    "CONDITIONS",
    "OPTION_TYPES",
    "SCALED_TYPES",
    "apply_edit",
    "definition_data",
    "error_field",
    "form_of",
    "read_form",
]

#: The conditions of the skip logic as the builder offers them (catalog messages).
CONDITIONS: dict[str, str] = {
    "is": N_("is"),
    "one_of": N_("is one of"),
    "at_most": N_("is at most"),
    "at_least": N_("is at least"),
    "between": N_("is between"),
}
OPTION_TYPES = ("single_choice", "multiple_choice", "importance_points", "competitor_rating")
SCALED_TYPES = ("rating", "competitor_rating")
_NUMERIC = ("nps", "csat", "ces", "rating")
_FIELDS = ("id", "type", "en", "zh", "dimension", "min", "max", "options", "if", "if-op",
           "if-value")  # fmt: skip
_MAX_QUESTIONS = 200


def _lines(pairs: list[tuple[str, str, str]]) -> str:
    return "\n".join(f"{a} | {b} | {c}" for a, b, c in pairs)


def _value_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def form_of(definition: SurveyDefinition) -> dict[str, Any]:
    """The form's fields for ``definition``."""
    questions = []
    for q in definition.questions:
        row: dict[str, Any] = {
            "id": q.id,
            "type": q.type,
            "en": q.text.en,
            "zh": q.text.zh_hans,
            "required": q.required,
            "dimension": q.dimension or "",
            "min": "" if q.min is None else str(q.min),
            "max": "" if q.max is None else str(q.max),
            "options": _lines([(o.id, o.text.en, o.text.zh_hans) for o in q.options]),
            "competitors": [str(c) for c in q.competitors],
            "if": "",
            "if-op": "is",
            "if-value": "",
        }
        condition = q.show_if
        if condition is not None:
            row["if"] = condition.question
            if condition.any_of is not None:
                row["if-op"] = "is" if len(condition.any_of) == 1 else "one_of"
                row["if-value"] = ", ".join(_value_text(v) for v in condition.any_of)
            elif condition.min is not None and condition.max is not None:
                row["if-op"] = "between"
                row["if-value"] = f"{_value_text(condition.min)}..{_value_text(condition.max)}"
            elif condition.max is not None:
                row["if-op"] = "at_most"
                row["if-value"] = _value_text(condition.max)
            else:
                row["if-op"] = "at_least"
                row["if-value"] = _value_text(condition.min)
        questions.append(row)
    intro = definition.intro
    return {
        "title_en": definition.title.en,
        "title_zh": definition.title.zh_hans,
        "intro_en": intro.en if intro else "",
        "intro_zh": intro.zh_hans if intro else "",
        "dimensions": _lines([(d.id, d.name.en, d.name.zh_hans) for d in definition.dimensions]),
        "questions": questions,
    }


def read_form(form: Mapping[str, Any], competitors: Mapping[str, list[str]]) -> dict[str, Any]:
    """The fields as posted (``form``: one value per name; ``competitors``: the checked
    competitor ids of each question, by its number)."""

    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    numbers = sorted(
        {int(m.group(1)) for name in form if (m := re.fullmatch(r"q-(\d{1,3})-type", name))}
    )
    questions = []
    for n in numbers[:_MAX_QUESTIONS]:
        row: dict[str, Any] = {field: text(f"q-{n}-{field}") for field in _FIELDS}
        row["required"] = text(f"q-{n}-required") == "on"
        row["competitors"] = list(competitors.get(str(n), []))
        if row["type"] not in QUESTION_TYPES:
            continue  # not a question the builder made
        questions.append(row)
    return {
        "title_en": text("title_en"),
        "title_zh": text("title_zh"),
        "intro_en": text("intro_en"),
        "intro_zh": text("intro_zh"),
        "dimensions": text("dimensions"),
        "questions": questions,
    }


def _new_id(questions: list[dict[str, Any]], kind: str) -> str:
    taken = {q["id"] for q in questions}
    n = len(questions) + 1
    while f"{kind}_{n}" in taken:
        n += 1
    return f"{kind}_{n}"


def blank_question(questions: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    scaled = kind in SCALED_TYPES
    return {
        "id": _new_id(questions, kind if kind in QUESTION_TYPES else "q"),
        "type": kind,
        "en": "",
        "zh": "",
        "required": False,
        "dimension": "",
        "min": "1" if scaled else "",
        "max": "10" if scaled else "",
        "options": "",
        "competitors": [],
        "if": "",
        "if-op": "is",
        "if-value": "",
    }


def apply_edit(form: dict[str, Any], op: str, new_type: str) -> bool:
    """Make the edit a button names (``add``, ``remove-n``, ``up-n``, ``down-n``) on ``form``;
    ``False`` when ``op`` is none of them."""
    questions: list[dict[str, Any]] = form["questions"]
    if op == "add":
        if new_type in QUESTION_TYPES and len(questions) < _MAX_QUESTIONS:
            questions.append(blank_question(questions, new_type))
        return True
    found = re.fullmatch(r"(remove|up|down)-(\d{1,3})", op)
    if found is None:
        return False
    action, n = found.group(1), int(found.group(2))
    if not 0 <= n < len(questions):
        return True
    if action == "remove":
        del questions[n]
    elif action == "up" and n > 0:
        questions[n - 1], questions[n] = questions[n], questions[n - 1]
    elif action == "down" and n < len(questions) - 1:
        questions[n + 1], questions[n] = questions[n], questions[n + 1]
    return True


def _pairs(text: str, where: str) -> list[tuple[str, str, str]]:
    pairs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 3:
            raise InputError("each line is: id | English | Chinese", column=where, value=line)
        pairs.append((parts[0], parts[1], parts[2]))
    return pairs


def _number(text: str, where: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InputError("a whole number", column=where, value=text) from None


def _condition_value(text: str, earlier: dict[str, Any] | None, where: str) -> int | str:
    text = text.strip()
    if earlier is not None and earlier["type"] in _NUMERIC:
        return _number(text, where)
    return text


def _show_if(row: dict[str, Any], earlier: dict[str, Any] | None, where: str) -> dict[str, Any]:
    op, value = row["if-op"], row["if-value"]
    condition: dict[str, Any] = {"question": row["if"]}
    if op == "one_of":
        condition["any_of"] = [
            _condition_value(part, earlier, where) for part in value.split(",") if part.strip()
        ] or None
    elif op == "at_most":
        condition["max"] = _number(value, where)
    elif op == "at_least":
        condition["min"] = _number(value, where)
    elif op == "between":
        low, _, high = value.partition("..")
        condition["min"], condition["max"] = _number(low, where), _number(high, where)
    else:
        condition["any_of"] = [_condition_value(value, earlier, where)] if value.strip() else None
    return {k: v for k, v in condition.items() if v is not None}


def definition_data(form: dict[str, Any]) -> dict[str, Any]:
    """The definition's JSON shape from the form (for ``parse_definition``); a field that is not
    even of the form's shape (an option line without its three parts, a scale that is not a
    number) is an :class:`InputError` naming it as ``parse_definition`` would."""
    data: dict[str, Any] = {"title": {"en": form["title_en"], "zh-Hans": form["title_zh"]}}
    if form["intro_en"].strip() or form["intro_zh"].strip():
        data["intro"] = {"en": form["intro_en"], "zh-Hans": form["intro_zh"]}
    data["dimensions"] = [
        {"id": a, "name": {"en": b, "zh-Hans": c}}
        for a, b, c in _pairs(form["dimensions"], "definition.dimensions")
    ]
    by_id: dict[str, dict[str, Any]] = {}
    questions = []
    for n, row in enumerate(form["questions"]):
        where = f"definition.questions.{n}"
        question: dict[str, Any] = {
            "id": row["id"].strip(),
            "type": row["type"],
            "text": {"en": row["en"], "zh-Hans": row["zh"]},
            "required": bool(row["required"]),
        }
        if row["dimension"].strip():
            question["dimension"] = row["dimension"].strip()
        if row["type"] in SCALED_TYPES:
            question["min"] = _number(row["min"], f"{where}.min")
            question["max"] = _number(row["max"], f"{where}.max")
        if row["type"] in OPTION_TYPES:
            question["options"] = [
                {"id": a, "text": {"en": b, "zh-Hans": c}}
                for a, b, c in _pairs(row["options"], f"{where}.options")
            ]
        if row["type"] == "competitor_rating":
            question["competitors"] = [int(c) for c in row["competitors"] if c.isdigit()]
        if row["if"].strip():
            earlier = by_id.get(row["if"].strip())
            question["show_if"] = _show_if(row, earlier, f"{where}.show_if")
        questions.append(question)
        if is_identifier(question["id"]):
            by_id[question["id"]] = row
    data["questions"] = questions
    return data


_MESSAGE_AT = re.compile(r"^questions\[(\d+)\]")


def error_field(error: InputError) -> str:
    """The form field an error of ``parse_definition`` or :func:`definition_data` is about:
    ``title``, ``intro``, ``dimensions``, ``questions`` (none or too many), ``q-n`` (the whole
    question) or ``q-n-<field>`` (``en``, ``zh``, ``id``, ``dimension``, ``scale``, ``options``,
    ``competitors``, ``if``)."""
    column = error.column or ""
    parts = column.split(".")[1:] if column.startswith("definition") else column.split(".")
    if not parts or parts == [""]:
        found = _MESSAGE_AT.match(error.reason)
        if found is None:
            return "questions" if "question" in error.reason else "title"
        n = found.group(1)
        for word, field in (("show_if", "if"), ("dimension", "dimension"), ("id is", "id"),
                            ("option", "options")):  # fmt: skip
            if word in error.reason:
                return f"q-{n}-{field}"
        return f"q-{n}"
    head = parts[0]
    if head in ("title", "intro", "dimensions"):
        return head
    if head == "competitors":
        return "questions"
    if head != "questions" or len(parts) < 2 or not parts[1].isdigit():
        return "questions"
    n, rest = parts[1], parts[2:]
    if not rest:
        return f"q-{n}"
    if rest[0] == "text":
        return f"q-{n}-zh" if rest[1:] == ["zh-Hans"] else f"q-{n}-en"
    if rest[0] in ("min", "max"):
        return f"q-{n}-scale"
    if rest[0] == "show_if":
        return f"q-{n}-if"
    if rest[0] in ("id", "dimension", "options", "competitors"):
        return f"q-{n}-{rest[0]}"
    return f"q-{n}"
