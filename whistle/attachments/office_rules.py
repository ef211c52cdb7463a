"""Byte-level rewrites of OOXML parts, ported from mat2's Office rules.

Everything here edits bytes, never re-serialises XML: re-serialising renames namespace
prefixes, which breaks mc:Ignorable and makes Word refuse the file. Attribute edits are
confined to markup (``<...>``), so document text that happens to read ``rsidR="..."`` is
never touched.

What goes, and why (mat2, libmat2/office.py, is the reference):
- whole parts: ``customXml/`` (SharePoint properties: names, e-mails, internal URLs),
  ``docProps/thumbnail.*`` (a picture of the first page as last saved), printer settings
  (DEVMODE blobs naming the printer), ``docMetadata/`` (sensitivity labels with tenant ids);
  the relationships and content-type overrides that point at them, and the ``r:id``
  references to those relationships;
- revision session ids (``w:rsid*``, ``<w:rsids>``) and list ids (``<w:nsid>``): the same
  random ids appear in every copy edited in one session, which links a leaked copy to the
  others;
- the dates of comments and tracked changes; PowerPoint's per-slide ``p14:creationId``.
"""

from __future__ import annotations

import posixpath
import re
import secrets
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from xml.etree import ElementTree

MAX_RELS_SIZE = 8 << 20  # a relationships part bigger than this is not a real one

# part-name pattern -> removed-code
_DROP_PARTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^customXml/"), "office_customxml"),
    (re.compile(r"^docProps/thumbnail\.[^/]+$"), "office_thumbnail"),
    (re.compile(r"^(?:word|xl|ppt)/printerSettings/"), "office_printer"),
    (re.compile(r"^docMetadata/"), "office_label"),
)

_TAG = re.compile(rb"<[^<>]*>")
_Q = rb'(?:"[^"]*"|\'[^\']*\')'
_RSID_ATTR = re.compile(rb"\s(?:[\w.-]+:)?rsid\w*=" + _Q)
_RSIDS_ELEM = re.compile(rb"<((?:[\w.-]+:)?)rsids\b[^>]*?(?:/>|>.*?</\1rsids\s*>)", re.S)
_NSID_ELEM = re.compile(rb"<(?:[\w.-]+:)?nsid\b[^>]*/>")
# Optional date attributes of comments and tracked changes (Word, Excel, PowerPoint).
_DATE_ATTR = re.compile(rb"\s(?:[\w.-]+:)?(?:date|dateUtc|dt|dT|created)=" + _Q)
# Excel's revision headers require their dateTime: it gets a fixed value instead.
_DATETIME_ATTR = re.compile(rb"(\s(?:[\w.-]+:)?dateTime)=" + _Q)
_FIXED_DATETIME = b'"1980-01-01T00:00:00Z"'
_CREATION_ID = re.compile(rb"(<(?:[\w.-]+:)?creationId\b[^>]*?\sval=)" + _Q)
_OVERRIDE = re.compile(rb"<(?:[\w.-]+:)?Override\b[^>]*?/>")
_RELATIONSHIP = re.compile(
    rb"<((?:[\w.-]+:)?)Relationship\b[^>]*?(?:/>|>.*?</\1Relationship\s*>)", re.S)

RSID_PARTS = re.compile(r"^word/.+\.xml$")
DATE_PARTS = re.compile(
    r"^(word/[^/]+\.xml|xl/comments[^/]*\.xml|xl/threadedComments/[^/]+\.xml"
    r"|xl/revisions/[^/]+\.xml|ppt/comments/[^/]+\.xml)$")
SLIDE_PARTS = re.compile(r"^ppt/slides/[^/]+\.xml$")


def drop_code(name: str) -> str | None:
    """The removed-code when a whole part goes, else None."""
    for pattern, code in _DROP_PARTS:
        if pattern.match(name):
            return code
    return None


@dataclass
class Plan:
    """What the whole package loses: parts, and relationships pointing at them."""

    dropped: dict[str, str] = field(default_factory=dict)        # part name -> removed-code
    rels_ids: dict[str, set[bytes]] = field(default_factory=dict)  # .rels part -> Ids to drop
    source_ids: dict[str, set[bytes]] = field(default_factory=dict)  # part -> r:ids to unlink


def plan(zin: zipfile.ZipFile, infos: Iterable[zipfile.ZipInfo]) -> Plan:
    infos = list(infos)
    result = Plan()
    for info in infos:
        code = drop_code(info.filename)
        if code is not None:
            result.dropped[info.filename] = code
    if not result.dropped:
        return result
    for info in infos:
        name = info.filename
        if not name.endswith(".rels") or name in result.dropped:
            continue
        if info.file_size > MAX_RELS_SIZE:
            continue  # left as is; the copy is still a valid package, just less tidy
        ids = _ids_to_dropped(zin.read(info), rels_source(name), result.dropped)
        if ids:
            result.rels_ids[name] = ids
            result.source_ids[rels_source(name)] = ids
    return result


def rels_source(rels_name: str) -> str:
    """'word/_rels/document.xml.rels' -> 'word/document.xml'; '_rels/.rels' -> ''."""
    folder, base = posixpath.split(rels_name)
    parent = posixpath.dirname(folder)
    source = base[: -len(".rels")]
    return posixpath.join(parent, source) if source else ""


def _ids_to_dropped(data: bytes, source: str, dropped: dict[str, str]) -> set[bytes]:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return set()
    base = posixpath.dirname(source)
    ids: set[bytes] = set()
    for rel in root:
        target, rid = rel.get("Target", ""), rel.get("Id", "")
        if not target or not rid or rel.get("TargetMode") == "External":
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(base, target))
        if path in dropped:
            ids.add(rid.encode())
    return ids


def _in_tags(data: bytes, edit: Callable[[bytes], bytes]) -> bytes:
    return _TAG.sub(lambda m: edit(m.group(0)), data)


def _attr_value(tag: bytes, name: bytes) -> bytes | None:
    m = re.search(rb"\s" + name + rb"=(\"[^\"]*\"|'[^']*')", tag)
    return m.group(1)[1:-1] if m else None


def strip_content_types(data: bytes, dropped: dict[str, str]) -> bytes:
    names = {("/" + n).encode() for n in dropped}

    def keep(m: re.Match[bytes]) -> bytes:
        return b"" if _attr_value(m.group(0), b"PartName") in names else m.group(0)
    return _OVERRIDE.sub(keep, data)


def strip_relationships(data: bytes, ids: set[bytes]) -> bytes:
    def keep(m: re.Match[bytes]) -> bytes:
        return b"" if _attr_value(m.group(0), b"Id") in ids else m.group(0)
    return _RELATIONSHIP.sub(keep, data)


def unlink_ids(data: bytes, ids: set[bytes]) -> bytes:
    """Drop ``r:id="rIdN"`` references to relationships that no longer exist."""
    alternatives = b"|".join(re.escape(i) for i in sorted(ids))
    pattern = re.compile(rb"\s[\w.-]+:id=(?:\"(?:" + alternatives + rb")\"|'(?:"
                         + alternatives + rb")')")
    return _in_tags(data, lambda tag: pattern.sub(b"", tag))


def strip_rsids(data: bytes) -> bytes:
    data = _RSIDS_ELEM.sub(b"", data)
    data = _NSID_ELEM.sub(b"", data)
    return _in_tags(data, lambda tag: _RSID_ATTR.sub(b"", tag))


def strip_dates(data: bytes) -> bytes:
    def edit(tag: bytes) -> bytes:
        tag = _DATE_ATTR.sub(b"", tag)
        return _DATETIME_ATTR.sub(lambda m: m.group(1) + b"=" + _FIXED_DATETIME, tag)
    return _in_tags(data, edit)


def new_creation_ids(data: bytes) -> bytes:
    """Fresh random slide creation ids (as mat2 does): the old ones link copies together."""
    return _CREATION_ID.sub(
        lambda m: m.group(1) + b'"%d"' % (secrets.randbelow(2**31 - 1) + 1), data)
