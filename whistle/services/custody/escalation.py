"""Identity escalation (DESIGN.md §3): ask, approve, release shares, open — every step audited.

* An officer who can open the case asks, with a written reason (sealed under the case key).
  The case key is granted to the PYB custodian team so that an authorised official can read
  the reason and decide.
* A PYB officer (not the requester) approves or refuses, recording whether telling the reporter
  would harm the investigation. Unless it would, the reporter is told in the thread at once,
  before anybody sees the identity.
* Each custodian (a member of the team holding share *i*: UKI for share 1, PYB for share 2)
  unwraps the share with their team key in their own session and re-wraps it to the
  requester's public key: no share is ever stored in clear, and no custodian learns the key.
* The requester's session combines the two released shares into the identity key and decrypts
  the identity for that page view only; nothing reconstructed is stored.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from crypto import CryptoError, PrivateKey, PublicKey, Share

from ...domain.constants import Role, Text, bilingual
from ...models import (
    Case,
    IdentityBlob,
    IdentityRequest,
    IdentityShare,
    Message,
    Officer,
    ShareRelease,
    Team,
    new_id,
    utcnow,
)
from ..messages import N_, CaseNotFound, Refusal
from . import audit
from .casekeys import CaseCipher, grant_team, identity_share_context, open_case

REQUESTER_ROLES: tuple[str, ...] = (Role.VERIFIKATOR, Role.PYB, Role.PENGKAJI, Role.UKI)
CUSTODIAN_ROLES: tuple[str, ...] = (Role.UKI, Role.PYB)
SHARES_NEEDED = 2
REASON_MIN, REASON_MAX = 20, 4000
PENDING, APPROVED, REFUSED, OPENED = "pending", "approved", "refused", "opened"

REPORTER_NOTICE = Text(
    "Pejabat yang berwenang telah menyetujui permintaan untuk membuka identitas Anda guna "
    "pemeriksaan laporan ini. Identitas Anda hanya dibuka bagi petugas pemeriksa yang meminta, "
    "dan setiap langkahnya tercatat.",
    "An authorised official has approved a request to open your identity for the investigation "
    "of this report. It is shown only to the investigating officer who asked, and every step "
    "is recorded.",
)


class EscalationError(Refusal):
    """Refused step; the message is safe to show to the officer."""


def release_context(request_id: str, idx: int) -> bytes:
    return f"whistle/identity-release/{request_id}/{idx}".encode()


def _actor(officer: Officer) -> str:
    return f"officer:{officer.id}"


def _get(db: Session, request_id: str) -> IdentityRequest:
    req = db.get(IdentityRequest, request_id) if request_id.isalnum() else None
    if req is None:
        raise CaseNotFound()
    return req


def _pyb_custodian_team(db: Session, case_id: str) -> Team | None:
    team_id = db.scalar(select(IdentityShare.team_id).where(
        IdentityShare.case_id == case_id, IdentityShare.idx == SHARES_NEEDED))
    return db.get(Team, team_id) if team_id is not None else None


def request_identity(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey],
                     case_id: str, reason: str) -> IdentityRequest:
    if officer.role not in REQUESTER_ROLES:
        raise EscalationError(N_("Your role cannot ask for a reporter's identity."))
    case, cipher = open_case(db, case_id, team_keys)  # CaseNotFound unless the officer can read it
    if not (case.has_identity or case.has_witnesses):
        raise EscalationError(N_("This report has no identity or witness details."))
    reason = reason.strip()
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise EscalationError(N_("Give a reason of %(min)d to %(max)d characters."),
                              min=REASON_MIN, max=REASON_MAX)
    open_one = db.scalar(select(IdentityRequest.id).where(
        IdentityRequest.case_id == case.id, IdentityRequest.requester_id == officer.id,
        IdentityRequest.status.in_((PENDING, APPROVED))))
    if open_one is not None:
        raise EscalationError(N_("You already have an open request for this case."))
    pyb = _pyb_custodian_team(db, case.id)
    if pyb is None:
        raise EscalationError(N_("This case has no identity custodians."))
    req_id = new_id()
    req = IdentityRequest(id=req_id, case_id=case.id, requester_id=officer.id, status=PENDING,
                          reason_blob=cipher.seal_text("identity_request", req_id, reason))
    db.add(req)
    # The deciding official must be able to read the case and the reason.
    grant_team(db, case, pyb, cipher.key)
    db.flush()
    audit.append(db, _actor(officer), "identity.request", f"case:{case.id}",
                 f"request={req_id} pyb_team={pyb.id}")
    return req


def decide(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey], request_id: str,
           approve: bool, tell_reporter: bool) -> IdentityRequest:
    req = _get(db, request_id)
    if officer.role != Role.PYB:
        raise EscalationError(N_("Only an authorised official (PYB) decides."))
    if officer.id == req.requester_id:
        raise EscalationError(N_("You cannot decide on your own request."))
    case, cipher = open_case(db, req.case_id, team_keys)
    if req.status != PENDING:
        raise EscalationError(N_("This request has been decided already."))
    req.status = APPROVED if approve else REFUSED
    req.approver_id = officer.id
    req.tell_reporter = bool(tell_reporter) if approve else False
    req.decided_at = utcnow()
    if approve and req.tell_reporter:
        msg_id = new_id()
        db.add(Message(id=msg_id, case_id=case.id, author="system", officer_id=None,
                       internal=False, created_at=req.decided_at,
                       blob=cipher.seal_text("message", msg_id, bilingual(REPORTER_NOTICE))))
    db.flush()
    audit.append(db, _actor(officer), "identity.approve" if approve else "identity.refuse",
                 f"case:{case.id}", f"request={req.id} tell_reporter={req.tell_reporter}")
    return req


def releasable(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey],
               req: IdentityRequest) -> list[IdentityShare]:
    """Shares of this approved request this custodian could release now."""
    if (req.status != APPROVED or officer.role not in CUSTODIAN_ROLES
            or officer.id == req.requester_id):
        return []
    done = set(db.scalars(select(ShareRelease.idx).where(ShareRelease.request_id == req.id)))
    mine = db.scalar(select(ShareRelease.idx).where(ShareRelease.request_id == req.id,
                                                    ShareRelease.custodian_id == officer.id))
    if mine is not None:
        return []  # one custodian, one share: two people must act
    shares = db.scalars(select(IdentityShare).where(
        IdentityShare.case_id == req.case_id, IdentityShare.team_id.in_(list(team_keys)))).all()
    return [s for s in shares if s.idx not in done][:1]


def release_share(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey],
                  request_id: str) -> int:
    """Re-wrap one held share to the requester's public key; returns its index."""
    req = _get(db, request_id)
    candidates = releasable(db, officer, team_keys, req)
    if not candidates:
        raise EscalationError(N_("There is no share for you to release on this request."))
    share = candidates[0]
    requester = db.get(Officer, req.requester_id)
    if requester is None or requester.public_key is None or not requester.active:
        raise EscalationError(N_("The requester can no longer receive the share."))
    raw = team_keys[share.team_id].unwrap(share.blob,
                                          context=identity_share_context(req.case_id, share.idx))
    blob = PublicKey.from_bytes(requester.public_key).wrap(raw, context=release_context(req.id, share.idx))
    db.add(ShareRelease(request_id=req.id, idx=share.idx, custodian_id=officer.id, blob=blob))
    db.flush()
    audit.append(db, _actor(officer), "identity.share_release", f"case:{req.case_id}",
                 f"request={req.id} share={share.idx}")
    return share.idx


@dataclass(frozen=True)
class Disclosure:
    identity: dict[str, str]
    witnesses: list[dict[str, str]]


def open_identity(db: Session, officer: Officer, officer_key: PrivateKey,
                  team_keys: Mapping[int, PrivateKey], request_id: str) -> Disclosure:
    """The identity, for the requester only, once both shares are released. Audited each time."""
    req = _get(db, request_id)
    if req.requester_id != officer.id:
        raise CaseNotFound()  # nobody else learns even that it could be opened
    if req.status not in (APPROVED, OPENED):
        raise EscalationError(N_("The request is not approved."))
    open_case(db, req.case_id, team_keys)  # still on the case?
    releases = db.scalars(select(ShareRelease).where(ShareRelease.request_id == req.id)
                          .order_by(ShareRelease.idx)).all()
    if len(releases) < SHARES_NEEDED:
        raise EscalationError(N_("Waiting for the custodians to release their shares."))
    try:
        shares = [Share.from_bytes(officer_key.unwrap(r.blob, context=release_context(req.id, r.idx)))
                  for r in releases]
        id_key = crypto.combine_shares(shares)
    except CryptoError as exc:
        # e.g. the requester's key was replaced by a reset after the shares were released
        raise EscalationError(N_("The released shares cannot be opened with your current key.")) from exc
    sealer = CaseCipher(req.case_id, id_key)
    found: dict[str, Any] = {}
    for row in db.scalars(select(IdentityBlob).where(IdentityBlob.case_id == req.case_id)):
        found[row.kind] = sealer.open_json(row.kind, None, row.blob)
    if req.status != OPENED:
        req.status = OPENED
    db.flush()
    audit.append(db, _actor(officer), "identity.open", f"case:{req.case_id}", f"request={req.id}")
    return Disclosure(found.get("identity") or {}, found.get("witnesses") or [])


def reason_text(db: Session, req: IdentityRequest, team_keys: Mapping[int, PrivateKey]) -> str | None:
    """The reason, for an officer who can read the case; else None."""
    try:
        _, cipher = open_case(db, req.case_id, team_keys)
    except CaseNotFound:
        return None
    return cipher.open_text("identity_request", req.id, req.reason_blob)


def overview(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey]) -> dict[str, list[IdentityRequest]]:
    """Requests this officer made, may decide, or may release a share for."""
    mine = list(db.scalars(select(IdentityRequest).where(
        IdentityRequest.requester_id == officer.id).order_by(IdentityRequest.created_at.desc())))
    to_decide: list[IdentityRequest] = []
    if officer.role == Role.PYB:
        for req in db.scalars(select(IdentityRequest).where(IdentityRequest.status == PENDING)):
            if req.requester_id != officer.id and reason_text(db, req, team_keys) is not None:
                to_decide.append(req)
    to_release = [req for req in db.scalars(select(IdentityRequest).where(
        IdentityRequest.status == APPROVED)) if releasable(db, officer, team_keys, req)]
    return {"mine": mine, "decide": to_decide, "release": to_release}


def case_register(db: Session, case_id: str) -> str:
    case = db.get(Case, case_id)
    return case.register_no if case is not None else "?"
