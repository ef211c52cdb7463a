"""Intake: a penerima records a report that came by phone, letter, box, fax, SMS, e-mail or in person.

It goes through the reporter's own filing path (`reports.file_report`) so a recorded report is
sealed exactly like a web one: the case key is wrapped to the new ticket and the unit's
verifikator team only — never to the penerima, who cannot read the case afterwards — and any
identity is sealed under a split identity key. The ticket is returned once for the penerima to
hand over; it is never stored.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session, sessionmaker

from ...domain.constants import Category, Channel, Kind
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
