"""JPEG/PNG cleaning with Pillow: re-encode the pixels, so no metadata block can survive."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageCms, ImageOps

from .jpeg_strip import strip_jpeg
from .png_strip import PngFormatError, PngUnknownCritical, strip_png
from .sandbox import DEFAULT_MAX_PIXELS
from .sniff import FileKind

__all__ = ["DEFAULT_MAX_PIXELS", "clean_image"]
JPEG_QUALITY = 92
_GPS_IFD = 0x8825

Findings = tuple[set[str], set[str]]  # (removed codes, note codes)


class ImageTooLarge(Exception):
    """Pixel count above our limit: never decode it."""


def clean_image(src: Path, dst: BinaryIO, kind: FileKind, max_pixels: int) -> Findings:
    fmt = "JPEG" if kind is FileKind.JPEG else "PNG"
    try:
        return _reencode(src, dst, fmt, max_pixels)
    except (ImageTooLarge, Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Decoding would be unbounded; strip metadata from the byte stream instead.
        dst.seek(0)
        dst.truncate()
        return _lossless(src, dst, kind)
    except Exception as exc:
        if kind is FileKind.PNG:
            _raise_if_unknown_critical(src, exc)
        raise


def _raise_if_unknown_critical(src: Path, exc: Exception) -> None:
    """Name the reason when Pillow failed on a PNG with a non-standard critical chunk (Apple's
    CgBI): such a file is never passed through as cleaned."""
    try:
        strip_png(src.read_bytes())
    except PngUnknownCritical as unknown:
        raise unknown from exc
    except PngFormatError:
        pass


def _lossless(src: Path, dst: BinaryIO, kind: FileKind) -> Findings:
    data = src.read_bytes()
    cleaned, removed = strip_jpeg(data) if kind is FileKind.JPEG else strip_png(data)
    dst.write(cleaned)
    return {"image_stripped", *removed}, {"image_not_reencoded", "image_content"}


def _reencode(src: Path, dst: BinaryIO, fmt: str, max_pixels: int) -> Findings:
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; make it an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(src, formats=[fmt]) as im:
            width, height = im.size
            if width * height > max_pixels or width <= 0 or height <= 0:
                raise ImageTooLarge(f"{width}x{height}")
            if fmt == "PNG" and getattr(im, "n_frames", 1) > 1:
                raise ImageTooLarge("animated PNG")  # re-encoding would keep one frame only
            im.load()
            removed = _found_metadata(im)
            out = ImageOps.exif_transpose(im)  # always a copy: orientation applied to pixels
    transparency = out.info.get("transparency")
    # Savers fall back to im.info for comments, ICC and XMP, so the copy must carry nothing.
    out.info = {} if transparency is None else {"transparency": transparency}
    out = _to_srgb(out, im.info.get("icc_profile"))
    if fmt == "JPEG":
        if out.mode not in ("RGB", "L", "CMYK"):
            out = out.convert("RGB")
        out.save(dst, "JPEG", quality=JPEG_QUALITY)
    else:
        out.save(dst, "PNG")
    return {"image_reencoded", *removed}, {"image_content"}


def _found_metadata(im: Image.Image) -> set[str]:
    """Name what the original carried, so the reporter sees what was taken out."""
    found: set[str] = set()
    info = im.info
    exif = im.getexif()
    if len(exif) or "exif" in info:
        found.add("exif")
        try:
            if exif.get_ifd(_GPS_IFD) or _GPS_IFD in exif:
                found.add("exif_gps")
        except Exception:  # noqa: BLE001 - naming GPS is a courtesy; the EXIF goes regardless
            pass
    if "xmp" in info or "XML:com.adobe.xmp" in info:
        found.add("xmp")
    if "photoshop" in info:
        found.add("iptc")
    if "comment" in info:
        found.add("jpeg_comment")
    if "icc_profile" in info:
        found.add("icc")
    if getattr(im, "n_frames", 1) > 1 or im.format == "MPO":
        found.add("jpeg_extra_images")
    text = getattr(im, "text", None)  # PNG tEXt/iTXt/zTXt (safe: pixels already loaded)
    if text and set(text) - {"XML:com.adobe.xmp"}:
        found.add("png_text")
    if "Raw profile type exif" in info:
        found.add("exif")
    return found


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Apply an embedded colour profile (which may name the device) instead of keeping it."""
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=out_mode)
    except Exception:  # noqa: BLE001 - a broken profile is just dropped; colours may shift
        return image
    if converted is None:
        return image
    converted.info = {}
    return converted
