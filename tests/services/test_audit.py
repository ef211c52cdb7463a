"""The audit log is chained under the instance key: an insider who can write to the database
edits, deletes, reorders or re-chains entries (recomputing plain SHA-256, or HMAC under a key
of their own) and every tamper is caught, naming the first bad entry; entries deleted at the
end are caught against an exported head. On SQLite and PostgreSQL (``factory``)."""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from whistle.db import make_engine, make_sessionmaker, transaction
from whistle.services.custody import audit, audit_head

Factory = sessionmaker[Session]


def fill(factory: Factory, n: int = 6, start: int = 0) -> None:
    for i in range(start, start + n):
        with transaction(factory) as db:
            audit.append(db, f"officer:{i % 3 + 1}", "case.view", f"case:{i:032x}",
                         "reason=ünïcode ok" if i % 2 else None)


def check(factory: Factory) -> audit.ChainReport:
    with transaction(factory) as db:
        return audit.verify(db)


def export_head(factory: Factory) -> audit_head.Head:
    """What the auditor keeps: a signed head, parsed back from its text and checked."""
    with transaction(factory) as db:
        signed = audit_head.sign_current(db)
        return audit_head.check(audit_head.parse(signed.text()), audit.keys_for(db))


def against(factory: Factory, head: audit_head.Head) -> audit_head.HeadCheck:
    with transaction(factory) as db:
        return audit_head.verify_against(db, head)


# -- what an insider with write access to the database does --------------------------------

def rows(factory: Factory) -> list[Any]:
    with factory() as db:
        return list(db.execute(text(
            "SELECT id, at, actor, action, object, detail FROM audit_log ORDER BY id")).all())


def as_utc(at: Any) -> datetime:
    if isinstance(at, str):  # SQLite hands back the stored text
        at = datetime.fromisoformat(at)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def sha256_link(prev: bytes, row: Any) -> bytes:
    """The published pre-key chain: SHA-256(prev || canonical JSON), from 32 zero bytes."""
    canonical = json.dumps([row.id, as_utc(row.at).isoformat(), row.actor, row.action, row.object,
                            row.detail], separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(prev + canonical).digest()


def hmac_link(key: bytes) -> Callable[[bytes, Any], bytes]:
    """The keyed format (SECURITY.md) computed from scratch with a key of the insider's own."""
    def link(prev: bytes, row: Any) -> bytes:
        def f(v: str | None) -> bytes:
            return b"\xff\xff\xff\xff" if v is None else len(v.encode()).to_bytes(4, "big") + v.encode()
        at = as_utc(row.at).strftime("%Y-%m-%d %H:%M:%S.%f")
        msg = (b"whistle/audit-entry\x01" + prev + row.id.to_bytes(8, "big") + f(at) + f(row.actor)
               + f(row.action) + f(row.object) + f(row.detail))
        return hmac.digest(key, msg, "sha256")
    return link


def rechain(factory: Factory, link: Callable[[bytes, Any], bytes]) -> None:
    """Recompute every prev_hash/hash from the start, as an insider covering their tracks."""
    rechain_from(factory, rows(factory)[0].id, link)


def rows_in(db: Session) -> list[Any]:
    return list(db.execute(text(
        "SELECT id, at, actor, action, object, detail FROM audit_log ORDER BY id")).all())


def sql(factory: Factory, statement: str, **params: Any) -> None:
    with transaction(factory) as db:
        db.execute(text(statement), params)


def ids(factory: Factory) -> list[int]:
    return [r.id for r in rows(factory)]


# -- the MAC itself --------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 16, 32, 64, 65, 200])
def test_chain_mac_is_rfc2104_hmac_sha256(size: int) -> None:
    key = secrets.token_bytes(size)
    mac = audit.chain_mac(key)
    for message in (b"", b"x", secrets.token_bytes(1000)):
        assert mac(message) == hmac.digest(key, audit.ENTRY_LABEL + b"\x01" + message, "sha256")
        assert audit.entry_mac(key, message) == mac(message)


def test_encoding_is_length_prefixed() -> None:
    """Moving bytes between fields changes the message (no ambiguity to exploit)."""
    a = audit.entry_message(bytes(32), 1, "t", "ab", "c", None, None)
    b = audit.entry_message(bytes(32), 1, "t", "a", "bc", None, None)
    c = audit.entry_message(bytes(32), 1, "t", "a", "bc", "", None)
    assert len({a, b, c}) == 3


# -- an intact chain -------------------------------------------------------------------------

def test_intact_chain_verifies(factory: Factory) -> None:
    fill(factory)
    report = check(factory)
    assert report.ok and report.entries == 6 and report.first_bad_id is None
    assert report.last_id == ids(factory)[-1]
    with factory() as db:
        assert report.last_hash == db.scalar(text("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1"))


def test_empty_log_verifies(factory: Factory) -> None:
    report = check(factory)
    assert report.ok and report.entries == 0 and report.last_hash == audit.GENESIS


def test_the_chain_depends_on_the_instance_key(factory: Factory, db_url: str) -> None:
    """Entries appended under one instance's key do not verify under another's."""
    fill(factory, 3)
    engine = make_engine(db_url)
    other = audit.bind(make_sessionmaker(engine), audit.AuditKeys.generate())
    try:
        report = check(other)
    finally:
        engine.dispose()
    assert not report.ok and report.first_bad_id == ids(factory)[0]
    assert report.problem == audit.ALTERED


def test_an_unbound_factory_refuses_to_append(factory: Factory,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "default_keys", None)
    with pytest.raises(audit.AuditKeyMissing):
        with transaction(factory) as db:
            audit.append(db, "system", "x")
    assert rows(factory) == []


def test_repr_never_shows_the_keys(audit_keys: audit.AuditKeys, factory: Factory) -> None:
    audit.bind(factory, audit_keys)
    assert "redacted" in repr(audit_keys)
    assert audit_keys.chain_key.hex() not in repr(factory) + repr(audit_keys)


# -- tampering ---------------------------------------------------------------------------

def test_edit_is_caught(factory: Factory) -> None:
    fill(factory)
    third = ids(factory)[2]
    sql(factory, "UPDATE audit_log SET actor = 'officer:9' WHERE id = :i", i=third)
    report = check(factory)
    assert not report.ok and report.first_bad_id == third and report.problem == audit.ALTERED
    assert report.entries == 2


def test_edited_time_is_caught(factory: Factory) -> None:
    fill(factory)
    second = ids(factory)[1]
    with factory() as db:
        at = as_utc(db.execute(text("SELECT at FROM audit_log WHERE id = :i"), {"i": second}).scalar())
    with transaction(factory) as db:  # one second earlier, through the typed column
        from sqlalchemy import update

        from whistle.models import AuditEntry
        db.execute(update(AuditEntry).where(AuditEntry.id == second)
                   .values(at=at.replace(second=(at.second + 59) % 60)))
    assert check(factory).first_bad_id == second


def test_edit_rechained_with_plain_sha256_is_caught(factory: Factory) -> None:
    fill(factory)
    fourth = ids(factory)[3]
    sql(factory, "UPDATE audit_log SET detail = 'nothing happened' WHERE id = :i", i=fourth)
    rechain(factory, sha256_link)
    report = check(factory)
    # Every hash was recomputed, so the very first entry is already not under the key.
    assert not report.ok and report.first_bad_id == ids(factory)[0]
    assert report.problem == audit.UNSEALED


def test_edit_rechained_from_the_edit_onwards_names_the_edited_entry(factory: Factory) -> None:
    """The careful insider recomputes only from the edited entry on: that entry is named."""
    fill(factory)
    fourth = ids(factory)[3]
    sql(factory, "UPDATE audit_log SET detail = 'nothing happened' WHERE id = :i", i=fourth)
    rechain_from(factory, fourth, sha256_link)
    report = check(factory)
    assert not report.ok and report.first_bad_id == fourth and report.entries == 3


def test_edit_rechained_with_hmac_under_another_key_is_caught(factory: Factory) -> None:
    fill(factory)
    fourth = ids(factory)[3]
    sql(factory, "UPDATE audit_log SET action = 'case.note' WHERE id = :i", i=fourth)
    rechain_from(factory, fourth, hmac_link(secrets.token_bytes(32)))
    report = check(factory)
    assert not report.ok and report.first_bad_id == fourth and report.problem == audit.ALTERED


def test_rechain_with_the_right_key_verifies(factory: Factory,
                                             audit_keys: audit.AuditKeys) -> None:
    """Positive control for the two tests above: our from-scratch HMAC is the real format,
    so only the key made the difference."""
    fill(factory)
    rechain(factory, hmac_link(audit_keys.chain_key))
    assert check(factory).ok


def test_delete_in_the_middle_is_caught(factory: Factory) -> None:
    fill(factory)
    all_ids = ids(factory)
    sql(factory, "DELETE FROM audit_log WHERE id = :i", i=all_ids[2])
    report = check(factory)
    assert not report.ok and report.first_bad_id == all_ids[3]
    assert report.problem == audit.BROKEN_LINK


@pytest.mark.parametrize("how", ["sha256", "hmac-other-key"])
def test_delete_in_the_middle_rechained_is_caught(factory: Factory, how: str) -> None:
    fill(factory)
    all_ids = ids(factory)
    sql(factory, "DELETE FROM audit_log WHERE id = :i", i=all_ids[2])
    link = sha256_link if how == "sha256" else hmac_link(secrets.token_bytes(32))
    rechain_from(factory, all_ids[3], link)
    report = check(factory)
    assert not report.ok and report.first_bad_id == all_ids[3] and report.entries == 2


def test_reorder_by_swapping_contents_is_caught(factory: Factory) -> None:
    fill(factory)
    a, b = ids(factory)[1], ids(factory)[4]
    with transaction(factory) as db:
        ra, rb = (db.execute(text("SELECT actor, action, object, detail FROM audit_log "
                                  "WHERE id = :i"), {"i": i}).one() for i in (a, b))
        for target, src in ((a, rb), (b, ra)):
            db.execute(text("UPDATE audit_log SET actor=:ac, action=:an, object=:o, detail=:d "
                            "WHERE id=:i"), {"ac": src[0], "an": src[1], "o": src[2], "d": src[3],
                                             "i": target})
    report = check(factory)
    assert not report.ok and report.first_bad_id == a


@pytest.mark.parametrize("how", ["as-is", "sha256", "hmac-other-key"])
def test_reorder_by_swapping_ids_is_caught(factory: Factory, how: str) -> None:
    fill(factory)
    a, b = ids(factory)[1], ids(factory)[4]
    sql(factory, "UPDATE audit_log SET id = -1 WHERE id = :a", a=a)
    sql(factory, "UPDATE audit_log SET id = :a WHERE id = :b", a=a, b=b)
    sql(factory, "UPDATE audit_log SET id = :b WHERE id = -1", b=b)
    if how != "as-is":
        rechain_from(factory, a, sha256_link if how == "sha256" else hmac_link(secrets.token_bytes(32)))
    report = check(factory)
    assert not report.ok and report.first_bad_id == a


def test_delete_at_the_end_is_caught_against_an_exported_head(factory: Factory) -> None:
    fill(factory)
    head = export_head(factory)
    assert against(factory, head).ok
    fill(factory, 2, start=10)  # entries appended since the export are fine
    assert against(factory, head).ok
    last_two = ids(factory)[-4:-2]  # ... but the head's own last entries go missing
    sql(factory, "DELETE FROM audit_log WHERE id >= :i", i=last_two[0])
    assert check(factory).ok  # the chain alone cannot tell: that is what the head is for
    result = against(factory, head)
    assert not result.ok and result.report.problem == audit_head.TRUNCATED
    assert result.report.first_bad_id == head.last_id
    assert f"{head.entries} entries up to #{head.last_id}" in result.message()


def test_delete_at_the_end_then_refilled_by_a_key_holder_is_caught(factory: Factory) -> None:
    """Someone with the chain key too deletes the last entries and appends the same number
    of new ones: the chain verifies, the head does not match."""
    fill(factory)
    head = export_head(factory)
    sql(factory, "DELETE FROM audit_log WHERE id >= :i", i=ids(factory)[-2])
    fill(factory, 3, start=20)
    assert check(factory).ok
    result = against(factory, head)
    assert not result.ok and result.report.problem == audit_head.DIVERGED
    assert result.report.first_bad_id == head.last_id


def test_rewrite_with_the_key_is_caught_against_an_exported_head(
        factory: Factory, audit_keys: audit.AuditKeys) -> None:
    fill(factory)
    head = export_head(factory)
    sql(factory, "UPDATE audit_log SET detail = 'rewritten' WHERE id = :i", i=ids(factory)[1])
    rechain(factory, hmac_link(audit_keys.chain_key))
    assert check(factory).ok
    result = against(factory, head)
    assert not result.ok and result.report.problem == audit_head.DIVERGED


def test_a_chain_break_is_named_before_the_head_mismatch(factory: Factory) -> None:
    fill(factory)
    head = export_head(factory)
    first = ids(factory)[0]
    sql(factory, "UPDATE audit_log SET actor = 'x' WHERE id = :i", i=first)
    result = against(factory, head)
    assert not result.ok and result.report.first_bad_id == first


def rechain_from(factory: Factory, start_id: int, link: Callable[[bytes, Any], bytes]) -> None:
    """Recompute prev_hash/hash from entry ``start_id`` on, keeping the earlier ones."""
    with transaction(factory) as db:
        prev = db.execute(text("SELECT hash FROM audit_log WHERE id < :i ORDER BY id DESC LIMIT 1"),
                          {"i": start_id}).scalar() or bytes(32)
        later = [r for r in rows_in(db) if r.id >= start_id]
        for row in later:  # out of the way of the unique constraints while rewriting
            db.execute(text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :i"),
                       {"p": secrets.token_bytes(32), "h": secrets.token_bytes(32), "i": row.id})
        for row in later:
            digest = link(prev, row)
            db.execute(text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :i"),
                       {"p": prev, "h": digest, "i": row.id})
            prev = digest


# -- transactions and concurrency ---------------------------------------------------------------

def test_rolled_back_work_leaves_no_entry(factory: Factory) -> None:
    with pytest.raises(RuntimeError):
        with transaction(factory) as db:
            audit.append(db, "officer:1", "case.transition", "case:x")
            raise RuntimeError("the business step failed")
    assert check(factory).entries == 0
    fill(factory, 2)
    assert check(factory).ok


def test_concurrent_appends_keep_one_chain(factory: Factory) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            fill(factory, 10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = check(factory)
    assert report.ok and report.entries == 40
