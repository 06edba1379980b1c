"""Feedback: surveys as versioned data, ready templates, responses and their import.

- :mod:`~kehu.feedback.definition` -- a survey's definition (pydantic): question types,
  dimensions, skip logic (``show_if``) and its rule;
- :mod:`~kehu.feedback.templates` -- the ready templates in English and Chinese (NPS, CSAT,
  CES 2.0, SERVQUAL, share of wallet, the five service qualities, customer value, ECSI);
- :mod:`~kehu.feedback.answers` -- answers checked against a definition, stored as rows;
- :mod:`~kehu.feedback.tables` (ORM); :mod:`~kehu.feedback.surveys` -- surveys, versions,
  competitors (commands and reads); :mod:`~kehu.feedback.responses` -- recording (partial,
  resumed, submitted) and reading responses, the answer table for the analytics;
  :mod:`~kehu.feedback.importing` -- past responses from CSV, all or nothing;
- :mod:`~kehu.feedback.events`, :mod:`~kehu.feedback.timeline`,
  :mod:`~kehu.feedback.registrations` -- what the domain publishes and registers.

The domain reads customers through :mod:`kehu.customers.queries` and tickets and teams through
the desk's public use-case modules, never their tables.
"""
