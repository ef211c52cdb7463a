"""Bringing an audit log from before the keyed chain under the instance key, once.

Entries written before the keyed chain were linked with plain SHA-256 from 32 zero bytes,
which anyone who can write to the database can recompute. :func:`seal` walks that chain and,
only if every link and digest holds, recomputes every entry's hash under the key (entries the
new code appended after the old ones are re-linked too) and appends an ``audit.seal`` entry
recording how many old entries it sealed and the old chain's last hash. A chain that does not
verify is refused with its first bad entry named, so a break from before the upgrade stays
visible instead of being laundered under the key.

What sealing cannot do: tell whether an insider rewrote the old chain, hashes recomputed,
before the seal. The seal vouches for the old entries as they were at that moment
(SECURITY.md, "The audit log"). ``whistle audit seal`` runs it once per instance and remembers
that it did (commands/audit.py), so a log later re-chained without the key is never sealed.
"""
from __future__ import annotations

import hmac
import secrets as _secrets
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from ...models import AuditEntry, utcnow
from ..messages import N_
from .audit import (
    ALTERED,
    BROKEN_LINK,
    GENESIS,
    at_text,
    chain_mac,
    entry_message,
    keys_for,
    legacy_digest,
    lock_chain,
)

SEAL_ACTION = "audit.seal"
LEGACY_AFTER_KEYED = N_("plain SHA-256 entry after entries chained under the key")
CHANGED = N_("the log changed while it was being sealed")
_BATCH = 5000


class SealRefused(RuntimeError):
    def __init__(self, entry_id: int, problem: str) -> None:
        super().__init__(f"the old audit chain does not verify at entry {entry_id}: {problem}; "
                         "nothing was sealed")
        self.entry_id = entry_id
        self.problem = problem


@dataclass(frozen=True)
class SealResult:
    legacy: int  # old (plain SHA-256) entries now under the key; 0: nothing needed sealing
    rewritten: int = 0  # entries whose hash was recomputed (old ones and any after them)
    legacy_head: bytes | None = None  # the old chain's last hash, as recorded in the seal entry
    seal_id: int | None = None


def needs_seal(db: Session) -> bool:
    """Does the log start with a plain SHA-256 entry (a log from before the keyed chain)?"""
    first = db.scalars(select(AuditEntry).order_by(AuditEntry.id).limit(1)).first()
    return first is not None and hmac.compare_digest(first.hash, legacy_digest(
        GENESIS, first.id, first.at, first.actor, first.action, first.object, first.detail))


def seal(db: Session) -> SealResult:
    """Verify the old chain and re-chain the whole log under the key, in the caller's
    transaction, holding the append lock throughout (appends wait; a refusal rolls back)."""
    if not needs_seal(db):
        return SealResult(0)
    mac = chain_mac(keys_for(db).chain_key)
    lock_chain(db)
    # Like audit.append: our INSERT takes SQLite's write lock before the chain is read.
    placeholder = _secrets.token_bytes(32)
    entry = AuditEntry(at=utcnow().replace(microsecond=0), actor="cli", action=SEAL_ACTION,
                       prev_hash=placeholder, hash=placeholder)
    db.add(entry)
    db.flush()
    table = cast(Table, AuditEntry.__table__)
    # The time is written back too: on SQLite the verifier MACs the stored text, and an old row
    # written in another text form (no microseconds, a 'T') is stored again in the one form.
    rewrite = (update(table).where(table.c.id == bindparam("b_id"))
               .values(at=bindparam("b_at", type_=table.c.at.type),
                       prev_hash=bindparam("b_prev"), hash=bindparam("b_hash")))
    old_prev, new_prev = GENESIS, GENESIS
    legacy = rewritten = 0
    legacy_head: bytes | None = None
    seen_keyed = False
    last_id = 0
    while True:
        rows = db.execute(
            select(AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action,
                   AuditEntry.object, AuditEntry.detail, AuditEntry.prev_hash, AuditEntry.hash)
            .where(AuditEntry.id > last_id, AuditEntry.id < entry.id)
            .order_by(AuditEntry.id).limit(_BATCH)).all()
        if not rows:
            break
        changes = []
        for entry_id, at, actor, action, obj, detail, prev_hash, digest in rows:
            if not hmac.compare_digest(prev_hash, old_prev):
                raise SealRefused(entry_id, BROKEN_LINK)
            text = at_text(at)
            if hmac.compare_digest(digest, legacy_digest(old_prev, entry_id, at, actor, action,
                                                         obj, detail)):
                if seen_keyed:
                    raise SealRefused(entry_id, LEGACY_AFTER_KEYED)
                legacy += 1
                legacy_head = digest
            elif hmac.compare_digest(digest, mac(entry_message(old_prev, entry_id, text, actor,
                                                               action, obj, detail))):
                seen_keyed = True  # appended by the keyed code before anyone sealed
            else:
                raise SealRefused(entry_id, ALTERED)
            new_hash = mac(entry_message(new_prev, entry_id, text, actor, action, obj, detail))
            changes.append({"b_id": entry_id, "b_at": at, "b_prev": new_prev, "b_hash": new_hash})
            old_prev, new_prev, last_id = digest, new_hash, entry_id
        db.connection().execute(rewrite, changes)
        rewritten += len(changes)
    if legacy_head is None:  # needs_seal saw an old first entry; it vanished before the lock
        raise SealRefused(entry.id, CHANGED)
    detail = f"legacy_entries={legacy} rewritten={rewritten} legacy_head={legacy_head.hex()}"
    digest = mac(entry_message(new_prev, entry.id, at_text(entry.at), entry.actor, entry.action,
                               None, detail))
    db.execute(update(AuditEntry).where(AuditEntry.id == entry.id)
               .values(prev_hash=new_prev, hash=digest, detail=detail))
    return SealResult(legacy, rewritten, legacy_head, entry.id)
