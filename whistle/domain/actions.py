"""The codes of the workflow's actions and deadline anchors, with their bilingual labels.

Kept apart from the table (`workflow.SPECS`) so that the notices, the field parsers and the
public procedure page can name actions without importing the planner.  The enum *values* are
stored in `events.action` and must never change.
"""

from __future__ import annotations

from enum import StrEnum

from whistle.domain.constants import Text, register_labels


class Action(StrEnum):
    START_VERIFICATION = "start_verification"
    REQUEST_DATA = "request_data"
    REPORTER_SUPPLIED_DATA = "reporter_supplied_data"
    RECORD_TELAAH = "record_telaah"
    RECLASSIFY = "reclassify"
    FORWARD_PYB = "forward_pyb"
    FORWARD_UNIT = "forward_unit"
    REFER_EXTERNAL = "refer_external"
    COPY_EXTERNAL = "copy_external"
    ANSWER = "answer"
    NOT_FOLLOWABLE = "not_followable"
    RETURN_TO_VERIFICATION = "return_to_verification"
    ESCALATE_TO_PYB = "escalate_to_pyb"
    DISPOSE_TO_PENGKAJI = "dispose_to_pengkaji"
    UNIT_INVESTIGATE = "unit_investigate"
    SET_TIER = "set_tier"
    RECORD_STATEMENT = "record_statement"
    CONCLUDE_SUBSTANTIATED = "conclude_substantiated"
    CONCLUDE_UNSUBSTANTIATED = "conclude_unsubstantiated"
    CLOSE = "close"
    ARCHIVE = "archive"
    AUTO_ARCHIVE = "auto_archive"
    AUTO_NOT_FOLLOWABLE = "auto_not_followable"


class Anchor(StrEnum):
    """Which date the new step's clock (and `cases.step_started_on`) starts from."""

    EVENT = "event"  # the day of this transition
    RECEIPT = "receipt"  # the day the report was received (verification: "3 days from receipt")
    # Unchanged: re-tiering does not give the team fresh time, and the unit's 5/14/60 days run
    # from the day the case reached it ("sejak pengaduan diterima oleh pejabat penghubung").
    STEP_START = "step_start"
    KEEP = "keep"  # a record on the case (telaah, copy, statement): the deadline stays as it is


register_labels({
    Action.START_VERIFICATION: Text("Mulai verifikasi", "Start verification"),
    Action.REQUEST_DATA: Text("Minta kelengkapan data", "Ask for more information"),
    Action.REPORTER_SUPPLIED_DATA: Text("Data dari pelapor diterima", "Reporter supplied information"),
    Action.RECORD_TELAAH: Text("Catat hasil telaah", "Record the review (telaah)"),
    Action.RECLASSIFY: Text("Ubah jenis/kategori", "Change kind/category"),
    Action.FORWARD_PYB: Text("Teruskan ke pejabat berwenang", "Forward to authorised official"),
    Action.FORWARD_UNIT: Text("Teruskan ke unit terkait", "Forward to unit concerned"),
    Action.REFER_EXTERNAL: Text("Teruskan ke instansi lain", "Refer to another agency"),
    Action.COPY_EXTERNAL: Text("Tembuskan ke instansi lain", "Send a copy to another agency"),
    Action.ANSWER: Text("Jawab langsung", "Answer directly"),
    Action.NOT_FOLLOWABLE: Text("Tidak dapat ditindaklanjuti", "Cannot be followed up"),
    Action.RETURN_TO_VERIFICATION: Text(
        "Kembalikan ke verifikator (di luar kewenangan unit)",
        "Return to verification (outside the unit's authority)",
    ),
    Action.ESCALATE_TO_PYB: Text(
        "Teruskan ke pejabat berwenang (etik/disiplin)", "Escalate to authorised official (ethics/discipline)"
    ),
    Action.DISPOSE_TO_PENGKAJI: Text("Disposisi ke tim pengkaji", "Dispose to review team"),
    Action.UNIT_INVESTIGATE: Text("Mulai pemeriksaan", "Start investigation"),
    Action.SET_TIER: Text("Ubah kategori jangka waktu", "Change deadline tier"),
    Action.RECORD_STATEMENT: Text("Catat keterangan terlapor", "Record the reported person's statement"),
    Action.CONCLUDE_SUBSTANTIATED: Text("Nyatakan terbukti", "Record as substantiated"),
    Action.CONCLUDE_UNSUBSTANTIATED: Text("Nyatakan tidak terbukti", "Record as not substantiated"),
    Action.CLOSE: Text("Selesaikan", "Close"),
    Action.ARCHIVE: Text("Arsipkan", "Archive"),
    Action.AUTO_ARCHIVE: Text("Arsipkan otomatis (batas waktu lewat)", "Auto-archive (deadline passed)"),
    Action.AUTO_NOT_FOLLOWABLE: Text(
        "Tidak dapat ditindaklanjuti otomatis (batas waktu lewat)",
        "Not followable automatically (deadline passed)",
    ),
})


class TransitionRefused(Exception):
    """A requested step is not allowed.  str(e) is English; `message_id` is Indonesian.

    `problem` is one of "unknown", "status", "role", "field"; `field` names the bad field.
    """

    def __init__(
        self, message: str, *, message_id: str | None = None, problem: str, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.message_id = message_id or message
        self.problem = problem
        self.field = field


def refuse(problem: str, en: str, id_: str, field: str | None = None) -> TransitionRefused:
    return TransitionRefused(en, message_id=id_, problem=problem, field=field)
