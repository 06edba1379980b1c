"""In-app notifications for staff users, with their e-mail through the outbox.

- :mod:`~kehu.core.notifications.tables` -- ``notifications``, ``notification_preferences``;
- :mod:`~kehu.core.notifications.service` -- the registry of kinds the domains register,
  :func:`notify`, and reading and marking one's own.

The platform knows no domain: a notification names what it is about as ``regarding``
(``("ticket", 12)``, like the outbox), and the kind a domain registered says which page opens it.
"""

from kehu.core.notifications.service import (
    NOTIFICATION_EMAIL,
    NOTIFICATIONS_PATH,
    NotificationKind,
    email_wanted,
    get_notification,
    link_of,
    list_notifications,
    mark_all_read,
    mark_read,
    notification_kind,
    notifications_query,
    notify,
    own_email_wanted,
    register_notification_kind,
    registered_notification_kinds,
    set_email_wanted,
    unread_count,
)
from kehu.core.notifications.tables import Notification, NotificationPreference

__all__ = [
    "NOTIFICATIONS_PATH",
    "NOTIFICATION_EMAIL",
    "Notification",
    "NotificationKind",
    "NotificationPreference",
    "email_wanted",
    "get_notification",
    "link_of",
    "list_notifications",
    "mark_all_read",
    "mark_read",
    "notification_kind",
    "notifications_query",
    "notify",
    "own_email_wanted",
    "register_notification_kind",
    "registered_notification_kinds",
    "set_email_wanted",
    "unread_count",
]
