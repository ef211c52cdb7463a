"""Officer case work: inbox, case page, actions, messages, checklist, attachment downloads.

Thin routes: parse the form, call services/cases.py, services/inbox.py or services/casepage.py,
render. A case the officer's teams cannot open is a 404, exactly like a missing one.
"""
from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from sqlalchemy import select

from whistle.db import Conflict, transaction
from whistle.domain.constants import (
    Category,
    Channel,
    Classification,
    InvestigationTier,
    Kind,
    NotFollowableReason,
    OfficeZone,
    Status,
    choices,
    label,
)
from whistle.domain.workflow import SPECS
from whistle.models import Officer, Unit
from whistle.services.cases import inbox
from whistle.services.cases import page as casepage
from whistle.services.cases import transitions as cases
from whistle.web.i18n import select_locale
from whistle.web.ints import parse_int
from whistle.web.officer_auth import current_officer, officer_required, team_keys
from whistle.web.state import state

from . import bp

# UKI may open the inbox (empty unless a case is wrapped to its team): its menu links there.
CASE_ROLES = ("verifikator", "pyb", "pengkaji", "uki")
# Form fields an action form may carry (each action's own subset is checked by the workflow).
ACTION_FIELDS = ("message", "external_ref", "sanction", "reason", "reason_text", "note", "tier",
                 "unit_id", "grounds", "agency", "copy_ref", "disclose", "kind", "category",
                 "classification", "subject", "object", "confidential_handling", "statement")


def _store() -> Any:
    from whistle.blueprints.reporter.uploads import store

    return store()


def _me(db: Any) -> Officer:
    officer = db.get(Officer, current_officer().id)
    if officer is None:  # pragma: no cover - the session check ran this request
        abort(401)
    return officer


def _ctx() -> dict[str, Any]:
    lang = select_locale()
    return {"lang": lang, "label": lambda v: label(v, lang), "officer_nav": True,
            "Status": Status, "statuses": choices(Status, lang), "categories": choices(Category, lang),
            "kinds": choices(Kind, lang), "channels": choices(Channel, lang), "tiers": [(str(t.value), label(t, lang)) for t in InvestigationTier],
            "reasons": choices(NotFollowableReason, lang), "specs": SPECS,
            "classifications": choices(Classification, lang),
            "zone_label": lambda z: label(OfficeZone(z), lang) if z in OfficeZone._value2member_map_ else z}


@bp.get("/cases", endpoint="cases")  # officer_auth's landing page
@officer_required(*CASE_ROLES)
def cases_index() -> Any:
    try:
        filters = inbox.Filters.parse(request.args)
        after = inbox.Cursor.decode(request.args["after"]) if request.args.get("after") else None
    except inbox.BadFilter as exc:
        return render_template("officer/cases/bad_filter.html", field=exc.field, **_ctx()), 400
    keys = team_keys()
    with transaction(state().db) as db:
        page = inbox.list_page(db, list(keys), filters, after=after)
        inbox.decrypt_titles(db, page.rows, keys)
        units = {u.id: u for u in db.scalars(select(Unit).order_by(Unit.code))}
    next_url = None
    if page.next_cursor is not None:
        next_url = url_for("officer.cases", **filters.as_args(), after=page.next_cursor.encode())
    return render_template("officer/cases/inbox.html", page=page, filters=filters, units=units,
                           next_url=next_url, first_url=url_for("officer.cases", **filters.as_args()),
                           is_first=after is None, **_ctx())


def _render_case(case_id: str, *, error: cases.CaseError | None = None,
                 form: dict[str, str] | None = None, status: int = 200) -> Any:
    with transaction(state().db) as db:
        try:
            view = casepage.load(db, officer=_me(db), team_keys=team_keys(), case_id=case_id,
                                 config=state().config)
        except cases.CaseNotFound:
            abort(404)
        units = {u.id: u for u in db.scalars(select(Unit))}
    ctx = _ctx()
    return render_template("officer/cases/case.html", v=view, units=units, error=error,
                           error_text=error.text(ctx["lang"]) if error else None,
                           form=form or {}, **ctx), status


@bp.get("/cases/<case_id>")
@officer_required(*CASE_ROLES)
def case(case_id: str) -> Any:
    return _render_case(case_id)


def _refused(case_id: str, exc: cases.CaseError, form: dict[str, str]) -> Any:
    if isinstance(exc, cases.CaseNotFound):
        abort(404)
    if isinstance(exc, cases.CaseChanged):
        ctx = _ctx()
        return render_template("officer/cases/changed.html", case_id=case_id,
                               message=exc.text(ctx["lang"]), **ctx), 409
    return _render_case(case_id, error=exc, form=form, status=exc.status)


def _version() -> int | None:
    # Out of range or garbage: None, which the service answers as "changed meanwhile".
    return parse_int(request.form.get("version", ""))


@bp.post("/cases/<case_id>/action")
@officer_required(*CASE_ROLES)
def case_action(case_id: str) -> Any:
    action = (request.form.get("action") or "")[:40]
    params = {k: request.form[k] for k in ACTION_FIELDS if k in request.form}
    try:
        with transaction(state().db) as db:
            out = cases.perform(db, officer=_me(db), team_keys=team_keys(), case_id=case_id,
                                action=action, params=params, expected_version=_version(),
                                config=state().config)
    except cases.CaseError as exc:
        return _refused(case_id, exc, params | {"action": action})
    except Conflict:  # lost a race at commit: same answer as a stale form
        return _refused(case_id, cases.CaseChanged(), params)
    if out.action in cases.REVOKING:  # the officer's team gave the case key back: no case page
        return redirect(url_for("officer.cases", done=out.action.value), code=303)
    return redirect(url_for("officer.case", case_id=case_id, done=out.action.value), code=303)


@bp.post("/cases/<case_id>/message")
@officer_required(*CASE_ROLES)
def case_message(case_id: str) -> Any:
    body = request.form.get("body") or ""
    internal = request.form.get("internal") == "1"
    try:
        with transaction(state().db) as db:
            cases.post_message(db, officer=_me(db), team_keys=team_keys(), case_id=case_id,
                               body=body, internal=internal)
    except cases.CaseError as exc:
        return _refused(case_id, exc, {"body": body[: cases.MAX_TEXT]})
    return redirect(url_for("officer.case", case_id=case_id, done="note" if internal else "message")
                    + "#thread", code=303)


@bp.post("/cases/<case_id>/checklist")
@officer_required(*CASE_ROLES)
def case_checklist(case_id: str) -> Any:
    checked = {i: request.form.get(f"ok_{i}") == "1" for i in cases.CHECKLIST_ITEMS}
    notes = {i: request.form.get(f"note_{i}") or "" for i in cases.CHECKLIST_ITEMS}
    try:
        with transaction(state().db) as db:
            cases.save_checklist(db, officer=_me(db), team_keys=team_keys(), case_id=case_id,
                                 checked=checked, notes=notes)
    except cases.CaseError as exc:
        return _refused(case_id, exc, {})
    return redirect(url_for("officer.case", case_id=case_id, done="checklist") + "#checklist", code=303)


@bp.get("/cases/<case_id>/files/<att_id>")
@officer_required(*CASE_ROLES)
def case_file(case_id: str, att_id: str) -> Any:
    with transaction(state().db) as db:
        try:
            found = casepage.open_attachment(db, officer=_me(db), team_keys=team_keys(),
                                             case_id=case_id, att_id=att_id, store=_store())
        except cases.CaseNotFound:
            found = None
    if found is None:
        abort(404)
    # Always a download, never rendered inline: the content is whatever a reporter uploaded.
    headers = {"Content-Disposition": f'attachment; filename="{found.safe_name}"',
               "X-Content-Type-Options": "nosniff"}
    if found.plain_size > 0:
        headers["Content-Length"] = str(found.plain_size)
    return Response(stream_with_context(found.chunks), mimetype="application/octet-stream",
                    headers=headers)
