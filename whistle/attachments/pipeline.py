"""ingest: upload stream -> bounded plaintext temp -> cleaned temp -> encrypted store temp.

Confidentiality: the upload and its cleaned copy exist in plaintext for the few moments this
function runs. They live only in `workdir`, which the caller chooses; production should point
it at a tmpfs (RAM-backed, never written to disk; e.g. a systemd PrivateTmp or a dedicated
mount, mode 0700), because unlinking a file on a disk does not erase its blocks. Both temps are
created 0600 and removed in `finally` blocks whatever happens. Ciphertext is written straight
into the store's own tmp directory, so the later commit is a same-filesystem rename even when
`workdir` is a tmpfs.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import crypto

from .clean import DEFAULT_MAX_PIXELS, clean_file
from .errors import TooLarge
from .report import CleanReport
from .sniff import FileKind
from .storage import AttachmentStore, PendingFile

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class IngestResult:
    tmp_handle: PendingFile    # encrypted, fsynced, in store tmp: caller commits or discards
    file_key: bytes            # SECRET: store only encrypted under the case key
    size: int                  # plaintext size of the cleaned file (what a reader downloads)
    clean_report: CleanReport
    sniffed_type: FileKind
    original_size: int         # size of the upload as received
    stored_size: int           # ciphertext bytes on disk


def ingest(upload_stream: BinaryIO, declared_name: str, declared_type: str | None,
           store: AttachmentStore, max_bytes: int, workdir: Path, *, aad: bytes = b"",
           max_pixels: int = DEFAULT_MAX_PIXELS) -> IngestResult:
    """Receive, clean and encrypt one upload. Raises TooLarge past `max_bytes` (nothing kept).

    `aad` is bound into the ciphertext and must be given again to decrypt (crypto.iter_decrypt).
    """
    raw_path = _private_temp(workdir, ".upload-")
    cleaned_path: Path | None = None
    try:
        original_size = _receive(upload_stream, raw_path, max_bytes)
        cleaned_path = _private_temp(workdir, ".cleaned-")
        report = clean_file(raw_path, cleaned_path, declared_name, declared_type,
                            max_pixels=max_pixels)
        raw_path.unlink()  # plaintext original: gone as soon as it is no longer needed
        size = cleaned_path.stat().st_size
        file_key = crypto.generate_key()
        pending = store.create_tmp()
        try:
            with open(cleaned_path, "rb") as src:
                stored_size = crypto.encrypt_stream(file_key, src, pending.file, aad=aad)
            pending.close()
        except BaseException:
            store.discard(pending)
            raise
        return IngestResult(pending, file_key, size, report, report.kind, original_size,
                            stored_size)
    finally:
        for path in (raw_path, cleaned_path):
            if path is not None:
                with suppress(FileNotFoundError):
                    path.unlink()


def _private_temp(workdir: Path, prefix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=prefix, dir=workdir)  # 0600, O_EXCL
    os.close(fd)
    return Path(name)


def _receive(upload: BinaryIO, path: Path, max_bytes: int) -> int:
    """Copy the upload to `path`, refusing to read more than max_bytes + 1 bytes."""
    total = 0
    with open(path, "wb") as out:
        while True:
            chunk = upload.read(min(_CHUNK, max_bytes + 1 - total))
            if chunk is None:
                raise BlockingIOError("non-blocking upload stream not supported")
            if not chunk:
                return total
            total += len(chunk)
            if total > max_bytes:
                raise TooLarge(max_bytes)  # the caller's finally deletes the partial file
            out.write(chunk)
