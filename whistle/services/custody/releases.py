"""Identity escalation: the custodians' releases, the one opening, and expiry.

* Each custodian (a member of the team holding share *i*: UKI for share 1, PYB for share 2)
  unwraps that share with their team key in their own session and re-wraps it to the
  request's EPHEMERAL public key (context ``whistle/identity-release/<request>/<case>/<i>``).
  One custodian, one share: two people of two teams must act. A custodian who can read the
  case (the PYB custodian always can) first checks the request's sealed records, so a request
  edited in the database (another case, requester or ephemeral key) gets no PYB share.
* Once both are released, the requester's session unseals the ephemeral private key with the
  officer key, unwraps the shares, combines the identity key and decrypts the identity. In
  the same transaction the request becomes 'opened' (a conditional UPDATE: one opening, even
  if two tabs race) and its ephemeral private key and releases are destroyed. The identity
  is returned to the caller only; the page keeps it in the requester's encrypted session for
  the reading window. Nothing reconstructed is ever written to the database or a log.
* A request past its life is refused on read; ``expire_requests`` (the sweep) marks it
  expired and destroys its key material.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, sessionmaker

import crypto
from crypto import CryptoError, PrivateKey, PublicKey, Share

from ...db import transaction
from ...models import (
    IdentityBlob,
    IdentityConsent,
    IdentityRequest,
    IdentityShare,
    Officer,
    ShareRelease,
    utcnow,
)
from ..messages import N_, CaseNotFound
from . import audit
from .casekeys import CaseCipher, identity_share_context, open_case
from .consent import end_requests_on
from .escalation_state import (
    APPROVED,
    CUSTODIAN_ROLES,
    EXPIRED,
    FUTURE_SKEW,
    LIVE,
    OPENED,
    SHARES_NEEDED,
    EscalationError,
    actor,
    check_usable,
    destroy,
    ephemeral_context,
    get_request,
    is_expired,
    lives,
    release_context,
)


def _consent(db: Session, req: IdentityRequest) -> IdentityConsent | None:
    return db.get(IdentityConsent, req.consent_id) if req.consent_id is not None else None


def releasable(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey],
               req: IdentityRequest, *, config: Any = None,
               now: datetime | None = None) -> list[IdentityShare]:
    """Shares of this approved, live request this custodian could release now."""
    now = now or utcnow()
    if (req.status != APPROVED or officer.role not in CUSTODIAN_ROLES
            or officer.id == req.requester_id or req.ephemeral_sealed is None
            or req.ephemeral_public is None or is_expired(req, now, config)):
        return []
    if req.consent_id is not None:
        consent = _consent(db, req)
        if consent is None or consent.withdrawn_at is not None or consent.used_at is not None:
            return []
    done = set(db.scalars(select(ShareRelease.idx).where(ShareRelease.request_id == req.id)))
    mine = db.scalar(select(ShareRelease.idx).where(ShareRelease.request_id == req.id,
                                                    ShareRelease.custodian_id == officer.id))
    if mine is not None:
        return []  # one custodian, one share: two people must act
    shares = db.scalars(select(IdentityShare).where(
        IdentityShare.case_id == req.case_id, IdentityShare.team_id.in_(list(team_keys)))
        .order_by(IdentityShare.idx)).all()
    return [s for s in shares if s.idx not in done][:1]


def release_share(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey],
                  request_id: str, *, config: Any = None, now: datetime | None = None) -> int:
    """Re-wrap one held share to the request's ephemeral public key; returns its index."""
    now = now or utcnow()
    req = get_request(db, request_id, for_update=True)
    if req.status == APPROVED and is_expired(req, now, config):
        raise EscalationError(N_("This request has expired; the requester must ask again."))
    candidates = releasable(db, officer, team_keys, req, config=config, now=now)
    if not candidates:
        raise EscalationError(N_("There is no share for you to release on this request."))
    share = candidates[0]
    try:
        _, cipher = open_case(db, req.case_id, team_keys)
    except CaseNotFound:
        cipher = None
    if cipher is not None:
        check_usable(cipher, req, _consent(db, req))
    elif share.idx == SHARES_NEEDED:
        # The deciding team's share goes out only after its custodian checked the approval.
        raise EscalationError(N_("You cannot read this case, so you cannot check the request."))
    requester = db.get(Officer, req.requester_id)
    if requester is None or not requester.active:
        raise EscalationError(N_("The requester can no longer receive the share."))
    assert req.ephemeral_public is not None  # releasable() checked it
    raw = team_keys[share.team_id].unwrap(share.blob,
                                          context=identity_share_context(req.case_id, share.idx))
    blob = PublicKey.from_bytes(req.ephemeral_public).wrap(
        raw, context=release_context(req.id, req.case_id, share.idx))
    db.add(ShareRelease(request_id=req.id, idx=share.idx, custodian_id=officer.id, blob=blob,
                        released_at=now))
    db.flush()
    audit.append(db, actor(officer), "identity.share_release", f"case:{req.case_id}",
                 f"request={req.id} share={share.idx}")
    return share.idx


@dataclass(frozen=True)
class Disclosure:
    identity: dict[str, str]
    witnesses: list[dict[str, str]]


def ready(db: Session, req: IdentityRequest) -> bool:
    """All shares released: the requester may open it now."""
    count = db.scalar(select(func.count()).select_from(ShareRelease)
                      .where(ShareRelease.request_id == req.id)) or 0
    return req.status == APPROVED and count >= SHARES_NEEDED


def open_identity(db: Session, officer: Officer, officer_key: PrivateKey,
                  team_keys: Mapping[int, PrivateKey], request_id: str, *, config: Any = None,
                  now: datetime | None = None) -> Disclosure:
    """The identity, for the requester only, once: opening ends the request and its keys."""
    now = now or utcnow()
    req = get_request(db, request_id, for_update=True)
    if req.requester_id != officer.id:
        raise CaseNotFound()  # nobody else learns even that it could be opened
    _, cipher = open_case(db, req.case_id, team_keys)  # still on the case?
    if req.status == OPENED:
        raise EscalationError(N_("The identity was shown already; opening it again needs a new "
                                 "request."))
    if req.status != APPROVED or req.ephemeral_sealed is None:
        raise EscalationError(N_("The request is not approved."))
    if is_expired(req, now, config):
        raise EscalationError(N_("This request has expired; the requester must ask again."))
    consent = _consent(db, req)
    check_usable(cipher, req, consent)
    releases = db.scalars(select(ShareRelease).where(ShareRelease.request_id == req.id)
                          .order_by(ShareRelease.idx)).all()
    if len(releases) < SHARES_NEEDED:
        raise EscalationError(N_("Waiting for the custodians to release their shares."))
    try:
        ephemeral = PrivateKey.from_bytes(officer_key.unwrap(
            req.ephemeral_sealed, context=ephemeral_context(req.id, req.case_id, officer.id)))
        shares = [Share.from_bytes(ephemeral.unwrap(
            r.blob, context=release_context(req.id, req.case_id, r.idx))) for r in releases]
        id_key = crypto.combine_shares(shares)
        sealer = CaseCipher(req.case_id, id_key)
        found: dict[str, Any] = {}
        for row in db.scalars(select(IdentityBlob).where(IdentityBlob.case_id == req.case_id)):
            found[row.kind] = sealer.open_json(row.kind, None, row.blob)
    except CryptoError as exc:
        # e.g. the requester's key was replaced by a reset after the request was made
        raise EscalationError(N_("The released shares cannot be opened with your current key."
                                 )) from exc
    claimed: CursorResult[Any] = db.execute(  # type: ignore[assignment]
        update(IdentityRequest).where(IdentityRequest.id == req.id,
                                      IdentityRequest.status == APPROVED)
        .values(status=OPENED, opened_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise EscalationError(N_("The identity was shown already; opening it again needs a new "
                                 "request."))
    db.refresh(req)
    destroy(db, req, now)
    if consent is not None:
        consent.used_at = now
        end_requests_on(db, consent.id, now, keep=req.id)  # one consent, one opening
    db.flush()
    audit.append(db, actor(officer), "identity.open", f"case:{req.case_id}",
                 f"request={req.id} keys_destroyed=1")
    return Disclosure(found.get("identity") or {}, found.get("witnesses") or [])


def expire_requests(factory: sessionmaker[Session], *, now: datetime | None = None,
                    config: Any = None) -> int:
    """The sweep: requests past their life become 'expired' and lose their key material.

    Also destroys key material left on any ended request (belt and braces). All rows are
    locked before the first audit entry (the audit lock is never held while waiting for a row).
    """
    now = now or utcnow()
    life = lives(config)
    with transaction(factory) as db:
        decided = func.coalesce(IdentityRequest.decided_at, IdentityRequest.created_at)
        rows = db.scalars(select(IdentityRequest).where(or_(
            and_(IdentityRequest.status == "pending",
                 IdentityRequest.created_at <= now - life.decide),
            and_(IdentityRequest.status == APPROVED, decided <= now - life.release),
            and_(IdentityRequest.status.in_(LIVE), IdentityRequest.created_at > now + FUTURE_SKEW),
            and_(IdentityRequest.status.not_in(LIVE), IdentityRequest.ephemeral_sealed.is_not(None)),
        )).order_by(IdentityRequest.id).with_for_update()).all()
        expired = []
        for req in rows:
            if req.status in LIVE:
                destroy(db, req, now, EXPIRED)
                expired.append(req)
            else:
                destroy(db, req, req.ended_at or now)
        db.flush()
        for req in expired:
            audit.append(db, "system", "identity.expire", f"case:{req.case_id}",
                         f"request={req.id} keys_destroyed=1")
        return len(expired)
