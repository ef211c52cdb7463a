"""An independent reader: exiftool (Debian's libimage-exiftool-perl) must find no metadata left
in any cleaned fixture. Runs in the test suite only; the service never calls exiftool.

Every tag exiftool reports is either structural (size, colour type, page count, the fixed zip
date) or a failure. The allowlist is short on purpose: a new tag exiftool learns to read shows
up here as a failure to look at, not as a silent pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Callable

import pikepdf
import pytest

from att_fixtures import (MARKER_B, all_bytes, docx_bytes, jfif_thumbnail_jpeg_bytes,
                          jpeg_bomb_bytes, jpeg_bytes, mat2_docx_bytes, mat2_xlsx_bytes,
                          pdf_bytes, png_bomb_bytes, png_bytes, pptx_bytes, splt_png_bytes,
                          xlsx_bytes)
from whistle.attachments import clean_file

IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")

STRUCTURAL = {
    "SourceFile", "ExifTool:ExifToolVersion",
    "File:FileType", "File:FileTypeExtension", "File:MIMEType", "File:ImageWidth",
    "File:ImageHeight", "File:EncodingProcess", "File:BitsPerSample", "File:ColorComponents",
    "File:YCbCrSubSampling", "File:ExifByteOrder",
    "Composite:ImageSize", "Composite:Megapixels",
    "JFIF:JFIFVersion", "JFIF:ResolutionUnit", "JFIF:XResolution", "JFIF:YResolution",
    "PNG:ImageWidth", "PNG:ImageHeight", "PNG:BitDepth", "PNG:ColorType", "PNG:Compression",
    "PNG:Filter", "PNG:Interlace",
    "PDF:PDFVersion", "PDF:Linearized", "PDF:PageCount",
    # -ee lists the pictures inside a PDF; their own tags are read separately below.
    "PDF:EmbeddedImage", "PDF:EmbeddedImageColorSpace", "PDF:EmbeddedImageFilter",
    "PDF:EmbeddedImageHeight", "PDF:EmbeddedImageWidth",
    "ZIP:ZipRequiredVersion", "ZIP:ZipBitFlag", "ZIP:ZipCompression", "ZIP:ZipCRC",
    "ZIP:ZipCompressedSize", "ZIP:ZipUncompressedSize", "ZIP:ZipFileName",
}
# Tags whose presence is fine only with this exact value.
FIXED = {
    "ZIP:ZipModifyDate": "1980:01:01 00:00:00",
    "JFIF:ResolutionUnit": "None",
}
LOSSLESS_ONLY = {"IFD0:Orientation"}  # kept on purpose so the picture stays upright

CASES: list[tuple[str, Callable[[], bytes], int]] = [
    ("photo.jpg", jpeg_bytes, 24_000_000),
    ("photo-lossless.jpg", jpeg_bytes, 100),
    ("jfif-thumb.jpg", jfif_thumbnail_jpeg_bytes, 24_000_000),
    ("jfif-thumb-lossless.jpg", jfif_thumbnail_jpeg_bytes, 100),
    ("huge.jpg", jpeg_bomb_bytes, 24_000_000),
    ("shot.png", png_bytes, 24_000_000),
    ("shot-lossless.png", png_bytes, 100),
    ("splt.png", splt_png_bytes, 24_000_000),
    ("splt-lossless.png", splt_png_bytes, 1),
    ("bomb.png", png_bomb_bytes, 24_000_000),
    ("memo.pdf", pdf_bytes, 24_000_000),
    ("report.docx", docx_bytes, 24_000_000),
    ("mat2.docx", mat2_docx_bytes, 24_000_000),
    ("book.xlsx", xlsx_bytes, 24_000_000),
    ("mat2.xlsx", mat2_xlsx_bytes, 24_000_000),
    ("deck.pptx", pptx_bytes, 24_000_000),
]


def embedded_pictures(path: Path) -> list[bytes]:
    """JPEG/PNG pictures inside a cleaned PDF or Office file (each is read on its own too)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return [zf.read(n) for n in zf.namelist()
                    if n.lower().endswith((".jpg", ".jpeg", ".png"))]
    if path.read_bytes().startswith(b"%PDF"):
        with pikepdf.open(path) as pdf:
            return [obj.read_raw_bytes() for obj in pdf.objects
                    if isinstance(obj, pikepdf.Stream) and obj.get("/Filter") == "/DCTDecode"]
    return []


def leftovers(tags: dict[str, object], allowed: set[str]) -> dict[str, object]:
    left = {k: v for k, v in tags.items() if k not in allowed}
    left.update({k: tags[k] for k, v in FIXED.items() if k in tags and tags[k] != v})
    return left


def exiftool(path: Path) -> dict[str, object]:
    exe = shutil.which("exiftool")
    if exe is None:
        if IN_CI:
            pytest.fail("exiftool missing in CI: test.sh installs libimage-exiftool-perl")
        pytest.skip("exiftool not installed (apt-get install libimage-exiftool-perl)")
    out = subprocess.run([exe, "-j", "-a", "-u", "-G1", "-ee", "-api", "LargeFileSupport=1",
                          str(path)], capture_output=True, check=False, timeout=60)
    tags: dict[str, object] = json.loads(out.stdout)[0]
    return {k: v for k, v in tags.items() if not k.startswith("System:")}


@pytest.mark.parametrize("name,build,max_pixels", CASES, ids=[c[0] for c in CASES])
def test_exiftool_finds_nothing_after_cleaning(tmp_path: Path, name: str,
                                               build: Callable[[], bytes],
                                               max_pixels: int) -> None:
    src = tmp_path / name
    src.write_bytes(build())
    before = exiftool(src)
    dst = tmp_path / (name + ".clean")
    report = clean_file(src, dst, name, None, max_pixels=max_pixels)
    assert report.cleaned, report
    after = exiftool(dst)
    allowed = STRUCTURAL | set(FIXED) | (LOSSLESS_ONLY if "image_stripped" in report.removed
                                         else set())
    assert leftovers(after, allowed) == {}, "exiftool still reads metadata"
    pictures = embedded_pictures(dst)
    for i, picture in enumerate(pictures):
        inner = tmp_path / f"inner-{i}"
        inner.write_bytes(picture)
        # Pictures inside documents are stripped losslessly (orientation kept).
        assert leftovers(exiftool(inner), STRUCTURAL | set(FIXED) | LOSSLESS_ONLY) == {}
    if name.endswith((".pdf", "report.docx")):
        assert pictures, "the fixture embeds a photo: it must be read too"
    # The reader saw metadata in the original (the fixture is a real test) ...
    assert set(before) - allowed
    # ... and none of the marker survives anywhere in the cleaned bytes, zipped or not.
    assert MARKER_B not in all_bytes(dst)
