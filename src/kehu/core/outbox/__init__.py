"""The outbox: messages written in the transaction of their cause, delivered by a job.

- :mod:`~kehu.core.outbox.tables` -- ``outbox_messages``;
- :mod:`~kehu.core.outbox.delivery` -- :func:`enqueue`, :func:`deliver_outbox`, the contact
  policy and address book hooks the customers domain registers;
- :mod:`~kehu.core.outbox.transports` -- file, console and SMTP.
"""

from kehu.core.outbox.delivery import (
    DeliveryReport,
    deliver_outbox,
    enqueue,
    register_address_book,
    register_contact_policy,
)
from kehu.core.outbox.tables import OutboxMessage
from kehu.core.outbox.transports import (
    ConsoleTransport,
    FileTransport,
    SmtpTransport,
    Transport,
    make_transport,
)

__all__ = [
    "ConsoleTransport",
    "DeliveryReport",
    "FileTransport",
    "OutboxMessage",
    "SmtpTransport",
    "Transport",
    "deliver_outbox",
    "enqueue",
    "make_transport",
    "register_address_book",
    "register_contact_policy",
]
