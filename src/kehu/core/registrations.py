"""What the platform itself registers: its own tables (idempotency records) and, as they arrive,
its jobs. Imported once by :mod:`kehu.domains`."""

from __future__ import annotations

from kehu.core import idempotency  # noqa: F401  (its table is part of the schema)
