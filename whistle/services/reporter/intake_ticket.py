"""A ticket issued at the intake desk works once: the reporter's first log-in replaces it.

The penerima read the ticket aloud or wrote it down, so it is no secret of the reporter's. A
log-in with it (``followup.login``) opens nothing: it raises :class:`MustReplace` carrying a
fresh ticket that only the reporter sees, shown and confirmed exactly as a web filing's ticket
(``blueprints/reporter/submit.py``). On confirmation, ONE transaction overwrites the case's
lookup id, salt and Argon2 record with the new ticket's and deletes the old ticket's wrap of
the case key while it stores the new one.

Why the swap waits for the confirmation (SECURITY.md "Intake tickets"):

* the case must never be left with no working ticket: a fresh ticket that was shown but never
  noted (tab closed, phone died) exists only in the reporter's encrypted session and dies with
  it, and the intake ticket still works and offers another fresh ticket next time;
* the old ticket must never keep working once a new one is confirmed: both are never stored
  together, and the swap is conditional on the intake lookup id still being the case's, so of
  two people holding the intake ticket (the reporter and the penerima) exactly one confirmation
  wins and the other gets "no report matches this ticket";
* until then the intake ticket shows nothing of the case (not even its thread), so using it
  without confirming gains the penerima nothing, and confirming locks the reporter out — which
  the reporter notices and the audit entry "ticket.replaced" dates.

No Flask here; the fresh ticket is never stored or logged.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, update
from sqlalchemy.orm import Session, sessionmaker

import crypto

from ...db import transaction
from ...models import Case, CaseKeyWrap
from ..custody import audit
from ..custody.casekeys import wrap_for_ticket


@dataclass(frozen=True)
class Replacement:
    """An offered fresh ticket for a case whose intake ticket was just used.

    Held only in the reporter's encrypted server-side session until confirmed: ``case_key``
    is the key the intake ticket opened, ``old_lookup`` the intake ticket's lookup id (the
    swap happens only while it is still the case's).
    """

    case_id: str
    case_key: bytes
    old_lookup: bytes
    register_no: str
    ticket: str

    def to_session(self) -> dict[str, Any]:
        """The parts the session keeps beside the receipt (which holds ticket + register no)."""
        return {"case_id": self.case_id, "key": self.case_key, "lookup": self.old_lookup}

    @classmethod
    def from_session(cls, data: Mapping[str, Any], *, ticket: str,
                     register_no: str) -> Replacement:
        return cls(str(data["case_id"]), bytes(data["key"]), bytes(data["lookup"]),
                   register_no, ticket)


class MustReplace(Exception):
    """The ticket was issued at the intake desk: it opens nothing until a fresh one is confirmed.

    Raised (not returned) so that a caller which does not handle it grants no access.
    """

    def __init__(self, replacement: Replacement) -> None:
        super().__init__("intake ticket: replace before use")
        self.replacement = replacement


class AlreadyReplaced(Exception):
    """The intake ticket was replaced meanwhile (another confirmation won), or the case is gone."""


def offer(case_id: str, case_key: bytes, old_lookup: bytes, register_no: str) -> Replacement:
    """A fresh ticket for the case; nothing is written until :func:`confirm`."""
    return Replacement(case_id, case_key, old_lookup, register_no, crypto.new_ticket())


def confirm(factory: sessionmaker[Session], replacement: Replacement, *, pepper: bytes,
            kdf_slot: Callable[[], AbstractContextManager[object]] | None = None) -> None:
    """Make the fresh ticket the case's only ticket; the intake ticket stops working.

    One Argon2 derivation (outside the transaction, so it holds no write lock), then one
    transaction: the conditional swap of lookup id, salt and Argon2 record, the old ticket
    wrap deleted, the new one stored, an audit entry. Raises AlreadyReplaced, writing nothing.
    """
    if kdf_slot is None:
        from ...web.limits import argon2_slot

        kdf_slot = argon2_slot
    r = replacement
    salt = secrets.token_bytes(16)
    params = crypto.kdf.ticket_default()
    with kdf_slot():
        reporter_key = crypto.reporter_key(r.ticket, salt, params)
    blob = wrap_for_ticket(r.case_id, r.case_key, reporter_key)
    with transaction(factory) as db:
        # Conditional on the intake lookup id: of two confirmations of the same intake ticket
        # the second matches no row (PostgreSQL re-checks the WHERE after the first commits;
        # SQLite serialises writers), so a case never ends up with two live tickets.
        swapped = cast(CursorResult[Any], db.execute(
            update(Case)
            .where(Case.id == r.case_id, Case.ticket_lookup == r.old_lookup,
                   Case.ticket_single_use.is_(True))
            .values(ticket_lookup=crypto.ticket_lookup_id(r.ticket, pepper), ticket_salt=salt,
                    ticket_kdf=crypto.encode_params(params), ticket_single_use=False)
            .execution_options(synchronize_session=False)
        )).rowcount
        if swapped != 1:
            raise AlreadyReplaced()
        db.execute(delete(CaseKeyWrap).where(CaseKeyWrap.case_id == r.case_id,
                                             CaseKeyWrap.team_id.is_(None)))
        db.add(CaseKeyWrap(case_id=r.case_id, team_id=None, blob=blob))
        audit.append(db, "reporter", "ticket.replaced", f"case:{r.case_id}", detail="intake")
