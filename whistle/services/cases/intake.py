"""Intake: a penerima records a report that came by phone, letter, box, fax, SMS, e-mail or in person.

It goes through the reporter's own filing path (`reports.file_report`) so a recorded report is
sealed exactly like a web one: the case key is wrapped to the new ticket and the unit's
verifikator team only — never to the penerima, who cannot read the case afterwards — and any
identity is sealed under a split identity key. The ticket is returned once for the penerima to
hand over; it is never stored, and it works once: the reporter's first log-in replaces it with
a ticket the penerima never sees (services/reporter/intake_ticket.py).

The desk also answers a caller who quotes a register number: the status and the deadline, read
from plaintext metadata (no key), each look-up audited (:func:`desk_status`).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ...db import transaction
from ...domain.constants import Category, Channel, Kind, Status
from ...models import Case
from ..custody import audit
from ..reporter import reports
from .calendar import today as local_today

INTAKE_CHANNELS: tuple[Channel, ...] = tuple(c for c in Channel if c is not Channel.WEB)
MAX_FIELD = 10_000
MAX_AGE_DAYS = 366  # a letter found a year late is still recorded; older is a typo


class IntakeInvalid(ValueError):
    """Bad input; ``errors`` maps a form field to its message (en, id)."""

    def __init__(self, errors: dict[str, tuple[str, str]]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Recorded:
    case_id: str
    register_no: str
    ticket: str
    due_on: date | None


def _text(form: Mapping[str, str], name: str, errors: dict[str, tuple[str, str]],
          required: bool = False) -> str:
    value = (form.get(name) or "").strip()
    if len(value) > MAX_FIELD:
        errors[name] = (f"At most {MAX_FIELD} characters.", f"Paling banyak {MAX_FIELD} karakter.")
    elif required and not value:
        errors[name] = ("Required.", "Wajib diisi.")
    return value


def parse(form: Mapping[str, str], *, officer_id: int, today: date | None = None
          ) -> tuple[reports.ReportInput, reports.Intake]:
    """Validate the intake form; IntakeInvalid lists every problem at once."""
    errors: dict[str, tuple[str, str]] = {}
    today = today or local_today()
    channel: Channel | None = None
    try:
        channel = Channel(form.get("channel") or "")
        if channel is Channel.WEB:
            raise ValueError
    except ValueError:
        errors["channel"] = ("Choose how the report arrived.", "Pilih saluran pengaduan.")
    received: date | None = None
    try:
        received = date.fromisoformat(form.get("received_on") or "")
        if received > today:
            errors["received_on"] = ("The arrival date cannot be in the future.",
                                     "Tanggal diterima tidak boleh di masa depan.")
        elif received < today - timedelta(days=MAX_AGE_DAYS):
            errors["received_on"] = ("The arrival date is more than a year ago; check it.",
                                     "Tanggal diterima lebih dari setahun lalu; periksa kembali.")
    except ValueError:
        errors["received_on"] = ("Give the date the report arrived (YYYY-MM-DD).",
                                 "Isi tanggal laporan diterima (TTTT-BB-HH).")
    try:
        kind = Kind(form.get("kind") or "")
    except ValueError:
        errors["kind"] = ("Choose the kind of report.", "Pilih jenis laporan.")
    try:
        category = Category(form.get("category") or "")
    except ValueError:
        errors["category"] = ("Choose the category.", "Pilih kategori.")
    unit_id: int | None = None
    if form.get("unit_id"):
        try:
            unit_id = int(form["unit_id"])
        except ValueError:
            errors["unit_id"] = ("Unknown unit.", "Unit tidak dikenal.")
    values = {n: _text(form, n, errors, required=n == "what") for n in reports.REPORT_FIELDS}
    anonymity = form.get("anonymity") or reports.ANONYMOUS
    if anonymity not in (reports.ANONYMOUS, reports.CONFIDENTIAL):
        errors["anonymity"] = ("Choose anonymous or confidential.", "Pilih anonim atau rahasia.")
    identity = {n: _text(form, f"id_{n}", errors) for n in reports.IDENTITY_FIELDS}
    witness = reports.Witness(_text(form, "w_name", errors), _text(form, "w_contact", errors),
                              _text(form, "w_note", errors))
    if anonymity == reports.CONFIDENTIAL and not any(identity.values()):
        errors["id_name"] = ("A confidential report needs the identity given.",
                             "Laporan rahasia memerlukan identitas pelapor.")
    if errors:
        raise IntakeInvalid(errors)
    report = reports.ReportInput(kind=kind, category=category, unit_id=unit_id, anonymity=anonymity,
                                 identity={k: v for k, v in identity.items() if v},
                                 witnesses=(witness,), **values)
    assert channel is not None and received is not None
    return report, reports.Intake(channel, received, officer_id)


def record(factory: sessionmaker[Session], form: Mapping[str, str], *, officer_id: int,
           pepper: bytes, kdf_slot: Callable[[], AbstractContextManager[object]] | None = None,
           today: date | None = None) -> Recorded:
    """Validate and file. Raises IntakeInvalid or reports.ReportRefused; writes nothing then."""
    report, intake = parse(form, officer_id=officer_id, today=today)
    case, ticket = reports.file_report(factory, report, pepper=pepper, kdf_slot=kdf_slot,
                                       intake=intake)
    return Recorded(case.id, case.register_no, ticket, case.due_on)


# -- the desk's register-number status ---------------------------------------------------------

# As reports.new_register_no writes it; read aloud on the phone, so case, spaces and the
# Crockford look-alikes (O for 0, I/L for 1) are forgiven, and the dashes are optional.
_REGISTER_RE = re.compile(rf"^WBS-?([0-9]{{4}})-?([0-9A-Z]{{{reports.REGISTER_SYMBOLS}}})$")
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
MAX_REGISTER_INPUT = 40


class RegisterMalformed(ValueError):
    """Not a register number at all (nothing is looked up or audited)."""


@dataclass(frozen=True)
class DeskStatus:
    """All the desk may tell a caller: no content, no unit or team, no officer."""

    register_no: str
    status: Status
    due_on: date | None


def parse_register_no(text: str) -> str:
    """The canonical ``WBS-YYYY-XXXXXX``; RegisterMalformed otherwise."""
    if not isinstance(text, str) or len(text) > MAX_REGISTER_INPUT:
        raise RegisterMalformed()
    flat = "".join(text.split()).upper()
    m = _REGISTER_RE.match(flat)
    if m is None:
        raise RegisterMalformed()
    body = m.group(2).translate(_LOOKALIKES)
    if any(ch not in reports.REGISTER_ALPHABET for ch in body):
        raise RegisterMalformed()  # e.g. a U, which no register number holds
    return f"WBS-{m.group(1)}-{body}"


def desk_status(factory: sessionmaker[Session], text: str, *, officer_id: int) -> DeskStatus | None:
    """Status and deadline of the case with register number ``text``; None when there is none.

    Only plaintext columns are read (no key exists at the desk). Every well-formed look-up is
    audited, a miss too (a desk officer trying numbers shows in the log); the entry names the
    officer and the register number, never anything of the case. RegisterMalformed for
    input that is no register number (not audited: it may be anything the caller said).
    """
    register_no = parse_register_no(text)
    with transaction(factory) as db:
        row = db.execute(select(Case.id, Case.status, Case.due_on)
                         .where(Case.register_no == register_no)).first()
        audit.append(db, f"officer:{officer_id}", "case.status_lookup",
                     f"case:{row.id}" if row is not None else None,
                     detail=f"register:{register_no}" + ("" if row is not None else " unknown"))
    if row is None:
        return None
    return DeskStatus(register_no, Status(row.status), row.due_on)
