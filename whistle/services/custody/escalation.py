"""Identity escalation (DESIGN.md §3): asking and deciding. Releases and the opening are in
``releases``, the reporter's consent in ``consent``, the shared rules in ``escalation_state``.

* An officer who can open the case asks, with a written reason and a legal basis (a code of
  ``LEGAL_BASES`` plus text), all sealed under the case key. An ephemeral HPKE key pair is made
  for the request: its public half is stored on it, its private half wrapped to the
  requester's officer key (context ``whistle/identity-ephemeral/<request>/<case>/<requester>``)
  so the requester can open it in a later session. The custodians release their shares to
  that ephemeral key, never to the requester's long-term key.
* The case key is granted to the PYB custodian team so that an authorised official can read
  the request and decide, and so that the PYB custodian can check the sealed approval before
  releasing the second share.
* A PYB officer (not the requester) approves or refuses within ``identity_decide_days``, with
  a reason sealed under the case key, recording whether telling the reporter would harm the
  investigation. Unless it would, the reporter is told in the thread at once. A refusal
  destroys the ephemeral private key.
* With the reporter's live consent and the basis "consent", the request is approved at once
  (no PYB decision); it still needs both custodians.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import PrivateKey, PublicKey

from ...domain.constants import Role, Text, bilingual
from ...models import (
    Case,
    IdentityRequest,
    IdentityShare,
    Message,
    Officer,
    Team,
    new_id,
    utcnow,
)
from ..messages import N_, CaseNotFound
from . import audit
from .casekeys import grant_team, open_case
from .consent import live_consent
from .escalation_state import (
    APPROVED,
    CONSENT,
    CUSTODIAN_ROLES,
    EXPIRED,
    LEGAL_BASES,
    LIVE,
    OPENED,
    PENDING,
    REFUSED,
    REQUESTER_ROLES,
    SHARES_NEEDED,
    WITHDRAWN,
    EscalationError,
    Records,
    TamperedRequest,
    actor,
    consent_verifies,
    destroy,
    ephemeral_context,
    get_request,
    is_expired,
    open_records,
    seal_basis,
    seal_decision,
)

__all__ = ["APPROVED", "CONSENT", "CUSTODIAN_ROLES", "EXPIRED", "LEGAL_BASES", "OPENED", "PENDING",
           "REFUSED", "REQUESTER_ROLES", "WITHDRAWN", "EscalationError", "TamperedRequest",
           "decide", "overview", "records", "request_identity"]

REASON_MIN, REASON_MAX = 20, 4000
BASIS_TEXT_MIN, BASIS_TEXT_MAX = 5, 1000
DECISION_MIN, DECISION_MAX = 10, 4000

REPORTER_NOTICE = Text(
    "Pejabat yang berwenang telah menyetujui permintaan untuk membuka identitas Anda guna "
    "pemeriksaan laporan ini. Identitas Anda hanya dibuka bagi petugas pemeriksa yang meminta, "
    "dan setiap langkahnya tercatat.",
    "An authorised official has approved a request to open your identity for the investigation "
    "of this report. It is shown only to the investigating officer who asked, and every step "
    "is recorded.",
)


def _pyb_custodian_team(db: Session, case_id: str) -> Team | None:
    team_id = db.scalar(select(IdentityShare.team_id).where(
        IdentityShare.case_id == case_id, IdentityShare.idx == SHARES_NEEDED))
    return db.get(Team, team_id) if team_id is not None else None


def _check_text(text: str, low: int, high: int, msgid: str) -> str:
    text = (text or "").strip()
    if not low <= len(text) <= high:
        raise EscalationError(msgid, min=low, max=high)
    return text


def request_identity(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey],
                     case_id: str, reason: str, basis: str, basis_text: str = "", *,
                     config: Any = None, now: datetime | None = None) -> IdentityRequest:
    now = now or utcnow()
    if officer.role not in REQUESTER_ROLES:
        raise EscalationError(N_("Your role cannot ask for a reporter's identity."))
    case, cipher = open_case(db, case_id, team_keys)  # CaseNotFound unless the officer can read it
    if not (case.has_identity or case.has_witnesses):
        raise EscalationError(N_("This report has no identity or witness details."))
    reason = _check_text(reason, REASON_MIN, REASON_MAX,
                         N_("Give a reason of %(min)d to %(max)d characters."))
    if basis not in LEGAL_BASES:
        raise EscalationError(N_("Choose the legal basis of the request."))
    if basis == CONSENT and not (basis_text or "").strip():
        basis_text = ""
    else:
        basis_text = _check_text(basis_text, BASIS_TEXT_MIN, BASIS_TEXT_MAX, N_(
            "Name the legal provision in %(min)d to %(max)d characters."))
    consent = live_consent(db, case.id) if basis == CONSENT else None
    if basis == CONSENT and consent is None:
        raise EscalationError(N_("The reporter has not consented, or withdrew their consent."))
    if consent is not None and not consent_verifies(cipher, consent):
        raise TamperedRequest()  # a consent row the reporter did not seal
    for other in db.scalars(select(IdentityRequest).where(
            IdentityRequest.case_id == case.id, IdentityRequest.requester_id == officer.id,
            IdentityRequest.status.in_(LIVE))):
        if not is_expired(other, now, config):
            raise EscalationError(N_("You already have an open request for this case."))
    pyb = _pyb_custodian_team(db, case.id)
    if pyb is None:
        raise EscalationError(N_("This case has no identity custodians."))
    if officer.public_key is None:
        raise EscalationError(N_("Your account has no key; finish your enrolment first."))
    req_id = new_id()
    ephemeral = PrivateKey.generate()
    req = IdentityRequest(
        id=req_id, case_id=case.id, requester_id=officer.id, requester_role=str(officer.role),
        status=APPROVED if consent else PENDING, consent_id=consent.id if consent else None,
        tell_reporter=consent is None, created_at=now,
        decided_at=now if consent else None,
        ephemeral_public=ephemeral.public_key().to_bytes(),
        ephemeral_sealed=PublicKey.from_bytes(officer.public_key).wrap(
            ephemeral.to_bytes(), context=ephemeral_context(req_id, case.id, officer.id)),
        reason_blob=cipher.seal_text("identity_request", req_id, reason))
    req.basis_blob = seal_basis(cipher, req, basis, basis_text)
    db.add(req)
    # The deciding official (and the PYB custodian, before releasing) must read the request.
    grant_team(db, case, pyb, cipher.key)
    db.flush()
    via = f"consent={consent.id}" if consent else "approval"
    audit.append(db, actor(officer), "identity.request", f"case:{case.id}",
                 f"request={req_id} via={via} pyb_team={pyb.id}")
    return req


def decide(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey], request_id: str,
           approve: bool, tell_reporter: bool, reason: str, *, config: Any = None,
           now: datetime | None = None) -> IdentityRequest:
    now = now or utcnow()
    req = get_request(db, request_id, for_update=True)
    if officer.role != Role.PYB:
        raise EscalationError(N_("Only an authorised official (PYB) decides."))
    if officer.id == req.requester_id:
        raise EscalationError(N_("You cannot decide on your own request."))
    case, cipher = open_case(db, req.case_id, team_keys)
    if req.status != PENDING:
        raise EscalationError(N_("This request has been decided already."))
    if is_expired(req, now, config):
        raise EscalationError(N_("This request has expired; the requester must ask again."))
    reason = _check_text(reason, DECISION_MIN, DECISION_MAX,
                         N_("Give the reason for your decision in %(min)d to %(max)d characters."))
    if open_records(cipher, req).basis is None:  # also refuses a row edited in the database
        raise TamperedRequest()
    req.status = APPROVED if approve else REFUSED
    req.approver_id = officer.id
    req.tell_reporter = bool(tell_reporter) if approve else False
    req.decided_at = now
    req.decision_blob = seal_decision(cipher, req, approve, reason)
    if not approve:
        destroy(db, req, now)  # nothing is left that a refused request could open
    if approve and req.tell_reporter:
        msg_id = new_id()
        db.add(Message(id=msg_id, case_id=case.id, author="system", officer_id=None,
                       internal=False, created_at=now,
                       blob=cipher.seal_text("message", msg_id, bilingual(REPORTER_NOTICE))))
    db.flush()
    audit.append(db, actor(officer), "identity.approve" if approve else "identity.refuse",
                 f"case:{case.id}", f"request={req.id} tell_reporter={req.tell_reporter}")
    return req


def records(db: Session, req: IdentityRequest, team_keys: Mapping[int, PrivateKey]) -> Records | None:
    """The request's sealed records, for an officer who can read the case; else None."""
    try:
        _, cipher = open_case(db, req.case_id, team_keys)
    except CaseNotFound:
        return None
    return open_records(cipher, req)


def reason_text(db: Session, req: IdentityRequest, team_keys: Mapping[int, PrivateKey]) -> str | None:
    found = records(db, req, team_keys)
    return found.reason if found is not None else None


def overview(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey], *,
             config: Any = None, now: datetime | None = None) -> dict[str, list[IdentityRequest]]:
    """Requests this officer made, may decide, or may release a share for."""
    from .releases import releasable  # releases imports this module's siblings only

    now = now or utcnow()
    mine = list(db.scalars(select(IdentityRequest).where(
        IdentityRequest.requester_id == officer.id).order_by(IdentityRequest.created_at.desc())))
    to_decide: list[IdentityRequest] = []
    if officer.role == Role.PYB:
        for req in db.scalars(select(IdentityRequest).where(IdentityRequest.status == PENDING)):
            if (req.requester_id != officer.id and not is_expired(req, now, config)
                    and _readable(db, req, team_keys)):
                to_decide.append(req)
    to_release = [req for req in db.scalars(select(IdentityRequest).where(
        IdentityRequest.status == APPROVED))
        if releasable(db, officer, team_keys, req, config=config, now=now)]
    return {"mine": mine, "decide": to_decide, "release": to_release}


def _readable(db: Session, req: IdentityRequest, team_keys: Mapping[int, PrivateKey]) -> bool:
    try:
        return records(db, req, team_keys) is not None
    except TamperedRequest:
        return True  # listed, so that the official sees the refusal on its page


def case_register(db: Session, case_id: str) -> str:
    case = db.get(Case, case_id)
    return case.register_no if case is not None else "?"
