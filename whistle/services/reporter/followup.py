"""The reporter's follow-up: ticket log-in, the case page, replies and added files.

Ticket log-in costs exactly one Argon2 derivation whatever happens (found, unknown, mistyped),
so response time says nothing about whether a ticket exists. After log-in the route keeps
the case id and the open case key in the encrypted server-side session, so later pages need
no Argon2 at all. No Flask here.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import crypto
from crypto import CryptoError, TicketTypo

from ...attachments.storage import AttachmentStore
from ...db import transaction
from ...domain.constants import Status, label, meaning
from ...models import Attachment, Case, CaseKeyWrap, Message, new_id, utcnow
from ..cases import transitions as cases
from ..cases.calendar import today as local_today
from ..cases.calendar import unit_zone
from ..custody.casekeys import CaseCipher, unwrap_for_ticket
from .downloads import OpenFile, open_file
from .files import StagedFile, attach_staged, transaction_with_files
from .intake_ticket import AlreadyReplaced, MustReplace, Replacement, confirm, offer

MAX_REPLY = 20_000  # characters


class TicketMistyped(Exception):
    """The ticket fails its check symbol or has bad characters: "check your ticket"."""


class TicketUnknown(Exception):
    """A well-formed ticket that opens no case."""


class CaseReadOnly(Exception):
    """Archived cases take no more input."""


@dataclass(frozen=True)
class LoggedIn:
    case_id: str
    case_key: bytes


def _lookup_noise() -> bytes:
    return secrets.token_bytes(32)


def login(
    factory: sessionmaker[Session],
    ticket_text: str,
    *,
    pepper: bytes,
    hit_limit: Callable[[bytes], None] | None = None,
    kdf_slot: Callable[[], AbstractContextManager[object]] | None = None,
) -> LoggedIn:
    """Open a case with a ticket. Raises TicketMistyped or TicketUnknown, or MustReplace for
    a ticket issued at the intake desk (it opens nothing until a fresh one is confirmed, see
    :mod:`.intake_ticket`).

    ``hit_limit(lookup_id)`` counts the attempt against that ticket's rate limit (and may
    raise 429) before any Argon2 work. Every path runs exactly one derivation.
    """
    if kdf_slot is None:
        from ...web.limits import argon2_slot
        kdf_slot = argon2_slot
    try:
        ticket = crypto.parse_ticket(ticket_text)
    except (TicketTypo, TypeError):
        ticket = None
    lookup = crypto.ticket_lookup_id(ticket, pepper) if ticket else _lookup_noise()
    if ticket is not None and hit_limit is not None:
        hit_limit(lookup)
    with transaction(factory) as db:
        # The same query runs on a typo (with a random id) so both misses cost the same.
        row = db.execute(
            select(Case.id, Case.ticket_salt, Case.ticket_kdf, Case.ticket_single_use,
                   Case.register_no, CaseKeyWrap.blob)
            .join(CaseKeyWrap, (CaseKeyWrap.case_id == Case.id) & CaseKeyWrap.team_id.is_(None))
            .where(Case.ticket_lookup == lookup)
        ).first()
    with kdf_slot():
        if ticket is None or row is None:
            crypto.dummy_reporter_key()
            if ticket is None:
                raise TicketMistyped()
            raise TicketUnknown()
        reporter_key = crypto.reporter_key(ticket, bytes(row.ticket_salt),
                                           crypto.decode_params(bytes(row.ticket_kdf)))
    try:
        case_key = unwrap_for_ticket(row.id, bytes(row.blob), reporter_key)
    except CryptoError:
        raise TicketUnknown() from None  # a tampered wrap looks exactly like a wrong ticket
    if row.ticket_single_use:
        raise MustReplace(offer(row.id, case_key, lookup, row.register_no))
    return LoggedIn(row.id, case_key)


def confirm_replacement(
    factory: sessionmaker[Session],
    replacement: Replacement,
    *,
    pepper: bytes,
    kdf_slot: Callable[[], AbstractContextManager[object]] | None = None,
) -> LoggedIn:
    """The reporter noted their fresh ticket: swap it in for the intake ticket and log in.

    TicketUnknown when the intake ticket was replaced meanwhile (the other holder confirmed
    first) or the case is gone: the same answer as a wrong ticket.
    """
    try:
        confirm(factory, replacement, pepper=pepper, kdf_slot=kdf_slot)
    except AlreadyReplaced:
        raise TicketUnknown() from None
    return LoggedIn(replacement.case_id, replacement.case_key)


# -- the case page ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FileView:
    id: str
    name: str
    content_type: str
    plain_size: int
    clean: dict[str, Any] | None  # None for officers' files (cleaned on their side)
    mine: bool


@dataclass(frozen=True)
class MessageView:
    author: str  # "reporter" | "officer" | "system" -- never an officer's name
    at: datetime
    body: str
    files: list[FileView] = field(default_factory=list)


@dataclass(frozen=True)
class CaseView:
    register_no: str
    status: str
    status_label: str
    status_meaning: str
    received_at: datetime
    due_on: date | None
    is_late: bool
    read_only: bool
    awaiting_data: bool
    messages: list[MessageView]
    report_files: list[FileView]


def case_view(factory: sessionmaker[Session], login_: LoggedIn, lang: str) -> CaseView:
    """Everything the reporter may see of their case: status, deadline, non-internal thread."""
    cipher = CaseCipher(login_.case_id, login_.case_key)
    with transaction(factory) as db:
        case = db.get(Case, login_.case_id)
        if case is None:
            raise TicketUnknown()  # deleted (retention) while logged in
        messages = db.scalars(
            select(Message).where(Message.case_id == case.id, Message.internal.is_(False))
            .order_by(Message.created_at, Message.id)
        ).all()
        authors = {m.id: m.author for m in messages}
        files: dict[str | None, list[FileView]] = {}
        for att in db.scalars(select(Attachment).where(Attachment.case_id == case.id)
                              .order_by(Attachment.created_at, Attachment.id)):
            if att.message_id is not None and att.message_id not in authors:
                continue  # attached to an internal note
            mine = att.message_id is None or authors.get(att.message_id) == "reporter"
            files.setdefault(att.message_id, []).append(_file_view(cipher, att, mine))
        thread = [MessageView(m.author if m.author in ("reporter", "officer") else "system",
                              m.created_at, cipher.open_text("message", m.id, m.blob),
                              files.get(m.id, []))
                  for m in messages]
        today = local_today(zone=unit_zone(db, case.unit_id))  # the office's own day
        late = case.due_on is not None and today > case.due_on
        return CaseView(
            register_no=case.register_no, status=case.status,
            status_label=label(Status(case.status), lang),
            status_meaning=meaning(case.status, lang), received_at=case.received_at,
            due_on=case.due_on, is_late=late, read_only=case.status == Status.ARCHIVED.value,
            awaiting_data=case.status == Status.AWAITING_DATA.value, messages=thread,
            report_files=[f for f in files.get(None, []) if f.mine],
        )


def _file_view(cipher: CaseCipher, att: Attachment, mine: bool) -> FileView:
    meta = cipher.open_json("attachment", att.id, att.meta_blob)
    clean = meta.get("clean")
    return FileView(att.id, str(meta.get("name", "")), str(meta.get("type", "")),
                    int(meta.get("plain_size", 0)), clean if isinstance(clean, dict) else None,
                    mine=mine)


# -- replies -------------------------------------------------------------------------------


def reply(
    factory: sessionmaker[Session],
    login_: LoggedIn,
    body: str,
    *,
    files: Sequence[StagedFile] = (),
    store: AttachmentStore | None = None,
    config: Any = None,
) -> str:
    """Post the reporter's message (and files); answers a data request when one is open.

    Returns the new status. Raises CaseReadOnly on an archived case (the files are discarded).
    """
    with transaction_with_files(factory, store, files) as db:
        new_status = _write_reply(db, login_, body, files, config)
    return new_status


def _write_reply(db: Session, login_: LoggedIn, body: str, files: Sequence[StagedFile],
                 config: Any) -> str:
    case = db.get(Case, login_.case_id)
    if case is None:
        raise TicketUnknown()
    if case.status == Status.ARCHIVED.value:
        raise CaseReadOnly()
    cipher = CaseCipher(case.id, login_.case_key)
    message_id = new_id()
    at = utcnow()
    db.add(Message(id=message_id, case_id=case.id, author="reporter", internal=False,
                   created_at=at, blob=cipher.seal_text("message", message_id, body)))
    db.flush()
    attach_staged(db, cipher, files, message_id=message_id)
    # The officers' service owns the workflow side: flag the case and, when a data request is
    # open, send it back to verification with its event and notice. The notice is dated a
    # microsecond later so the thread always shows it after the reply it answers.
    cases.reporter_input(db, case, cipher, config=config, now=at + timedelta(microseconds=1))
    return case.status


# -- downloads -----------------------------------------------------------------------------

def open_attachment(factory: sessionmaker[Session], login_: LoggedIn, att_id: str,
                    store: AttachmentStore) -> OpenFile | None:
    """A file of the reporter's case that the reporter may see (never one on an internal note).

    Decrypted chunk by chunk as it is sent, so memory stays flat; None answers every miss.
    """
    if not isinstance(att_id, str) or len(att_id) != 32:
        return None
    with transaction(factory) as db:
        att = db.get(Attachment, att_id)
        if att is None or att.case_id != login_.case_id:
            return None
        if att.message_id is not None:
            msg = db.get(Message, att.message_id)
            if msg is None or msg.internal:
                return None
    return open_file(CaseCipher(login_.case_id, login_.case_key), att, store)
