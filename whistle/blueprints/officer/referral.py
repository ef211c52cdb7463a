"""Refer a case to another agency with an encrypted package (services/records/referral.py).

GET shows what can be ticked and where the package goes; POST builds it, records it and
answers with the encrypted file as a download. Nothing in clear is written to disk.
"""
from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request, session

from crypto.external import RecipientError, parse_recipient
from whistle.db import transaction
from whistle.models import Officer
from whistle.services.messages import CaseNotFound
from whistle.services.records import agencies, lapor, referral
from whistle.services.records.pdf import html_to_pdf
from whistle.web.i18n import refusal_text
from whistle.web.officer_auth import current_officer, officer_required, team_keys
from whistle.web.state import state

from . import bp

MAX_TICKS = 500
SHOWN = "identity_shown"  # officer/identity.py's session slot (within its reading window)


def _released_identity(db: Any, officer_id: int, case_id: str) -> dict[str, Any] | None:
    """The identity an escalation showed to this officer, for this case, in this session."""
    import time

    from whistle.models import IdentityRequest
    from whistle.services.custody.escalation_state import lives

    window = lives(state().config).reading_seconds
    for rid, shown in dict(session.get(SHOWN) or {}).items():
        if time.time() - float(shown.get("at", 0)) >= window:
            continue
        req = db.get(IdentityRequest, rid) if isinstance(rid, str) and rid.isalnum() else None
        if req is not None and req.case_id == case_id and req.requester_id == officer_id:
            return {"identity": shown.get("identity") or {}, "witnesses": shown.get("witnesses") or []}
    return None


def _store() -> Any:
    from whistle.blueprints.reporter.uploads import store

    return store()


def _render(case_id: str, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    me = current_officer()
    try:
        with transaction(state().db) as db:
            opts = referral.options(db, officer=me, team_keys=team_keys(), case_id=case_id)
            keys = agencies.active(db)
            has_identity = _released_identity(db, me.id, case_id) is not None
    except CaseNotFound:
        abort(404)
    except referral.ReferralError as exc:
        return render_template("officer/referral/refused.html", error=refusal_text(exc)), 403
    return render_template("officer/referral/form.html", o=opts, agencies=keys, form=request.form,
                           error=error, has_identity=has_identity), status


@bp.get("/cases/<case_id>/referral")
@officer_required("verifikator", "pyb")
def referral_form(case_id: str) -> tuple[str, int]:
    return _render(case_id)


def _ticked(name: str) -> frozenset[str]:
    values = request.form.getlist(name)[:MAX_TICKS]
    return frozenset(v[:64] for v in values if v)


@bp.post("/cases/<case_id>/referral")
@officer_required("verifikator", "pyb")
def referral_build(case_id: str) -> Any:
    from flask_babel import gettext as _

    selection = referral.Selection(
        fields=_ticked("field"), messages=_ticked("message"), attachments=_ticked("attachment"),
        agency=(request.form.get("agency") or "")[:400],
        reference=(request.form.get("reference") or "")[:400])
    me = current_officer()
    try:
        with transaction(state().db) as db:
            key_text = agencies.key_text(db, request.form.get("agency_key", ""),
                                         request.form.get("recipient", ""))
            recipient = parse_recipient(key_text)
            officer = db.get(Officer, me.id)
            assert officer is not None

            def summary_pdf(info: dict[str, Any]) -> bytes:
                return html_to_pdf(render_template("officer/referral/summary_pdf.html", s=info))

            identity = (_released_identity(db, me.id, case_id)
                        if request.form.get("include_identity") == "1" else None)
            package = referral.build(db, officer=officer, team_keys=team_keys(), case_id=case_id,
                                     selection=selection, recipient=recipient, store=_store(),
                                     summary_pdf=summary_pdf, identity=identity)
    except CaseNotFound:
        abort(404)
    except RecipientError:
        return _render(case_id, error=_("The agency key is not an age recipient (age1...) or an "
                                        "OpenPGP public key block."), status=422)
    except (referral.ReferralError, agencies.AgencyError) as exc:
        return _render(case_id, error=refusal_text(exc), status=422)
    return Response(package.data, mimetype="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{package.filename}"',
        "X-Package-SHA256": package.sha256,
    })


@bp.get("/cases/<case_id>/lapor.<fmt>")
@officer_required("verifikator", "pyb")
def lapor_export(case_id: str, fmt: str) -> Any:
    """The SP4N-LAPOR! record of the case, as JSON or CSV (services/records/lapor.py)."""
    if fmt not in ("json", "csv"):
        abort(404)
    me = current_officer()
    try:
        with transaction(state().db) as db:
            officer = db.get(Officer, me.id)
            assert officer is not None
            rec = lapor.record(db, officer=officer, team_keys=team_keys(), case_id=case_id)
    except CaseNotFound:
        abort(404)
    except referral.ReferralError:
        abort(403)
    body = lapor.as_json(rec) if fmt == "json" else lapor.as_csv(rec)
    name = f"lapor-{rec['nomor_referensi']}.{fmt}"
    return Response(body, mimetype="application/json" if fmt == "json" else "text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
