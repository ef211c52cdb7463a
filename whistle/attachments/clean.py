"""clean_file: strip metadata where the format allows, and say honestly what was not cleaned.

Contract: never raises for anything wrong *inside* the file. Any parsing failure stores the
original unchanged and reports why; only real I/O errors (missing source, full disk, ...)
reach the caller, and CleaningBusy when every cleaning slot stays taken.

The parsers run in a bounded child process (sandbox.py) unless ``isolate=False``, which the
child itself and the fuzz tests use.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO, Callable

from .errors import PdfEncrypted
from .png_strip import PngUnknownCritical
from .report import NOTES, REMOVED, CleanReport
from .sandbox import DEFAULT_MAX_PIXELS, CleanLimits, Outcome
from .sandbox import run as run_sandboxed
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
               *, max_pixels: int = DEFAULT_MAX_PIXELS, isolate: bool = True,
               limits: CleanLimits | None = None) -> CleanReport:
    """Write a cleaned copy of src_path (or, failing that, an exact copy) to dst_path.

    dst_path is created with mode 0600 (it holds plaintext). The declared name and type are
    used only to warn when they disagree with the content; the content decides.
    """
    kind = sniff(src_path)
    mismatch = _mismatch(kind, declared_name, declared_type)
    if kind is FileKind.OTHER:
        _copy_private(src_path, dst_path)
        return _report(kind, False, set(), {"unknown_type", *mismatch})
    if isolate:
        _open_private(dst_path).close()  # created 0600 here, before the child writes into it
        outcome = run_sandboxed(kind, src_path, dst_path, max_pixels, limits)
    else:
        outcome = clean_here(kind, src_path, dst_path, max_pixels)
    if outcome.failure is not None:
        _copy_private(src_path, dst_path)
        return _report(kind, False, set(), {outcome.failure, *mismatch})
    return _report(kind, True, set(outcome.removed), set(outcome.notes) | mismatch)


def clean_here(kind: FileKind, src_path: Path, dst_path: Path, max_pixels: int, *,
               in_child: bool = False) -> Outcome:
    """Run the cleaner for `kind` in this process. OSError (real I/O) is raised; any other
    failure becomes Outcome.failure."""
    cleaner = _cleaner_for(kind, max_pixels)
    try:
        with _open_private(dst_path) as dst:
            removed, notes = cleaner(src_path, dst)
    except Exception as exc:  # noqa: BLE001 - any parser failure means "store as is"
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # a genuine I/O problem, not a malformed file
        if in_child and isinstance(exc, MemoryError):
            return Outcome(failure="clean_limit")  # the child's address-space bound was hit
        return Outcome(failure=_failure_reason(exc))
    return Outcome(frozenset(removed), frozenset(notes))


def _cleaner_for(kind: FileKind, max_pixels: int) -> _Cleaner:
    # Imported here: the cleaning child loads only the parser its file needs (faster start).
    if kind in (FileKind.JPEG, FileKind.PNG):
        from .clean_image import clean_image
        return lambda src, dst: clean_image(src, dst, kind, max_pixels)
    if kind is FileKind.PDF:
        from .clean_pdf import clean_pdf
        return clean_pdf
    if kind in OOXML_KINDS:
        from .clean_office import clean_office
        return clean_office
    raise AssertionError(kind)


def _failure_reason(exc: BaseException) -> str:
    if isinstance(exc, PdfEncrypted):
        return "encrypted_pdf"
    if isinstance(exc, PngUnknownCritical):
        return "png_unknown_chunk"
    # Pillow's DecompressionBombError, named so that PIL is not imported for PDFs and Office.
    if isinstance(exc, MemoryError) or type(exc).__name__ == "DecompressionBombError":
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
