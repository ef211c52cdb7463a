"""clean_file: strip metadata where the format allows, and say honestly what was not cleaned.

Contract: never raises for anything wrong *inside* the file. Any parsing failure stores the
original unchanged and reports why; only real I/O errors (missing source, full disk, ...)
reach the caller.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO, Callable

from PIL import Image

from .clean_image import DEFAULT_MAX_PIXELS, clean_image
from .clean_office import clean_office
from .clean_pdf import PdfEncrypted, clean_pdf
from .report import NOTES, REMOVED, CleanReport
from .sniff import OOXML_KINDS, FileKind, kind_from_name, sniff

__all__ = ["clean_file", "CleanReport", "FileKind", "DEFAULT_MAX_PIXELS"]

_MIME_KINDS = {
    "image/jpeg": FileKind.JPEG, "image/pjpeg": FileKind.JPEG, "image/png": FileKind.PNG,
    "application/pdf": FileKind.PDF,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": FileKind.DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": FileKind.XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": FileKind.PPTX,
}

_Cleaner = Callable[[Path, BinaryIO], tuple[set[str], set[str]]]


def clean_file(src_path: Path, dst_path: Path, declared_name: str, declared_type: str | None,
               *, max_pixels: int = DEFAULT_MAX_PIXELS) -> CleanReport:
    """Write a cleaned copy of src_path (or, failing that, an exact copy) to dst_path.

    dst_path is created with mode 0600 (it holds plaintext). The declared name and type are
    used only to warn when they disagree with the content; the content decides.
    """
    kind = sniff(src_path)
    mismatch = _mismatch(kind, declared_name, declared_type)
    if kind is FileKind.OTHER:
        _copy_private(src_path, dst_path)
        return _report(kind, False, set(), {"unknown_type", *mismatch})
    cleaner = _cleaner_for(kind, max_pixels)
    try:
        with _open_private(dst_path) as dst:
            removed, notes = cleaner(src_path, dst)
    except Exception as exc:  # noqa: BLE001 - any parser failure means "store as is"
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # a genuine I/O problem, not a malformed file
        _copy_private(src_path, dst_path)
        return _report(kind, False, set(), {_failure_reason(exc), *mismatch})
    return _report(kind, True, removed, notes | mismatch)


def _cleaner_for(kind: FileKind, max_pixels: int) -> _Cleaner:
    if kind in (FileKind.JPEG, FileKind.PNG):
        return lambda src, dst: clean_image(src, dst, kind, max_pixels)
    if kind is FileKind.PDF:
        return clean_pdf
    if kind in OOXML_KINDS:
        return clean_office
    raise AssertionError(kind)


def _failure_reason(exc: BaseException) -> str:
    if isinstance(exc, PdfEncrypted):
        return "encrypted_pdf"
    if isinstance(exc, (MemoryError, Image.DecompressionBombError)):
        return "too_large"
    return "damaged"


def _mismatch(kind: FileKind, declared_name: str, declared_type: str | None) -> set[str]:
    claimed = {kind_from_name(declared_name)}
    if declared_type:
        claimed.add(_MIME_KINDS.get(declared_type.split(";")[0].strip().lower()))
    claimed.discard(None)
    return {"declared_mismatch"} if claimed - {kind} else set()


def _report(kind: FileKind, cleaned: bool, removed: set[str], notes: set[str]) -> CleanReport:
    order = list(REMOVED), list(NOTES)  # stable, readable order for the reporter
    return CleanReport(
        kind=kind, cleaned=cleaned,
        removed=tuple(sorted(removed, key=lambda c: order[0].index(c) if c in REMOVED else 99)),
        notes=tuple(sorted(notes, key=lambda c: order[1].index(c) if c in NOTES else 99)))


def _open_private(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0),
                 0o600)
    return os.fdopen(fd, "wb")


def _copy_private(src: Path, dst: Path) -> None:
    with open(src, "rb") as r, _open_private(dst) as w:
        shutil.copyfileobj(r, w, 1 << 16)
