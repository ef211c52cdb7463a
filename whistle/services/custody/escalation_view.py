"""What the identity-request pages show an officer, built from the rules (no Flask here).

Who sees what: the requester sees their request; an officer who can read the case also sees
its sealed reason, legal basis and decision; a custodian with a share to release sees that it
waits for them. Anyone else gets CaseNotFound, exactly as for a request that does not exist.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto import PrivateKey

from ...domain.constants import Role
from ...models import IdentityRequest, Officer, ShareRelease, utcnow
from ..messages import CaseNotFound
from .casekeys import open_case
from .consent import live_consent
from .escalation import case_register, overview, records
from .escalation_state import (
    APPROVED,
    LEGAL_BASES,
    PENDING,
    SHARES_NEEDED,
    TamperedRequest,
    deadline,
    get_request,
    is_expired,
    shown_status,
)
from .releases import ready, releasable


@dataclass(frozen=True)
class RequestRow:
    id: str
    register: str
    status: str  # as people should read it (a live request past its life: 'expired')
    requester: str
    requester_role: str
    created_at: datetime
    deadline: datetime | None
    with_consent: bool


@dataclass(frozen=True)
class RequestView:
    row: RequestRow
    readable: bool  # the officer can read the case, so the sealed records below are shown
    tampered: bool
    reason: str | None
    basis: str | None  # msgid of LEGAL_BASES
    basis_text: str
    decision_reason: str | None
    approver: str | None
    tell_reporter: bool
    mine: bool
    can_decide: bool
    can_release: bool
    can_open: bool  # the requester's "show the identity now"
    waiting_for: int  # shares still missing


def _row(db: Session, req: IdentityRequest, now: datetime, config: Any) -> RequestRow:
    requester = db.get(Officer, req.requester_id)
    status = shown_status(req, now, config)
    return RequestRow(
        id=req.id, register=case_register(db, req.case_id), status=status,
        requester=requester.display_name if requester else "?",
        requester_role=req.requester_role or "", created_at=req.created_at,
        deadline=deadline(req, config) if status in (PENDING, APPROVED) else None,
        with_consent=req.consent_id is not None)


def index(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey], *,
          config: Any = None, now: datetime | None = None) -> dict[str, list[RequestRow]]:
    now = now or utcnow()
    lists = overview(db, officer, team_keys, config=config, now=now)
    return {name: [_row(db, r, now, config) for r in reqs] for name, reqs in lists.items()}


def detail(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey], request_id: str,
           *, config: Any = None, now: datetime | None = None) -> RequestView:
    now = now or utcnow()
    req = get_request(db, request_id)
    tampered = False
    try:
        found = records(db, req, team_keys)
    except TamperedRequest:
        found, tampered = None, True
    readable = found is not None or tampered
    can_release = bool(releasable(db, officer, team_keys, req, config=config, now=now))
    mine = req.requester_id == officer.id
    if not (mine or readable or can_release):
        raise CaseNotFound()
    live = not is_expired(req, now, config)
    approver = db.get(Officer, req.approver_id) if req.approver_id is not None else None
    count = db.scalar(select(func.count()).select_from(ShareRelease)
                      .where(ShareRelease.request_id == req.id)) or 0
    return RequestView(
        row=_row(db, req, now, config), readable=readable and not tampered, tampered=tampered,
        reason=found.reason if found else None,
        basis=LEGAL_BASES.get(found.basis or "") if found else None,
        basis_text=found.basis_text if found else "",
        decision_reason=found.decision_reason if found else None,
        approver=approver.display_name if approver else None, tell_reporter=req.tell_reporter,
        mine=mine,
        can_decide=(officer.role == Role.PYB and req.status == PENDING and live and not mine
                    and found is not None),
        can_release=can_release and not tampered,
        can_open=mine and live and ready(db, req) and not tampered,
        waiting_for=max(0, SHARES_NEEDED - count) if req.status == APPROVED else 0)


def consent_on_file(db: Session, team_keys: Mapping[int, PrivateKey], case_id: str) -> bool:
    """Whether the request form may offer the basis "consent" (only to those who read the case)."""
    try:
        open_case(db, case_id, team_keys)
    except CaseNotFound:
        return False
    return live_consent(db, case_id) is not None

