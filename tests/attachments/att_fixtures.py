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


# -- files made the way mat2's test files are (its dirty.docx, dirty.jpg, dirty.png) ----------

def jfif_thumbnail_jpeg_bytes() -> bytes:
    """A JPEG whose JFIF APP0 carries a 3x3 thumbnail (holding MARKER), plus a JFXX segment."""
    data = jpeg_bytes(orientation=1)
    thumb = (MARKER_B + b"\x00" * 27)[:27]  # 3x3 RGB
    app0 = b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x03\x03" + thumb
    jfxx = b"JFXX\x00\x13" + b"\x03\x03" + (MARKER_B * 2)[:27]  # extension: 3x3 RGB thumb
    assert data[2:4] == b"\xff\xe0"  # Pillow writes its own JFIF APP0 first: replace it
    length = int.from_bytes(data[4:6], "big")
    rest = data[4 + length:]
    seg = b"\xff\xe0" + (len(app0) + 2).to_bytes(2, "big") + app0
    seg += b"\xff\xe0" + (len(jfxx) + 2).to_bytes(2, "big") + jfxx
    return data[:2] + seg + rest


def splt_png_bytes() -> bytes:
    """A PNG with a suggested palette (sPLT) whose free-text name is MARKER."""
    im = Image.new("RGB", (8, 8), (1, 2, 3))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    data = buf.getvalue()
    entry = bytes((1, 2, 3, 255)) + (10).to_bytes(2, "big")
    splt = png_chunk(b"sPLT", MARKER_B + b"\x00\x08" + entry)
    end_ihdr = 8 + 25
    return data[:end_ihdr] + splt + data[end_ihdr:]


def cgbi_png_bytes(raw_deflate: bool = True) -> bytes:
    """Apple's CgBI variant: an extra critical chunk first and (really) headerless deflate."""
    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 6, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes((9, 9, 9, 255)) * 4 for _ in range(4))
    if raw_deflate:
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        idat = comp.compress(rows) + comp.flush()
    else:
        idat = zlib.compress(rows)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"CgBI", b"\x50\x00\x20\x06")
            + png_chunk(b"IHDR", ihdr) + png_chunk(b"tEXt", b"Author\x00" + MARKER_B)
            + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


_R_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def _rels(*rels: tuple[str, str, str]) -> str:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{tg}"/>' for i, t, tg in rels)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="'
            f'http://schemas.openxmlformats.org/package/2006/relationships">{body}</Relationships>')


def _ct(main: str, main_ct: str, extra: str) -> str:
    return (_CT.replace("{main}", main).replace("{main_ct}", main_ct)
            .replace("</Types>", '<Default Extension="bin" ContentType="application/vnd.'
                     'openxmlformats-officedocument.wordprocessingml.printerSettings"/>'
                     + extra + "</Types>"))


_CUSTOMXML = {
    "customXml/item1.xml": f'<?xml version="1.0"?><p:properties xmlns:p="http://schemas.'
                           f'microsoft.com/office/2006/metadata/properties"><Editor>{MARKER}'
                           f'@intranet.example.go.id</Editor></p:properties>',
    "customXml/itemProps1.xml": '<?xml version="1.0"?><ds:datastoreItem ds:itemID="{6C1D}" '
                                'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/'
                                'customXml"/>',
    "customXml/_rels/item1.xml.rels": _rels(("rId1", _REL + "customXmlProps", "itemProps1.xml")),
}
_CUSTOMXML_CT = ('<Override PartName="/customXml/itemProps1.xml" ContentType="application/'
                 'vnd.openxmlformats-officedocument.customXmlProperties+xml"/>')
_LABEL = {"docMetadata/LabelInfo.xml": f'<?xml version="1.0"?><clbl:labelList xmlns:clbl="http:'
                                       f'//schemas.microsoft.com/office/2020/mipLabelMetadata">'
                                       f'<clbl:label id="{{1}}" siteId="{MARKER}"/></clbl:labelList>'}
_LABEL_CT = ('<Override PartName="/docMetadata/LabelInfo.xml" ContentType="application/vnd.ms-'
             'office.classificationlabels+xml"/>')
_PRINTER = MARKER.encode("utf-16-le") + b"\x00" * 64  # DEVMODE starts with the printer name


def _package_rels(main: str) -> str:
    return _rels(
        ("rId1", _REL + "officeDocument", main),
        ("rId2", "http://schemas.openxmlformats.org/package/2006/relationships/metadata/"
                 "core-properties", "docProps/core.xml"),
        ("rId3", _REL + "extended-properties", "docProps/app.xml"),
        ("rId4", _REL + "custom-properties", "docProps/custom.xml"),
        ("rId5", "http://schemas.openxmlformats.org/package/2006/relationships/metadata/"
                 "thumbnail", "docProps/thumbnail.jpeg"),
        ("rId6", "http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels",
         "docMetadata/LabelInfo.xml"))


def mat2_docx_bytes() -> bytes:
    """rsids, customXml, a thumbnail, printer settings, a sensitivity label, nsids, and dated
    comments and tracked changes, as in mat2's dirty.docx."""
    main = "word/document.xml"
    parts = _common(main, "application/vnd.openxmlformats-officedocument."
                    "wordprocessingml.document.main+xml")
    parts["[Content_Types].xml"] = _ct(main, "application/vnd.openxmlformats-officedocument."
                                       "wordprocessingml.document.main+xml",
                                       _CUSTOMXML_CT + _LABEL_CT)
    parts["_rels/.rels"] = _package_rels(main)
    parts.update(_CUSTOMXML)
    parts.update(_LABEL)
    parts.update({
        main: (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W_NS} '
               f'{_R_NS}><w:body><w:p w:rsidR="00A1B2C3" w:rsidRDefault="00D4E5F6" '
               'w:rsidP="00A1B2C3"><w:r w:rsidRPr="00112233"><w:t>Hello evidence</w:t></w:r>'
               f'<w:ins w:id="1" w:author="{MARKER}" w:date="2024-01-02T03:04:05Z"><w:r>'
               '<w:t>added</w:t></w:r></w:ins><w:del w:id="2" w:author="Other" w:date="2024-01-'
               '02T03:04:06Z"><w:r><w:delText>gone</w:delText></w:r></w:del></w:p>'
               '<w:p><w:r><w:t xml:space="preserve">text saying w:rsidR="00FFFFFF" stays</w:t>'
               '</w:r></w:p><w:sectPr w:rsidR="00A1B2C3"/></w:body></w:document>'),
        "word/comments.xml": (f'<?xml version="1.0"?><w:comments {W_NS}><w:comment w:id="0" '
                              f'w:author="{MARKER}" w:date="2024-01-02T03:04:07Z" w:initials="WM">'
                              '<w:p w:rsidR="00A1B2C3"><w:r><w:t>looks wrong</w:t></w:r></w:p>'
                              '</w:comment></w:comments>'),
        "word/settings.xml": (f'<?xml version="1.0"?><w:settings {W_NS}><w:zoom w:percent="100"/>'
                              '<w:rsids><w:rsidRoot w:val="00A1B2C3"/><w:rsid w:val="00A1B2C3"/>'
                              '<w:rsid w:val="00D4E5F6"/></w:rsids></w:settings>'),
        "word/numbering.xml": (f'<?xml version="1.0"?><w:numbering {W_NS}><w:abstractNum '
                               'w:abstractNumId="0"><w:nsid w:val="1A2B3C4D"/><w:lvl w:ilvl="0"/>'
                               '</w:abstractNum></w:numbering>'),
        "word/_rels/document.xml.rels": _rels(
            ("rId1", _REL + "customXml", "../customXml/item1.xml"),
            ("rId2", _REL + "settings", "settings.xml"),
            ("rId3", _REL + "printerSettings", "printerSettings/printerSettings1.bin"),
            ("rId4", _REL + "comments", "comments.xml"),
            ("rId5", _REL + "numbering", "numbering.xml")),
        "word/printerSettings/printerSettings1.bin": _PRINTER,
        "docProps/thumbnail.jpeg": jpeg_bytes(size=(16, 16)),
    })
    return _zip(parts)


def mat2_xlsx_bytes() -> bytes:
    """A sheet whose page set-up points (r:id) at printer settings naming the printer."""
    main = "xl/workbook.xml"
    parts = _common(main, "application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet.main+xml")
    parts["[Content_Types].xml"] = _ct(main, "application/vnd.openxmlformats-officedocument."
                                       "spreadsheetml.sheet.main+xml", _CUSTOMXML_CT)
    parts.update(_CUSTOMXML)
    parts.update({
        main: ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
               f'{_R_NS}><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": _rels(("rId1", _REL + "worksheet", "worksheets/sheet1.xml"),
                                            ("rId2", _REL + "customXml", "../customXml/item1.xml")),
        "xl/worksheets/sheet1.xml": ('<worksheet xmlns="http://schemas.openxmlformats.org/'
                                     f'spreadsheetml/2006/main" {_R_NS}><sheetData/><pageSetup '
                                     'paperSize="9" orientation="portrait" r:id="rId1"/>'
                                     '</worksheet>'),
        "xl/worksheets/_rels/sheet1.xml.rels": _rels(
            ("rId1", _REL + "printerSettings", "../printerSettings/printerSettings1.bin")),
        "xl/printerSettings/printerSettings1.bin": _PRINTER,
        "xl/threadedComments/threadedComment1.xml": (
            '<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/'
            'threadedcomments"><threadedComment ref="A1" dT="2024-01-02T03:04:05.00" personId='
            '"{P1}" id="{C1}"><text>note</text></threadedComment></ThreadedComments>'),
    })
    return _zip(parts)


def png_pixels_bomb_bytes(width: int, height: int) -> bytes:
    """A valid RGBA PNG of width x height that compresses to almost nothing (all zeros): tiny
    on the wire, 4 bytes a pixel once decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + 4 * width)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"tEXt", b"Author\x00" + MARKER_B) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))
