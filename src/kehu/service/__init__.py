"""Service desk: business calendars and service promises (SLA policies and the SLA clock).

- :mod:`kehu.service.calendars` -- :class:`~kehu.service.calendars.BusinessCalendar`: opening
  hours in a time zone, holidays and special days; business time arithmetic (due times).
- :mod:`kehu.service.sla` -- :class:`~kehu.service.sla.SlaPolicy` (versioned service promise),
  :func:`~kehu.service.sla.select_policy`, the pure SLA clock :func:`~kehu.service.sla.evaluate`
  over a ticket's events, and :func:`~kehu.service.sla.kept_promise_rate` (the reliability figure).

The service desk on the store:

- :mod:`~kehu.service.tables` (ORM), :mod:`~kehu.service.schemas` (pydantic),
  :mod:`~kehu.service.settings` (``KEHU_*`` settings of the desk);
- :mod:`~kehu.service.tickets` -- ticket use cases and the append-only event log;
  :mod:`~kehu.service.workflow` -- statuses, categories and the transition table;
- :mod:`~kehu.service.routing` -- teams, members, the category tree, routing and escalation rules;
- :mod:`~kehu.service.sla_store` -- persisted calendars and versioned policies;
- :mod:`~kehu.service.effort` -- effort, one-stop resolution, cost-to-serve, kept-promise rate;
- :mod:`~kehu.service.jobs` -- the job runner of ``kehu worker``; :mod:`~kehu.service.worker` --
  the SLA check (warnings, breaches, escalations exactly once) and outbox delivery jobs;
- :mod:`~kehu.service.outbox` -- messages to customers; :mod:`~kehu.service.timeline` -- tickets
  on the customer's 360 timeline.

``calendars`` and ``sla`` are pure (stdlib only, no database, no clock of their own: every
function takes ``now`` explicitly), so the ticket use cases built on them stay testable with
frozen time.
"""
