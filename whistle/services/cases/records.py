"""What a step writes on the case besides its status: the sealed records of the procedure.

* the external reference of a referral and the sanction of a substantiated case (case fields);
* the telaah (SP4N-LAPOR! b, c, e): dispute or violation and whether confidential handling is
  needed are plain columns, because statistics count them; the subject and object of the
  complaint are content and sealed (case field ``telaah``);
* a reclassification: the case's kind and category change (statistics read the final value)
  and the event keeps the old and new values with the grounds, sealed;
* a copy to another agency (tembusan): an event whose sealed reason holds the agency and its
  reference, so several copies each keep their own;
* the reported person's statement: a `CaseStatement` row of its own, sealed, never a message;
* the 5W+1H checklist (not a transition: it is saved as the verifikator works).

Nothing here writes plaintext content; audit entries name codes only.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CompoundSelect, select, union
from sqlalchemy.orm import Session

from crypto import CryptoError

from ...domain.constants import Text
from ...domain.workflow import Action, Transition
from ...models import Case, CaseField, CaseStatement, Event, Officer, new_id
from ..custody.casekeys import CaseCipher
from ..messages import CaseError

FIELD_CHECKLIST = "checklist"
FIELD_EXTERNAL_REF = "external_ref"
FIELD_SANCTION = "sanction"
FIELD_TELAAH = "telaah"
UNREADABLE = "\u2014"  # shown for a blob that fails to decrypt; never a 500


class ActionRefused(CaseError):
    status = 422


def put_field(db: Session, case_id: str, name: str, blob: bytes) -> None:
    """Insert or replace one encrypted case field."""
    row = db.get(CaseField, (case_id, name))
    if row is None:
        db.add(CaseField(case_id=case_id, name=name, blob=blob))
    else:
        row.blob = blob


def check(plan: Transition, case: Case) -> None:
    """Refusals that need the stored case (the pure table does not know it)."""
    if plan.action is Action.RECLASSIFY and (
            plan.params.get("kind") == case.kind and plan.params.get("category") == case.category):
        raise ActionRefused("Change the kind or the category, or leave the classification as it is.",
                            "Ubah jenis atau kategori, atau biarkan klasifikasi seperti semula.",
                            field="category")


def write(db: Session, case: Case, cipher: CaseCipher, plan: Transition, *,
          officer: Officer | None, now: datetime) -> dict[str, str]:
    """Write the step's own records; returns extra (sealed) event reason entries."""
    params, extra = plan.params, {}
    if "external_ref" in params:
        put_field(db, case.id, FIELD_EXTERNAL_REF,
                  cipher.seal_text("field", FIELD_EXTERNAL_REF, str(params["external_ref"])))
    if "sanction" in params:
        put_field(db, case.id, FIELD_SANCTION, cipher.seal_text("field", FIELD_SANCTION, str(params["sanction"])))
    if plan.action is Action.RECORD_TELAAH:
        case.classification = str(params["classification"])
        case.confidential_handling = bool(params["confidential_handling"])
        put_field(db, case.id, FIELD_TELAAH, cipher.seal_json("field", FIELD_TELAAH, {
            "subject": str(params["subject"]), "object": str(params["object"])}))
    if plan.action is Action.RECLASSIFY:
        extra = {"from_kind": case.kind, "from_category": case.category}
        case.kind, case.category = str(params["kind"]), str(params["category"])
    if plan.action is Action.RECORD_STATEMENT:
        assert officer is not None  # the table lets only a pengkaji record it
        sid = new_id()
        db.add(CaseStatement(id=sid, case_id=case.id, officer_id=officer.id, at=now,
                             blob=cipher.seal_text("statement", sid, str(params["statement"]))))
    return extra


# What an event keeps (sealed): every text the officer gave for the step. Not the statement
# (it has its own record) and not the telaah's subject and object (the case field).
EVENT_KEEPS = ("note", "message", "reason", "reason_text", "external_ref", "sanction", "tier",
               "grounds", "agency", "copy_ref", "disclose", "kind", "category", "classification",
               "confidential_handling")


def event_reason(plan: Transition, extra: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = dict(extra)
    for name in EVENT_KEEPS:
        if name in plan.params:
            value = plan.params[name]
            out[name] = str(getattr(value, "value", value))
    return out


# -- reading them back (the case page) -----------------------------------------------------

@dataclass
class Telaah:
    classification: str | None
    confidential_handling: bool | None
    subject: str = ""
    object: str = ""


@dataclass
class CopyView:
    at: datetime
    agency: str
    reference: str
    disclosed: bool


@dataclass
class StatementView:
    at: datetime
    officer_name: str
    text: str


def read_telaah(case: Case, cipher: CaseCipher, raw: Mapping[str, bytes]) -> Telaah:
    view = Telaah(case.classification, case.confidential_handling)
    if FIELD_TELAAH in raw:
        try:
            stored = cipher.open_json("field", FIELD_TELAAH, raw[FIELD_TELAAH])
            view.subject, view.object = str(stored.get("subject", "")), str(stored.get("object", ""))
        except (CryptoError, ValueError, AttributeError):
            view.subject = view.object = UNREADABLE
    return view


def copies(events: list[tuple[str, datetime, dict[str, str]]]) -> list[CopyView]:
    """The tembusan of a case from its (action, at, sealed reason) events, oldest first."""
    return [CopyView(at, r.get("agency", UNREADABLE), r.get("copy_ref", UNREADABLE),
                     r.get("disclose") == "True")
            for action, at, r in events if action == Action.COPY_EXTERNAL.value]


def statements(db: Session, cipher: CaseCipher, case_id: str,
               names: Mapping[int, str]) -> list[StatementView]:
    out = []
    for row in db.scalars(select(CaseStatement).where(CaseStatement.case_id == case_id)
                          .order_by(CaseStatement.at, CaseStatement.id)):
        try:
            text = cipher.open_text("statement", row.id, row.blob)
        except (CryptoError, UnicodeDecodeError):
            text = UNREADABLE
        out.append(StatementView(row.at, names.get(row.officer_id, "?"), text))
    return out


def officer_names(db: Session, case_id: str) -> dict[int, str]:
    """Display names of every officer who acted on, wrote in or recorded on the case."""
    from ...models import Message

    ids: CompoundSelect[tuple[int | None]] = union(select(Event.officer_id).where(Event.case_id == case_id),
                select(Message.officer_id).where(Message.case_id == case_id),
                select(CaseStatement.officer_id).where(CaseStatement.case_id == case_id))
    return dict(db.execute(select(Officer.id, Officer.display_name).where(Officer.id.in_(ids))).all())


# -- the 5W+1H checklist -----------------------------------------------------------------------

CHECKLIST_ITEMS: tuple[str, ...] = ("what", "who", "when", "where", "why", "how")
CHECKLIST_LABELS: Mapping[str, Text] = {
    "what": Text("Apa materi aduannya", "What is reported"),
    "who": Text("Siapa pejabat/pegawai yang diadukan", "Who is the official reported"),
    "when": Text("Kapan kejadiannya", "When it happened"),
    "where": Text("Di mana kejadiannya", "Where it happened"),
    "why": Text("Mengapa (dalam kewenangan kami?)", "Why (within our authority?)"),
    "how": Text("Bagaimana kejadiannya", "How it happened"),
}


def checklist_value(checked: Mapping[str, bool], notes: Mapping[str, str]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for item in CHECKLIST_ITEMS:
        note = (notes.get(item) or "").strip()
        if len(note) > 2000:
            raise ActionRefused("A checklist note is too long (at most 2000 characters).",
                                "Catatan daftar periksa terlalu panjang.", field=f"note_{item}")
        value[item] = {"ok": bool(checked.get(item)), "note": note}
    return value


def read_checklist(cipher: CaseCipher, raw: Mapping[str, bytes]) -> dict[str, dict[str, Any]]:
    checklist: dict[str, dict[str, Any]] = {i: {"ok": False, "note": ""} for i in CHECKLIST_ITEMS}
    if FIELD_CHECKLIST in raw:
        try:
            stored = cipher.open_json("field", FIELD_CHECKLIST, raw[FIELD_CHECKLIST])
            checklist.update({k: v for k, v in stored.items() if k in checklist})
        except (CryptoError, ValueError):
            pass
    return checklist
