"""The append-only, hash-chained audit log.

Each entry's hash is SHA-256 over the previous hash and a canonical encoding of the entry, so
deleting, editing or reordering any entry breaks every later hash. Appends are serialised:
PostgreSQL takes a transaction-scoped advisory lock; SQLite's single writer lock is taken by
the INSERT before the previous hash is read. ``prev_hash`` being unique forbids a fork.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ...models import AuditEntry, utcnow

GENESIS = bytes(32)
_LOCK_ID = 0x5717_A0D1  # arbitrary constant naming the audit lock on PostgreSQL


def _canonical(entry: AuditEntry) -> bytes:
    return json.dumps(
        [entry.id, entry.at.astimezone(UTC).isoformat(), entry.actor, entry.action, entry.object, entry.detail],
        separators=(",", ":"), ensure_ascii=False,
    ).encode()


def _digest(prev: bytes, entry: AuditEntry) -> bytes:
    return hashlib.sha256(prev + _canonical(entry)).digest()


def append(db: Session, actor: str, action: str, obj: str | None = None,
           detail: str | None = None) -> AuditEntry:
    """Add an entry inside the caller's transaction (it commits or rolls back with the work)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
    # Insert first with a placeholder so SQLite takes its write lock before we read the chain.
    placeholder = hashlib.sha256(b"pending" + utcnow().isoformat().encode() + actor.encode()).digest()
    entry = AuditEntry(at=utcnow().replace(microsecond=0), actor=actor, action=action,
                       object=obj, detail=detail, prev_hash=placeholder, hash=placeholder)
    db.add(entry)
    db.flush()
    prev = db.scalar(
        select(AuditEntry.hash).where(AuditEntry.id < entry.id).order_by(AuditEntry.id.desc()).limit(1)
    ) or GENESIS
    digest = _digest(prev, entry)
    db.execute(update(AuditEntry).where(AuditEntry.id == entry.id)
               .values(prev_hash=prev, hash=digest))
    # The row now holds exactly these two values: record them as loaded instead of a refresh,
    # which cost one more SELECT inside the write transaction of every audited action.
    set_committed_value(entry, "prev_hash", prev)
    set_committed_value(entry, "hash", digest)
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_id: int | None = None
    problem: str | None = None


def verify(db: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain in id order; report the first entry whose links or hash do not hold."""
    prev = GENESIS
    count = 0
    last_id = 0
    while True:
        rows = db.scalars(select(AuditEntry).where(AuditEntry.id > last_id)
                          .order_by(AuditEntry.id).limit(batch)).all()
        if not rows:
            return ChainReport(ok=True, entries=count)
        for entry in rows:
            if entry.prev_hash != prev:
                return ChainReport(False, count, entry.id, "previous-hash link broken")
            if entry.hash != _digest(prev, entry):
                return ChainReport(False, count, entry.id, "entry altered")
            prev = entry.hash
            count += 1
            last_id = entry.id
