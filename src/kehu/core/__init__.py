"""The platform every domain builds on: what customers, value, the service desk and the domains to
come need once (see ``DESIGN.md``). It imports no domain; domains import it.

- :mod:`kehu.core.money`: :class:`~kehu.core.money.Money`, an amount in integer minor units of
  an ISO 4217 currency, its arithmetic, parsing and formatting.
"""
