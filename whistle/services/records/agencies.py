"""The admin's list of receiving agencies' public keys, for referral packages.

Only public keys are kept. Adding one is audited with its fingerprint, so a swapped key shows
in the log; officers see the fingerprint next to the name before they send anything.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.external import Recipient, parse_recipient

from ...models import AgencyKey
from ..custody import audit
from ..messages import N_, Refusal

MAX_NAME = 200


class AgencyError(Refusal):
    """Refused; safe to show."""


def add(db: Session, actor: str, name: str, key_text: str) -> AgencyKey:
    """RecipientError for a key that is not usable; AgencyError for a bad name."""
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise AgencyError(N_("Give the agency's name (at most %(n)d characters)."), n=MAX_NAME)
    rec: Recipient = parse_recipient(key_text)
    row = AgencyKey(name=name, kind=rec.kind, key_text=rec.text, fingerprint=rec.fingerprint,
                    active=True, added_by=actor)
    db.add(row)
    db.flush()
    audit.append(db, actor, "agency_key.add", f"agency_key:{row.id}",
                 f"kind={rec.kind} fingerprint={rec.fingerprint.replace(' ', '')}")
    return row


def deactivate(db: Session, actor: str, key_id: int) -> None:
    row = db.get(AgencyKey, key_id)
    if row is None or not row.active:
        raise AgencyError(N_("No such agency key."))
    row.active = False
    audit.append(db, actor, "agency_key.remove", f"agency_key:{row.id}")


def active(db: Session) -> list[AgencyKey]:
    return list(db.scalars(select(AgencyKey).where(AgencyKey.active.is_(True))
                           .order_by(AgencyKey.name, AgencyKey.id)))


def key_text(db: Session, chosen: str, pasted: str) -> str:
    """The key of the chosen list entry, or the pasted one; exactly one of them."""
    chosen, pasted = (chosen or "").strip(), (pasted or "").strip()
    if chosen and pasted:
        raise AgencyError(N_("Pick an agency from the list or paste a key, not both."))
    if chosen:
        row = db.get(AgencyKey, int(chosen)) if chosen.isdigit() and len(chosen) < 10 else None
        if row is None or not row.active:
            raise AgencyError(N_("That agency key is no longer on the list."))
        return row.key_text
    if not pasted:
        raise AgencyError(N_("Pick an agency from the list or paste its public key."))
    return pasted
