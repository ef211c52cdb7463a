"""Lossless PNG metadata removal by rewriting the chunk list (no pixel decoding).

Keeps only chunks a viewer needs to draw the image (incl. APNG animation chunks), so it
suits animated PNGs, images too large to decode, and pictures embedded in Office files.
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PngFormatError(ValueError):
    """The bytes are not a well-formed PNG."""


class PngUnknownCritical(PngFormatError):
    """A critical chunk outside the PNG standard (e.g. Apple's CgBI): we cannot know what it
    holds, so the file is never passed through as cleaned."""


_CRITICAL = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})


# Ancillary chunks that only affect how pixels are drawn; every other ancillary chunk goes
# (sPLT too: it carries a free-text palette name).
_KEEP_ANCILLARY = frozenset({
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD", b"pHYs", b"hIST",
    b"acTL", b"fcTL", b"fdAT", b"cICP", b"mDCV", b"cLLI",
})
_REMOVED_CODE = {
    b"tEXt": "png_text", b"iTXt": "png_text", b"zTXt": "png_text",
    b"eXIf": "exif", b"tIME": "png_time", b"iCCP": "icc", b"sPLT": "png_palette_name",
}


def strip_png(data: bytes) -> tuple[bytes, set[str]]:
    """Return (cleaned PNG bytes, removed-codes). Raises PngFormatError on malformed input."""
    if not data.startswith(PNG_SIGNATURE):
        raise PngFormatError("no PNG signature")
    out = bytearray(PNG_SIGNATURE)
    removed: set[str] = set()
    i, n = len(PNG_SIGNATURE), len(data)
    while True:
        if i + 8 > n:
            raise PngFormatError("truncated chunk header")
        length, ctype = struct.unpack(">I4s", data[i:i + 8])
        end = i + 12 + length
        if end > n:
            raise PngFormatError("truncated chunk")
        crc = struct.unpack(">I", data[end - 4:end])[0]
        if zlib.crc32(data[i + 4:end - 4]) != crc:
            raise PngFormatError("bad chunk CRC")
        critical = not (ctype[0] & 0x20)
        if critical and ctype not in _CRITICAL:
            raise PngUnknownCritical(ctype.decode("latin-1"))
        if critical or ctype in _KEEP_ANCILLARY:
            out += data[i:end]
        else:
            if ctype == b"iTXt" and data[i + 8:i + 26] == b"XML:com.adobe.xmp\x00":
                removed.add("xmp")
            else:
                removed.add(_REMOVED_CODE.get(ctype, "png_other"))
        i = end
        if ctype == b"IEND":
            return bytes(out), removed  # anything appended after IEND is dropped too
