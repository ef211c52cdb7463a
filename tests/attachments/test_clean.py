from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path
from typing import Callable

import pikepdf
import pytest
from PIL import Image

from att_fixtures import (MARKER_B, all_bytes, docx_bytes, jpeg_bomb_bytes, jpeg_bytes,
                          pdf_bytes, png_bomb_bytes, png_bytes, pptx_bytes, xlsx_bytes)
from whistle.attachments import CleanReport, FileKind, clean_file

Write = Callable[[str, bytes], Path]


def _clean(write: Write, name: str, data: bytes, declared_type: str | None = None,
           **kw: int) -> tuple[CleanReport, Path]:
    src = write(name, data)
    assert MARKER_B in all_bytes(src) or b"Wh1stle" not in data  # fixture sanity
    dst = src.with_name(src.name + ".clean")
    report = clean_file(src, dst, name, declared_type, **kw)
    assert stat.S_IMODE(os.stat(dst).st_mode) == 0o600
    return report, dst


def test_jpeg_exif_gps_xmp_comment_removed_orientation_applied(write: Write) -> None:
    report, dst = _clean(write, "photo.jpg", jpeg_bytes(size=(60, 40), orientation=6))
    assert report.kind is FileKind.JPEG and report.cleaned
    assert {"image_reencoded", "exif", "exif_gps", "xmp", "jpeg_comment"} <= set(report.removed)
    assert "image_content" in report.notes
    data = dst.read_bytes()
    assert MARKER_B not in data and b"PhoneModel" not in data
    with Image.open(dst) as im:
        assert im.format == "JPEG"
        assert im.size == (40, 60)  # rotated by the orientation tag, tag itself gone
        assert not im.getexif()
        # top-left blue block of the original now sits at the top-right after a 90° turn
        assert im.getpixel((35, 5))[2] > 150 and im.getpixel((5, 55))[0] > 150


def test_png_text_and_exif_removed(write: Write) -> None:
    report, dst = _clean(write, "shot.png", png_bytes(), "image/png")
    assert report.kind is FileKind.PNG and report.cleaned
    assert {"png_text", "exif"} <= set(report.removed)
    data = dst.read_bytes()
    assert MARKER_B not in data
    for ctype in (b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
        assert ctype not in data
    with Image.open(dst) as im:
        assert im.size == (30, 20) and im.mode == "RGBA"
        assert im.getpixel((1, 1)) == (10, 200, 10, 128)


def test_pdf_info_xmp_annots_and_embedded_jpeg_cleaned(write: Write) -> None:
    report, dst = _clean(write, "memo.pdf", pdf_bytes(), "application/pdf")
    assert report.kind is FileKind.PDF and report.cleaned
    assert {"pdf_info", "pdf_xmp", "pdf_object_xmp", "pdf_annot_authors", "pdf_image_meta",
            "exif_gps"} <= set(report.removed)
    assert "pdf_content" in report.notes
    assert MARKER_B not in all_bytes(dst)
    assert b"SecretOffice" not in all_bytes(dst)
    with pikepdf.open(dst) as pdf:
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
        assert len(pdf.pages) == 1
        assert b"Visible evidence text" in pdf.pages[0].Contents.read_bytes()
        image = pdf.pages[0].Resources.XObject.Im1
        with Image.open(io.BytesIO(image.read_raw_bytes())) as im:
            assert im.size == (60, 40)  # embedded JPEG still decodes


def test_docx_properties_authors_paths_and_media_cleaned(write: Write) -> None:
    report, dst = _clean(write, "report.docx", docx_bytes())
    assert report.kind is FileKind.DOCX and report.cleaned
    assert {"office_core", "office_app", "office_custom", "office_authors", "office_abspath",
            "office_media_meta", "exif_gps", "zip_timestamps"} <= set(report.removed)
    assert MARKER_B not in all_bytes(dst)
    with zipfile.ZipFile(dst) as zf:
        assert zf.testzip() is None
        with zipfile.ZipFile(write("orig.docx", docx_bytes())) as orig:
            assert zf.namelist() == orig.namelist()  # [Content_Types].xml stays consistent
            assert zf.read("[Content_Types].xml") == orig.read("[Content_Types].xml")
        doc = zf.read("word/document.xml")
        assert b"Hello evidence" in doc
        # distinct people stay distinct, just unnamed
        assert b'w:author="Author 1"' in doc and b'w:author="Author 2"' in doc
        assert b"w:author='Author 1'" in zf.read("word/comments.xml")  # same person, same alias
        assert b"Normal.dotm" in zf.read("word/_rels/settings.xml.rels")
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
        core = zf.read("docProps/core.xml")
        assert b"coreProperties" in core and b"creator" not in core
        with Image.open(io.BytesIO(zf.read("word/media/image1.jpeg"))) as im:
            assert im.size == (60, 40)
            assert im.getexif().get(0x0112) == 6  # orientation kept, everything else gone


@pytest.mark.parametrize("name,build,kind", [("book.xlsx", xlsx_bytes, FileKind.XLSX),
                                             ("deck.pptx", pptx_bytes, FileKind.PPTX)])
def test_xlsx_pptx_cleaned(write: Write, name: str, build: Callable[[], bytes],
                           kind: FileKind) -> None:
    report, dst = _clean(write, name, build())
    assert report.kind is kind and report.cleaned
    assert {"office_core", "office_app", "office_custom", "office_authors"} <= set(report.removed)
    assert MARKER_B not in all_bytes(dst)
    with zipfile.ZipFile(dst) as zf:
        assert zf.testzip() is None


def test_truncated_jpeg_stored_unchanged(write: Write) -> None:
    data = jpeg_bytes()
    data = data[: len(data) // 2]
    report, dst = _clean(write, "cut.jpg", data)
    assert report.kind is FileKind.JPEG and not report.cleaned
    assert report.notes == ("damaged",)
    assert dst.read_bytes() == data
    assert "could not be cleaned" in report.summary("en")
    assert "tidak dapat dibersihkan" in report.summary("id")


def test_random_bytes_named_pdf_is_unknown_and_unchanged(write: Write) -> None:
    data = os.urandom(4096).replace(b"%PDF-", b"xxxxx")
    if data.startswith((b"\xff\xd8\xff", b"\x89PNG", b"PK\x03\x04")):
        data = b"x" + data
    report, dst = _clean(write, "evidence.pdf", data, "application/pdf")
    assert report.kind is FileKind.OTHER and not report.cleaned
    assert set(report.notes) == {"unknown_type", "declared_mismatch"}
    assert dst.read_bytes() == data


@pytest.mark.parametrize("data", [b"%PDF-1.7\n" + b"garbage " * 100, b"%PDF-1.4\n%%EOF"])
def test_damaged_pdf_stored_unchanged(write: Write, data: bytes) -> None:
    report, dst = _clean(write, "bad.pdf", data)
    assert report.kind is FileKind.PDF and not report.cleaned and "damaged" in report.notes
    assert dst.read_bytes() == data


def test_damaged_zip_with_office_magic_is_unknown(write: Write) -> None:
    data = docx_bytes()[:200]
    report, dst = _clean(write, "bad.docx", data)
    assert report.kind is FileKind.OTHER and "unknown_type" in report.notes
    assert dst.read_bytes() == data


def test_unknown_types_reported_honestly(write: Write) -> None:
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as zf:
        zf.writestr("a.txt", "hello")
    for name, data in [("notes.txt", b"just text"), ("a.zip", plain_zip.getvalue()),
                       ("empty.bin", b""), ("movie.gif", b"GIF89a....")]:
        report, dst = _clean(write, name, data)
        assert report.kind is FileKind.OTHER and not report.cleaned, name
        assert "unknown_type" in report.notes
        assert dst.read_bytes() == data
        assert "unknown type: stored as is, may contain metadata" in report.summary("en")
        assert "jenis tidak dikenal" in report.summary("id")


def test_mismatched_name_is_flagged_but_content_decides(write: Write) -> None:
    report, dst = _clean(write, "innocent.txt.pdf", jpeg_bytes())
    assert report.kind is FileKind.JPEG and report.cleaned
    assert "declared_mismatch" in report.notes
    assert MARKER_B not in dst.read_bytes()


def test_png_decompression_bomb_never_decoded(write: Write) -> None:
    report, dst = _clean(write, "bomb.png", png_bomb_bytes())
    assert report.kind is FileKind.PNG and report.cleaned
    assert "image_stripped" in report.removed and "png_text" in report.removed
    assert "image_not_reencoded" in report.notes
    data = dst.read_bytes()
    assert MARKER_B not in data and b"IDAT" in data and data.endswith(b"IEND\xaeB`\x82")


def test_jpeg_over_pixel_limit_stripped_losslessly(write: Write) -> None:
    report, dst = _clean(write, "huge.jpg", jpeg_bomb_bytes())
    assert report.cleaned and "image_stripped" in report.removed
    assert {"exif_gps", "xmp", "jpeg_comment"} <= set(report.removed)
    assert MARKER_B not in dst.read_bytes()


def test_small_pixel_limit_takes_lossless_path_and_keeps_orientation(write: Write) -> None:
    report, dst = _clean(write, "p.jpg", jpeg_bytes(orientation=8), max_pixels=100)
    assert "image_stripped" in report.removed and MARKER_B not in dst.read_bytes()
    with Image.open(dst) as im:
        assert im.size == (60, 40) and im.getexif().get(0x0112) == 8


def test_corrupt_bomb_is_damaged_not_crash(write: Write) -> None:
    data = bytearray(png_bomb_bytes())
    data[-20] ^= 0xFF  # break a CRC
    report, dst = _clean(write, "bomb.png", bytes(data))
    assert not report.cleaned and report.notes == ("damaged",)
    assert dst.read_bytes() == bytes(data)


def test_encrypted_pdf_reported(write: Write, tmp_path: Path) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = "someone"
    buf = io.BytesIO()
    pdf.save(buf, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    report, dst = _clean(write, "locked.pdf", buf.getvalue())
    assert not report.cleaned and report.notes == ("encrypted_pdf",)
    assert dst.read_bytes() == buf.getvalue()


def test_missing_source_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        clean_file(tmp_path / "nope", tmp_path / "out", "x.jpg", None)


def test_report_round_trip_and_languages(write: Write) -> None:
    report, _ = _clean(write, "photo.jpg", jpeg_bytes())
    assert CleanReport.from_dict(report.to_dict()) == report
    en, id_ = report.summary("en"), report.summary("id")
    assert "EXIF incl. GPS location" in en and "lokasi GPS" in id_
    assert report.summary("fr") == id_  # unknown language falls back to Indonesian


def test_animated_png_stripped_losslessly_all_frames_kept(write: Write) -> None:
    from PIL import PngImagePlugin
    frames = [Image.new("RGB", (10, 10), (i * 60, 0, 0)) for i in range(3)]
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", MARKER_B.decode())
    buf = io.BytesIO()
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:], pnginfo=info)
    report, dst = _clean(write, "anim.png", buf.getvalue())
    assert report.cleaned and "image_stripped" in report.removed and "png_text" in report.removed
    assert MARKER_B not in dst.read_bytes()
    with Image.open(dst) as im:
        assert im.n_frames == 3
