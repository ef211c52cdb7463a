"""The reporter's printable copy of their own report (SIPUMA: "pengadu dapat mencetak data
pengaduannya"), opened with the case key their ticket log-in put in the session.

Only what the reporter wrote in the report itself: the 5W+1H fields, the kind, category and
channel, the register number and dates. Never the thread (it may hold the handlers' words),
never the ticket, and never the identity or witness details: those are sealed under an
identity key that is deliberately not wrapped to the ticket (DESIGN §3), so the copy can only
say whether they were given. No Flask here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crypto import CryptoError

from ...db import transaction
from ...domain.constants import Category, Channel, Kind, Status, label
from ...models import Attachment, Case, CaseField, Unit
from ..custody.casekeys import CaseCipher
from .followup import LoggedIn, TicketUnknown
from .reports import REPORT_FIELDS

UNREADABLE = "\u2014"


@dataclass(frozen=True)
class PrintCopy:
    register_no: str
    unit_name: str
    kind: str
    category: str
    channel: str
    status: str
    received_at: datetime
    printed_on: date
    fields: list[tuple[str, str]]  # (REPORT_FIELDS name, what the reporter wrote), in form order
    files: list[str]  # names of the evidence files sent with the report
    has_identity: bool
    has_witnesses: bool


def print_copy(factory: sessionmaker[Session], login_: LoggedIn, lang: str, *, today: date) -> PrintCopy:
    """The copy of the logged-in reporter's report. TicketUnknown if the case is gone."""
    cipher = CaseCipher(login_.case_id, login_.case_key)
    with transaction(factory) as db:
        case = db.get(Case, login_.case_id)
        if case is None:
            raise TicketUnknown()
        raw = {f.name: f.blob for f in db.scalars(
            select(CaseField).where(CaseField.case_id == case.id, CaseField.name.in_(REPORT_FIELDS)))}
        fields = [(name, _open(cipher, name, raw[name])) for name in REPORT_FIELDS if name in raw]
        files = [_file_name(cipher, att) for att in db.scalars(
            select(Attachment).where(Attachment.case_id == case.id, Attachment.message_id.is_(None))
            .order_by(Attachment.created_at, Attachment.id))]
        unit = db.get(Unit, case.unit_id)
        return PrintCopy(
            register_no=case.register_no, unit_name=unit.name if unit else "",
            kind=label(Kind(case.kind), lang), category=label(Category(case.category), lang),
            channel=label(Channel(case.channel), lang), status=label(Status(case.status), lang),
            received_at=case.received_at, printed_on=today,
            fields=[(n, v) for n, v in fields if v], files=files,
            has_identity=case.has_identity, has_witnesses=case.has_witnesses,
        )


def _open(cipher: CaseCipher, name: str, blob: bytes) -> str:
    try:
        return cipher.open_text("field", name, blob)
    except (CryptoError, UnicodeDecodeError):
        return UNREADABLE


def _file_name(cipher: CaseCipher, att: Attachment) -> str:
    try:
        meta = cipher.open_json("attachment", att.id, att.meta_blob)
    except (CryptoError, ValueError):
        return UNREADABLE
    return str(meta.get("name", "")) if isinstance(meta, dict) else UNREADABLE
