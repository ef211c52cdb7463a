"""Signed heads: the text an auditor keeps, read back strictly; a head signed by another key,
or edited after signing, is refused."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from whistle.db import transaction
from whistle.services.custody import audit, audit_head

NOW = datetime(2026, 3, 30, 3, 4, 5, 678, tzinfo=UTC)


def signed(factory: sessionmaker[Session], n: int = 3) -> audit_head.SignedHead:
    for i in range(n):
        with transaction(factory) as db:
            audit.append(db, "system", "test.entry", f"n:{i}")
    with transaction(factory) as db:
        return audit_head.sign_current(db, NOW)


def test_head_round_trips_through_its_text(factory: sessionmaker[Session],
                                           audit_keys: audit.AuditKeys) -> None:
    head = signed(factory)
    text = head.text()
    assert text.startswith(audit_head.BEGIN) and text.rstrip().endswith(audit_head.END)
    assert "entries: 3\n" in text and "time: 2026-03-30T03:04:05Z\n" in text
    # Pasted from a mail: surrounding text and indentation do not matter.
    back = audit_head.parse("Dear auditor,\n\n" + text.replace("\n", "\n   ") + "\n-- \nsig")
    assert back == head
    checked = audit_head.check(back, audit_keys)
    assert (checked.entries, checked.at) == (3, NOW.replace(microsecond=0))
    with transaction(factory) as db:
        assert checked.last_hash == audit.verify(db).last_hash


def test_empty_log_head(factory: sessionmaker[Session], audit_keys: audit.AuditKeys) -> None:
    head = signed(factory, 0)
    assert head.head.entries == 0 and head.head.last_hash == audit.GENESIS
    assert audit_head.check(audit_head.parse(head.text()), audit_keys).last_id == 0


def test_head_signed_by_another_key_is_refused(factory: sessionmaker[Session],
                                               audit_keys: audit.AuditKeys) -> None:
    head = signed(factory)
    forged = audit_head.sign(head.head, audit.AuditKeys.generate())
    with pytest.raises(audit_head.HeadError, match="another key"):
        audit_head.check(audit_head.parse(forged.text()), audit_keys)
    # Claiming our public key with a signature by another key does not help either.
    claimed = audit_head.SignedHead(head.head, head.public_key, forged.signature)
    with pytest.raises(audit_head.HeadError, match="signature does not match"):
        audit_head.check(audit_head.parse(claimed.text()), audit_keys)


@pytest.mark.parametrize("field, value", [("entries", "4"), ("last-id", "99"),
                                          ("time", "2026-03-31T03:04:05Z")])
def test_head_edited_after_signing_is_refused(factory: sessionmaker[Session],
                                              audit_keys: audit.AuditKeys, field: str,
                                              value: str) -> None:
    text = signed(factory).text()
    lines = [f"{field}: {value}" if line.startswith(field + ":") else line
             for line in text.splitlines()]
    with pytest.raises(audit_head.HeadError, match="signature does not match"):
        audit_head.check(audit_head.parse("\n".join(lines)), audit_keys)


def test_edited_last_hash_is_refused(factory: sessionmaker[Session],
                                     audit_keys: audit.AuditKeys) -> None:
    head = signed(factory)
    other = bytes([head.head.last_hash[0] ^ 1]) + head.head.last_hash[1:]
    text = head.text().replace(head.head.last_hash.hex(), other.hex())
    with pytest.raises(audit_head.HeadError, match="signature does not match"):
        audit_head.check(audit_head.parse(text), audit_keys)


@pytest.mark.parametrize("mangle, message", [
    (lambda t: "nothing here", "no head found"),
    (lambda t: t.replace("version: 1", "version: 2"), "unsupported head version"),
    (lambda t: t.replace("entries: 3\n", ""), "lacks entries"),
    (lambda t: t.replace("entries: 3\n", "entries: 3\nentries: 3\n"), "appears twice"),
    (lambda t: t.replace("entries: 3", "entries: three"), "whole number"),
    (lambda t: t.replace("entries: 3", "entries: -3"), "whole number"),
    (lambda t: t.replace("entries: 3", "entries: 99999999999999999999"), "whole number"),
    (lambda t: t.replace("time: 2026-03-30T03:04:05Z", "time: yesterday"), "time must look"),
    (lambda t: t.replace("key: ", "key: zz"), "hexadecimal"),
    (lambda t: t.replace("signature: ", "signature: 00"), "64 bytes"),
    (lambda t: t.replace("version: 1", "version: 1\ncolour: blue"), "unexpected line"),
    (lambda t: t.replace("entries: 3", "entries: 0"), "contradict"),
])
def test_malformed_heads_are_refused_clearly(factory: sessionmaker[Session], mangle, message) -> None:  # type: ignore[no-untyped-def]
    text = signed(factory).text()
    with pytest.raises(audit_head.HeadError, match=message):
        audit_head.parse(mangle(text))


def test_read_refuses_unreadable_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(audit_head.HeadError, match="cannot read"):
        audit_head.read(str(tmp_path / "missing"))
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(audit_head.HeadError, match="not text"):
        audit_head.read(str(tmp_path / "bin"))
    (tmp_path / "big").write_bytes(b"a" * (audit_head.MAX_HEAD_FILE + 1))
    with pytest.raises(audit_head.HeadError, match="too large"):
        audit_head.read(str(tmp_path / "big"))
    with pytest.raises(audit_head.HeadError, match="cannot read"):
        audit_head.read(str(tmp_path))  # a directory
