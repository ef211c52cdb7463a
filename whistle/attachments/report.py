"""CleanReport: what cleaning did and did not do, with messages for the reporter (id/en).

Findings are stored as stable codes (not sentences) so that a report saved in an attachment's
encrypted metadata can be shown later in whichever language the reader uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .sniff import FileKind

Lang = str  # "id" or "en"; anything else falls back to Indonesian, the service's default

_KIND_LABELS: dict[FileKind, dict[Lang, str]] = {
    FileKind.JPEG: {"id": "gambar JPEG", "en": "JPEG image"},
    FileKind.PNG: {"id": "gambar PNG", "en": "PNG image"},
    FileKind.PDF: {"id": "dokumen PDF", "en": "PDF document"},
    FileKind.DOCX: {"id": "dokumen Word (DOCX)", "en": "Word document (DOCX)"},
    FileKind.XLSX: {"id": "lembar kerja Excel (XLSX)", "en": "Excel workbook (XLSX)"},
    FileKind.PPTX: {"id": "presentasi PowerPoint (PPTX)", "en": "PowerPoint presentation (PPTX)"},
    FileKind.OTHER: {"id": "jenis tidak dikenal", "en": "unknown type"},
}

# What was removed.
REMOVED: dict[str, dict[Lang, str]] = {
    "image_reencoded": {
        "id": "gambar disusun ulang dari pikselnya, sehingga semua metadata tertanam terbuang",
        "en": "image re-encoded from its pixels, so all embedded metadata was dropped"},
    "image_stripped": {
        "id": "blok metadata dihapus tanpa menyusun ulang gambar",
        "en": "metadata blocks removed without re-encoding the image"},
    "exif": {"id": "EXIF (kamera, tanggal, pengaturan)", "en": "EXIF (camera, date, settings)"},
    "exif_gps": {"id": "EXIF termasuk lokasi GPS", "en": "EXIF incl. GPS location"},
    "xmp": {"id": "metadata XMP", "en": "XMP"},
    "iptc": {"id": "data IPTC/Photoshop", "en": "IPTC/Photoshop data"},
    "jpeg_comment": {"id": "komentar JPEG", "en": "JPEG comment"},
    "icc": {"id": "profil warna (ICC)", "en": "colour profile (ICC)"},
    "jpeg_extra_images": {
        "id": "gambar pratinjau/sekunder tertanam dan data tambahan di akhir berkas",
        "en": "embedded preview/secondary images and data appended after the image"},
    "png_text": {"id": "chunk teks PNG", "en": "PNG text chunks"},
    "png_time": {"id": "waktu perubahan PNG", "en": "PNG modification time"},
    "png_other": {"id": "chunk tambahan PNG lain", "en": "other ancillary PNG chunks"},
    "pdf_info": {
        "id": "info dokumen PDF (penulis, judul, perangkat lunak, tanggal)",
        "en": "PDF document info (author, title, software, dates)"},
    "pdf_xmp": {"id": "metadata XMP PDF", "en": "PDF XMP metadata"},
    "pdf_object_xmp": {
        "id": "metadata XMP pada halaman, gambar, atau objek lain",
        "en": "XMP metadata attached to pages, images or other objects"},
    "pdf_piece_info": {
        "id": "data pribadi aplikasi (PieceInfo)", "en": "application private data (PieceInfo)"},
    "pdf_annot_authors": {
        "id": "nama penulis pada komentar/anotasi", "en": "author names on comments/annotations"},
    "pdf_image_meta": {
        "id": "metadata di dalam gambar JPEG yang tertanam (EXIF, GPS, XMP)",
        "en": "metadata inside embedded JPEG images (EXIF, GPS, XMP)"},
    "pdf_id": {"id": "pengenal dokumen", "en": "document identifier"},
    "pdf_rewritten": {
        "id": "dokumen ditulis ulang: versi simpanan sebelumnya dan objek tak terpakai dibuang",
        "en": "document rewritten: earlier saved versions and unused objects were dropped"},
    "office_core": {
        "id": "properti inti Office (penulis, terakhir diubah oleh, judul, tanggal)",
        "en": "Office core properties (author, last modified by, title, dates)"},
    "office_app": {
        "id": "properti aplikasi Office (perusahaan, perangkat lunak, templat, lama penyuntingan)",
        "en": "Office app properties (company, software, template, editing time)"},
    "office_custom": {"id": "properti kustom Office", "en": "Office custom properties"},
    "office_authors": {
        "id": "nama penulis komentar dan pelacakan perubahan (diganti Author 1, Author 2, ...)",
        "en": "names of comment and tracked-change authors (replaced by Author 1, Author 2, ...)"},
    "office_abspath": {
        "id": "jalur folder tempat berkas disimpan", "en": "the folder path the file was saved from"},
    "office_media_meta": {
        "id": "metadata di dalam gambar JPEG/PNG yang tertanam",
        "en": "metadata inside embedded JPEG/PNG pictures"},
    "zip_timestamps": {
        "id": "tanggal berkas di dalam paket dokumen", "en": "file dates inside the document package"},
    "jpeg_thumbnail": {
        "id": "gambar mini (thumbnail) tertanam, yang dapat memperlihatkan bagian yang dipotong",
        "en": "embedded thumbnail picture, which can show what was cropped out"},
    "png_palette_name": {
        "id": "nama palet warna PNG (teks bebas)", "en": "PNG palette name (free text)"},
    "office_rsid": {
        "id": "kode sesi penyuntingan (rsid) yang menghubungkan salinan yang disunting bersama",
        "en": "editing-session ids (rsid) that link copies edited together"},
    "office_customxml": {
        "id": "data XML kustom (properti SharePoint: nama, e-mail, alamat intranet)",
        "en": "custom XML data (SharePoint properties: names, e-mails, intranet addresses)"},
    "office_thumbnail": {
        "id": "gambar pratinjau halaman pertama", "en": "preview picture of the first page"},
    "office_printer": {
        "id": "pengaturan printer (nama printer dan perangkat)",
        "en": "printer settings (printer and device names)"},
    "office_label": {
        "id": "label sensitivitas (pengenal organisasi)",
        "en": "sensitivity label (organisation identifiers)"},
    "office_dates": {
        "id": "tanggal komentar dan pelacakan perubahan", "en": "dates of comments and tracked changes"},
}

# What could not be cleaned, and why.
NOTES: dict[str, dict[Lang, str]] = {
    "unknown_type": {
        "id": "jenis tidak dikenal: disimpan apa adanya, mungkin berisi metadata "
              "(penulis, perangkat, lokasi)",
        "en": "unknown type: stored as is, may contain metadata (author, device, location)"},
    "damaged": {
        "id": "tidak dapat dibersihkan: berkas tampaknya rusak; disimpan apa adanya",
        "en": "could not be cleaned: file appears damaged; stored as is"},
    "too_large": {
        "id": "tidak dapat dibersihkan: terlalu besar untuk diproses dengan aman; "
              "disimpan apa adanya",
        "en": "could not be cleaned: too large to process safely; stored as is"},
    "encrypted_pdf": {
        "id": "tidak dapat dibersihkan: PDF dilindungi kata sandi; disimpan apa adanya",
        "en": "could not be cleaned: the PDF is password-protected; stored as is"},
    "image_content": {
        "id": "isi gambar yang terlihat tidak diubah: wajah, layar, pantulan, tempat, atau "
              "dokumen di dalamnya masih dapat mengenali orang atau lokasi",
        "en": "the visible picture is not changed: faces, screens, reflections, places or "
              "documents in it can still identify people or locations"},
    "image_not_reencoded": {
        "id": "gambar terlalu besar atau beranimasi sehingga tidak disusun ulang; "
              "data piksel tidak diperiksa",
        "en": "image too large or animated to re-encode; the pixel data was not inspected"},
    "pdf_content": {
        "id": "PDF: teks dan gambar di dalam dokumen tidak diperiksa (nama, tanda tangan, "
              "kop surat, stempel, lapisan tersembunyi)",
        "en": "PDF: text and images inside the document are not inspected (names, signatures, "
              "letterheads, stamps, hidden layers)"},
    "pdf_embedded_files": {
        "id": "PDF: berkas yang dilampirkan di dalam PDF tidak dibersihkan",
        "en": "PDF: files attached inside the PDF are not cleaned"},
    "office_content": {
        "id": "Office: teks, isi komentar, pelacakan perubahan (termasuk teks yang dihapus), "
              "lembar/slide tersembunyi, dan catatan pembicara tidak diperiksa",
        "en": "Office: the text, comment text, tracked changes (including deleted text), "
              "hidden sheets/slides and speaker notes are not inspected"},
    "office_other_media": {
        "id": "Office: objek dan media tertanam selain gambar JPEG/PNG tidak dibersihkan",
        "en": "Office: embedded objects and media other than JPEG/PNG pictures are not cleaned"},
    "office_part_too_large": {
        "id": "Office: sebagian isi terlalu besar untuk diperiksa dan disimpan apa adanya",
        "en": "Office: some parts were too large to check and were kept as they were"},
    "embedded_image_uncleaned": {
        "id": "sebagian gambar tertanam tidak dapat dibersihkan dan disimpan apa adanya "
              "(mungkin berisi data kamera atau lokasi)",
        "en": "some embedded pictures could not be cleaned and were kept as they were (they may "
              "carry camera or location data)"},
    "png_unknown_chunk": {
        "id": "tidak dapat dibersihkan: PNG memakai format tidak baku (misalnya CgBI dari "
              "Apple); disimpan apa adanya",
        "en": "could not be cleaned: the PNG uses a non-standard format (such as Apple's CgBI); "
              "stored as is"},
    "clean_limit": {
        "id": "tidak dapat dibersihkan: pembersihan melampaui batas memori atau waktu server; "
              "disimpan terenkripsi apa adanya",
        "en": "could not be cleaned: cleaning went past the server's memory or time limit; "
              "stored encrypted as is"},
    "declared_mismatch": {
        "id": "nama atau jenis berkas tidak sesuai dengan isinya; berkas diperlakukan "
              "menurut isinya",
        "en": "the file name or type does not match its content; it was handled by its content"},
}

_TEXT: dict[str, dict[Lang, str]] = {
    "type": {"id": "Jenis terdeteksi", "en": "Detected type"},
    "cleaned": {"id": "Metadata dibersihkan.", "en": "Metadata was cleaned."},
    "not_cleaned": {"id": "Metadata TIDAK dibersihkan.", "en": "Metadata was NOT cleaned."},
    "removed": {"id": "Dihapus", "en": "Removed"},
    "limits": {"id": "Tidak dibersihkan", "en": "Not cleaned"},
}


def _t(table: dict[str, dict[Lang, str]], code: str, lang: Lang) -> str:
    entry = table.get(code)
    if entry is None:
        return code  # an unknown code from a newer version: show it rather than hide it
    return entry.get(lang) or entry["id"]


@dataclass(frozen=True)
class CleanReport:
    kind: FileKind
    cleaned: bool
    removed: tuple[str, ...] = ()   # codes from REMOVED
    notes: tuple[str, ...] = ()     # codes from NOTES: what was not cleaned and why

    def removed_labels(self, lang: Lang = "id") -> list[str]:
        return [_t(REMOVED, c, lang) for c in self.removed]

    def note_labels(self, lang: Lang = "id") -> list[str]:
        return [_t(NOTES, c, lang) for c in self.notes]

    def kind_label(self, lang: Lang = "id") -> str:
        labels = _KIND_LABELS[self.kind]
        return labels.get(lang) or labels["id"]

    def summary(self, lang: Lang = "id") -> str:
        lines = [f"{_t(_TEXT, 'type', lang)}: {self.kind_label(lang)}.",
                 _t(_TEXT, "cleaned" if self.cleaned else "not_cleaned", lang)]
        if self.removed:
            lines.append(f"{_t(_TEXT, 'removed', lang)}:")
            lines += [f"- {s}" for s in self.removed_labels(lang)]
        if self.notes:
            lines.append(f"{_t(_TEXT, 'limits', lang)}:")
            lines += [f"- {s}" for s in self.note_labels(lang)]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the attachment's encrypted metadata."""
        return {"kind": self.kind.value, "cleaned": self.cleaned,
                "removed": list(self.removed), "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CleanReport":
        return cls(kind=FileKind(data["kind"]), cleaned=bool(data["cleaned"]),
                   removed=tuple(data.get("removed", ())), notes=tuple(data.get("notes", ())))
