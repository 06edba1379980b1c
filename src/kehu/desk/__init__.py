"""Service desk: business calendars and service promises (SLA policies and the SLA clock).

- :mod:`kehu.desk.calendars` -- :class:`~kehu.desk.calendars.BusinessCalendar`: opening
  hours in a time zone, holidays and special days; business time arithmetic (due times).
- :mod:`kehu.desk.sla` -- :class:`~kehu.desk.sla.SlaPolicy` (versioned service promise),
  :func:`~kehu.desk.sla.select_policy`, the pure SLA clock :func:`~kehu.desk.sla.evaluate`
  over a ticket's events, and :func:`~kehu.desk.sla.kept_promise_rate` (the reliability figure).

The service desk on the store:

- :mod:`~kehu.desk.tables` (ORM), :mod:`~kehu.desk.schemas` (pydantic); the desk's
  ``KEHU_*`` settings are fields of the one :class:`kehu.core.config.Settings`, which every use
  case that needs them takes as its ``settings`` argument from the front door;
- :mod:`~kehu.desk.messages` -- the e-mails the desk sends (templates in the platform's
  catalogs, English and Chinese);
- tickets: :mod:`~kehu.desk.ticket_commands` -- file, assign, transfer, change status and
  priority, edit, and the append-only event log every change is recorded in (SLA due times
  refreshed after each); :mod:`~kehu.desk.ticket_messages` -- replies, customer messages,
  internal notes, attachments; :mod:`~kehu.desk.ticket_merge` -- merge and split;
  :mod:`~kehu.desk.ticket_queries` -- reads: one ticket with its promise now, the queue, search,
  event, message and attachment lists, the SLA status;
- :mod:`~kehu.desk.workflow` -- statuses, categories and the transition table;
- :mod:`~kehu.desk.routing` -- teams, members, the category tree, routing and escalation rules;
- :mod:`~kehu.desk.sla_store` -- persisted calendars and versioned policies;
- :mod:`~kehu.desk.effort` -- effort, one-stop resolution, cost-to-serve, kept-promise rate;
- :mod:`~kehu.desk.worker` -- the SLA check job (warnings, breaches, escalations exactly once);
- :mod:`~kehu.desk.timeline` -- tickets on the customer's 360 timeline;
- :mod:`~kehu.desk.registrations` -- what the desk registers with the platform (permissions,
  the ticket scope, jobs, merge references, the timeline source).

Messages go through the platform's outbox (:mod:`kehu.core.outbox`), scheduled work
through its job runner (:mod:`kehu.core.jobs`).

``calendars`` and ``sla`` are pure (stdlib only, no database, no clock of their own: every
function takes ``now`` explicitly), so the ticket use cases built on them stay testable with
frozen time.
"""
