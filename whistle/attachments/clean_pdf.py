"""PDF cleaning with pikepdf: document info, XMP, annotation authors, embedded JPEG metadata.

Saving rewrites the whole file, which also drops earlier revisions kept by incremental
updates and objects nothing refers to any more (both can hold old text and old metadata).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pikepdf
from pikepdf import Name

from .errors import PdfEncrypted
from .jpeg_strip import JpegFormatError, strip_jpeg

__all__ = ["PdfEncrypted", "clean_pdf"]

Findings = tuple[set[str], set[str]]

# Markup annotations carry the author's name in /T (for widgets /T is the field name: keep).
_MARKUP = frozenset({
    "/Text", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine", "/Highlight",
    "/Underline", "/Squiggly", "/StrikeOut", "/Stamp", "/Caret", "/Ink", "/FileAttachment",
    "/Sound", "/Redact", "/Popup",
})


def clean_pdf(src: Path, dst: BinaryIO) -> Findings:
    removed: set[str] = {"pdf_rewritten"}
    notes: set[str] = {"pdf_content"}
    try:
        pdf = pikepdf.open(src)
    except pikepdf.PasswordError as e:
        raise PdfEncrypted() from e
    with pdf:
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]
            removed.add("pdf_info")
        if "/ID" in pdf.trailer:
            del pdf.trailer["/ID"]  # may be derived from path/time of the original save
            removed.add("pdf_id")
        if "/Metadata" in pdf.Root:
            del pdf.Root["/Metadata"]
            removed.add("pdf_xmp")
        if len(pdf.pages) == 0:
            # QPDF "recovered" something with no pages: keep the original bytes instead.
            raise ValueError("PDF without pages")
        for obj in pdf.objects:
            if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                _clean_object(obj, removed, notes)
        for page in pdf.pages:
            # Annotations may be direct objects inside /Annots, invisible to pdf.objects.
            annots = page.obj.get("/Annots")
            if isinstance(annots, pikepdf.Array):
                for annot in annots:
                    if isinstance(annot, pikepdf.Dictionary):
                        _clean_object(annot, removed, notes)
        pdf.save(dst, encryption=False)
    return removed, notes


def _clean_object(obj: pikepdf.Object, removed: set[str], notes: set[str]) -> None:
    if "/Metadata" in obj:
        del obj["/Metadata"]
        removed.add("pdf_object_xmp")
    if "/PieceInfo" in obj:
        del obj["/PieceInfo"]
        removed.add("pdf_piece_info")
    if str(obj.get("/Subtype", "")) in _MARKUP and "/Rect" in obj and "/T" in obj:
        del obj["/T"]
        removed.add("pdf_annot_authors")
    if "/EF" in obj or "/EmbeddedFiles" in obj:
        notes.add("pdf_embedded_files")
    if isinstance(obj, pikepdf.Stream) and _is_plain_dct(obj):
        try:
            cleaned, found = strip_jpeg(obj.read_raw_bytes())
        except JpegFormatError:
            notes.add("embedded_image_uncleaned")
            return  # the viewer copes or not; we leave the image bytes as they were
        if found:
            # pikepdf types .get() as a plain Object; /DecodeParms is passed back unchanged
            # (a malformed one makes write() raise, and clean_file stores the file as is).
            obj.write(cleaned, filter=Name.DCTDecode,
                      decode_parms=obj.get("/DecodeParms"))  # type: ignore[arg-type]
            removed.add("pdf_image_meta")
            if "exif_gps" in found:
                removed.add("exif_gps")


def _is_plain_dct(stream: pikepdf.Stream) -> bool:
    """A JPEG stored as is (no second filter), so its raw bytes are a JPEG file."""
    flt = stream.get("/Filter")
    if isinstance(flt, pikepdf.Array):
        return len(flt) == 1 and flt[0] == Name.DCTDecode
    return flt == Name.DCTDecode
