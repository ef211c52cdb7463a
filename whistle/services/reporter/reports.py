"""Filing a report from the web form (DESIGN.md §3; docs/ARCHITECTURE.md "How the service uses the keys").

One call, one database transaction: the case row, its encrypted fields, the case key wrapped
to the ticket and to the receiving unit's verifikator team, the identity/witness blobs under a
separate identity key split between the UKI and PYB custodian teams, the "filed" event and the
acknowledgement in the thread. Evidence files are moved into the store only after the commit;
if the transaction fails their encrypted temp files are discarded, so no half-written record
and no orphan file survives.

No Flask here. The ticket is returned to the caller and is never stored or logged.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

import crypto
from crypto import PublicKey

from ...attachments.storage import AttachmentStore
from ...db import transaction
from ...domain.constants import Category, Channel, Kind, Role, Status, Text
from ...models import (
    Case,
    CaseField,
    CaseKeyWrap,
    Event,
    IdentityBlob,
    IdentityShare,
    Message,
    Team,
    Unit,
    new_id,
    utcnow,
)
from ..cases.calendar import load_calendar
from ..cases.calendar import today as local_today
from ..custody import audit
from ..custody.casekeys import (
    CaseCipher,
    identity_share_context,
    team_context,
    wrap_for_ticket,
)
from .files import StagedFile, attach_staged, transaction_with_files

REGISTER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U to misread
REGISTER_SYMBOLS = 6
TITLE_MAX = 80

# Names of the encrypted report fields (case_fields.name); the officer side reads the same names.
REPORT_FIELDS: tuple[str, ...] = ("who", "who_position", "what", "when", "where", "how")
TITLE_FIELD = "title"
IDENTITY_FIELDS: tuple[str, ...] = ("name", "nik", "address", "phone", "email", "position")

ANONYMOUS = "anonymous"
CONFIDENTIAL = "confidential"


@dataclass(frozen=True)
class Intake:
    """How a report recorded by a penerima arrived (see services/intake.py)."""

    channel: Channel
    received_on: date  # office-local day it really arrived; never in the future
    officer_id: int

    def received_at(self) -> datetime:
        # Midday in the office's zone: the time is unknown, the day must stay the same day.
        from ..cases.calendar import local_tz

        return datetime.combine(self.received_on, time(12), tzinfo=local_tz()).astimezone(UTC)


@dataclass(frozen=True)
class Witness:
    name: str = ""
    contact: str = ""
    note: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "contact": self.contact, "note": self.note}


@dataclass(frozen=True)
class ReportInput:
    """A validated report (whistle.forms.reporter produces it)."""

    kind: Kind
    category: Category
    unit_id: int | None
    who: str
    who_position: str
    what: str
    when: str
    where: str
    how: str
    anonymity: str = ANONYMOUS
    identity: dict[str, str] = field(default_factory=dict)  # keys from IDENTITY_FIELDS
    witnesses: tuple[Witness, ...] = ()

    def fields(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in REPORT_FIELDS}


class ReportRefused(Exception):
    """The report cannot be filed as given; ``text`` is shown to the reporter (id/en)."""

    def __init__(self, code: str, text: Text) -> None:
        super().__init__(text.en)
        self.code = code
        self.text = text


NOT_ACCEPTING = Text(
    "Unit ini belum dapat menerima laporan melalui situs ini. Silakan coba lagi nanti atau pilih unit lain.",
    "This unit cannot accept reports through this site yet. Please try again later or choose another unit.",
)
NO_CUSTODIANS = Text(
    "Saat ini laporan rahasia dengan identitas atau data saksi belum dapat diterima, karena petugas "
    "penyimpan identitas belum ditetapkan. Anda tetap dapat melapor secara anonim tanpa identitas "
    "dan tanpa data saksi.",
    "Confidential reports with identity or witness details cannot be accepted yet, because no "
    "identity custodians have been appointed. You can still report anonymously, without identity "
    "or witness details.",
)
UNKNOWN_UNIT = Text("Unit yang dipilih tidak dikenal.", "The chosen unit is unknown.")


def make_title(what: str) -> str:
    """A short one-line summary for the officers' inbox: the first words of "what happened"."""
    flat = " ".join(what.split())
    if len(flat) <= TITLE_MAX:
        return flat
    cut = flat[:TITLE_MAX].rsplit(" ", 1)[0] or flat[:TITLE_MAX]
    return cut + "…"


def new_register_no(year: int) -> str:
    body = "".join(secrets.choice(REGISTER_ALPHABET) for _ in range(REGISTER_SYMBOLS))
    return f"WBS-{year}-{body}"


def _unique_register_no(db: Session, year: int) -> str:
    # 32^6 ≈ 10^9 numbers a year: a clash is rare, but it must never fail the report.
    while True:
        candidate = new_register_no(year)
        if db.scalar(select(Case.id).where(Case.register_no == candidate)) is None:
            return candidate


def accepting_units(db: Session) -> list[Unit]:
    """Active units with a verifikator team: the only ones a reporter may choose."""
    return list(db.scalars(
        select(Unit).join(Team, Team.unit_id == Unit.id)
        .where(Unit.active.is_(True), Team.role == Role.VERIFIKATOR.value)
        .order_by(Unit.name)
    ).all())


def _filing_teams(db: Session, unit_id: int) -> tuple[Team | None, Team | None, Team | None]:
    """(verifikator, UKI custodian, PYB custodian) for a report to ``unit_id``, in one query.

    The unit's own teams plus every custodian team (a handful): a custodian is the unit's own,
    else the first unit's that has one (often the head office), as before. One round trip
    instead of three or five on every filing.
    """
    custodian_roles = (Role.UKI.value, Role.PYB.value)
    rows = db.scalars(
        select(Team).where(or_(Team.unit_id == unit_id, Team.role.in_(custodian_roles)))
        .order_by(Team.unit_id)
    ).all()
    own = {t.role: t for t in rows if t.unit_id == unit_id}
    first: dict[str, Team] = {}
    for t in rows:  # ordered by unit_id: the first one seen per role is the fallback
        first.setdefault(t.role, t)

    def custodian(role: Role) -> Team | None:
        return own.get(role.value) or (first.get(role.value) if role.value in custodian_roles
                                        else None)

    return own.get(Role.VERIFIKATOR.value), custodian(Role.UKI), custodian(Role.PYB)


@lru_cache(maxsize=256)
def _public_key(data: bytes) -> PublicKey:
    """Parsed team public key, cached by its exact bytes (parsing ML-KEM + X25519 keys on every
    filing was ~0.1 ms each, three per report). A rotated key has new bytes, hence a new entry;
    public keys are public, so keeping them in memory is harmless."""
    return PublicKey.from_bytes(data)


def _receiving_unit(db: Session, unit_id: int | None) -> Unit:
    if unit_id is None:
        units = accepting_units(db)
        if not units:
            raise ReportRefused("not_accepting", NOT_ACCEPTING)
        return units[0]
    unit = db.get(Unit, unit_id)
    if unit is None or not unit.active:
        raise ReportRefused("unknown_unit", UNKNOWN_UNIT)
    return unit


def acknowledgement(register_no: str, due_on: date) -> str:
    """The system's first message in the thread, in both languages (the reader's may change)."""
    day = due_on.isoformat()
    return (
        f"Laporan Anda telah kami terima dengan nomor register {register_no}. Petugas akan "
        f"memeriksa kelengkapannya paling lambat {day}. Pantau laporan ini dengan tiket Anda.\n\n"
        f"We have received your report, register number {register_no}. An officer will check that "
        f"it is complete by {day} at the latest. Follow it with your ticket."
    )


def file_report(
    factory: sessionmaker[Session],
    report: ReportInput,
    *,
    pepper: bytes,
    files: Sequence[StagedFile] = (),
    store: AttachmentStore | None = None,
    kdf_slot: Callable[[], AbstractContextManager[object]] | None = None,
    intake: Intake | None = None,
) -> tuple[Case, str]:
    """File ``report``; return (case, ticket). Raises ReportRefused with a reporter-facing text.

    ``intake`` (services/intake.py): a report a penerima recorded from another channel, with
    the day it really arrived (its deadlines run from then) and who recorded it.

    ``files`` are already cleaned and encrypted into ``store``'s temp area; they are committed
    after the database commit, or discarded on any failure. ``kdf_slot`` bounds concurrent
    Argon2 work (whistle.web.limits.argon2_slot).
    """
    if kdf_slot is None:
        from ...web.limits import argon2_slot  # works without an app context too

        kdf_slot = argon2_slot
    ticket = crypto.new_ticket()
    salt = secrets.token_bytes(16)
    params = crypto.kdf.ticket_default()  # recorded with the case: the default may rise later
    # Argon2 first, outside the transaction: it must not hold SQLite's write lock for ~20 ms.
    with kdf_slot():
        reporter_key = crypto.reporter_key(ticket, salt, params)
    case_key = crypto.generate_key()
    with transaction_with_files(factory, store, files) as db:
        case = _write_case(db, report, ticket, salt, reporter_key, case_key, pepper, files,
                           intake, kdf_record=crypto.encode_params(params))
    return case, ticket


def _write_case(db: Session, report: ReportInput, ticket: str, salt: bytes, reporter_key: bytes,
                case_key: bytes, pepper: bytes, files: Sequence[StagedFile],
                intake: Intake | None = None, *, kdf_record: bytes) -> Case:
    # Order matters on SQLite: its single write lock is taken by the first INSERT and held to
    # the commit, so every read, seal and HPKE wrap is done first and the writes come last in
    # as few flushes as the foreign keys allow. Every other filing and every session save
    # waits on that lock (and SQLite's busy handler sleeps in growing steps while it waits).
    unit = _receiving_unit(db, report.unit_id)
    verifikator, uki, pyb = _filing_teams(db, unit.id)
    if verifikator is None:
        raise ReportRefused("not_accepting", NOT_ACCEPTING)
    identity = {k: v for k, v in report.identity.items() if k in IDENTITY_FIELDS and v}
    if report.anonymity != CONFIDENTIAL:
        identity = {}  # "fully anonymous" means no identity, whatever else was posted
    witnesses = [w.as_dict() for w in report.witnesses if any(w.as_dict().values())]
    custodians: tuple[Team, Team] | None = None
    if identity or witnesses:
        if uki is None or pyb is None:
            raise ReportRefused("no_custodians", NO_CUSTODIANS)
        custodians = (uki, pyb)

    today = local_today(zone=unit.timezone)  # the receiving office's own day (WIB/WITA/WIT)
    arrived = intake.received_on if intake is not None else today
    due_on = load_calendar(db).deadline_for(Status.RECEIVED, arrived)
    if due_on is None:  # the calendar gives every received case its verification deadline
        raise RuntimeError("no verification deadline for a received case")
    register_no = _unique_register_no(db, today.year)
    case_id = new_id()

    # -- everything sealed and wrapped before the first INSERT --------------------------------
    cipher = CaseCipher(case_id, case_key)
    values = report.fields() | {TITLE_FIELD: make_title(report.what)}
    rows: list[object] = [
        CaseField(case_id=case_id, name=name, blob=cipher.seal_text("field", name, value))
        for name, value in values.items()
    ]
    rows.append(CaseKeyWrap(case_id=case_id, team_id=None,
                            blob=wrap_for_ticket(case_id, case_key, reporter_key)))
    rows.append(CaseKeyWrap(case_id=case_id, team_id=verifikator.id,
                            blob=_public_key(verifikator.public_key).wrap(
                                case_key, context=team_context(case_id))))
    if custodians is not None:
        rows.extend(_seal_identity(case_id, identity, witnesses, custodians))
    rows.append(Event(case_id=case_id, actor="officer" if intake is not None else "reporter",
                      officer_id=intake.officer_id if intake is not None else None,
                      action="filed", from_status=None, to_status=Status.RECEIVED.value))
    message_id = new_id()
    rows.append(Message(id=message_id, case_id=case_id, author="system", internal=False,
                        blob=cipher.seal_text("message", message_id,
                                              acknowledgement(register_no, due_on))))
    case = Case(
        id=case_id, register_no=register_no, kind=report.kind.value,
        category=report.category.value, status=Status.RECEIVED.value,
        channel=intake.channel.value if intake is not None else Channel.WEB.value,
        unit_id=unit.id, team_id=verifikator.id, anonymity=CONFIDENTIAL if identity else ANONYMOUS,
        has_identity=bool(identity), has_witnesses=bool(witnesses),
        received_at=intake.received_at() if intake is not None else utcnow(),
        step_started_on=arrived, due_on=due_on, is_late=False, needs_attention=True,
        ticket_lookup=crypto.ticket_lookup_id(ticket, pepper), ticket_salt=salt,
        ticket_kdf=kdf_record,
        # The penerima saw an intake ticket: it is replaced at the reporter's first log-in.
        ticket_single_use=intake is not None,
    )

    # -- the writes (the write lock is held from here to the commit) --------------------------
    db.add(case)
    db.flush()  # the case row first: every other row points at it
    db.add_all(rows)
    db.flush()  # the message row must exist before attachments point at it
    attach_staged(db, cipher, files, message_id=None)
    audit.append(db, f"officer:{intake.officer_id}" if intake is not None else "reporter",
                 "case.filed", f"case:{case_id}",
                 detail=f"intake:{intake.channel.value}" if intake is not None else None)
    return case


def _seal_identity(case_id: str, identity: dict[str, str], witnesses: list[dict[str, str]],
                   custodians: tuple[Team, Team]) -> list[object]:
    """Identity/witnesses under a fresh identity key, split 2-of-2 between UKI and PYB.

    The identity key is never wrapped to the ticket or the case key: a leaked ticket or a
    verifikator's team key must not reveal who the reporter is. Returns the rows to add.
    """
    id_key = crypto.generate_key()
    sealer = CaseCipher(case_id, id_key)
    rows: list[object] = []
    if identity:
        rows.append(IdentityBlob(case_id=case_id, kind="identity",
                                 blob=sealer.seal_json("identity", None, identity)))
    if witnesses:
        rows.append(IdentityBlob(case_id=case_id, kind="witnesses",
                                 blob=sealer.seal_json("witnesses", None, witnesses)))
    shares = crypto.split_secret(id_key, 2, 2)
    for idx, (share, team) in enumerate(zip(shares, custodians, strict=True), start=1):
        blob = _public_key(team.public_key).wrap(
            share.to_bytes(), context=identity_share_context(case_id, idx))
        rows.append(IdentityShare(case_id=case_id, idx=idx, team_id=team.id, blob=blob))
    return rows


def unit_choices(factory: sessionmaker[Session]) -> list[tuple[int, str]]:
    """(id, name) of the units a reporter may choose, for the form's select.

    Runs on every /lapor request: plain (id, name) rows, the same filter and order as
    :func:`accepting_units`, without building ORM objects for them.
    """
    with transaction(factory) as db:
        rows = db.execute(
            select(Unit.id, Unit.name).join(Team, Team.unit_id == Unit.id)
            .where(Unit.active.is_(True), Team.role == Role.VERIFIKATOR.value)
            .order_by(Unit.name)
        ).all()
        return [(unit_id, name) for unit_id, name in rows]
