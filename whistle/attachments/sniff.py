"""Content sniffing: the type is decided by the bytes, never by the declared name or type."""

from __future__ import annotations

import zipfile
from enum import Enum
from pathlib import Path


class FileKind(str, Enum):
    JPEG = "jpeg"
    PNG = "png"
    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    OTHER = "other"


OOXML_KINDS = frozenset({FileKind.DOCX, FileKind.XLSX, FileKind.PPTX})

# The main part that identifies each OOXML flavour (macro-enabled variants share it).
_OOXML_MAIN = {
    "word/document.xml": FileKind.DOCX,
    "xl/workbook.xml": FileKind.XLSX,
    "ppt/presentation.xml": FileKind.PPTX,
}

# Extensions only serve to tell the reporter that the name and the content disagree.
_EXTENSIONS = {
    "jpg": FileKind.JPEG, "jpeg": FileKind.JPEG, "jpe": FileKind.JPEG,
    "png": FileKind.PNG, "pdf": FileKind.PDF,
    "docx": FileKind.DOCX, "docm": FileKind.DOCX,
    "xlsx": FileKind.XLSX, "xlsm": FileKind.XLSX,
    "pptx": FileKind.PPTX, "pptm": FileKind.PPTX,
}

# A zip with more entries than this is not treated as an Office file (bounded sniffing).
_MAX_ZIP_ENTRIES = 20_000


def sniff(path: Path) -> FileKind:
    with open(path, "rb") as f:
        head = f.read(1024)
    if head.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    # Readers accept the PDF header anywhere in the first 1024 bytes, so must we.
    if b"%PDF-" in head:
        return FileKind.PDF
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(path)
    return FileKind.OTHER


def _sniff_zip(path: Path) -> FileKind:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > _MAX_ZIP_ENTRIES:
                return FileKind.OTHER
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        return FileKind.OTHER
    if "[Content_Types].xml" not in names:
        return FileKind.OTHER
    for main, kind in _OOXML_MAIN.items():
        if main in names:
            return kind
    return FileKind.OTHER


def kind_from_name(declared_name: str) -> FileKind | None:
    """What the extension claims, or None when the extension is unknown or missing."""
    base = declared_name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if "." not in base:
        return None
    return _EXTENSIONS.get(base.rsplit(".", 1)[-1].lower())
