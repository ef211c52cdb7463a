"""A log from before the keyed chain (plain SHA-256 from 32 zero bytes) is verified and
brought under the key once; a broken old chain is refused and left as it was."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from whistle.db import transaction
from whistle.models import AuditEntry
from whistle.services.custody import audit, audit_seal

Factory = sessionmaker[Session]
T0 = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


def old_entry(db: Session, prev: bytes, at: datetime, actor: str, action: str,
              obj: str | None = None, detail: str | None = None) -> AuditEntry:
    """An entry as the code before the key wrote it: SHA-256 over prev and canonical JSON."""
    entry = AuditEntry(at=at, actor=actor, action=action, object=obj, detail=detail,
                       prev_hash=bytes(range(32)), hash=bytes(range(32)))
    db.add(entry)
    db.flush()  # the id is part of what is hashed
    entry.prev_hash = prev
    entry.hash = audit.legacy_digest(prev, entry.id, at, actor, action, obj, detail)
    db.flush()
    return entry


def old_log(factory: Factory, n: int = 5) -> list[bytes]:
    """An old log: ids 1..n, SHA-256 chain from 32 zero bytes."""
    prev, hashes = bytes(32), []
    with transaction(factory) as db:
        for i in range(1, n + 1):
            entry = old_entry(db, prev, T0 + timedelta(minutes=i), f"officer:{i}", "case.view",
                              f"case:{i}", None if i % 2 else f"note={i} ü")
            assert entry.id == i
            prev = entry.hash
            hashes.append(prev)
    return hashes


def contents(factory: Factory) -> list[tuple[object, ...]]:
    with factory() as db:
        return [tuple(r) for r in db.execute(select(
            AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.object,
            AuditEntry.detail).order_by(AuditEntry.id))]


def seal(factory: Factory) -> audit_seal.SealResult:
    with transaction(factory) as db:
        return audit_seal.seal(db)


def test_old_log_does_not_verify_until_sealed(factory: Factory) -> None:
    old_log(factory)
    with transaction(factory) as db:
        report = audit.verify(db)
        assert audit_seal.needs_seal(db)
    assert not report.ok and report.first_bad_id == 1 and report.problem == audit.UNSEALED


def test_seal_rechains_under_the_key_and_records_it(factory: Factory) -> None:
    hashes = old_log(factory)
    before = contents(factory)
    result = seal(factory)
    assert (result.legacy, result.rewritten, result.legacy_head) == (5, 5, hashes[-1])
    with transaction(factory) as db:
        report = audit.verify(db)
        entry = db.get(AuditEntry, result.seal_id)
        assert not audit_seal.needs_seal(db)
        stored = set(db.scalars(select(AuditEntry.hash)))
    assert report.ok and report.entries == 6
    assert entry is not None and entry.action == "audit.seal"
    assert entry.detail == f"legacy_entries=5 rewritten=5 legacy_head={hashes[-1].hex()}"
    assert contents(factory)[:5] == before  # only the hashes changed
    assert not stored & set(hashes)
    assert seal(factory).legacy == 0  # nothing left to seal
    # and after sealing an edit is caught like any other
    with transaction(factory) as db:
        db.execute(text("UPDATE audit_log SET actor = 'officer:9' WHERE id = 2"))
        assert audit.verify(db).first_bad_id == 2


def test_entries_appended_before_the_seal_are_rechained_too(factory: Factory) -> None:
    """New code ran (keyed appends onto the old chain) before anyone ran the seal."""
    old_log(factory, 3)
    for i in range(2):
        with transaction(factory) as db:
            audit.append(db, "system", "after.upgrade", f"n:{i}")
    result = seal(factory)
    assert (result.legacy, result.rewritten) == (3, 5)
    with transaction(factory) as db:
        assert audit.verify(db).entries == 6


@pytest.mark.parametrize("tamper, bad_id, problem", [
    ("UPDATE audit_log SET detail = 'edited' WHERE id = 3", 3, audit.ALTERED),
    ("DELETE FROM audit_log WHERE id = 3", 4, audit.BROKEN_LINK),
])
def test_broken_old_chain_is_refused_and_left_alone(factory: Factory, tamper: str, bad_id: int,
                                                    problem: str) -> None:
    old_log(factory)
    with transaction(factory) as db:
        db.execute(text(tamper))
    before = contents(factory)
    with factory() as db:
        hashes = list(db.scalars(select(AuditEntry.hash).order_by(AuditEntry.id)))
    with pytest.raises(audit_seal.SealRefused) as refused:
        seal(factory)
    assert (refused.value.entry_id, refused.value.problem) == (bad_id, problem)
    assert contents(factory) == before
    with factory() as db:
        assert list(db.scalars(select(AuditEntry.hash).order_by(AuditEntry.id))) == hashes


def test_old_entry_after_keyed_ones_is_refused(factory: Factory) -> None:
    """A plain SHA-256 entry may only come before the keyed ones, never after."""
    hashes = old_log(factory, 2)
    with transaction(factory) as db:
        keyed = audit.append(db, "system", "after.upgrade")
        old_entry(db, keyed.hash, T0 + timedelta(hours=1), "x", "y")
    assert hashes
    with pytest.raises(audit_seal.SealRefused) as refused:
        seal(factory)
    assert refused.value.problem == audit_seal.LEGACY_AFTER_KEYED


def test_keyed_log_needs_no_seal(factory: Factory) -> None:
    with transaction(factory) as db:
        audit.append(db, "system", "x")
    assert seal(factory).legacy == 0
    with factory() as db:
        assert db.scalar(select(AuditEntry.id).where(AuditEntry.action == "audit.seal")) is None


def test_old_times_stored_in_another_text_form_verify_after_the_seal(factory: Factory) -> None:
    """SQLite keeps times as text; rows an older writer stored as '2025-06-01T08:01:00' or
    without microseconds are stored again in the one form the chain encodes."""
    old_log(factory, 3)
    if factory.kw["bind"].dialect.name == "sqlite":
        with transaction(factory) as db:
            db.execute(text("UPDATE audit_log SET at = '2025-06-01 08:01:00' WHERE id = 1"))
            db.execute(text("UPDATE audit_log SET at = '2025-06-01T08:02:00.000000' WHERE id = 2"))
    assert seal(factory).legacy == 3
    with transaction(factory) as db:
        assert audit.verify(db).ok
