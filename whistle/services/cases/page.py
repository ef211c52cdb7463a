"""Everything the officer's case page shows, decrypted with the officer's team keys.

Officers see who did what (event history with names) — accountability inside the office. The
reporter's view is built elsewhere and never reads `Officer`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import CryptoError, PrivateKey

from ...domain.calendar import Calendar
from ...domain.constants import Role, Status
from ...domain.workflow import Action, allowed_actions
from ...models import Attachment, Case, CaseField, Event, Message, Officer, Team, Unit
from ..custody import audit
from ..custody.casekeys import CaseCipher
from ..reporter.downloads import OpenFile, open_file
from . import records
from .calendar import load_calendar, today
from .records import UNREADABLE, CopyView, StatementView, Telaah
from .transitions import (
    FIELD_EXTERNAL_REF,
    FIELD_SANCTION,
    ROUTING,
    SPECIAL_FIELDS,
    TO_HOLDING_PYB,
    UNIT_REQUIRED,
    open_case,
)

if TYPE_CHECKING:
    from ...attachments.storage import AttachmentStore

# Report fields in reading order (5W+1H first); unknown names follow alphabetically.
FIELD_ORDER = ("title", "what", "who", "who_position", "when", "where", "why", "how", "description",
               "evidence", "expected", "summary")


@dataclass
class EventView:
    at: datetime
    actor: str  # officer display name, "reporter" or "system"
    action: str
    from_status: str | None
    to_status: str | None
    reason: dict[str, str]


@dataclass
class MessageView:
    id: str
    at: datetime
    author: str  # "reporter" | "officer" | "system"
    officer_name: str | None
    internal: bool
    body: str
    attachments: list[AttachmentView] = field(default_factory=list)


@dataclass
class AttachmentView:
    id: str
    name: str
    content_type: str
    size: int
    message_id: str | None


@dataclass
class CaseView:
    case: Case
    fields: list[tuple[str, str]]
    checklist: dict[str, dict[str, Any]]
    external_ref: str | None
    sanction: str | None
    events: list[EventView]
    thread: list[MessageView]
    attachments: list[AttachmentView]
    actions: list[Action]
    unit: Unit | None
    routing_units: dict[str, list[Unit]]  # action -> units that have the target team
    today: date  # in the case unit's own time zone
    working_days_left: int | None
    telaah: Telaah = field(default_factory=lambda: Telaah(None, None))
    copies: list[CopyView] = field(default_factory=list)
    statements: list[StatementView] = field(default_factory=list)
    unit_required: frozenset[str] = frozenset(a.value for a in UNIT_REQUIRED)
    # Routing actions whose unit is chosen by the form (the others go to a fixed team).
    unit_choice: frozenset[str] = frozenset(a.value for a in ROUTING if a not in TO_HOLDING_PYB)


def _open_text(cipher: CaseCipher, slot: str, name: str, blob: bytes) -> str:
    try:
        return cipher.open_text(slot, name, blob)
    except (CryptoError, UnicodeDecodeError):
        return UNREADABLE


def attachment_meta(cipher: CaseCipher, att: Attachment) -> dict[str, Any]:
    """Original name and type from the encrypted metadata (JSON under aad ``attachment:<id>``)."""
    try:
        meta = cipher.open_json("attachment", att.id, att.meta_blob)
        return meta if isinstance(meta, dict) else {}
    except (CryptoError, ValueError):
        return {}


def _attachment_view(cipher: CaseCipher, att: Attachment) -> AttachmentView:
    meta = attachment_meta(cipher, att)
    name = str(meta.get("name") or meta.get("filename") or f"attachment-{att.id[:8]}")
    ctype = str(meta.get("type") or meta.get("content_type") or meta.get("mime") or "application/octet-stream")
    size = int(meta.get("plain_size") or meta.get("size") or att.size)
    return AttachmentView(att.id, name, ctype, size, att.message_id)


def _ordered(fields: dict[str, str]) -> list[tuple[str, str]]:
    known = [(n, fields[n]) for n in FIELD_ORDER if n in fields]
    rest = sorted((n, v) for n, v in fields.items() if n not in FIELD_ORDER)
    return known + rest


def routing_units(db: Session) -> dict[str, list[Unit]]:
    """For each routing action, the active units that have the team it needs."""
    out: dict[str, list[Unit]] = {}
    for action, role in ROUTING.items():
        if action in TO_HOLDING_PYB:
            continue
        out[action.value] = list(db.scalars(
            select(Unit).join(Team, Team.unit_id == Unit.id)
            .where(Team.role == role.value, Unit.active.is_(True)).order_by(Unit.code)))
    return out


def load(db: Session, *, officer: Officer, team_keys: Mapping[int, PrivateKey], case_id: str,
         config: Any = None, calendar: Calendar | None = None) -> CaseView:
    """The case page. CaseNotFound for a missing case or one not wrapped to the officer."""
    case, cipher = open_case(db, case_id, team_keys)
    raw = {f.name: f.blob for f in db.scalars(select(CaseField).where(CaseField.case_id == case.id))}
    fields = {n: _open_text(cipher, "field", n, b) for n, b in raw.items() if n not in SPECIAL_FIELDS}
    checklist = records.read_checklist(cipher, raw)
    external_ref = (_open_text(cipher, "field", FIELD_EXTERNAL_REF, raw[FIELD_EXTERNAL_REF])
                    if FIELD_EXTERNAL_REF in raw else None)
    sanction = (_open_text(cipher, "field", FIELD_SANCTION, raw[FIELD_SANCTION])
                if FIELD_SANCTION in raw else None)

    names = records.officer_names(db, case.id)
    events = []
    for ev in db.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.at, Event.id)):
        reason: dict[str, str] = {}
        if ev.reason_blob is not None:
            try:
                reason = dict(cipher.open_json("event", ev.id, ev.reason_blob))
            except (CryptoError, ValueError):
                reason = {"note": UNREADABLE}
        who = names.get(ev.officer_id, "?") if ev.officer_id else ev.actor
        events.append(EventView(ev.at, who, ev.action, ev.from_status, ev.to_status, reason))

    atts = list(db.scalars(select(Attachment).where(Attachment.case_id == case.id)
                           .order_by(Attachment.created_at, Attachment.id)))
    att_views = [_attachment_view(cipher, a) for a in atts]
    by_msg: dict[str | None, list[AttachmentView]] = {}
    for av in att_views:
        by_msg.setdefault(av.message_id, []).append(av)
    thread = [
        MessageView(m.id, m.created_at, m.author, names.get(m.officer_id) if m.officer_id else None,
                    m.internal, _open_text(cipher, "message", m.id, m.blob), by_msg.get(m.id, []))
        for m in db.scalars(select(Message).where(Message.case_id == case.id)
                            .order_by(Message.created_at, Message.id))
    ]
    try:
        actions = allowed_actions(case.status, Role(officer.role))
    except ValueError:
        actions = []
    unit = db.get(Unit, case.unit_id)
    now_day = today(config, zone=unit.timezone if unit is not None else None)
    cal = calendar or load_calendar(db)
    left = cal.working_days_between(now_day, case.due_on) if case.due_on else None
    audit.append(db, f"officer:{officer.id}", "case.view", f"case:{case.id}")
    return CaseView(
        case=case, fields=_ordered(fields), checklist=checklist, external_ref=external_ref,
        sanction=sanction, events=events, thread=thread, attachments=att_views, actions=actions,
        unit=unit, routing_units=routing_units(db) if actions else {},
        today=now_day, working_days_left=left, telaah=records.read_telaah(case, cipher, raw),
        copies=records.copies([(e.action, e.at, e.reason) for e in events]),
        statements=records.statements(db, cipher, case.id, names),
    )


def is_read_only(case: Case) -> bool:
    return case.status == Status.ARCHIVED.value


def open_attachment(db: Session, *, officer: Officer, team_keys: Mapping[int, PrivateKey],
                    case_id: str, att_id: str, store: AttachmentStore) -> OpenFile | None:
    """An evidence file of a case the officer can open, decrypted chunk by chunk as it is sent
    (flat memory whatever its size). None for every miss: a wrong id, another case's file, a
    missing or damaged file."""
    case, cipher = open_case(db, case_id, team_keys)
    if not isinstance(att_id, str) or len(att_id) != 32:
        return None
    att = db.get(Attachment, att_id)
    if att is None or att.case_id != case.id:
        return None
    opened = open_file(cipher, att, store)
    if opened is not None:
        audit.append(db, f"officer:{officer.id}", "case.file_download", f"case:{case.id}")
    return opened
