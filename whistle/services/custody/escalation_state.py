"""What every step of an identity escalation checks: a request's life, the contexts its keys
are bound to, its sealed records, and the one way its key material is destroyed.

Shared by ``escalation`` (ask, decide), ``releases`` (release, open, expire) and ``consent``
(the reporter's side), so that the rules are written once:

* A request lives ``identity_decide_days`` while pending, then ``identity_release_days`` from
  its approval (or, on the consent path, from its creation). Past that it is expired whatever
  its stored status says; the sweep then destroys its keys. A request dated in the future
  (beyond a small clock skew) is treated as expired too: a moved date must never extend a life.
* Sealed under the case key and bound to this request, this requester and this ephemeral key:
  the legal basis (sealed by the requester, with the creation time) and the decision (sealed by
  the PYB, with its time). Whoever holds the case key checks them before acting, so a row
  edited in the database (another case, requester, ephemeral key or date) does not verify.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from crypto import CryptoError, PublicKey

from ...config import Config
from ...domain.constants import Role
from ...models import IdentityConsent, IdentityRequest, Officer, ShareRelease
from ..messages import N_, CaseNotFound, Refusal
from .casekeys import CaseCipher

PENDING, APPROVED, REFUSED, OPENED = "pending", "approved", "refused", "opened"
EXPIRED, WITHDRAWN = "expired", "withdrawn"
LIVE: tuple[str, ...] = (PENDING, APPROVED)
SHARES_NEEDED = 2
REQUESTER_ROLES: tuple[str, ...] = (Role.VERIFIKATOR, Role.PYB, Role.PENGKAJI, Role.UKI)
CUSTODIAN_ROLES: tuple[str, ...] = (Role.UKI, Role.PYB)  # share 1: UKI team, share 2: PYB team
FUTURE_SKEW = timedelta(minutes=5)

# The legal basis of a request: a code from this fixed list (English msgids, translated by the
# page) plus the requester's text naming the provision. "consent" needs the reporter's consent.
CONSENT = "consent"
LEGAL_BASES: dict[str, str] = {
    "witness": N_("The reporter's testimony is needed as a witness in the examination"),
    "verification": N_("The report cannot be verified without the reporter's identity"),
    "protection": N_("Protecting the reporter (witness and victim protection, LPSK)"),
    "law_enforcement": N_("A written request of law enforcement or a court order"),
    CONSENT: N_("The reporter's consent, given on their case page"),
    "other": N_("Another legal provision (name it below)"),
}


class EscalationError(Refusal):
    """Refused step; the message is safe to show to the officer."""


class TamperedRequest(EscalationError):
    def __init__(self) -> None:
        super().__init__(N_("This request's sealed records do not match it; it cannot be used. "
                            "Ask again with a new request."))


@dataclass(frozen=True)
class Lives:
    decide: timedelta
    release: timedelta
    reading_seconds: int


def lives(config: Any = None) -> Lives:
    base = Config()
    cfg = config if config is not None else base

    def setting(name: str) -> int:  # a partial config object (some tests) falls back to defaults
        return int(getattr(cfg, name, getattr(base, name)))

    return Lives(timedelta(days=setting("identity_decide_days")),
                 timedelta(days=setting("identity_release_days")),
                 setting("identity_reading_seconds"))


def deadline(req: IdentityRequest, config: Any = None) -> datetime | None:
    """When a live request stops being usable; None once it has ended."""
    life = lives(config)
    if req.status == PENDING:
        return req.created_at + life.decide
    if req.status == APPROVED:
        return (req.decided_at or req.created_at) + life.release
    return None


def is_expired(req: IdentityRequest, now: datetime, config: Any = None) -> bool:
    if req.status == EXPIRED:
        return True
    end = deadline(req, config)
    if end is None:
        return False
    future = max(req.created_at, req.decided_at or req.created_at) > now + FUTURE_SKEW
    return now >= end or future


def shown_status(req: IdentityRequest, now: datetime, config: Any = None) -> str:
    """The status as people should read it: a live request past its life reads 'expired'."""
    return EXPIRED if req.status in LIVE and is_expired(req, now, config) else req.status


def get_request(db: Session, request_id: str, *, for_update: bool = False) -> IdentityRequest:
    req = (db.get(IdentityRequest, request_id, with_for_update=for_update)
           if isinstance(request_id, str) and request_id.isalnum() and len(request_id) == 32
           else None)
    if req is None:
        raise CaseNotFound()
    return req


def actor(officer: Officer) -> str:
    return f"officer:{officer.id}"


# -- contexts (crypto/SPEC.md §1.3) ------------------------------------------------------------

def ephemeral_context(request_id: str, case_id: str, requester_id: int) -> bytes:
    """The request's ephemeral private key, wrapped to the requester's officer key."""
    return f"whistle/identity-ephemeral/{request_id}/{case_id}/{requester_id}".encode()


def release_context(request_id: str, case_id: str, idx: int) -> bytes:
    """Share ``idx`` of ``case_id``, re-wrapped to the ephemeral public key of ``request_id``."""
    return f"whistle/identity-release/{request_id}/{case_id}/{idx}".encode()


def fingerprint(public_key: bytes | None) -> str:
    return PublicKey.from_bytes(public_key).fingerprint() if public_key else ""


# -- sealed records ------------------------------------------------------------------------

def _binding(req: IdentityRequest) -> str:
    return f"{req.id}:{req.requester_id}"


def seal_basis(cipher: CaseCipher, req: IdentityRequest, basis: str, text: str) -> bytes:
    return cipher.seal_json("identity_basis", _binding(req), {
        "basis": basis, "text": text, "request": req.id, "requester": req.requester_id,
        "ephemeral": fingerprint(req.ephemeral_public), "consent": req.consent_id,
        "created_at": req.created_at.isoformat()})


def seal_decision(cipher: CaseCipher, req: IdentityRequest, approve: bool, reason: str) -> bytes:
    assert req.decided_at is not None
    return cipher.seal_json("identity_decision", _binding(req), {
        "approve": approve, "reason": reason, "request": req.id, "requester": req.requester_id,
        "approver": req.approver_id, "ephemeral": fingerprint(req.ephemeral_public),
        "tell_reporter": req.tell_reporter, "decided_at": req.decided_at.isoformat()})


def seal_consent(cipher: CaseCipher, consent: IdentityConsent) -> bytes:
    return cipher.seal_json("identity_consent", consent.id, {
        "consent": consent.id, "case": consent.case_id, "given_at": consent.given_at.isoformat()})


def consent_verifies(cipher: CaseCipher, consent: IdentityConsent) -> bool:
    try:
        data = cipher.open_json("identity_consent", consent.id, consent.blob)
    except (CryptoError, ValueError):
        return False
    return bool(data == {"consent": consent.id, "case": consent.case_id,
                         "given_at": consent.given_at.isoformat()})


@dataclass(frozen=True)
class Records:
    """A request's sealed records, opened and checked against its row."""

    reason: str
    basis: str | None  # None only for a request made before the legal basis existed
    basis_text: str
    decision_reason: str | None
    approved: bool | None


def open_records(cipher: CaseCipher, req: IdentityRequest) -> Records:
    """Open and check the sealed records; TamperedRequest when any of them does not match."""
    try:
        reason = cipher.open_text("identity_request", req.id, req.reason_blob)
        basis = (cipher.open_json("identity_basis", _binding(req), req.basis_blob)
                 if req.basis_blob is not None else None)
        decision = (cipher.open_json("identity_decision", _binding(req), req.decision_blob)
                    if req.decision_blob is not None else None)
    except (CryptoError, ValueError):
        raise TamperedRequest() from None
    eph = fingerprint(req.ephemeral_public)
    if basis is not None and basis != {
            "basis": basis.get("basis"), "text": basis.get("text"), "request": req.id,
            "requester": req.requester_id, "ephemeral": eph, "consent": req.consent_id,
            "created_at": req.created_at.isoformat()}:
        raise TamperedRequest()
    if decision is not None:
        # What the stored status says about the decision must be what the PYB sealed.
        said = {APPROVED: True, OPENED: True, REFUSED: False}.get(req.status)
        if (decision.get("request") != req.id or decision.get("requester") != req.requester_id
                or decision.get("approver") != req.approver_id
                or decision.get("ephemeral") != eph or req.decided_at is None
                or decision.get("decided_at") != req.decided_at.isoformat()
                or req.status == PENDING
                or (said is not None and decision.get("approve") is not said)):
            raise TamperedRequest()
    return Records(reason, basis.get("basis") if basis else None,
                   str(basis.get("text", "")) if basis else "",
                   str(decision.get("reason", "")) if decision else None,
                   bool(decision.get("approve")) if decision else None)


def check_usable(cipher: CaseCipher, req: IdentityRequest, consent: IdentityConsent | None) -> None:
    """Before a share is released to, or opened with, this request's ephemeral key: its records
    verify, and it rests on an approval sealed by the PYB or on the reporter's live consent."""
    records = open_records(cipher, req)
    if records.basis is None or req.ephemeral_public is None:
        raise TamperedRequest()
    if req.consent_id is not None:
        if (records.basis != CONSENT or consent is None or consent.id != req.consent_id
                or consent.case_id != req.case_id or not consent_verifies(cipher, consent)
                or req.decided_at != req.created_at):
            raise TamperedRequest()
        if consent.withdrawn_at is not None or consent.used_at is not None:
            raise EscalationError(N_("The reporter withdrew their consent, or it was used already."))
    elif records.approved is not True or req.approver_id is None:
        raise TamperedRequest()


def destroy(db: Session, req: IdentityRequest, now: datetime, status: str | None = None) -> None:
    """Destroy what could open the identity for this request: the sealed ephemeral private key
    and every share released to it. SQLite zeroes the freed pages (``secure_delete``)."""
    db.execute(delete(ShareRelease).where(ShareRelease.request_id == req.id)
               .execution_options(synchronize_session=False))
    req.ephemeral_sealed = None
    req.ended_at = now
    if status is not None:
        req.status = status
