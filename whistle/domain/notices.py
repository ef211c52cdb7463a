"""What the reporter reads in their thread when a step is taken, in both languages.

Templates are filled by `workflow._render` from the action's parameters; a value is
substituted, never parsed, so braces typed by an officer are safe.  Placeholders:
``{message}`` ``{message_line}`` ``{external_ref}`` ``{reason}`` ``{consequence}``
``{kind}`` ``{category}`` ``{copy_detail}``.

Nothing here may name an officer, a team or a role code, and nothing about the reported
person beyond what the reporter wrote: the sanction, the statement of the reported person,
the telaah and the reasons for internal hand-offs stay with the handlers.
"""

from __future__ import annotations

from typing import Final

from whistle.domain.constants import DataRequestPolicy, Text

VERIFYING: Final = Text(
    "Laporan Anda sedang ditelaah oleh petugas verifikasi.",
    "An officer is now reviewing your report.",
)
REQUEST_DATA: Final = Text(
    "Kami memerlukan keterangan tambahan:\n{message}\nMohon balas sebelum batas waktu; "
    "{consequence}",
    "We need more information:\n{message}\nPlease reply before the deadline; {consequence}",
)
# What the reporter is told will happen without a reply, by the office's data-request policy.
CONSEQUENCE: Final[dict[DataRequestPolicy, Text]] = {
    DataRequestPolicy.SP4N_LAPOR: Text(
        "bila tidak ada jawaban, laporan akan diarsipkan.",
        "without a reply the report will be archived.",
    ),
    DataRequestPolicy.SIPUMA: Text(
        "bila tidak ada jawaban, laporan akan dinyatakan tidak dapat ditindaklanjuti.",
        "without a reply the report will be decided as one that cannot be followed up.",
    ),
}
DATA_RECEIVED: Final = Text(
    "Terima kasih, keterangan tambahan Anda telah diterima dan laporan kembali ditelaah.",
    "Thank you, we have received your additional information and are reviewing the report again.",
)
RECLASSIFIED: Final = Text(
    "Setelah ditelaah, laporan Anda dicatat sebagai: {kind}; {category}.",
    "After review, your report is recorded as: {kind}; {category}.",
)
TO_PYB: Final = Text(
    "Laporan Anda diteruskan kepada pejabat yang berwenang untuk ditindaklanjuti.",
    "Your report has been passed to the authorised official for follow-up.",
)
TO_UNIT: Final = Text(
    "Laporan Anda diteruskan kepada unit kerja terkait untuk ditindaklanjuti.",
    "Your report has been passed to the unit concerned for follow-up.",
)
REFERRED: Final = Text(
    "Laporan Anda berada di luar kewenangan kami dan telah diteruskan kepada instansi yang "
    "berwenang. Rujukan: {external_ref}",
    "Your report is outside our authority and has been passed to the competent agency. "
    "Reference: {external_ref}",
)
# Tembusan: the reporter learns that a copy went out, and to whom only if the officer says so.
COPIED: Final = Text(
    "Salinan laporan Anda disampaikan kepada instansi lain yang berwenang untuk koordinasi; "
    "laporan tetap kami tangani.{copy_detail}",
    "A copy of your report has been sent to another competent agency for coordination; we "
    "continue to handle the report.{copy_detail}",
)
COPY_DETAIL: Final = Text("\nInstansi: {agency}. Rujukan: {copy_ref}", "\nAgency: {agency}. Reference: {copy_ref}")
ANSWERED: Final = Text("Jawaban atas laporan Anda:\n{message}", "Our answer to your report:\n{message}")
NOT_FOLLOWABLE: Final = Text(
    "Laporan Anda tidak dapat ditindaklanjuti. Alasan: {reason}",
    "Your report cannot be followed up. Reason: {reason}",
)
RETURNED: Final = Text(
    "Laporan Anda dikembalikan kepada petugas verifikasi untuk ditelaah kembali dan diteruskan "
    "kepada pihak yang berwenang.",
    "Your report has gone back to the verification officer, to be reviewed again and passed to "
    "those responsible for it.",
)
INVESTIGATING: Final = Text(
    "Laporan Anda kini diperiksa oleh tim pemeriksa. Kami akan memberi kabar bila ada hasil.",
    "Your report is now being investigated by a review team. We will let you know the outcome.",
)
SUBSTANTIATED: Final = Text(
    "Pemeriksaan selesai: laporan Anda terbukti dan sanksi dijatuhkan sesuai ketentuan.",
    "The investigation is complete: your report was upheld and a sanction imposed under the rules.",
)
UNSUBSTANTIATED: Final = Text(
    "Pemeriksaan selesai: laporan Anda tidak terbukti. Laporan disimpan dan dapat digunakan "
    "kembali bila diperlukan.",
    "The investigation is complete: your report could not be confirmed. It is kept on file "
    "and can be used again if needed.",
)
CLOSED: Final = Text(
    "Penanganan laporan Anda telah selesai.{message_line}",
    "Handling of your report is complete.{message_line}",
)
AUTO_ARCHIVED: Final = Text(
    "Laporan Anda diarsipkan karena keterangan tambahan yang kami minta tidak diterima "
    "sampai batas waktu.",
    "Your report has been archived because the information we asked for did not arrive "
    "by the deadline.",
)
AUTO_NOT_FOLLOWABLE: Final = Text(
    "Laporan Anda tidak dapat ditindaklanjuti karena keterangan tambahan yang kami minta tidak "
    "diterima sampai batas waktu. Alasan: {reason}",
    "Your report cannot be followed up because the information we asked for did not arrive by "
    "the deadline. Reason: {reason}",
)
