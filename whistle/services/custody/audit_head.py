"""Signed heads of the audit log: the copy an auditor keeps outside the server.

A head says "at time T the log held N entries, the last one #L with hash H", signed with the
instance's Ed25519 key (``secrets/audit_signing_key``, never in the database). The keyed chain
stops an insider who can write to the database from editing, deleting or re-chaining entries
in the middle; a head kept elsewhere (the sweep mails one to the auditors every day) also
catches entries deleted from the end, and a rewrite by someone who holds the chain key too.
Byte format and text form: SECURITY.md, "The audit log".
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import AuditEntry, utcnow
from ..messages import N_
from .audit import GENESIS, AuditKeys, ChainReport, keys_for, verify

HEAD_LABEL = b"whistle/audit-head"
HEAD_VERSION = 0x01
BEGIN = "-----BEGIN WHISTLE AUDIT HEAD-----"
END = "-----END WHISTLE AUDIT HEAD-----"
MAX_HEAD_FILE = 64 * 1024  # a head is ~400 bytes; a mail saved whole is still far below this
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_MAX_INT = 2**63 - 1

TRUNCATED = N_("entries are missing at the end: the exported head lists %(head)d entries up to "
               "#%(last_id)d, the log holds %(now)d (the last one #%(after)d)")
DIVERGED = N_("the log no longer matches the exported head: its entry %(head)d should be "
              "#%(last_id)d with the head's hash (entries up to it were removed, added or "
              "re-chained)")


class HeadError(ValueError):
    """A head file that cannot be used: unreadable, malformed, or not signed by this instance."""


@dataclass(frozen=True)
class Head:
    entries: int
    last_id: int
    last_hash: bytes
    at: datetime  # UTC, whole seconds

    def message(self) -> bytes:
        """The signed bytes: label || version || u64 entries || u64 last id || hash || i64 time."""
        return (HEAD_LABEL + bytes([HEAD_VERSION]) + struct.pack(">QQ", self.entries, self.last_id)
                + self.last_hash + struct.pack(">q", int(self.at.timestamp())))


@dataclass(frozen=True)
class SignedHead:
    head: Head
    public_key: bytes  # raw Ed25519, 32 bytes
    signature: bytes  # 64 bytes

    def text(self) -> str:
        h = self.head
        return "\n".join((
            BEGIN,
            f"version: {HEAD_VERSION}",
            f"entries: {h.entries}",
            f"last-id: {h.last_id}",
            f"last-hash: {h.last_hash.hex()}",
            f"time: {h.at.astimezone(UTC).strftime(_TIME_FORMAT)}",
            f"key: {self.public_key.hex()}",
            f"signature: {self.signature.hex()}",
            END,
        )) + "\n"


@dataclass(frozen=True)
class HeadCheck:
    """verify_against's answer: the chain report, with the head's comparison folded in."""

    report: ChainReport
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.report.ok

    def message(self) -> str:
        problem = self.report.problem or ""
        return problem % self.params if self.params else problem


def public_key_bytes(keys: AuditKeys) -> bytes:
    return keys.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def fingerprint(public_key: bytes) -> str:
    """Short, readable form of the head key, for comparing it out of band."""
    digest = hashlib.sha256(public_key).hexdigest()[:20]
    return " ".join(digest[i:i + 4] for i in range(0, 20, 4))


def current(db: Session, now: datetime | None = None) -> Head:
    """The log as it stands (not verified: ``audit.verify`` is the walk). Count and last id
    come from one statement, so a concurrent append cannot pair one with the other's state."""
    count, last_id = db.execute(select(func.count(), func.max(AuditEntry.id))).one()
    last_hash = GENESIS
    if last_id is not None:
        last_hash = db.scalar(select(AuditEntry.hash).where(AuditEntry.id == last_id)) or GENESIS
    return Head(int(count or 0), int(last_id or 0), bytes(last_hash), _whole_seconds(now))


def from_report(report: ChainReport, now: datetime | None = None) -> Head:
    """The head of a chain that verified: exactly what the walk checked."""
    return Head(report.entries, report.last_id, report.last_hash, _whole_seconds(now))


def _whole_seconds(now: datetime | None) -> datetime:
    return (now or utcnow()).astimezone(UTC).replace(microsecond=0)


def sign(head: Head, keys: AuditKeys) -> SignedHead:
    return SignedHead(head, public_key_bytes(keys), keys.signing_key.sign(head.message()))


def sign_current(db: Session, now: datetime | None = None) -> SignedHead:
    return sign(current(db, now), keys_for(db))


def signed_for(db: Session, report: ChainReport | None) -> SignedHead:
    """The head of the walk ``report`` just verified, else the log as it stands."""
    if report is not None and report.ok:
        return sign(from_report(report), keys_for(db))
    return sign_current(db)


# -- reading an exported head ------------------------------------------------------------

_FIELDS = ("version", "entries", "last-id", "last-hash", "time", "key", "signature")
_LINE = re.compile(r"^([a-z-]+):[ \t]*(\S+)$")


def parse(text: str) -> SignedHead:
    """Read a head from ``text`` (a saved mail or ``whistle audit head`` output).

    Lines outside the BEGIN/END block are ignored; inside it every field must appear once.
    """
    lines = [line.strip() for line in text.splitlines()]
    try:
        start = lines.index(BEGIN)
        stop = lines.index(END, start)
    except ValueError:
        raise HeadError(f"no head found (expected a block starting with {BEGIN})") from None
    values: dict[str, str] = {}
    for line in lines[start + 1:stop]:
        if not line:
            continue
        match = _LINE.match(line)
        if match is None or match.group(1) not in _FIELDS:
            raise HeadError(f"unexpected line in the head: {line[:60]!r}")
        if match.group(1) in values:
            raise HeadError(f"field {match.group(1)!r} appears twice")
        values[match.group(1)] = match.group(2)
    missing = [f for f in _FIELDS if f not in values]
    if missing:
        raise HeadError("the head lacks " + ", ".join(missing))
    if values["version"] != str(HEAD_VERSION):
        raise HeadError(f"unsupported head version {values['version'][:10]!r}")
    entries, last_id = _int(values, "entries"), _int(values, "last-id")
    last_hash = _hex(values, "last-hash", 32)
    try:
        at = datetime.strptime(values["time"], _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise HeadError("time must look like 2026-03-30T03:00:00Z") from None
    if (entries == 0) != (last_id == 0) or (entries == 0 and last_hash != GENESIS):
        raise HeadError("entries, last-id and last-hash contradict each other")
    return SignedHead(Head(entries, last_id, last_hash, at), _hex(values, "key", 32),
                      _hex(values, "signature", 64))


def read(path: str) -> SignedHead:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_HEAD_FILE + 1)
    except OSError as exc:
        raise HeadError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    if len(raw) > MAX_HEAD_FILE:
        raise HeadError(f"{path} is too large to be a head ({MAX_HEAD_FILE} bytes at most)")
    try:
        return parse(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise HeadError(f"{path} is not text") from None


def _int(values: dict[str, str], name: str) -> int:
    raw = values[name]
    if not raw.isascii() or not raw.isdigit() or int(raw) > _MAX_INT:
        raise HeadError(f"{name} must be a whole number")
    return int(raw)


def _hex(values: dict[str, str], name: str, size: int) -> bytes:
    raw = values[name]
    try:
        data = binascii.unhexlify(raw)
    except (binascii.Error, ValueError):
        raise HeadError(f"{name} must be hexadecimal") from None
    if len(data) != size:
        raise HeadError(f"{name} must be {size} bytes ({2 * size} hex digits)")
    return data


def check(signed: SignedHead, keys: AuditKeys) -> Head:
    """The head, if this instance signed it; HeadError otherwise (never trust the file's key)."""
    ours = public_key_bytes(keys)
    if not hmac.compare_digest(signed.public_key, ours):
        raise HeadError("the head is signed by another key, not this instance's audit key "
                        f"(head key {fingerprint(signed.public_key)}, ours {fingerprint(ours)})")
    try:
        Ed25519PublicKey.from_public_bytes(ours).verify(signed.signature, signed.head.message())
    except InvalidSignature:
        raise HeadError("the head's signature does not match its contents") from None
    return signed.head


def verify_against(db: Session, head: Head) -> HeadCheck:
    """Verify the chain, then that it still holds the head's entry at the head's position.

    A break in the chain itself is reported first: it is the earliest bad entry.
    """
    report = verify(db, at_positions=(head.entries,) if head.entries else ())
    if not report.ok or head.entries == 0:
        return HeadCheck(report)
    params = {"head": head.entries, "last_id": head.last_id, "now": report.entries,
              "after": report.last_id}
    if report.entries < head.entries:
        return HeadCheck(replace(report, ok=False, first_bad_id=head.last_id, problem=TRUNCATED),
                         params)
    _, entry_id, digest = report.seen[0]
    if entry_id != head.last_id or not hmac.compare_digest(digest, head.last_hash):
        return HeadCheck(replace(report, ok=False, first_bad_id=head.last_id, problem=DIVERGED),
                         params)
    return HeadCheck(report)
