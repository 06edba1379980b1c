"""The settings a test passes to a use case it calls only to set up its data (a reply, a note,
a ticket) when no app or fixture of its own holds settings: the defaults, never the
environment (``_env_file=None``; ``KEHU_*`` variables of the machine still apply, as for every
``Settings``)."""

from __future__ import annotations

from kehu.core.config import Settings

DEFAULT_SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]
