"""Fixture files built in-process, each carrying MARKER where metadata would leak."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pikepdf
from PIL import Image, PngImagePlugin

MARKER = "Wh1stleLeakMarkerQ7"
MARKER_B = MARKER.encode()


def jpeg_bytes(size: tuple[int, int] = (60, 40), orientation: int = 6) -> bytes:
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste((30, 30, 200), (0, 0, size[0] // 2, size[1] // 4))  # marks the top-left corner
    exif = Image.Exif()
    exif[0x010E] = f"desc {MARKER}"   # ImageDescription
    exif[0x013B] = f"artist {MARKER}"  # Artist
    exif[0x0110] = "PhoneModel X"     # Model
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "S"
    gps[2] = (6.0, 10.0, 30.5)
    gps[3] = "E"
    gps[4] = (106.0, 49.0, 1.25)
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif.tobytes(), comment=f"comment {MARKER}",
            xmp=f"<x:xmpmeta>{MARKER}</x:xmpmeta>".encode())
    return buf.getvalue()


def png_bytes(size: tuple[int, int] = (30, 20)) -> bytes:
    im = Image.new("RGBA", size, (10, 200, 10, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", f"tEXt {MARKER}")
    info.add_itxt("Comment", f"iTXt {MARKER}")
    info.add_text("Software", "zzz " + MARKER, zip=True)
    exif = Image.Exif()
    exif[0x013B] = f"artist {MARKER}"
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=info, exif=exif.tobytes())
    return buf.getvalue()


def png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(
        ">I", zlib.crc32(ctype + data))


def png_bomb_bytes(side: int = 100_000) -> bytes:
    """Header claims side x side pixels; the (tiny) image data would inflate to gigabytes."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 65536, 9)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"tEXt", b"Author\x00" + MARKER_B) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def jpeg_bomb_bytes(side: int = 60_000) -> bytes:
    """A real JPEG whose SOF header is patched to claim side x side pixels."""
    data = bytearray(jpeg_bytes(orientation=1))
    i = data.find(b"\xff\xc0")
    assert i > 0
    data[i + 5:i + 9] = struct.pack(">HH", side, side)
    return bytes(data)


def pdf_bytes() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    page = pdf.pages[0]
    content = b"BT /F1 12 Tf 20 100 Td (Visible evidence text) Tj ET"
    page.obj["/Contents"] = pdf.make_stream(content)
    page.obj["/Resources"] = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)))
    page.obj["/Metadata"] = pdf.make_stream(f"<xmp>page {MARKER}</xmp>".encode())
    page.obj["/Annots"] = pdf.make_indirect(pikepdf.Array([pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[10, 10, 30, 30],
        T=pikepdf.String(f"annot {MARKER}"), Contents=pikepdf.String("note body"))]))
    image = pdf.make_stream(jpeg_bytes(orientation=1))
    image["/Type"], image["/Subtype"] = pikepdf.Name.XObject, pikepdf.Name.Image
    image["/Width"], image["/Height"] = 60, 40
    image["/ColorSpace"], image["/BitsPerComponent"] = pikepdf.Name.DeviceRGB, 8
    image["/Filter"] = pikepdf.Name.DCTDecode
    page.obj["/Resources"]["/XObject"] = pikepdf.Dictionary(Im1=image)
    pdf.docinfo["/Author"] = f"author {MARKER}"
    pdf.docinfo["/Producer"] = "SecretOffice 1.0"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [f"xmp {MARKER}"]
    buf = io.BytesIO()
    pdf.save(buf, compress_streams=False)
    return buf.getvalue()


_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
       'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
       '<Default Extension="jpeg" ContentType="image/jpeg"/>'
       '<Override PartName="/{main}" ContentType="{main_ct}"/>'
       '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
       'package.core-properties+xml"/>'
       '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-'
       'officedocument.extended-properties+xml"/>'
       '<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-'
       'officedocument.custom-properties+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/officeDocument" Target="{main}"/>'
         '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
         'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
         '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/extended-properties" Target="docProps/app.xml"/>'
         '<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>')
_CORE = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties '
         'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
         'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>' + MARKER +
         '</dc:creator><cp:lastModifiedBy>' + MARKER + '</cp:lastModifiedBy></cp:coreProperties>')
_APP = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://'
        'schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Company>' + MARKER
        + '</Company></Properties>')
_CUSTOM = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://'
           'schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://'
           'schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><property fmtid="{D5'
           'CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Owner"><vt:lpwstr>' + MARKER +
           '</vt:lpwstr></property></Properties>')
W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
DOC_XML = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W_NS}>'
           '<w:body><w:p><w:r><w:t>Hello evidence</w:t></w:r>'
           f'<w:ins w:id="1" w:author="{MARKER}" w:date="2024-01-01T00:00:00Z"><w:r><w:t>added'
           f'</w:t></w:r></w:ins><w:ins w:id="2" w:author="Other Person"><w:r><w:t>x</w:t>'
           '</w:r></w:ins></w:p></w:body></w:document>')
COMMENTS_XML = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:comments {W_NS}>'
                f'<w:comment w:id="0" w:author=\'{MARKER}\' w:initials="WM"><w:p><w:r><w:t>'
                'looks wrong</w:t></w:r></w:p></w:comment></w:comments>')
PEOPLE_XML = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w15:people xmlns:w15='
              '"http://schemas.microsoft.com/office/word/2012/wordml">'
              f'<w15:person w15:author="{MARKER}"><w15:presenceInfo w15:providerId="AD" '
              f'w15:userId="S::{MARKER}@example.org::1234"/></w15:person></w15:people>')
SETTINGS_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns='
                 '"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
                 'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                 'relationships/attachedTemplate" Target="file:///C:\\Users\\' + MARKER +
                 '\\AppData\\Normal.dotm" TargetMode="External"/></Relationships>')


def _zip(parts: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(zipfile.ZipInfo(name, (2024, 5, 6, 7, 8, 10)), data)
    return buf.getvalue()


def _common(main: str, main_ct: str) -> dict[str, bytes | str]:
    return {
        "[Content_Types].xml": _CT.replace("{main}", main).replace("{main_ct}", main_ct),
        "_rels/.rels": _RELS.replace("{main}", main),
        "docProps/core.xml": _CORE, "docProps/app.xml": _APP, "docProps/custom.xml": _CUSTOM,
    }


def docx_bytes() -> bytes:
    parts = _common("word/document.xml", "application/vnd.openxmlformats-officedocument."
                    "wordprocessingml.document.main+xml")
    parts.update({
        "word/document.xml": DOC_XML, "word/comments.xml": COMMENTS_XML,
        "word/people.xml": PEOPLE_XML, "word/_rels/settings.xml.rels": SETTINGS_RELS,
        "word/media/image1.jpeg": jpeg_bytes(),
    })
    return _zip(parts)


def xlsx_bytes() -> bytes:
    parts = _common("xl/workbook.xml", "application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet.main+xml")
    parts.update({
        "xl/workbook.xml": '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                           '2006/main"><fileSharing userName="' + MARKER + '"/><x15ac:absPath '
                           'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/'
                           '11/ac" url="C:\\Users\\' + MARKER + '\\Desktop\\"/><sheets/></workbook>',
        "xl/comments1.xml": '<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                            '2006/main"><authors><author>' + MARKER + '</author></authors>'
                            '<commentList/></comments>',
        "xl/worksheets/sheet1.xml": "<worksheet><sheetData>cell value 42</sheetData></worksheet>",
    })
    return _zip(parts)


def pptx_bytes() -> bytes:
    parts = _common("ppt/presentation.xml", "application/vnd.openxmlformats-officedocument."
                    "presentationml.presentation.main+xml")
    parts.update({
        "ppt/presentation.xml": "<p:presentation xmlns:p='urn:p'>slides</p:presentation>",
        "ppt/commentAuthors.xml": f'<p:cmAuthorLst xmlns:p="urn:p"><p:cmAuthor id="1" '
                                  f'name="{MARKER}" initials="WM" lastIdx="1" clrIdx="0"/>'
                                  '</p:cmAuthorLst>',
    })
    return _zip(parts)


def all_bytes(path: Path) -> bytes:
    """The file's bytes plus, for zips, every decompressed entry (so deflate can't hide)."""
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            data += b"".join(zf.read(n) for n in zf.namelist())
    elif data.startswith(b"%PDF"):
        try:
            pdf = pikepdf.open(path)
        except (pikepdf.PdfError, pikepdf.PasswordError):
            return data  # damaged or locked: the raw bytes are all there is
        with pdf:
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream):
                    try:
                        data += obj.read_bytes()
                    except pikepdf.PdfError:
                        data += obj.read_raw_bytes()
    return data
