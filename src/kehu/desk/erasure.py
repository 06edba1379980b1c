"""What the desk erases of a customer who asked to be forgotten, beyond the columns it registers
with :mod:`kehu.core.personal_data` (see :mod:`kehu.desk.registrations`): the stored files of the
customer's attachments.

Attachment bytes under ``Settings.attachment_dir`` are named by their SHA-256, so two tickets
sending the same file share one file. On :class:`kehu.core.events.CustomerErased` (published
before the columns are erased) :func:`schedule_attachment_file_erasure` notes the files of the
customer's attachments in a job occurrence, in the erasure's transaction; the registered columns
then drop the attachments' ``storage_path``, ``content``, name and digest. The job
(:func:`erase_attachment_files_job`, run by the worker after the erasure committed, with the
worker's settings) deletes each file that no attachment refers to any longer. A rolled-back
erasure leaves no job, and so deletes nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from kehu.core.events import CustomerErased
from kehu.core.jobs import JobContext
from kehu.core.jobs.tables import Job
from kehu.core.notifications import Notification
from kehu.core.outbox import OutboxMessage
from kehu.desk.tables import Ticket, TicketAttachment

#: the job that deletes erased attachments' files
ATTACHMENT_FILES_JOB = "desk_attachment_files_erase"

# how add_attachment names a stored file: "<first two hex digits>/<sha256>"
_STORED_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}$")


def tickets_of(customer_ids: Sequence[int]) -> ColumnElement[bool]:
    """Outbox messages regarding a ticket of the customers (notifications to staff carry the
    ticket's subject too)."""
    tickets = select(Ticket.id).where(Ticket.customer_id.in_(customer_ids))
    return and_(OutboxMessage.regarding_type == "ticket", OutboxMessage.regarding_id.in_(tickets))


def notifications_of(customer_ids: Sequence[int]) -> ColumnElement[bool]:
    """Staff notifications regarding a ticket of the customers (their titles quote its
    subject)."""
    tickets = select(Ticket.id).where(Ticket.customer_id.in_(customer_ids))
    return and_(Notification.regarding_type == "ticket", Notification.regarding_id.in_(tickets))


def schedule_attachment_file_erasure(session: Session, event: CustomerErased) -> None:
    """Schedule the deletion of the files of the customers' attachments (in the erasure's
    transaction)."""
    paths = sorted(
        {
            path
            for path in session.scalars(
                select(TicketAttachment.storage_path)
                .join(Ticket, Ticket.id == TicketAttachment.ticket_id)
                .where(
                    Ticket.customer_id.in_(event.customer_ids),
                    TicketAttachment.storage_path.is_not(None),
                )
            )
            if path is not None
        }
    )
    if not paths:
        return
    session.add(
        Job(
            name=ATTACHMENT_FILES_JOB,
            key=f"erasure:{uuid.uuid4().hex}",
            run_at=event.at,
            payload={"paths": paths},
            attempts=0,
            failed=False,
            created_at=event.at,
        )
    )


def erase_attachment_files(directory: Path, paths: Sequence[str], session: Session) -> int:
    """Delete the files ``paths`` (relative to ``directory``) that no attachment refers to any
    longer; returns how many were deleted. Names not of the stored form are ignored."""
    stored = [p for p in paths if isinstance(p, str) and _STORED_NAME.match(p)]
    if not stored:
        return 0
    in_use = set(
        session.scalars(
            select(TicketAttachment.storage_path).where(TicketAttachment.storage_path.in_(stored))
        )
    )
    deleted = 0
    for path in stored:
        if path in in_use:
            continue  # another ticket sent the same file: it stays
        file = directory / path
        if file.exists():
            file.unlink()
            deleted += 1
    return deleted


def erase_attachment_files_job(context: JobContext) -> None:
    """The job: delete the files noted by :func:`schedule_attachment_file_erasure`. Idempotent
    (a file already gone is skipped); without an attachment directory configured it fails, so
    the occurrence is retried and its error shown rather than the files silently kept."""
    paths = [str(p) for p in context.run.payload.get("paths", [])]
    if not paths:
        return
    directory = context.settings.attachment_dir
    if directory is None:
        raise RuntimeError("attachment_dir is not set: the erased attachments' files remain")
    with context.database.session() as session:
        erase_attachment_files(Path(directory), paths, session)


__all__ = [
    "ATTACHMENT_FILES_JOB",
    "erase_attachment_files",
    "erase_attachment_files_job",
    "schedule_attachment_file_erasure",
    "tickets_of",
]
