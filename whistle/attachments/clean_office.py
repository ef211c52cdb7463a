"""DOCX/XLSX/PPTX cleaning: rewrite the zip package part by part, streaming large parts.

The property parts are kept (emptied) rather than deleted, so [Content_Types].xml and the
package relationships stay consistent without being edited and Office opens the result.
Author names are replaced with pseudonyms by byte-level substitution: re-serialising the
XML would rename namespace prefixes, which breaks mc:Ignorable and makes Word refuse the file.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path
from typing import BinaryIO, Callable
from xml.etree import ElementTree

from . import office_rules
from .jpeg_strip import JpegFormatError, strip_jpeg
from .png_strip import PngFormatError, strip_png

Findings = tuple[set[str], set[str]]

MAX_ENTRIES = 20_000
MAX_TOTAL_UNCOMPRESSED = 1 << 30   # zip-bomb bound on what we are willing to inflate
MAX_PART_IN_MEMORY = 64 << 20      # parts we rewrite are read whole; larger ones are copied
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # zip entry dates tell when each part was last saved
_COPY_CHUNK = 1 << 16

_CORE_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    b'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    b'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"></cp:coreProperties>')
_APP_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'docPropsVTypes"></Properties>')
_CUSTOM_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'docPropsVTypes"></Properties>')

# relationship type suffix -> (default part name, replacement, removed-code)
_PROPERTY_PARTS = {
    "/core-properties": ("docProps/core.xml", _CORE_XML, "office_core"),
    "/extended-properties": ("docProps/app.xml", _APP_XML, "office_app"),
    "/custom-properties": ("docProps/custom.xml", _CUSTOM_XML, "office_custom"),
}

# Parts that can name people: comments, tracked changes, people/persons lists, revisions.
_AUTHOR_PARTS = re.compile(
    r"^(word/[^/]+\.xml|xl/comments[^/]*\.xml|xl/persons/[^/]+\.xml|xl/revisions/[^/]+\.xml"
    r"|xl/workbook\.xml|ppt/commentAuthors\.xml|ppt/authors\.xml|ppt/comments/[^/]+\.xml"
    r"|xl/threadedComments/[^/]+\.xml)$")
_VALUE = rb'("[^"]*"|\'[^\']*\')'
_ATTR_NAME = re.compile(rb"(\s(?:[\w.-]+:)?(?:author|userName))=" + _VALUE)
_ATTR_PPT_NAME = re.compile(rb"(<(?:[\w.-]+:)?(?:cmAuthor|author)\b[^>]*?\sname)=" + _VALUE)
_ATTR_DISPLAY = re.compile(rb"(<(?:[\w.-]+:)?person\b[^>]*?\sdisplayName)=" + _VALUE)
_ATTR_INITIALS = re.compile(rb"(\s(?:[\w.-]+:)?initials)=" + _VALUE)
_ATTR_USER_ID = re.compile(rb"(\s(?:[\w.-]+:)?userId)=" + _VALUE)
_ATTR_PROVIDER = re.compile(rb"(\s(?:[\w.-]+:)?providerId)=" + _VALUE)
_XL_AUTHOR_ELEM = re.compile(rb"(<(?:[\w.-]+:)?author>)([^<]*)(</(?:[\w.-]+:)?author>)")
_ABS_PATH = re.compile(rb"(<(?:[\w.-]+:)?absPath\b[^>]*?\surl)=" + _VALUE)
# Local file links (attached template, linked files) spell out C:\Users\<name>\...
_LOCAL_TARGET = re.compile(rb'(\sTarget)=("(?:file:|[A-Za-z]:\\|\\\\)[^"]*")')
_MEDIA = re.compile(r"^(word|xl|ppt)/media/[^/]+$")


class OfficeFormatError(ValueError):
    """Not a zip we are willing to rewrite."""


class _Pseudonyms:
    """Same real name -> same 'Author N' across the whole document (keeps who-did-what)."""

    def __init__(self) -> None:
        self._map: dict[bytes, bytes] = {}

    def __call__(self, value: bytes) -> bytes:
        if not value:
            return value
        if value not in self._map:
            self._map[value] = b"Author %d" % (len(self._map) + 1)
        return self._map[value]


def clean_office(src: Path, dst: BinaryIO) -> Findings:
    removed: set[str] = set()
    notes: set[str] = {"office_content"}
    with zipfile.ZipFile(src) as zin:
        infos = zin.infolist()
        _check_bounds(infos)
        props = _property_parts(zin)
        rules = office_rules.plan(zin, infos)
        pseudonyms = _Pseudonyms()
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in infos:
                if info.filename in rules.dropped:
                    removed.add(rules.dropped[info.filename])
                    continue
                _copy_part(zin, zout, info, props, rules, pseudonyms, removed, notes)
    if any(i.date_time != _FIXED_DATE for i in infos):
        removed.add("zip_timestamps")
    return removed, notes


def _check_bounds(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ENTRIES:
        raise OfficeFormatError("too many entries")
    if sum(i.file_size for i in infos) > MAX_TOTAL_UNCOMPRESSED:
        raise OfficeFormatError("too large once decompressed")
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            raise OfficeFormatError("duplicate entry")  # readers disagree on which one wins
        seen.add(info.filename)


def _property_parts(zin: zipfile.ZipFile) -> dict[str, tuple[bytes, str]]:
    """Find the property parts through _rels/.rels, falling back to the usual names."""
    found = {default: (xml, code) for default, xml, code in _PROPERTY_PARTS.values()}
    try:
        info = zin.getinfo("_rels/.rels")
    except KeyError:
        return found
    if info.file_size > MAX_PART_IN_MEMORY:
        return found
    root = ElementTree.fromstring(zin.read(info))
    for rel in root:
        rtype, target = rel.get("Type", ""), rel.get("Target", "")
        for suffix, (_default, xml, code) in _PROPERTY_PARTS.items():
            if rtype.endswith(suffix) and target and rel.get("TargetMode") != "External":
                found[target.lstrip("/")] = (xml, code)
    return found


def _copy_part(zin: zipfile.ZipFile, zout: zipfile.ZipFile, info: zipfile.ZipInfo,
               props: dict[str, tuple[bytes, str]], rules: office_rules.Plan,
               pseudonyms: _Pseudonyms, removed: set[str], notes: set[str]) -> None:
    name = info.filename
    out_info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)  # fresh: no extra fields, uid/gid
    out_info.compress_type = (info.compress_type if info.compress_type == zipfile.ZIP_STORED
                              else zipfile.ZIP_DEFLATED)
    if name in props:
        xml, code = props[name]
        zout.writestr(out_info, xml)
        removed.add(code)
        return
    if name.startswith(("word/embeddings/", "xl/embeddings/", "ppt/embeddings/")):
        notes.add("office_other_media")
    rewriters = _pick_rewriters(name, rules, notes)
    if rewriters:
        if info.file_size > MAX_PART_IN_MEMORY:
            notes.add("office_part_too_large")
        else:
            data = zin.read(info)
            for rewrite in rewriters:
                data = rewrite(data, pseudonyms, removed)
            zout.writestr(out_info, data)
            return
    with zin.open(info) as r, zout.open(out_info, "w", force_zip64=info.file_size > 1 << 31) as w:
        shutil.copyfileobj(r, w, _COPY_CHUNK)


_Rewriter = Callable[[bytes, "_Pseudonyms", set[str]], bytes]


def _pick_rewriters(name: str, rules: office_rules.Plan, notes: set[str]) -> list[_Rewriter]:
    lower = name.lower()
    if _MEDIA.match(name):
        if lower.endswith((".jpg", ".jpeg", ".png")):
            return [_media_rewriter(notes)]
        if not lower.endswith((".emf", ".wmf", ".gif", ".svg", ".bmp")):
            notes.add("office_other_media")  # e.g. video, audio, TIFF, HEIC
        return []
    found: list[_Rewriter] = []
    if name == "[Content_Types].xml" and rules.dropped:
        found.append(_rule(lambda d: office_rules.strip_content_types(d, rules.dropped), None))
    if lower.endswith(".rels"):
        found.append(_rewrite_rels)
        if name in rules.rels_ids:
            ids = rules.rels_ids[name]
            found.append(_rule(lambda d: office_rules.strip_relationships(d, ids), None))
    if name in rules.source_ids:
        ids_ = rules.source_ids[name]
        found.append(_rule(lambda d: office_rules.unlink_ids(d, ids_), None))
    if office_rules.RSID_PARTS.match(name):
        found.append(_rule(office_rules.strip_rsids, "office_rsid"))
    if office_rules.SLIDE_PARTS.match(name):
        found.append(_rule(office_rules.new_creation_ids, "office_rsid"))
    if _AUTHOR_PARTS.match(name):
        found.append(_rewrite_authors)
    if office_rules.DATE_PARTS.match(name):
        found.append(_rule(office_rules.strip_dates, "office_dates"))
    return found


def _rule(edit: Callable[[bytes], bytes], code: str | None) -> _Rewriter:
    """A plain bytes -> bytes rule; `code` is reported when it changed anything."""
    def rewrite(data: bytes, _p: _Pseudonyms, removed: set[str]) -> bytes:
        out = edit(data)
        if code is not None and out != data:
            removed.add(code)
        return out
    return rewrite


def _media_rewriter(notes: set[str]) -> _Rewriter:
    def rewrite(data: bytes, p: _Pseudonyms, removed: set[str]) -> bytes:
        return _rewrite_media(data, p, removed, notes)
    return rewrite


def _rewrite_media(data: bytes, _p: _Pseudonyms, removed: set[str], notes: set[str]) -> bytes:
    try:
        cleaned, found = strip_png(data) if data.startswith(b"\x89PNG") else strip_jpeg(data)
    except (JpegFormatError, PngFormatError):
        notes.add("embedded_image_uncleaned")
        return data  # a picture Office itself may not show; leave it byte for byte
    if found:
        removed.add("office_media_meta")
        if "exif_gps" in found:
            removed.add("exif_gps")
    return cleaned


def _rewrite_rels(data: bytes, _p: _Pseudonyms, removed: set[str]) -> bytes:
    def basename(m: re.Match[bytes]) -> bytes:
        path = m.group(2)[1:-1]
        tail = re.split(rb"[/\\]", path)[-1]
        removed.add("office_abspath")
        return m.group(1) + b'="' + tail + b'"'
    return _LOCAL_TARGET.sub(basename, data)


def _rewrite_authors(data: bytes, pseudonyms: _Pseudonyms, removed: set[str]) -> bytes:
    before = data

    def name_attr(m: re.Match[bytes]) -> bytes:
        quote, value = m.group(2)[:1], m.group(2)[1:-1]
        return m.group(1) + b"=" + quote + pseudonyms(value) + quote

    def blank(replacement: bytes) -> Callable[[re.Match[bytes]], bytes]:
        def sub(m: re.Match[bytes]) -> bytes:
            quote = m.group(2)[:1]
            return m.group(1) + b"=" + quote + replacement + quote
        return sub

    for pattern in (_ATTR_NAME, _ATTR_PPT_NAME, _ATTR_DISPLAY):
        data = pattern.sub(name_attr, data)
    data = _XL_AUTHOR_ELEM.sub(lambda m: m.group(1) + pseudonyms(m.group(2)) + m.group(3), data)
    data = _ATTR_INITIALS.sub(blank(b"A"), data)
    data = _ATTR_USER_ID.sub(blank(b""), data)
    data = _ATTR_PROVIDER.sub(blank(b"None"), data)
    if data != before:
        removed.add("office_authors")
    path_free = _ABS_PATH.sub(blank(b""), data)
    if path_free != data:
        removed.add("office_abspath")
    return path_free
