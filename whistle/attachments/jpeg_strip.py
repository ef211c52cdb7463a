"""Lossless JPEG metadata removal by walking marker segments (no pixel decoding).

Used where re-encoding is impossible or wrong: JPEGs embedded in PDFs and Office files (their
layout depends on the exact image), and photos too large to decode safely. Only the segments
a decoder needs are kept; the EXIF orientation survives as a minimal EXIF block so the picture
is still shown the right way up.
"""

from __future__ import annotations

from PIL import Image


class JpegFormatError(ValueError):
    """The bytes are not a JPEG this walker understands."""


_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RSTn carry no length
_APP0, _APP1, _APP2, _APP13, _APP14, _COM = 0xE0, 0xE1, 0xE2, 0xED, 0xEE, 0xFE
_ORIENTATION = 0x0112
_GPS_IFD = 0x8825


def _classify(marker: int, payload: bytes) -> str | None:
    """Return the removed-code for a dropped segment, or None to keep it."""
    if marker == _APP0 and payload.startswith(b"JFIF\x00"):
        return None  # rewritten as the bare header by _bare_app0
    if marker == _APP0 and payload.startswith(b"JFXX\x00"):
        return "jpeg_thumbnail"  # JFIF extension: nothing but a thumbnail
    if marker == _APP14 and payload.startswith(b"Adobe"):
        return None  # colour transform flag: dropping it changes colours of CMYK/YCCK files
    if marker == _APP1 and payload.startswith(b"Exif\x00\x00"):
        return "exif"
    if marker == _APP1 and payload.startswith(b"http://ns.adobe.com/"):
        return "xmp"
    if marker == _APP2 and payload.startswith(b"ICC_PROFILE\x00"):
        return "icc"
    if marker == _APP2 and payload.startswith(b"MPF\x00"):
        return "jpeg_extra_images"
    if marker == _APP13:
        return "iptc"
    if marker == _COM:
        return "jpeg_comment"
    if 0xE0 <= marker <= 0xEF:
        return "exif"  # any other APPn (maker data, FlashPix, JFXX thumbnails, ...)
    return None


def _orientation_only_exif(payload: bytes) -> tuple[bytes | None, bool]:
    """(minimal APP1 payload keeping only the orientation, whether GPS data was present)."""
    exif = Image.Exif()
    try:
        exif.load(payload)
        has_gps = bool(exif.get(_GPS_IFD))
        orientation = exif.get(_ORIENTATION)
    except Exception:  # noqa: BLE001 - an unreadable EXIF is simply dropped, whole
        return None, False
    if not isinstance(orientation, int) or orientation in (0, 1) or orientation > 8:
        return None, has_gps
    minimal = Image.Exif()
    minimal[_ORIENTATION] = orientation
    return minimal.tobytes(), has_gps


def _bare_app0(payload: bytes) -> tuple[bytes, bool]:
    """(JFIF payload without its thumbnail, whether anything was cut).

    The header is 14 bytes: "JFIF\\0", version, density unit, X and Y density, and the
    thumbnail's width and height, set to 0 here. A thumbnail is a second picture of the
    scene, and can show what the main image was cropped or edited to hide.
    """
    if len(payload) < 12:
        raise JpegFormatError("short JFIF header")
    bare = payload[:12] + b"\x00\x00"
    return bare, bare != payload


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def strip_jpeg(data: bytes) -> tuple[bytes, set[str]]:
    """Return (cleaned JPEG bytes, removed-codes). Raises JpegFormatError on malformed input."""
    if not data.startswith(b"\xff\xd8"):
        raise JpegFormatError("no SOI")
    out = bytearray(b"\xff\xd8")
    removed: set[str] = set()
    i, n = 2, len(data)
    while True:
        if i + 1 >= n or data[i] != 0xFF:
            raise JpegFormatError("expected a marker")
        while i + 1 < n and data[i + 1] == 0xFF:  # fill bytes
            i += 1
        marker = data[i + 1]
        if marker == _EOI:
            out += b"\xff\xd9"
            if i + 2 < n:
                removed.add("jpeg_extra_images")  # MPO secondary images, vendor trailers
            return bytes(out), removed
        if marker in _STANDALONE:
            out += data[i:i + 2]
            i += 2
            continue
        if i + 4 > n:
            raise JpegFormatError("truncated segment header")
        length = int.from_bytes(data[i + 2:i + 4], "big")
        end = i + 2 + length
        if length < 2 or end > n:
            raise JpegFormatError("bad segment length")
        payload = data[i + 4:end]
        code = _classify(marker, payload)
        if code is None and marker == _APP0:
            bare, cut = _bare_app0(payload)
            out += _segment(_APP0, bare)
            if cut:
                removed.add("jpeg_thumbnail")
        elif code is None and marker == _APP14:
            out += _segment(_APP14, payload[:12])  # "Adobe", version, 2 flags, transform
            if len(payload) > 12:
                removed.add("exif")
        elif code is None:
            out += data[i:end]
        else:
            removed.add(code)
            if code == "exif" and payload.startswith(b"Exif\x00\x00"):
                minimal, has_gps = _orientation_only_exif(payload)
                if has_gps:
                    removed.add("exif_gps")
                if minimal is not None:
                    out += _segment(_APP1, minimal)
        i = end
        if marker == _SOS:
            i = _skip_entropy_data(data, i, out)


def _skip_entropy_data(data: bytes, i: int, out: bytearray) -> int:
    """Copy entropy-coded data after SOS up to the next real marker; return its offset."""
    n = len(data)
    start = i
    while True:
        j = data.find(b"\xff", i)
        if j < 0 or j + 1 >= n:
            raise JpegFormatError("entropy data runs to the end of file (no EOI)")
        nxt = data[j + 1]
        if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
            i = j + 1 if nxt == 0xFF else j + 2  # stuffed byte, restart marker, or fill
            continue
        out += data[start:j]
        return j
