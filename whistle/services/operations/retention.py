"""Retention: archived cases are purged once the retention period is over (DESIGN.md §2).

Run by ``whistle sweep`` after its housekeeping. A case qualifies when its status is
'archived' and it was archived (``archived_at``; ``updated_at`` for rows that predate that
column being set) more than ``retention_days`` ago. ``retention_days`` 0 disables purging.

Every table that references a case declares ``ON DELETE CASCADE`` on ``case_id`` (models and
migrations 0001/0002: case_fields, case_key_wraps, identity_blobs, identity_shares, events,
messages, attachments, identity_requests -> share_releases, case_notices), so deleting the
case row deletes all of them, on PostgreSQL by its constraints and on SQLite because
``whistle.db`` turns ``PRAGMA foreign_keys`` on for every connection. tests/web/test_retention.py
counts the rows left in each of those tables.

Each batch is one transaction: lock the batch's case rows (PostgreSQL ``FOR UPDATE`` in id
order, so two purges queue on the same rows instead of deadlocking), read their attachments'
storage names, delete the case rows, write one audit entry (count and cutoff only). The
encrypted files are unlinked only AFTER the commit: unlinking first and then rolling back
would leave rows pointing at nothing. A crash between the commit and the unlinks leaves
orphan files that no row names; ``housekeeping.run`` -> ``AttachmentStore.sweep_orphans``
deletes them on a later sweep. Without its key (gone with the attachment row) such a file is
unreadable meanwhile.

Safe to run twice at once: a case the other run deleted is simply not found (not locked, not
deleted, rowcount 0) and only the run whose DELETE removed it unlinks its files; a SQLite
writer-lock conflict redoes the batch (sweep._retry), which is idempotent.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ...attachments.errors import AttachmentError
from ...attachments.storage import AttachmentStore
from ...db import transaction
from ...domain.constants import Status
from ...models import Attachment, Case
from ..custody import audit
from .sweep import _retry

log = logging.getLogger("whistle.retention")

BATCH = 200


def _archived_before(cutoff: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (Case.status == Status.ARCHIVED.value,
            func.coalesce(Case.archived_at, Case.updated_at) < cutoff)


def _purge_batch(factory: sessionmaker[Session], *, cutoff: datetime, after: str,
                 batch: int) -> tuple[int, str, int, list[str]]:
    """Purge one batch of qualifying cases with id > ``after``.

    Returns (selected, cursor for the next batch, cases this run deleted, storage names of
    their files). Nothing is counted or unlinked by the caller until the batch has committed,
    so a batch redone after a conflict is neither counted twice nor half-applied.
    """
    with transaction(factory) as db:
        ids = list(db.scalars(
            select(Case.id).where(*_archived_before(cutoff), Case.id > after)
            .order_by(Case.id).limit(batch).with_for_update()))
        if not ids:
            return 0, after, 0, []
        files = db.execute(select(Attachment.case_id, Attachment.storage_name)
                           .where(Attachment.case_id.in_(ids))).all()
        # RETURNING: exactly the cases this run removed. A case another purge removed first is
        # absent here (zero rows is fine) and its files are that purge's to unlink.
        gone = set(db.scalars(
            delete(Case).where(Case.id.in_(ids), *_archived_before(cutoff))
            .returning(Case.id).execution_options(synchronize_session=False)))
        if gone:
            # Row locks are all held; the audit append (advisory lock on PostgreSQL) comes last.
            # Count and cutoff only: no case ids, no register numbers.
            audit.append(db, "system", "retention.purge", None,
                         f"cases={len(gone)} archived_before="
                         f"{cutoff.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}")
        names = [name for case_id, name in files if case_id in gone]
        return len(ids), ids[-1], len(gone), names


def _unlink(store: AttachmentStore, names: list[str]) -> None:
    """Delete the files of committed purges. A failure leaves an orphan for sweep_orphans."""
    failed = 0
    for name in names:
        try:
            store.delete(name)  # False if already gone: nothing to do
        except (OSError, AttachmentError):
            failed += 1
    if failed:
        log.error("retention: %d attachment files could not be deleted; the orphan sweep "
                  "will remove them", failed)


def purge_archived(factory: sessionmaker[Session], store: AttachmentStore, *,
                   retention_days: int, now: datetime, batch: int = BATCH) -> int:
    """Delete archived cases older than ``retention_days`` with every dependent row and file.

    Returns the number of cases this run deleted. ``retention_days`` <= 0 purges nothing.
    """
    if retention_days <= 0:
        return 0
    cutoff = now - timedelta(days=retention_days)
    total, after = 0, ""
    while True:
        selected, after, deleted, names = _retry(_purge_batch, factory, cutoff=cutoff,
                                                 after=after, batch=batch)
        # Committed. A crash here leaves orphan files (no row names them any more);
        # housekeeping's sweep_orphans deletes them on a later sweep.
        _unlink(store, names)
        total += deleted
        if selected < batch:
            if total:
                log.info("retention: purged %d archived cases", total)  # count only
            return total
