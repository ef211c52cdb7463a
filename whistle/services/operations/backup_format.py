"""The backup file: a header with the file key HPKE-wrapped to the operator, then a STREAM of a
simple archive (crypto/SPEC.md §9). No database, no Flask: bytes in, bytes out.

Writing and reading are both one pass with flat memory: entries are copied in pieces of at most
64 KiB, the manifest (sizes and SHA-256 of every entry) is written last, and a reader checks
it only at the end. So a reader's caller must stage what it reads and install nothing before
:meth:`ArchiveReader.entries` has finished without raising.
"""
from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

from crypto import (
    CryptoError,
    DecryptionError,
    PrivateKey,
    PublicKey,
    StreamEncryptor,
    StreamError,
    generate_key,
    iter_decrypt,
)

VERSION = 0x01
FORMAT_BACKUP = 0x60
KIND_DATA = 0x01
KIND_SECRETS = 0x02
KIND_NAMES = {KIND_DATA: "data", KIND_SECRETS: "secrets"}

T_INFO, T_DATABASE, T_ATTACHMENT, T_SECRET, T_MANIFEST = 0x01, 0x02, 0x03, 0x04, 0x0F
DATABASE_NAMES = ("database.sqlite", "database.pgsql")
_NAMES = {
    T_INFO: re.compile(r"\Ainfo\.json\Z"),
    T_DATABASE: re.compile(r"\Adatabase\.(sqlite|pgsql)\Z"),
    T_ATTACHMENT: re.compile(r"\A[0-9a-f]{32}\Z"),
    T_SECRET: re.compile(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\Z"),
    T_MANIFEST: re.compile(r"\Amanifest\.json\Z"),
}
PIECE = 64 * 1024  # what a writer puts in one chunk
MAX_CHUNK = 1 << 20  # what a reader accepts in one chunk
MAX_NAME = 1024
MAX_JSON = 16 << 20  # info and manifest are read into memory: bound them
FILE_KEY_CONTEXT = b"whistle/backup/v1/file-key"
ARCHIVE_AAD = b"whistle/backup/v1/archive"
_U16, _U32 = struct.Struct(">H"), struct.Struct(">I")


class BackupError(Exception):
    """A backup cannot be made or used; the message is meant for the operator."""


class NotABackup(BackupError):
    pass


class WrongKey(BackupError):
    pass


class Damaged(BackupError):
    pass


def _prefix(kind: int) -> bytes:
    return bytes([VERSION, FORMAT_BACKUP, kind])


# -- writing -------------------------------------------------------------------------------

class ArchiveWriter:
    """Write header, entries and manifest to ``dst``; call :meth:`finish` exactly once."""

    def __init__(self, dst: BinaryIO, public_key: PublicKey, kind: int) -> None:
        if kind not in KIND_NAMES:
            raise ValueError("unknown backup kind")
        file_key = generate_key()
        wrap = public_key.wrap(file_key, context=FILE_KEY_CONTEXT + _prefix(kind))
        header = _prefix(kind) + _U16.pack(len(wrap)) + wrap
        dst.write(header)
        self._enc = StreamEncryptor(file_key, dst, aad=ARCHIVE_AAD + header)
        self.entries: list[dict[str, Any]] = []
        self._names: set[tuple[int, str]] = set()

    def _begin(self, kind: int, name: str) -> None:
        if not _NAMES[kind].match(name) or (kind, name) in self._names:
            raise ValueError(f"bad or repeated archive entry name {name!r}")
        self._names.add((kind, name))
        raw = name.encode()
        self._enc.write(bytes([kind]) + _U16.pack(len(raw)) + raw)

    def add(self, kind: int, name: str, pieces: Iterable[bytes]) -> dict[str, Any]:
        """Copy ``pieces`` (any sizes) into one entry; returns its manifest record."""
        self._begin(kind, name)
        digest, size = hashlib.sha256(), 0
        for piece in pieces:
            view = memoryview(piece)
            for start in range(0, len(view), PIECE):
                part = view[start:start + PIECE]
                self._enc.write(_U32.pack(len(part)))
                self._enc.write(part.tobytes())
                digest.update(part)
                size += len(part)
        self._enc.write(_U32.pack(0))
        record = {"type": kind, "name": name, "size": size, "sha256": digest.hexdigest()}
        self.entries.append(record)
        return record

    def add_file(self, kind: int, name: str, src: IO[bytes]) -> dict[str, Any]:
        return self.add(kind, name, pieces(src))

    def add_json(self, kind: int, name: str, value: Any) -> dict[str, Any]:
        return self.add(kind, name, [json.dumps(value, sort_keys=True).encode()])

    def finish(self, missing: Iterable[str] = ()) -> int:
        """Write the manifest and the terminator; returns the bytes written after the header."""
        self.add_json(T_MANIFEST, "manifest.json", {"format": 1, "entries": list(self.entries),
                                                    "missing": sorted(missing)})
        self._enc.write(b"\x00")
        return self._enc.finish()


def pieces(src: IO[bytes]) -> Iterator[bytes]:
    """Read ``src`` to its end in pieces of PIECE bytes."""
    return iter(lambda: src.read(PIECE), b"")


# -- reading -------------------------------------------------------------------------------

def read_header(src: BinaryIO) -> tuple[int, bytes, bytes]:
    """(kind, header bytes, wrap) of a backup file; NotABackup if it is not one."""
    head = src.read(5)
    if len(head) < 5 or head[0] != VERSION or head[1] != FORMAT_BACKUP:
        raise NotABackup("not a whistle backup file (wrong or missing header)")
    kind = head[2]
    if kind not in KIND_NAMES:
        raise NotABackup(f"unknown backup kind 0x{kind:02x}")
    (wrap_len,) = _U16.unpack(head[3:5])
    wrap = src.read(wrap_len)
    if len(wrap) != wrap_len:
        raise Damaged("the backup file is truncated (inside its header)")
    return kind, head + wrap, wrap


class _Plain:
    """Exact reads over the authenticated plaintext pieces of the stream."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""
        self._pos = 0

    def _more(self) -> bool:
        try:
            self._buf, self._pos = next(self._chunks), 0
        except StopIteration:
            return False
        except StreamError:
            raise Damaged("the backup file is damaged or truncated (it fails authentication; "
                          "nothing was restored)") from None
        return True

    def read(self, n: int) -> bytes:
        parts: list[bytes] = []
        while n > 0:
            if self._pos >= len(self._buf) and not self._more():
                raise Damaged("the backup file ends too early (truncated archive)")
            take = self._buf[self._pos:self._pos + n]
            self._pos += len(take)
            n -= len(take)
            parts.append(take)
        return b"".join(parts)

    def at_end(self) -> bool:
        while self._pos >= len(self._buf):
            if not self._more():
                return True
        return False


@dataclass
class Entry:
    kind: int
    name: str
    _reader: ArchiveReader = field(repr=False)
    size: int = 0
    sha256: str = ""

    def pieces(self) -> Iterator[bytes]:
        """The entry's data; must be consumed (the reader drains what is left)."""
        yield from self._reader._data(self)


class ArchiveReader:
    """Open with the operator's private key; iterate :meth:`entries` to the end to verify."""

    def __init__(self, src: BinaryIO, private_key: PrivateKey,
                 expect_kind: int | None = None) -> None:
        self.kind, header, wrap = read_header(src)
        if expect_kind is not None and self.kind != expect_kind:
            raise BackupError(f"this is a {KIND_NAMES[self.kind]} backup, not a "
                              f"{KIND_NAMES[expect_kind]} backup")
        try:
            file_key = private_key.unwrap(wrap, context=FILE_KEY_CONTEXT + _prefix(self.kind))
        except (DecryptionError, CryptoError):
            raise WrongKey("this backup was not made for this key (or its header is "
                           "damaged)") from None
        try:
            chunks = iter_decrypt(file_key, src, aad=ARCHIVE_AAD + header)
        except StreamError:
            raise Damaged("the backup file is damaged or truncated") from None
        self._plain = _Plain(chunks)
        self._current: Entry | None = None
        self._seen: list[dict[str, Any]] = []
        first = self._next_entry()
        if first is None or first.kind != T_INFO:
            raise Damaged("the backup archive does not start with its info entry")
        self.info: dict[str, Any] = self._json(first)
        if self.info.get("kind") != KIND_NAMES[self.kind]:
            raise Damaged("the backup's info does not match its header")

    def _next_entry(self) -> Entry | None:
        kind = self._plain.read(1)[0]
        if kind == 0:
            return None
        (name_len,) = _U16.unpack(self._plain.read(2))
        if not 1 <= name_len <= MAX_NAME:
            raise Damaged("the backup archive has a malformed entry name")
        try:
            name = self._plain.read(name_len).decode()
        except UnicodeDecodeError:
            raise Damaged("the backup archive has a malformed entry name") from None
        pattern = _NAMES.get(kind)
        if pattern is None or not pattern.match(name):
            raise Damaged(f"the backup archive has an unexpected entry ({kind}, {name!r})")
        if any(r["type"] == kind and r["name"] == name for r in self._seen):
            raise Damaged(f"the backup archive repeats the entry {name!r}")
        self._current = Entry(kind, name, self)
        return self._current

    def _data(self, entry: Entry) -> Iterator[bytes]:
        if entry is not self._current:
            raise RuntimeError("entries must be read in order")
        digest = hashlib.sha256()
        while True:
            (length,) = _U32.unpack(self._plain.read(4))
            if length == 0:
                break
            if length > MAX_CHUNK:
                raise Damaged("the backup archive has an oversized chunk")
            data = self._plain.read(length)
            digest.update(data)
            entry.size += length
            yield data
        entry.sha256 = digest.hexdigest()
        self._seen.append({"type": entry.kind, "name": entry.name, "size": entry.size,
                           "sha256": entry.sha256})
        self._current = None

    def _json(self, entry: Entry) -> dict[str, Any]:
        raw = bytearray()
        for piece in entry.pieces():
            raw += piece
            if len(raw) > MAX_JSON:
                raise Damaged(f"the backup's {entry.name} is too large")
        try:
            value = json.loads(bytes(raw))
        except ValueError:
            raise Damaged(f"the backup's {entry.name} is not valid JSON") from None
        if not isinstance(value, dict):
            raise Damaged(f"the backup's {entry.name} is not a JSON object")
        return value

    def entries(self) -> Iterator[Entry]:
        """Yield every entry between info and manifest, then verify the manifest, the
        terminator and the end of the stream (Damaged on any mismatch)."""
        while True:
            entry = self._next_entry()
            if entry is None:
                raise Damaged("the backup archive has no manifest")
            if entry.kind == T_MANIFEST:
                break
            if entry.kind == T_INFO:
                raise Damaged("the backup archive has a second info entry")
            yield entry
            if self._current is entry:  # the caller skipped (part of) it: drain and hash
                for _ in entry.pieces():
                    pass
        manifest = self._json(entry)
        if self._plain.read(1) != b"\x00" or not self._plain.at_end():
            raise Damaged("the backup archive has data after its manifest")
        if manifest.get("format") != 1 or manifest.get("entries") != self._seen[:-1]:
            raise Damaged("the backup's manifest does not match its contents")
        missing = manifest.get("missing", [])
        if not isinstance(missing, list) or not all(
                isinstance(n, str) and _NAMES[T_ATTACHMENT].match(n) for n in missing):
            raise Damaged("the backup's manifest is malformed")
        self.missing: list[str] = missing
