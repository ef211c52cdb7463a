from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import Iterator

import pytest
from PIL import Image

import crypto
from att_fixtures import MARKER_B, docx_bytes, jpeg_bytes, pdf_bytes
from whistle.attachments import AttachmentStore, FileKind, TooLarge, ingest
from whistle.attachments import pipeline

MB = 1 << 20


@pytest.fixture
def store(tmp_path: Path) -> AttachmentStore:
    return AttachmentStore(tmp_path / "store")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir(mode=0o700)
    return path


def _files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        for p in root.rglob("*"):
            if p.is_file():
                yield p


def _assert_no_plaintext(store: AttachmentStore, workdir: Path) -> None:
    assert list(_files(workdir)) == []
    for p in _files(store.root):
        assert MARKER_B not in p.read_bytes(), p


def _decrypt(store: AttachmentStore, name: str, key: bytes, aad: bytes = b"") -> bytes:
    out = io.BytesIO()
    with store.open_read(name) as f:
        crypto.decrypt_stream(key, f, out, aad=aad)
    return out.getvalue()


def test_ingest_jpeg_end_to_end(store: AttachmentStore, workdir: Path) -> None:
    upload = jpeg_bytes()
    result = ingest(io.BytesIO(upload), "IMG_0001.jpg", "image/jpeg", store, 10 * MB, workdir,
                    aad=b"case:1|attachment:2")
    assert result.sniffed_type is FileKind.JPEG and result.clean_report.cleaned
    assert result.original_size == len(upload)
    assert len(result.file_key) == 32
    pending = result.tmp_handle
    assert pending.path.parent == store.tmp_dir
    assert stat.S_IMODE(os.stat(pending.path).st_mode) == 0o600
    assert result.stored_size == pending.path.stat().st_size
    _assert_no_plaintext(store, workdir)
    name = store.commit(pending)
    plain = _decrypt(store, name, result.file_key, b"case:1|attachment:2")
    assert len(plain) == result.size and MARKER_B not in plain
    with Image.open(io.BytesIO(plain)) as im:
        assert im.size == (40, 60)
    with pytest.raises(crypto.CryptoError):
        _decrypt(store, name, result.file_key, b"case:1|attachment:3")


@pytest.mark.parametrize("name,data,kind", [("a.pdf", pdf_bytes(), FileKind.PDF),
                                            ("a.docx", docx_bytes(), FileKind.DOCX)])
def test_ingest_documents(store: AttachmentStore, workdir: Path, name: str, data: bytes,
                          kind: FileKind) -> None:
    result = ingest(io.BytesIO(data), name, None, store, 10 * MB, workdir)
    assert result.sniffed_type is kind and result.clean_report.cleaned
    _assert_no_plaintext(store, workdir)
    store.discard(result.tmp_handle)
    assert list(_files(store.root)) == []


def test_ingest_unknown_type_stored_verbatim(store: AttachmentStore, workdir: Path) -> None:
    data = b"plain text with " + MARKER_B
    result = ingest(io.BytesIO(data), "notes.txt", "text/plain", store, MB, workdir)
    assert not result.clean_report.cleaned and "unknown_type" in result.clean_report.notes
    _assert_no_plaintext(store, workdir)  # marker only exists encrypted
    name = store.commit(result.tmp_handle)
    assert _decrypt(store, name, result.file_key) == data


def test_ingest_exactly_at_limit_is_accepted(store: AttachmentStore, workdir: Path) -> None:
    result = ingest(io.BytesIO(b"x" * 1000), "x.bin", None, store, 1000, workdir)
    assert result.size == 1000
    store.discard(result.tmp_handle)


class _EndlessUpload(io.RawIOBase):
    """An upload that never ends, carrying the marker: must be cut off at the limit."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        chunk = (MARKER_B * (len(b) // len(MARKER_B) + 1))[: len(b)]
        b[: len(chunk)] = chunk
        self.served += len(chunk)
        return len(chunk)


def test_too_large_aborts_and_leaves_nothing(store: AttachmentStore, workdir: Path) -> None:
    upload = _EndlessUpload()
    with pytest.raises(TooLarge) as err:
        ingest(upload, "big.bin", None, store, 300_000, workdir)  # type: ignore[arg-type]
    assert err.value.limit == 300_000
    assert upload.served <= 300_001 + 65536  # stopped promptly, did not drain the stream
    assert list(_files(workdir)) == [] and list(_files(store.root)) == []


def test_encryption_failure_leaves_nothing(store: AttachmentStore, workdir: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(key: bytes, src: io.BufferedReader, dst: io.BufferedWriter, *, aad: bytes) -> int:
        dst.write(src.read(100))  # even a partial (here: plaintext!) write must be discarded
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline.crypto, "encrypt_stream", broken)
    with pytest.raises(OSError):
        ingest(io.BytesIO(b"text " + MARKER_B), "n.txt", None, store, MB, workdir)
    assert list(_files(workdir)) == [] and list(_files(store.root)) == []


def test_cleaning_io_failure_leaves_nothing(store: AttachmentStore, workdir: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(src: Path, dst: Path, *a: object, **kw: object) -> None:
        dst.write_bytes(src.read_bytes())
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(pipeline, "clean_file", broken)
    with pytest.raises(OSError):
        ingest(io.BytesIO(jpeg_bytes()), "p.jpg", None, store, MB, workdir)
    _assert_no_plaintext(store, workdir)
    assert list(_files(store.root)) == []


def test_damaged_upload_still_ingested(store: AttachmentStore, workdir: Path) -> None:
    data = jpeg_bytes()[:300]
    result = ingest(io.BytesIO(data), "p.jpg", None, store, MB, workdir)
    assert not result.clean_report.cleaned and result.clean_report.notes == ("damaged",)
    assert list(_files(workdir)) == []
    name = store.commit(result.tmp_handle)
    assert _decrypt(store, name, result.file_key) == data
