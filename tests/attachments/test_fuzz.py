"""Malformed input of every sniffed type: clean_file must never raise, and whatever it stores
is either a cleaned file or the exact original."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from att_fixtures import docx_bytes, jpeg_bytes, pdf_bytes, png_bytes
from whistle.attachments import clean_file

SEEDS = [jpeg_bytes(), png_bytes(), pdf_bytes(), docx_bytes()]


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(1, len(data)))]
    return bytes(data)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled())
def test_clean_file_never_raises_on_mangled_input(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d, "in"), Path(d, "out")
        src.write_bytes(data)
        report = clean_file(src, dst, "upload", None, isolate=False)
        if not report.cleaned:
            assert dst.read_bytes() == data
        assert report.summary("en") and report.summary("id")
