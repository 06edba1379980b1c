"""Message templates: the e-mails and short texts kehu sends, in every language of the catalogs.

A domain registers each message it sends once, by name, from its ``registrations`` module::

    ACKNOWLEDGEMENT = register_message(
        "desk.acknowledgement",
        subject=N_("[#%(ticket_id)s] We received your %(kind)s: %(subject)s"),
        body=N_("Dear %(name)s,\\n\\n..."),
        phrases=(KIND_NAMES["complaint"], ...),
    )

and renders it where it sends it::

    message = render_message("desk.acknowledgement", customer_language, ticket_id=12, ...)
    outbox.enqueue(session, subject=message.subject, body=message.body, ...)

The subject and the body *are* catalog entries (English ids marked with ``N_``, so that
``python -m kehu.core.i18n.catalogs`` extracts them beside the pages' messages and the same
completeness test covers them). A short text (``kind="text"``) has no subject. Values are
%-format fields (``%(name)s``) and may be

- a plain value (``str``, ``int``, ...), inserted as it is (a customer's own words are never
  translated nor interpreted: ``%`` in a value is just a character);
- a :class:`Phrase`, a catalog entry of its own (a ticket kind, the sentence with or without a
  due time) translated into the same language, with its own values; each phrase a template uses
  is declared in ``phrases`` (rendering refuses one that is not, so the test that every template
  is translated cannot miss it);
- a :class:`LocalTime`, a moment told in a time zone and the message's language
  (:func:`kehu.core.i18n.format_instant`).

The language is the customer's when known (:func:`kehu.core.i18n.supported_language` maps
``zh``/``zh-CN`` to ``zh-Hans`` and an unknown or missing one to English). A message the catalog
of that language does not translate falls back to English, and raises
:class:`~kehu.core.i18n.MissingTranslationError` in strict mode (tests).

Mistakes of the caller are named: an unregistered template raises :class:`UnknownMessageError`,
a value the template (or one of its phrases) needs and was not given :class:`MissingValueError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from kehu.core.i18n import Translator, supported_language

__all__ = [
    "LocalTime",
    "MessageKind",
    "MessageTemplate",
    "MessageTemplateError",
    "MissingValueError",
    "Phrase",
    "RenderedMessage",
    "UnknownMessageError",
    "get_message",
    "register_message",
    "registered_messages",
    "render_message",
]

MessageKind = Literal["email", "text"]

#: A %-format field (``%%(`` is a percent sign followed by a parenthesis, not a field).
_FIELD = re.compile(r"(?<!%)%\((\w+)\)")


class MessageTemplateError(LookupError):
    """A message template was used wrongly (a programming error, not the user's)."""


class UnknownMessageError(MessageTemplateError):
    """No message template is registered under the name."""


class MissingValueError(MessageTemplateError):
    """A template or phrase needs a value it was not given."""


class Phrase:
    """A catalog entry given as a value: translated into the message's language, then formatted
    with its own ``values`` (which may again be phrases or local times)."""

    __slots__ = ("message", "values")

    def __init__(self, message: str, /, **values: Any) -> None:
        self.message = message
        self.values: Mapping[str, Any] = values

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Phrase) and (self.message, dict(self.values)) == (
            other.message,
            dict(other.values),
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        values = "".join(f", {key}={value!r}" for key, value in self.values.items())
        return f"Phrase({self.message!r}{values})"


@dataclass(frozen=True)
class LocalTime:
    """A moment to be told in the IANA time zone ``zone``, in the message's language."""

    instant: datetime
    zone: str


@dataclass(frozen=True)
class MessageTemplate:
    """One message a domain sends: its English source texts (catalog ids)."""

    name: str
    kind: MessageKind
    subject: str | None
    body: str
    phrases: frozenset[str] = frozenset()

    @property
    def messages(self) -> tuple[str, ...]:
        """Every catalog entry the template uses: subject, body and declared phrases."""
        own = (self.subject, self.body) if self.subject is not None else (self.body,)
        return own + tuple(sorted(self.phrases))

    @property
    def fields(self) -> frozenset[str]:
        """The values the subject and body need."""
        return frozenset(_FIELD.findall(self.body + (self.subject or "")))


@dataclass(frozen=True)
class RenderedMessage:
    """A template rendered in one language: ready for the outbox (a text's subject is ``""``)."""

    name: str
    language: str
    subject: str
    body: str


_registry: dict[str, MessageTemplate] = {}


def register_message(
    name: str,
    *,
    body: str,
    subject: str | None = None,
    kind: MessageKind = "email",
    phrases: Iterable[str] = (),
) -> MessageTemplate:
    """Register the message ``name`` (``"<domain>.<what>"``). An e-mail has a subject, a text
    none. Registering the same template again is a no-op; another one under a taken name is an
    error."""
    if kind == "email" and not subject:
        raise ValueError(f"the e-mail template {name!r} needs a subject")
    if kind == "text" and subject is not None:
        raise ValueError(f"the text template {name!r} has no subject")
    template = MessageTemplate(name, kind, subject, body, frozenset(phrases))
    existing = _registry.get(name)
    if existing is not None and existing != template:
        raise ValueError(f"a different message template is already registered as {name!r}")
    _registry[name] = template
    return template


def get_message(name: str) -> MessageTemplate:
    try:
        return _registry[name]
    except KeyError:
        known = ", ".join(sorted(_registry)) or "none"
        raise UnknownMessageError(
            f"no message template {name!r} is registered (known: {known})"
        ) from None


def registered_messages() -> dict[str, MessageTemplate]:
    """Every registered template by name (a copy)."""
    return dict(_registry)


def render_message(name: str, language: str | None, /, **values: Any) -> RenderedMessage:
    """The template ``name`` in ``language`` (see :func:`~kehu.core.i18n.supported_language`),
    its fields filled with ``values``."""
    template = get_message(name)
    translator = Translator(supported_language(language))
    subject = (
        _render(translator, template, template.subject, values, "subject")
        if template.subject is not None
        else ""
    )
    body = _render(translator, template, template.body, values, "body")
    return RenderedMessage(name, translator.code, subject, body)


def _render(
    translator: Translator,
    template: MessageTemplate,
    message: str,
    values: Mapping[str, Any],
    where: str,
) -> str:
    wanted = _FIELD.findall(message)
    missing = [name for name in wanted if name not in values]
    if missing:
        raise MissingValueError(
            f"message template {template.name!r} ({where}) needs the value"
            f"{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}"
        )
    resolved = {
        key: _value(translator, template, values[key], f"{where} value {key!r}")
        for key in set(wanted)
    }
    return translator.lookup(message) % resolved


def _value(translator: Translator, template: MessageTemplate, value: Any, where: str) -> Any:
    if isinstance(value, Phrase):
        if value.message not in template.phrases:
            raise MessageTemplateError(
                f"message template {template.name!r} uses the phrase {value.message!r} "
                "it does not declare in its phrases"
            )
        return _render(translator, template, value.message, value.values, where)
    if isinstance(value, LocalTime):
        return translator.format_instant(value.instant, value.zone)
    return value
