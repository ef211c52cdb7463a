"""The reporter's side of identity escalation (DESIGN.md §3): consent, and the list of openings.

* From their case page the reporter may consent: "you may reveal my identity to the
  investigators". A request relying on it needs no PYB approval, but still both custodians'
  shares. The consent is sealed by the reporter under the case key, so a row inserted by
  someone without that key never verifies (escalation_state.consent_verifies).
* One consent serves one opening. It can be withdrawn until it is used; withdrawing ends every
  request that relied on it and destroys their key material at once.
* The case page lists every opening of the identity: date and the requester's ROLE, never a
  name, and whether it rested on the reporter's consent or on an approval.

The reporter acts with the case key from their ticket log-in; nothing here touches the
identity key, which is never wrapped to the ticket.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ...db import transaction
from ...domain.constants import Role, Status, label
from ...models import Case, IdentityConsent, IdentityRequest, new_id, utcnow
from ..messages import N_, Refusal
from . import audit
from .casekeys import CaseCipher
from .escalation_state import APPROVED, LIVE, OPENED, WITHDRAWN, destroy, seal_consent

REPORTER = "reporter"  # audit actor: the ticket holder, never identified further


class ConsentRefused(Refusal):
    """The reporter's consent cannot be given or withdrawn now."""


def live_consent(db: Session, case_id: str) -> IdentityConsent | None:
    """The reporter's consent that is neither withdrawn nor used, if any."""
    return db.scalar(select(IdentityConsent).where(
        IdentityConsent.case_id == case_id, IdentityConsent.withdrawn_at.is_(None),
        IdentityConsent.used_at.is_(None)).order_by(IdentityConsent.given_at.desc()).limit(1))


def give(db: Session, case_id: str, case_key: bytes, *, now: datetime | None = None) -> IdentityConsent:
    """Record the reporter's consent (idempotent while one is live)."""
    now = now or utcnow()
    case = db.get(Case, case_id)
    if case is None or not case.has_identity:
        raise ConsentRefused(N_("This report holds no identity to consent for."))
    if case.status == Status.ARCHIVED.value:
        raise ConsentRefused(N_("This report is archived."))
    current = live_consent(db, case_id)
    if current is not None:
        return current
    consent = IdentityConsent(id=new_id(), case_id=case_id, given_at=now.replace(microsecond=0),
                              blob=b"")
    consent.blob = seal_consent(CaseCipher(case_id, case_key), consent)
    db.add(consent)
    db.flush()
    audit.append(db, REPORTER, "identity.consent", f"case:{case_id}", f"consent={consent.id}")
    return consent


def withdraw(db: Session, case_id: str, *, now: datetime | None = None) -> int:
    """Withdraw the live consent; returns how many requests relying on it were ended."""
    now = now or utcnow()
    consent = live_consent(db, case_id)
    if consent is None:
        raise ConsentRefused(N_("There is no consent to withdraw: it was used or withdrawn already."))
    consent.withdrawn_at = now
    ended = end_requests_on(db, consent.id, now)
    db.flush()
    audit.append(db, REPORTER, "identity.consent_withdraw", f"case:{case_id}",
                 f"consent={consent.id} requests_ended={ended}")
    return ended


def end_requests_on(db: Session, consent_id: str, now: datetime,
                    keep: str | None = None) -> int:
    """End the live requests resting on ``consent_id`` (except ``keep``), destroying their keys."""
    rows = db.scalars(select(IdentityRequest).where(
        IdentityRequest.consent_id == consent_id, IdentityRequest.status.in_(LIVE))
        .with_for_update()).all()
    ended = 0
    for req in rows:
        if req.id != keep:
            destroy(db, req, now, WITHDRAWN)
            ended += 1
    return ended


# -- the reporter's page -------------------------------------------------------------------

@dataclass(frozen=True)
class Opening:
    at: datetime
    role: str  # the requester's role in the page's language: never a name
    with_consent: bool


@dataclass(frozen=True)
class IdentitySide:
    has_identity: bool
    can_consent: bool
    consent_given_at: datetime | None  # a live consent
    pending_on_consent: int  # live requests resting on it (withdrawing ends them)
    openings: list[Opening]


def _role(code: str | None, lang: str) -> str:
    try:
        return label(Role(code or ""), lang)
    except (KeyError, ValueError):
        return "Petugas" if (lang or "id").startswith("id") else "Officer"


def side(db: Session, case_id: str, lang: str) -> IdentitySide:
    case = db.get(Case, case_id)
    if case is None:
        return IdentitySide(False, False, None, 0, [])
    consent = live_consent(db, case_id)
    pending = 0
    if consent is not None:
        pending = len(db.scalars(select(IdentityRequest.id).where(
            IdentityRequest.consent_id == consent.id,
            IdentityRequest.status == APPROVED)).all())
    opened = db.scalars(select(IdentityRequest).where(
        IdentityRequest.case_id == case_id, IdentityRequest.status == OPENED)
        .order_by(IdentityRequest.opened_at)).all()
    openings = [Opening(r.opened_at or r.decided_at or r.created_at, _role(r.requester_role, lang),
                        r.consent_id is not None) for r in opened]
    return IdentitySide(
        has_identity=bool(case.has_identity or case.has_witnesses),
        can_consent=bool(case.has_identity) and case.status != Status.ARCHIVED.value,
        consent_given_at=consent.given_at if consent else None,
        pending_on_consent=pending, openings=openings)


# The reporter's routes call these (one transaction each).

def reporter_side(factory: sessionmaker[Session], case_id: str, lang: str) -> IdentitySide:
    with transaction(factory) as db:
        return side(db, case_id, lang)


def reporter_consents(factory: sessionmaker[Session], case_id: str, case_key: bytes) -> None:
    with transaction(factory) as db:
        give(db, case_id, case_key)


def reporter_withdraws(factory: sessionmaker[Session], case_id: str) -> int:
    with transaction(factory) as db:
        return withdraw(db, case_id)
