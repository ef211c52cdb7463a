"""mat2's rules, ported: what goes from Office, JPEG and PNG files, and that the package left
behind is still consistent (no relationship or content type pointing at a removed part)."""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from typing import Callable

from att_fixtures import (MARKER_B, cgbi_png_bytes, jfif_thumbnail_jpeg_bytes, mat2_docx_bytes,
                          mat2_xlsx_bytes, splt_png_bytes)
from whistle.attachments import CleanReport, clean_file

Write = Callable[[str, bytes], Path]


def _clean(write: Write, name: str, data: bytes, **kw: int) -> tuple[CleanReport, Path]:
    src = write(name, data)
    dst = src.with_name(name + ".clean")
    return clean_file(src, dst, name, None, **kw), dst


def _assert_consistent(zf: zipfile.ZipFile) -> None:
    names = set(zf.namelist())
    types = zf.read("[Content_Types].xml").decode()
    for part in re.findall(r'PartName="/([^"]+)"', types):
        assert part in names, f"content type for missing part {part}"
    for rels in (n for n in names if n.endswith(".rels")):
        folder = posixpath.dirname(posixpath.dirname(rels))
        for target, mode in re.findall(r'Target="([^"]+)"(?:\s+TargetMode="(\w+)")?',
                                       zf.read(rels).decode()):
            if mode == "External":
                continue
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(folder, target))
            assert path in names, f"{rels} points at missing {path}"


def test_docx_loses_rsids_customxml_thumbnail_printer_label_and_dates(write: Write) -> None:
    report, dst = _clean(write, "dirty.docx", mat2_docx_bytes())
    assert report.cleaned
    assert {"office_rsid", "office_customxml", "office_thumbnail", "office_printer",
            "office_label", "office_dates", "office_authors"} <= set(report.removed)
    with zipfile.ZipFile(dst) as zf:
        names = set(zf.namelist())
        assert not {n for n in names if n.startswith(("customXml/", "docMetadata/"))}
        assert "docProps/thumbnail.jpeg" not in names
        assert not {n for n in names if "printerSettings" in n}
        _assert_consistent(zf)
        doc = zf.read("word/document.xml")
        settings = zf.read("word/settings.xml")
        numbering = zf.read("word/numbering.xml")
        comments = zf.read("word/comments.xml")
        rels = zf.read("word/_rels/document.xml.rels")
    assert b"rsidR=\"00A1B2C3\"" not in doc and b"rsidRPr" not in doc
    assert b'text saying w:rsidR="00FFFFFF" stays' in doc  # text is not markup
    assert b"rsids" not in settings and b'<w:zoom w:percent="100"/>' in settings
    assert b"nsid" not in numbering and b"abstractNum" in numbering
    assert b"w:date" not in doc and b"w:date" not in comments
    assert b"<w:delText>gone</w:delText>" in doc  # deleted text is content: reported, kept
    assert b"settings.xml" in rels and b"comments.xml" in rels and b"customXml" not in rels
    assert MARKER_B not in b"".join((doc, settings, comments))
    labels = report.summary("en")
    assert "editing-session ids" in labels and "SharePoint" in labels
    assert "kode sesi penyuntingan" in report.summary("id")


def test_xlsx_page_setup_no_longer_points_at_printer_settings(write: Write) -> None:
    report, dst = _clean(write, "dirty.xlsx", mat2_xlsx_bytes())
    assert report.cleaned and {"office_printer", "office_customxml"} <= set(report.removed)
    with zipfile.ZipFile(dst) as zf:
        _assert_consistent(zf)
        sheet = zf.read("xl/worksheets/sheet1.xml")
        assert b"<pageSetup" in sheet and b"r:id" not in sheet
        assert b"printerSettings" not in zf.read("xl/worksheets/_rels/sheet1.xml.rels")
        assert b"dT=" not in zf.read("xl/threadedComments/threadedComment1.xml")


def test_jfif_segment_rewritten_as_the_bare_header(write: Write) -> None:
    report, dst = _clean(write, "thumb.jpg", jfif_thumbnail_jpeg_bytes(), max_pixels=100)
    assert report.cleaned and "jpeg_thumbnail" in report.removed
    data = dst.read_bytes()
    assert data[2:6] == b"\xff\xe0\x00\x10" and data[6:11] == b"JFIF\x00"
    assert data[18:20] == b"\x00\x00"  # thumbnail width and height 0, nothing after
    assert b"JFXX" not in data and MARKER_B not in data


def test_png_splt_dropped_losslessly(write: Write) -> None:
    report, dst = _clean(write, "pal.png", splt_png_bytes(), max_pixels=1)
    assert report.cleaned and "png_palette_name" in report.removed
    assert b"sPLT" not in dst.read_bytes() and MARKER_B not in dst.read_bytes()


def test_apple_cgbi_png_is_never_passed_through_as_cleaned(write: Write) -> None:
    for kw in ({}, {"max_pixels": 1}):
        report, dst = _clean(write, "iphone.png", cgbi_png_bytes(), **kw)
        assert not report.cleaned and report.notes == ("png_unknown_chunk",)
        assert dst.read_bytes() == cgbi_png_bytes()
        assert "non-standard" in report.summary("en")


def test_unknown_critical_chunk_in_a_decodable_png_is_re_encoded_away(write: Write) -> None:
    report, dst = _clean(write, "odd.png", cgbi_png_bytes(raw_deflate=False))
    assert report.cleaned and "image_reencoded" in report.removed
    assert b"CgBI" not in dst.read_bytes() and MARKER_B not in dst.read_bytes()
