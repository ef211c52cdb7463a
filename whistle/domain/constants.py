"""Stable codes of the domain and their bilingual labels.

The enum *values* are stored in the database and must never change; the labels may be
reworded freely.  Indonesian ("id") is the primary language: an unknown or missing language
falls back to it, because the service is for Indonesian public bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum, StrEnum
from typing import Final, TypeAlias

LANGS: Final = ("id", "en")
DEFAULT_LANG: Final = "id"


def normalise_lang(lang: str | None) -> str:
    """Map "id", "id-ID", "in" (old ISO code), "en-GB"... to "id" or "en"; else Indonesian."""
    if not lang:
        return DEFAULT_LANG
    base = lang.strip().lower().replace("_", "-").split("-", 1)[0]
    if base == "in":
        base = "id"
    return base if base in LANGS else DEFAULT_LANG


@dataclass(frozen=True, slots=True)
class Text:
    """One sentence or label in both languages."""

    id: str
    en: str

    def get(self, lang: str | None = DEFAULT_LANG) -> str:
        return self.en if normalise_lang(lang) == "en" else self.id


class Status(StrEnum):
    RECEIVED = "received"
    VERIFICATION = "verification"
    AWAITING_DATA = "awaiting_data"
    FORWARDED_PYB = "forwarded_pyb"
    FORWARDED_UNIT = "forwarded_unit"
    REFERRED_EXTERNAL = "referred_external"
    ANSWERED = "answered"
    INVESTIGATION = "investigation"
    SUBSTANTIATED = "substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    NOT_FOLLOWABLE = "not_followable"
    CLOSED = "closed"
    ARCHIVED = "archived"


class Kind(StrEnum):
    COMPLAINT = "complaint"
    WHISTLEBLOWING = "whistleblowing"
    ASPIRATION = "aspiration"
    INFORMATION_REQUEST = "information_request"


class Category(StrEnum):
    """The eight kinds of reported acts listed in the SOPs (order as in the SOPs)."""

    ETHICS_CODE = "ethics_code"
    ABUSE_OF_AUTHORITY = "abuse_of_authority"
    OATH_BREACH = "oath_breach"
    DISCIPLINE_BREACH = "discipline_breach"
    DISGRACEFUL_CONDUCT = "disgraceful_conduct"
    LAW_VIOLATION = "law_violation"
    MALADMINISTRATION = "maladministration"
    POOR_PUBLIC_SERVICE = "poor_public_service"


class Channel(StrEnum):
    WEB = "web"
    PHONE = "phone"
    LETTER = "letter"
    COMPLAINT_BOX = "complaint_box"
    FAX = "fax"
    SMS = "sms"
    EMAIL = "email"
    IN_PERSON = "in_person"
    SOCIAL_MEDIA = "social_media"  # NTT SOP: Facebook and Instagram of the office
    OTHER_OFFICIAL = "other_official"  # SIPUMA: "saluran pengaduan resmi lainnya"


class Role(StrEnum):
    """Officer roles (accounts).  The reporter and the system are `Party`, not roles."""

    PENERIMA = "penerima"
    VERIFIKATOR = "verifikator"
    PYB = "pyb"
    PENGKAJI = "pengkaji"
    UKI = "uki"
    ADMIN = "admin"
    AUDITOR = "auditor"


class Party(StrEnum):
    """Actors without an officer account: the ticket holder and the scheduled sweep."""

    REPORTER = "reporter"
    SYSTEM = "system"


Actor: TypeAlias = Role | Party
ALL_ACTORS: Final[tuple[Actor, ...]] = (*Role, *Party)


class InvestigationTier(IntEnum):
    """Investigation deadline tiers; the value is the number of working days (SOP SP4N-LAPOR!)."""

    NORMATIVE = 5
    NO_OVERSIGHT_CONTENT = 14
    FIELD_EXAMINATION = 60


class Classification(StrEnum):
    """The telaah's finding (SP4N-LAPOR! b): a dispute between parties, or an indication that a
    rule was broken.  Plain metadata: statistics count it."""

    DISPUTE = "dispute"
    VIOLATION = "violation"


class DataRequestPolicy(StrEnum):
    """What happens when the reporter does not send the data the verifikator asked for.

    SP4N-LAPOR! (k): 10 working days, then the report is archived.  SIPUMA (verification 6):
    14 calendar days, then the report is decided "not followable", the reason shown."""

    SP4N_LAPOR = "sp4n_lapor"
    SIPUMA = "sipuma"


class OfficeZone(StrEnum):
    """The three time zones of Indonesia; the value is the IANA zone the service counts in."""

    WIB = "Asia/Jakarta"
    WITA = "Asia/Makassar"
    WIT = "Asia/Jayapura"


class NotFollowableReason(StrEnum):
    UNCLEAR_NOT_CLARIFIED = "unclear_not_clarified"
    OFFICIAL_UNKNOWN = "official_unknown"
    OFFICIAL_RETIRED = "official_retired"
    OFFICIAL_DECEASED = "official_deceased"
    OTHER = "other"


_BASE_LABELS: dict[Enum, Text] = {
    Status.RECEIVED: Text("Diterima", "Received"),
    Status.VERIFICATION: Text("Dalam verifikasi", "Being verified"),
    Status.AWAITING_DATA: Text("Menunggu kelengkapan data", "Awaiting further information"),
    Status.FORWARDED_PYB: Text("Diteruskan ke pejabat berwenang", "Forwarded to the authorised official"),
    Status.FORWARDED_UNIT: Text("Diteruskan ke unit terkait", "Forwarded to the unit concerned"),
    Status.REFERRED_EXTERNAL: Text("Diteruskan ke instansi lain", "Referred to another agency"),
    Status.ANSWERED: Text("Dijawab", "Answered"),
    Status.INVESTIGATION: Text("Dalam pemeriksaan", "Under investigation"),
    Status.SUBSTANTIATED: Text("Terbukti", "Substantiated"),
    Status.UNSUBSTANTIATED: Text("Tidak terbukti", "Not substantiated"),
    Status.NOT_FOLLOWABLE: Text("Tidak dapat ditindaklanjuti", "Cannot be followed up"),
    Status.CLOSED: Text("Selesai", "Closed"),
    Status.ARCHIVED: Text("Diarsipkan", "Archived"),
    Kind.COMPLAINT: Text("Pengaduan", "Complaint"),
    Kind.WHISTLEBLOWING: Text("Laporan pelanggaran (whistleblowing)", "Whistleblowing report"),
    Kind.ASPIRATION: Text("Aspirasi", "Aspiration"),
    Kind.INFORMATION_REQUEST: Text("Permintaan informasi", "Information request"),
    Category.ETHICS_CODE: Text(
        "Pelanggaran kode etik dan/atau pedoman perilaku ASN",
        "Violation of the civil-service code of ethics or conduct",
    ),
    Category.ABUSE_OF_AUTHORITY: Text("Penyalahgunaan wewenang/jabatan", "Abuse of authority or position"),
    Category.OATH_BREACH: Text("Pelanggaran sumpah jabatan", "Breach of the oath of office"),
    Category.DISCIPLINE_BREACH: Text(
        "Pelanggaran peraturan disiplin PNS", "Breach of civil-servant discipline rules"
    ),
    Category.DISGRACEFUL_CONDUCT: Text("Perbuatan tercela", "Disgraceful conduct"),
    Category.LAW_VIOLATION: Text("Pelanggaran hukum", "Violation of the law"),
    Category.MALADMINISTRATION: Text("Maladministrasi", "Maladministration"),
    Category.POOR_PUBLIC_SERVICE: Text(
        "Pelayanan publik yang tidak memuaskan", "Unsatisfactory public service"
    ),
    Channel.WEB: Text("Situs web", "Website"),
    Channel.PHONE: Text("Telepon", "Telephone"),
    Channel.LETTER: Text("Surat", "Letter"),
    Channel.COMPLAINT_BOX: Text("Kotak pengaduan", "Complaint box"),
    Channel.FAX: Text("Faksimili", "Fax"),
    Channel.SMS: Text("SMS", "SMS"),
    Channel.EMAIL: Text("Surat elektronik (e-mail)", "E-mail"),
    Channel.IN_PERSON: Text("Datang langsung", "In person"),
    Channel.SOCIAL_MEDIA: Text("Media sosial (Facebook, Instagram)", "Social media (Facebook, Instagram)"),
    Channel.OTHER_OFFICIAL: Text("Saluran pengaduan resmi lainnya", "Other official channel"),
    Classification.DISPUTE: Text("Sengketa", "Dispute"),
    Classification.VIOLATION: Text(
        "Indikasi pelanggaran terhadap peraturan", "Indication of a violation of the rules"
    ),
    DataRequestPolicy.SP4N_LAPOR: Text(
        "SP4N-LAPOR!: 10 hari kerja, lalu diarsipkan", "SP4N-LAPOR!: 10 working days, then archived"
    ),
    DataRequestPolicy.SIPUMA: Text(
        "SIPUMA: 14 hari kalender, lalu tidak dapat ditindaklanjuti",
        "SIPUMA: 14 calendar days, then not followable",
    ),
    OfficeZone.WIB: Text("WIB (Waktu Indonesia Barat, UTC+7)", "WIB (Western Indonesia Time, UTC+7)"),
    OfficeZone.WITA: Text("WITA (Waktu Indonesia Tengah, UTC+8)", "WITA (Central Indonesia Time, UTC+8)"),
    OfficeZone.WIT: Text("WIT (Waktu Indonesia Timur, UTC+9)", "WIT (Eastern Indonesia Time, UTC+9)"),
    Role.PENERIMA: Text("Penerima pengaduan", "Intake officer"),
    Role.VERIFIKATOR: Text("Verifikator", "Verifier"),
    Role.PYB: Text("Pejabat yang berwenang (PYB)", "Authorised official"),
    Role.PENGKAJI: Text("Pengkaji", "Investigator"),
    Role.UKI: Text("Unit Kepatuhan Internal (UKI)", "Internal compliance officer"),
    Role.ADMIN: Text("Administrator sistem", "System administrator"),
    Role.AUDITOR: Text("Auditor", "Auditor"),
    Party.REPORTER: Text("Pelapor", "Reporter"),
    Party.SYSTEM: Text("Sistem", "System"),
    InvestigationTier.NORMATIVE: Text("Normatif (5 hari kerja)", "Normative (5 working days)"),
    InvestigationTier.NO_OVERSIGHT_CONTENT: Text(
        "Tidak berkadar pengawasan (14 hari kerja)", "No oversight content (14 working days)"
    ),
    InvestigationTier.FIELD_EXAMINATION: Text(
        "Berkadar pengawasan, pemeriksaan lapangan (60 hari kerja)",
        "Oversight with field examination (60 working days)",
    ),
    NotFollowableReason.UNCLEAR_NOT_CLARIFIED: Text(
        "Materi pengaduan tidak jelas dan tidak dapat diperjelas",
        "The report was unclear and could not be clarified",
    ),
    NotFollowableReason.OFFICIAL_UNKNOWN: Text(
        "Pejabat atau pegawai yang dilaporkan tidak jelas",
        "The official reported could not be identified",
    ),
    NotFollowableReason.OFFICIAL_RETIRED: Text(
        "Pejabat atau pegawai yang dilaporkan telah pensiun",
        "The official reported has retired",
    ),
    NotFollowableReason.OFFICIAL_DECEASED: Text(
        "Pejabat atau pegawai yang dilaporkan telah meninggal dunia",
        "The official reported has died",
    ),
    NotFollowableReason.OTHER: Text("Alasan lain", "Other reason"),
}

# What the status means for the reporter, in plain words (shown next to the label).
_MEANINGS: dict[Status, Text] = {
    Status.RECEIVED: Text(
        "Laporan Anda sudah kami terima dan akan segera diperiksa kelengkapannya.",
        "We have received your report and will soon check that it is complete.",
    ),
    Status.VERIFICATION: Text(
        "Petugas sedang menelaah laporan Anda: apa, siapa, kapan, di mana, dan bagaimana kejadiannya.",
        "An officer is reviewing your report: what happened, who, when, where and how.",
    ),
    Status.AWAITING_DATA: Text(
        "Kami memerlukan keterangan tambahan dari Anda; mohon balas pesan kami sebelum batas waktu.",
        "We need more information from you; please reply to our message before the deadline.",
    ),
    Status.FORWARDED_PYB: Text(
        "Laporan Anda diteruskan kepada pejabat yang berwenang untuk memutuskan tindak lanjutnya.",
        "Your report has been passed to the authorised official, who decides how to follow it up.",
    ),
    Status.FORWARDED_UNIT: Text(
        "Laporan Anda diteruskan kepada unit kerja yang menangani urusan tersebut.",
        "Your report has been passed to the unit responsible for the matter.",
    ),
    Status.REFERRED_EXTERNAL: Text(
        "Laporan Anda di luar kewenangan kami dan telah diteruskan kepada instansi yang berwenang.",
        "Your report is outside our authority and has been passed to the agency that can handle it.",
    ),
    Status.ANSWERED: Text(
        "Kami telah menjawab laporan Anda; silakan baca jawaban kami.",
        "We have answered your report; please read our reply.",
    ),
    Status.INVESTIGATION: Text(
        "Laporan Anda sedang diperiksa oleh tim pemeriksa.",
        "Your report is being investigated by a review team.",
    ),
    Status.SUBSTANTIATED: Text(
        "Hasil pemeriksaan membuktikan laporan Anda dan sanksi telah dijatuhkan sesuai ketentuan.",
        "The investigation upheld your report and a sanction has been imposed under the rules.",
    ),
    Status.UNSUBSTANTIATED: Text(
        "Hasil pemeriksaan tidak membuktikan laporan Anda; laporan disimpan dan dapat dibuka kembali bila diperlukan.",
        "The investigation could not confirm your report; it is kept on file and can be used again if needed.",
    ),
    Status.NOT_FOLLOWABLE: Text(
        "Laporan Anda tidak dapat ditindaklanjuti; alasannya tertera pada pesan kami.",
        "Your report cannot be followed up; our message gives the reason.",
    ),
    Status.CLOSED: Text(
        "Penanganan laporan Anda telah selesai dan hasilnya telah kami sampaikan.",
        "Handling of your report is complete and we have told you the outcome.",
    ),
    Status.ARCHIVED: Text(
        "Laporan Anda telah diarsipkan dan tidak dapat diubah lagi.",
        "Your report has been archived and can no longer be changed.",
    ),
}


# Keyed by (enum class, value): StrEnum members compare equal to their string, so a bare
# member key would let Action.NOT_FOLLOWABLE overwrite Status.NOT_FOLLOWABLE.
_LABELS: dict[tuple[type[Enum], object], Text] = {}


def register_labels(labels: dict[Enum, Text]) -> None:
    """Let sibling modules (workflow actions) add their enums to the one `label()` lookup."""
    for member, text in labels.items():
        _LABELS[(type(member), member.value)] = text


register_labels(_BASE_LABELS)


def label(value: Enum, lang: str | None = DEFAULT_LANG) -> str:
    """Human label of any domain enum member, e.g. label(Status.CLOSED, "id") == "Selesai"."""
    try:
        return _LABELS[(type(value), value.value)].get(lang)
    except KeyError:
        raise KeyError(f"no label for {value!r}") from None


def meaning(status: Status | str, lang: str | None = DEFAULT_LANG) -> str:
    """One plain sentence telling the reporter what the status means for them."""
    return _MEANINGS[Status(status)].get(lang)


def choices(enum_type: type[Enum], lang: str | None = DEFAULT_LANG) -> list[tuple[str, str]]:
    """(code, label) pairs in definition order, ready for a <select>."""
    return [(str(m.value), label(m, lang)) for m in enum_type]


# Between the two languages of a stored notice: an ASCII record separator on its own line, which
# no typed text contains, so the page can show the viewer's language only even when an
# officer's message inside the notice has blank lines of its own.
LANG_SEPARATOR = "\n\x1e\n"


def bilingual(text: Text) -> str:
    """A reporter notice as stored in the thread: Indonesian first, English second."""
    return f"{text.id}{LANG_SEPARATOR}{text.en}" if text.id != text.en else text.id


def one_language(stored: str, lang: str | None) -> str:
    """The viewer's half of a ``bilingual`` notice (any other text is returned as it is)."""
    if LANG_SEPARATOR not in stored:
        return stored
    id_text, _, en_text = stored.partition(LANG_SEPARATOR)
    return en_text if (lang or "id").startswith("en") else id_text
