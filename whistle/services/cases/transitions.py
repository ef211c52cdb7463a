"""Case work: the transitions of DESIGN.md §2 applied to stored cases.

The domain workflow (`whistle.domain.workflow`) decides *whether* a step is allowed and what
it means; this module does everything around it in the caller's single transaction:

* access: the officer must hold the case key through one of their teams — a case of another
  unit is answered exactly like a missing one (`CaseNotFound`);
* optimistic locking on `Case.version`: the form carries the version it was rendered with,
  and the ORM's versioned UPDATE catches a change made between our read and our write;
* the event (who/when/from/to/action, reason encrypted under the case key), the reporter's
  notice in the thread (bilingual, never an officer's name), deadlines from the calendar in
  the case unit's own day, the key hand-offs the table names (`routes_to` wraps the key to a
  team with `grant_team`; `revokes` removes a unit's wrap), the step's own sealed records
  (`records.py`), and an audit entry naming the case and the teams but never its content.

Callers commit (routes use `whistle.db.transaction`); on any exception nothing is written.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from crypto import PrivateKey

from ...db import is_write_conflict
from ...domain import calendar as dcal
from ...domain.constants import DataRequestPolicy, InvestigationTier, Party, Role, Status, Text, bilingual
from ...domain.workflow import (
    EXPIRY_ACTION,
    SPECS,
    Action,
    Transition,
    TransitionRefused,
    plan_transition,
)
from ...models import (
    Case,
    CaseField,
    CaseKeyWrap,
    Event,
    Message,
    Officer,
    Team,
    Unit,
    new_id,
    utcnow,
)
from ..custody import audit
from ..custody.casekeys import (
    CaseCipher,
    grant_team,
    open_case,
    valid_case_id,  # noqa: F401  (re-exported)
)

# Re-exported: routes catch these as ``cases.CaseNotFound`` and friends.
from ..messages import CaseChanged, CaseError, CaseNotFound  # noqa: F401
from . import records
from .calendar import data_request_policy, deadline_config, load_calendar, local_date, unit_zone
from .records import (  # noqa: F401  (re-exported for routes and tests)
    CHECKLIST_ITEMS,
    CHECKLIST_LABELS,
    FIELD_CHECKLIST,
    FIELD_EXTERNAL_REF,
    FIELD_SANCTION,
    FIELD_TELAAH,
    ActionRefused,
)

# The notices the sweep posts when a data request runs out, sealed while the officer still
# holds the case key (see `_prepare_expiry_notice`): the sweep has no key and must not have
# one. The field the notice sits in also tells the sweep which expiry the office's policy
# chose when the data was asked for, so a policy change never mislabels a pending request.
FIELD_SWEEP_NOTICE = "sweep_notice"  # SP4N-LAPOR!: archived
FIELD_SWEEP_NOTICE_NF = "sweep_notice_nf"  # SIPUMA: not followable, the reason shown
EXPIRY_FIELDS: Mapping[str, Action] = {
    FIELD_SWEEP_NOTICE: Action.AUTO_ARCHIVE,
    FIELD_SWEEP_NOTICE_NF: Action.AUTO_NOT_FOLLOWABLE,
}
SPECIAL_FIELDS = frozenset({FIELD_CHECKLIST, FIELD_EXTERNAL_REF, FIELD_SANCTION, FIELD_TELAAH,
                            *EXPIRY_FIELDS})

# Where a routing action sends the case key: the team of this role (from the domain table).
ROUTING: Mapping[Action, Role] = {a: s.routes_to for a, s in SPECS.items() if s.routes_to is not None}
REVOKING: Mapping[Action, Role] = {a: s.revokes for a, s in SPECS.items() if s.revokes is not None}
# forward_pyb and escalate_to_pyb default to the PYB of the case's own unit; these need a unit.
UNIT_REQUIRED = frozenset({Action.FORWARD_UNIT, Action.DISPOSE_TO_PENGKAJI})
# The outcome goes back to the PYB who holds the case, or to the PYB of the case's own unit.
TO_HOLDING_PYB = frozenset({Action.CONCLUDE_SUBSTANTIATED, Action.CONCLUDE_UNSUBSTANTIATED})
SYSTEM_ONLY = frozenset({Action.ARCHIVE, Action.AUTO_ARCHIVE, Action.AUTO_NOT_FOLLOWABLE})
MAX_TEXT = 20_000  # characters in one message/reason; a report field is not a file store


@dataclass(frozen=True)
class Outcome:
    case_id: str
    action: Action
    from_status: Status
    to_status: Status
    due_on: date | None
    version: int


def _clean_params(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                raise ActionRefused(f"The field {name!r} is too long (at most {MAX_TEXT} characters).",
                                    f"Isian {name!r} terlalu panjang (paling banyak {MAX_TEXT} karakter).",
                                    field=name)
            value = value.strip()
            if value == "":
                continue
        out[name] = value
    return out


def _target_team(db: Session, case: Case, action: Action, unit_value: Any) -> Team | None:
    role = ROUTING.get(action)
    if role is None:
        return None
    if action in TO_HOLDING_PYB:
        holding = db.scalar(select(Team).join(CaseKeyWrap, CaseKeyWrap.team_id == Team.id)
                            .where(CaseKeyWrap.case_id == case.id, Team.role == role.value)
                            .order_by(Team.id))
        if holding is not None:
            return holding  # no new wrap: the PYB who disposed the case approves its outcome
        unit_value = None
    if unit_value in (None, ""):
        if action in UNIT_REQUIRED:
            raise ActionRefused("Choose the unit to send the case to.",
                                "Pilih unit tujuan laporan.", field="unit_id")
        # The case's own unit, else the first unit that has such a team (often the head
        # office, as for the identity custodians): a regional office without a PYB of its own
        # must still be able to hand a case, and its outcome, to the authorised official.
        fallback = db.scalar(
            select(Team).join(Unit, Unit.id == Team.unit_id)
            .where(Team.role == role.value, Unit.active.is_(True))
            .order_by((Team.unit_id == case.unit_id).desc(), Team.unit_id))
        if fallback is not None:
            return fallback
        unit_id = case.unit_id
    else:
        try:
            unit_id = int(unit_value)
        except (TypeError, ValueError):
            raise ActionRefused("Unknown unit.", "Unit tidak dikenal.", field="unit_id") from None
    unit = db.get(Unit, unit_id)
    if unit is None or not unit.active:
        raise ActionRefused("Unknown unit.", "Unit tidak dikenal.", field="unit_id")
    team = db.scalar(select(Team).where(Team.unit_id == unit_id, Team.role == role.value))
    if team is None:
        raise ActionRefused(
            f"The unit {unit.code} has no {role.value} team yet; ask the administrator to create it.",
            f"Unit {unit.code} belum memiliki tim {role.value}; hubungi administrator.",
            field="unit_id")
    return team


def _revoke(db: Session, case: Case, role: Role) -> list[int]:
    """Remove the case key from every team of ``role`` (a unit returning a case it may not
    handle); the case goes back to the verifikator team of its receiving unit, which keeps its
    wrap from filing. Returns the team ids whose wrap was removed (for the audit entry)."""
    teams = list(db.scalars(select(CaseKeyWrap.team_id).join(Team, Team.id == CaseKeyWrap.team_id)
                            .where(CaseKeyWrap.case_id == case.id, Team.role == role.value)))
    ids = [t for t in teams if t is not None]
    if ids:
        db.execute(delete(CaseKeyWrap).where(CaseKeyWrap.case_id == case.id,
                                             CaseKeyWrap.team_id.in_(ids)))
    case.team_id = db.scalar(select(Team.id).where(Team.unit_id == case.unit_id,
                                                   Team.role == Role.VERIFIKATOR.value))
    return ids


def _post_system_notice(db: Session, cipher: CaseCipher, text: Text, at: datetime) -> Message:
    """A reporter-visible message in the system's voice: no officer is named, even internally
    on the row, so a thread export can never carry a handler's identity."""
    msg_id = new_id()
    msg = Message(id=msg_id, case_id=cipher.case_id, author="system", officer_id=None, internal=False,
                  created_at=at, blob=cipher.seal_text("message", msg_id, bilingual(text)))
    db.add(msg)
    return msg


def _prepare_expiry_notice(db: Session, cipher: CaseCipher, policy: DataRequestPolicy) -> None:
    """Seal the notice of the policy's expiry now, bound to a pre-chosen message id.

    The sweep that acts on an unanswered request runs without any key; it can only move this
    sealed blob into the thread (the AAD binds the message id, so it cannot be altered or
    attached to another case).
    """
    action = EXPIRY_ACTION[policy]
    plan = plan_transition(Status.AWAITING_DATA, action, Party.SYSTEM,
                           {"due_on": date(2000, 1, 1), "today": date(2000, 1, 2)})
    assert plan.reporter_notice is not None
    msg_id = new_id()
    blob = msg_id.encode() + cipher.seal_text("message", msg_id, bilingual(plan.reporter_notice))
    name = next(f for f, a in EXPIRY_FIELDS.items() if a is action)
    db.execute(delete(CaseField).where(CaseField.case_id == cipher.case_id,
                                       CaseField.name.in_(list(EXPIRY_FIELDS))))
    db.add(CaseField(case_id=cipher.case_id, name=name, blob=blob))


def apply_transition(db: Session, case: Case, cipher: CaseCipher, plan: Transition, *,
                     officer: Officer | None, team: Team | None, config: Any = None,
                     now: datetime | None = None) -> tuple[Event, list[int]]:
    """Write one planned step: case row, records, event, notice, key wraps granted or removed.

    No commit, no audit. Returns the event and the team ids whose wrap was removed. Days are
    the case unit's local days (its time zone).
    """
    now = now or utcnow()
    zone = unit_zone(db, case.unit_id)
    today = local_date(now, config, zone=zone)
    cal = load_calendar(db)
    rule = plan.deadline_rule
    received_on = local_date(case.received_at, config, zone=zone)
    anchor = rule.anchor_date(event_date=today, received_on=received_on,
                              step_started_on=case.step_started_on)
    due = rule.due(event_date=today, received_on=received_on, step_started_on=case.step_started_on,
                   calendar=cal, config=deadline_config(config), current_due=case.due_on)
    case.status = plan.to_status.value
    case.step_started_on = anchor
    case.due_on = due
    case.is_late = dcal.is_late(due, today)
    case.updated_at = now
    tier = plan.params.get("tier")
    if tier is not None:
        case.tier = str(int(cast(InvestigationTier, tier)))  # plan_transition parsed it (_tier)
    if plan.to_status is Status.CLOSED:
        case.closed_at = now
    if plan.to_status is Status.ARCHIVED:
        case.archived_at = now
    if officer is not None:
        case.needs_attention = False  # an officer has acted on whatever the reporter sent
    if team is not None:
        grant_team(db, case, team, cipher.key)
        case.team_id = team.id
    revoked = _revoke(db, case, plan.revokes) if plan.revokes is not None else []
    extra = records.write(db, case, cipher, plan, officer=officer, now=now)
    if plan.to_status is Status.AWAITING_DATA:
        _prepare_expiry_notice(db, cipher, data_request_policy(config))
    elif plan.from_status is Status.AWAITING_DATA:
        db.execute(delete(CaseField).where(CaseField.case_id == case.id,
                                           CaseField.name.in_(list(EXPIRY_FIELDS))))
    event_id = new_id()
    reason = records.event_reason(plan, extra)
    event = Event(id=event_id, case_id=case.id, officer_id=officer.id if officer else None,
                  actor="officer" if officer else str(plan.actor), at=now, action=plan.action.value,
                  from_status=plan.from_status.value, to_status=plan.to_status.value,
                  reason_blob=cipher.seal_json("event", event_id, reason) if reason else None)
    db.add(event)
    if plan.reporter_notice is not None:
        _post_system_notice(db, cipher, plan.reporter_notice, now)
    return event, revoked


def _flush(db: Session) -> None:
    try:
        db.flush()
    except (StaleDataError, OperationalError) as exc:
        # A versioned row changed, or (SQLite) another writer committed after our snapshot.
        # Same meaning for the officer: reload and look again.
        if is_write_conflict(exc):
            raise CaseChanged() from None
        raise


def perform(db: Session, *, officer: Officer, team_keys: Mapping[int, PrivateKey], case_id: str,
            action: str, params: Mapping[str, Any], expected_version: int | None,
            config: Any = None, now: datetime | None = None) -> Outcome:
    """Carry out one officer action on a case. Raises a CaseError subclass on any refusal."""
    try:
        act = Action(action)
    except ValueError:
        raise ActionRefused("Unknown action.", "Tindakan tidak dikenal.", field="action") from None
    case, cipher = open_case(db, case_id, team_keys)
    if act in SYSTEM_ONLY:
        raise ActionRefused("Only the scheduled sweep archives cases.",
                            "Hanya proses otomatis yang mengarsipkan laporan.", field="action")
    if expected_version is None or case.version != expected_version:
        raise CaseChanged()
    values = _clean_params(params)
    unit_value = values.pop("unit_id", None)
    try:
        plan = plan_transition(case.status, act, officer.role, values, kind=case.kind,
                               policy=data_request_policy(config))
    except TransitionRefused as exc:
        raise ActionRefused(exc.message, exc.message_id, field=exc.field) from None
    records.check(plan, case)
    team = _target_team(db, case, act, unit_value)
    from_status = case.status
    _, revoked = apply_transition(db, case, cipher, plan, officer=officer, team=team,
                                  config=config, now=now)
    _flush(db)
    # Codes only: which step, which teams got or lost the key; never a field of the case.
    detail = f"{from_status}->{plan.to_status.value}"
    if team is not None:
        detail += f" team:{team.id}"
    if revoked:
        detail += " revoked:" + ",".join(f"team:{t}" for t in revoked)
    if act is Action.RECLASSIFY:
        detail += f" kind:{case.kind} category:{case.category}"
    audit.append(db, f"officer:{officer.id}", f"case.{act.value}", f"case:{case.id}", detail=detail)
    return Outcome(case.id, act, Status(from_status), plan.to_status, case.due_on, case.version)


def post_message(db: Session, *, officer: Officer, team_keys: Mapping[int, PrivateKey],
                 case_id: str, body: str, internal: bool, now: datetime | None = None) -> Message:
    """An officer's message to the reporter (``internal=False``) or an internal note.

    The row keeps the officer id for accountability; the reporter's thread shows only that it
    came from the handlers. Archived cases are read-only.
    """
    case, cipher = open_case(db, case_id, team_keys)
    if case.status == Status.ARCHIVED.value:
        raise ActionRefused("The case is archived and read-only.",
                            "Laporan telah diarsipkan dan hanya dapat dibaca.")
    body = (body or "").strip()
    if not body:
        raise ActionRefused("Write a message first.", "Tulis pesan terlebih dahulu.", field="body")
    if len(body) > MAX_TEXT:
        raise ActionRefused(f"The message is too long (at most {MAX_TEXT} characters).",
                            f"Pesan terlalu panjang (paling banyak {MAX_TEXT} karakter).", field="body")
    msg_id = new_id()
    msg = Message(id=msg_id, case_id=case.id, author="officer", officer_id=officer.id,
                  internal=internal, created_at=now or utcnow(),
                  blob=cipher.seal_text("message", msg_id, body))
    db.add(msg)
    if not internal:
        case.needs_attention = False
    _flush(db)
    audit.append(db, f"officer:{officer.id}", "case.note" if internal else "case.message",
                 f"case:{case.id}")
    return msg


def save_checklist(db: Session, *, officer: Officer, team_keys: Mapping[int, PrivateKey],
                   case_id: str, checked: Mapping[str, bool], notes: Mapping[str, str]) -> dict[str, Any]:
    """The verifikator's 5W+1H telaah, stored encrypted as the case field ``checklist``."""
    case, cipher = open_case(db, case_id, team_keys)
    if case.status == Status.ARCHIVED.value:
        raise ActionRefused("The case is archived and read-only.",
                            "Laporan telah diarsipkan dan hanya dapat dibaca.")
    value = records.checklist_value(checked, notes)
    records.put_field(db, case.id, FIELD_CHECKLIST, cipher.seal_json("field", FIELD_CHECKLIST, value))
    _flush(db)
    audit.append(db, f"officer:{officer.id}", "case.checklist", f"case:{case.id}")
    return value


def reporter_input(db: Session, case: Case, cipher: CaseCipher, *, config: Any = None,
                   now: datetime | None = None) -> bool:
    """Call when the reporter sends a message or data through their ticket.

    Flags the case for the handlers and, where the domain allows (a pending data request),
    moves it back to verification with a fresh deadline. Returns True if the status changed.
    The caller has written the reporter's message; this adds no content of its own beyond the
    workflow's acknowledgement notice.
    """
    case.needs_attention = True
    if case.status != Status.AWAITING_DATA.value:
        _flush(db)
        return False
    plan = plan_transition(case.status, Action.REPORTER_SUPPLIED_DATA, Party.REPORTER, {}, kind=case.kind)
    apply_transition(db, case, cipher, plan, officer=None, team=None, config=config, now=now)
    _flush(db)
    audit.append(db, "reporter", f"case.{plan.action.value}", f"case:{case.id}",
                 detail=f"{plan.from_status.value}->{plan.to_status.value}")
    return True
