"""Auditor: the audit log, read-only and paginated (it never holds case content), with the
log's current signed head to compare with the copies mailed daily."""
from __future__ import annotations

from flask import render_template, request
from sqlalchemy import func, select

from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.models import AuditEntry
from whistle.services.custody import audit as audit_service
from whistle.services.custody import audit_head
from whistle.web.officer_auth import officer_required
from whistle.web.state import state

from . import bp

PER_PAGE = 50


@bp.get("/audit")
@officer_required(Role.AUDITOR.value)
def audit() -> str:  # endpoint admin.audit
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 1_000_000))
    with transaction(state().db) as db:
        total = int(db.scalar(select(func.count()).select_from(AuditEntry)) or 0)
        rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())
                          .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
        check = audit_service.verify(db) if request.args.get("verify") == "1" else None
        head = audit_head.signed_for(db, check)
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    return render_template("admin/audit.html", rows=rows, page=page, pages=pages, total=total,
                           check=check, head=head,
                           fingerprint=audit_head.fingerprint(head.public_key))
