"""The service desk's settings are fields of the one settings object,
:class:`kehu.core.config.Settings` (``repeat_window_days``, ``handling_cost_per_hour``,
``attachment_*``, ``outbox_*``, ``smtp_*``, ``job_*``...). The names below are the service
modules' names for it.
"""

from __future__ import annotations

from kehu.core.config import Settings, get_settings

ServiceSettings = Settings
get_service_settings = get_settings

__all__ = ["ServiceSettings", "get_service_settings"]
