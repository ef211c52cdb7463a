"""The append-only audit log, chained under a key that is not in the database.

Each entry's ``hash`` is HMAC-SHA256, keyed with the instance secret ``secrets/audit_key``, over
the previous entry's hash and a canonical encoding of the entry (format in SECURITY.md, "The
audit log"). Editing, deleting, reordering or re-chaining entries therefore needs the key: an
insider who can only write to the database cannot recompute a single hash. Deleting entries
from the END leaves a valid chain; that is caught against an exported signed head
(``audit_head``), which the sweep mails to the auditors daily.

Appends are serialised: PostgreSQL takes a transaction-scoped advisory lock; SQLite's single
writer lock is taken by the INSERT before the previous hash is read. ``prev_hash`` being unique
forbids a fork.

The keys travel with the session factory (:func:`bind`), set where the instance secrets are
loaded (the app factory and each CLI command). A factory that was never bound refuses to
append: a chain under no key, or a well-known one, would be worthless, so it must fail loudly.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets as _secrets
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import ColumnElement, String, select, text, type_coerce, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from ...models import AuditEntry, utcnow
from ..messages import N_

if TYPE_CHECKING:
    from ...config import Secrets

GENESIS = bytes(32)  # the "previous hash" of the first entry
ENTRY_LABEL = b"whistle/audit-entry"
ENTRY_VERSION = 0x01
_LOCK_ID = 0x5717_A0D1  # arbitrary constant naming the audit lock on PostgreSQL
_INFO_KEY = "whistle.audit_keys"

# Problems verify() names (English msgids; the audit page translates them).
BROKEN_LINK = N_("previous-hash link broken")
ALTERED = N_("entry altered, or chained under another key")
UNSEALED = N_("entry chained with plain SHA-256, not under the instance key (a database from "
              "before the keyed chain needs `whistle audit seal`; otherwise it was re-chained "
              "without the key)")


class AuditKeyMissing(RuntimeError):
    """A session factory was used for the audit log without the instance's audit keys."""

    def __init__(self) -> None:
        super().__init__("the audit log's keys are not loaded for this database session "
                         "(bind the session factory with whistle.services.custody.audit.bind)")


@dataclass(frozen=True, repr=False)
class AuditKeys:
    """The chain's HMAC key and the head's Ed25519 signing key. ``repr`` never shows them."""

    chain_key: bytes
    signing_key: Ed25519PrivateKey

    @classmethod
    def from_secrets(cls, secrets: Secrets) -> AuditKeys:
        return cls.from_bytes(secrets.audit_key, secrets.audit_signing_key)

    @classmethod
    def from_bytes(cls, chain_key: bytes, signing_seed: bytes) -> AuditKeys:
        if len(chain_key) != 32 or len(signing_seed) != 32:
            raise ValueError("audit keys must be 32 bytes each")
        return cls(chain_key, Ed25519PrivateKey.from_private_bytes(signing_seed))

    @classmethod
    def generate(cls) -> AuditKeys:
        """Fresh random keys (an instance's keys come from its secret files instead)."""
        return cls.from_bytes(_secrets.token_bytes(32), _secrets.token_bytes(32))

    def __repr__(self) -> str:
        return "AuditKeys(<redacted>)"


# Keys for sessions whose factory was never bound. None in production, where such an append
# fails; tests/conftest.py sets it per test (as it lowers the Argon2 costs).
default_keys: AuditKeys | None = None


def bind(factory: sessionmaker[Session], keys: AuditKeys) -> sessionmaker[Session]:
    """Make every session of ``factory`` append and verify under ``keys``."""
    info = dict(factory.kw.get("info") or {})
    info[_INFO_KEY] = keys
    factory.configure(info=info)
    return factory


def keys_for(db: Session) -> AuditKeys:
    keys = db.info.get(_INFO_KEY) or default_keys
    if keys is None:
        raise AuditKeyMissing()
    return cast(AuditKeys, keys)


# -- the canonical encoding and the MAC --------------------------------------------------

_ID_TIME = struct.Struct(">q")
_NULL = b"\xff\xff\xff\xff"


def _field(value: str | None) -> bytes:
    if value is None:
        return _NULL
    raw = value.encode("utf-8")
    return len(raw).to_bytes(4, "big") + raw


def at_text(at: datetime) -> str:
    """The time as the chain encodes it: UTC, ``YYYY-MM-DD HH:MM:SS.ffffff`` (what SQLAlchemy
    stores on SQLite, so the verifier can MAC SQLite's raw text without parsing it)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def entry_message(prev: bytes, entry_id: int, at: str, actor: str | None, action: str | None,
                  obj: str | None, detail: str | None) -> bytes:
    """Everything after the label and version byte; injective (every string length-prefixed)."""
    return b"".join((prev, _ID_TIME.pack(entry_id), _field(at), _field(actor), _field(action),
                     _field(obj), _field(detail)))


def entry_mac(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256(key, ENTRY_LABEL || version || message): an entry's ``hash``."""
    return hmac.digest(key, ENTRY_LABEL + bytes([ENTRY_VERSION]) + message, "sha256")


def chain_mac(key: bytes) -> Callable[[bytes], bytes]:
    """:func:`entry_mac` for walks over many entries: ``message -> hash``.

    The same RFC 2104 HMAC, written out with precomputed inner and outer SHA-256 states (the
    label and version byte already absorbed): OpenSSL's HMAC set-up costs ~2.5 µs a call, more
    than everything else in checking an entry, and ``audit verify`` runs it a million times.
    tests/services/test_audit.py checks it against ``hmac.digest``.
    """
    block = key.ljust(64, b"\0") if len(key) <= 64 else hashlib.sha256(key).digest().ljust(64, b"\0")
    inner0 = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    inner0.update(ENTRY_LABEL + bytes([ENTRY_VERSION]))
    outer0 = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def mac(message: bytes) -> bytes:
        inner = inner0.copy()
        inner.update(message)
        outer = outer0.copy()
        outer.update(inner.digest())
        return outer.digest()

    return mac


def legacy_digest(prev: bytes, entry_id: int, at: datetime, actor: str, action: str,
                  obj: str | None, detail: str | None) -> bytes:
    """The chain before the key (plain SHA-256 from 32 zero bytes); read only to seal it."""
    canonical = json.dumps([entry_id, at.astimezone(UTC).isoformat(), actor, action, obj, detail],
                           separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(prev + canonical).digest()


# -- appending ---------------------------------------------------------------------------

def lock_chain(db: Session) -> None:
    """PostgreSQL: serialise appenders until this transaction ends (SQLite: the INSERT does)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})


def append(db: Session, actor: str, action: str, obj: str | None = None,
           detail: str | None = None) -> AuditEntry:
    """Add an entry inside the caller's transaction (it commits or rolls back with the work)."""
    key = keys_for(db).chain_key
    lock_chain(db)
    # Insert first with a placeholder so SQLite takes its write lock before we read the chain.
    placeholder = _secrets.token_bytes(32)
    entry = AuditEntry(at=utcnow().replace(microsecond=0), actor=actor, action=action,
                       object=obj, detail=detail, prev_hash=placeholder, hash=placeholder)
    db.add(entry)
    db.flush()
    prev = db.scalar(
        select(AuditEntry.hash).where(AuditEntry.id < entry.id).order_by(AuditEntry.id.desc()).limit(1)
    ) or GENESIS
    digest = entry_mac(key, entry_message(prev, entry.id, at_text(entry.at), actor, action, obj,
                                          detail))
    db.execute(update(AuditEntry).where(AuditEntry.id == entry.id)
               .values(prev_hash=prev, hash=digest))
    # The row now holds exactly these two values: record them as loaded instead of a refresh,
    # which cost one more SELECT inside the write transaction of every audited action.
    set_committed_value(entry, "prev_hash", prev)
    set_committed_value(entry, "hash", digest)
    return entry


# -- verifying ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int  # entries verified (before the first bad one, if any)
    first_bad_id: int | None = None
    problem: str | None = None  # an English msgid above (or from audit_head); None when ok
    last_id: int = 0  # the last good entry: what a head made now would vouch for
    last_hash: bytes = GENESIS
    # (position, id, hash) of every entry asked for in ``verify(at_positions=...)``
    seen: tuple[tuple[int, int, bytes], ...] = ()


def chain_rows(db: Session, *, after_id: int = 0, batch: int = 20_000) -> Iterable[Any]:
    """(id, at text, actor, action, object, detail, prev_hash, hash) in id order, streamed.

    One statement, so PostgreSQL reads one snapshot under READ COMMITTED. On SQLite the time
    is read as the stored text (what the chain encodes): parsing a million datetimes would
    cost more than the whole check.
    """
    sqlite = db.get_bind().dialect.name == "sqlite"
    at_col: ColumnElement[Any] = (type_coerce(AuditEntry.at, String) if sqlite
                                  else AuditEntry.at.expression)
    stmt = (select(AuditEntry.id, at_col, AuditEntry.actor, AuditEntry.action, AuditEntry.object,
                   AuditEntry.detail, AuditEntry.prev_hash, AuditEntry.hash)
            .where(AuditEntry.id > after_id).order_by(AuditEntry.id))
    result = db.connection().execute(stmt.execution_options(yield_per=batch))
    for part in result.partitions():
        if sqlite:
            yield from part
        else:
            for row in part:
                yield (row[0], at_text(row[1]), *row[2:])


def verify(db: Session, *, at_positions: Iterable[int] = ()) -> ChainReport:
    """Walk the chain in id order; report the first entry whose link or MAC does not hold.

    ``at_positions``: 1-based positions whose (id, hash) the caller wants back, to compare
    with an exported head (``audit_head.verify_against``).
    """
    mac = chain_mac(keys_for(db).chain_key)
    wanted = set(at_positions)
    seen: list[tuple[int, int, bytes]] = []
    compare = hmac.compare_digest
    prev, count, last_id = GENESIS, 0, 0
    for entry_id, at, actor, action, obj, detail, prev_hash, digest in chain_rows(db):
        if not compare(prev_hash, prev):
            return ChainReport(False, count, entry_id, BROKEN_LINK, last_id, prev, tuple(seen))
        if not compare(digest, mac(entry_message(prev, entry_id, at, actor, action, obj, detail))):
            problem = ALTERED
            if _is_legacy(db, entry_id, prev, digest):
                problem = UNSEALED
            return ChainReport(False, count, entry_id, problem, last_id, prev, tuple(seen))
        prev, last_id = digest, entry_id
        count += 1
        if count in wanted:
            seen.append((count, entry_id, digest))
    return ChainReport(True, count, None, None, last_id, prev, tuple(seen))


def _is_legacy(db: Session, entry_id: int, prev: bytes, digest: bytes) -> bool:
    """Does this entry hold a plain SHA-256 link (the pre-key format)? Only asked on failure."""
    row = db.get(AuditEntry, entry_id)
    return row is not None and hmac.compare_digest(digest, legacy_digest(
        prev, row.id, row.at, row.actor, row.action, row.object, row.detail))
