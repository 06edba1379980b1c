"""Service desk: business calendars and service promises (SLA policies and the SLA clock).

- :mod:`kehu.service.calendars` -- :class:`~kehu.service.calendars.BusinessCalendar`: opening
  hours in a time zone, holidays and special days; business time arithmetic (due times).
- :mod:`kehu.service.sla` -- :class:`~kehu.service.sla.SlaPolicy` (versioned service promise),
  :func:`~kehu.service.sla.select_policy`, the pure SLA clock :func:`~kehu.service.sla.evaluate`
  over a ticket's events, and :func:`~kehu.service.sla.kept_promise_rate` (the reliability figure).

Both modules are pure (stdlib only, no database, no clock of their own: every function takes
``now`` explicitly), so the ticket use cases built on them stay testable with frozen time.
"""
