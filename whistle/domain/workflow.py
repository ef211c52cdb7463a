"""The case state machine of DESIGN.md §2 and issue 9, as pure data plus a few functions.

`plan_transition(status, action, actor, params)` checks a requested step and returns a
`Transition` describing it (new status, message for the reporter, how to set the deadline,
which team role receives or loses the case key); it never touches storage.  The service layer
records the event, posts the notice to the thread, stores the deadline and does the key wraps
the transition names.  Unit scoping (a pengkaji sees only their unit's cases) is access control
and is enforced by the service layer, not here.

The table below is the only place where the workflow is written down: the officer pages, the
services, the public procedure page (`procedure.py`) and the liveness test all read it.

Decisions taken where DESIGN.md and the SOPs are silent:

* No reopen.  A closed case goes to archived only, and archived is read-only.  New reporter
  input on a closed case is a thread message; a new matter is a new report.  The edges back to
  verification are the reporter answering a data request, and a unit sending a case back
  because it is outside its authority (SP4N-LAPOR!: "Pejabat Penghubung meneruskan pengaduan
  kepada Admin Instansi"), which removes the unit's key.
* Actions with no new status (`to_status` None) are records on the case: the telaah, a
  reclassification, a copy to another agency (tembusan), the reported person's statement, and
  `set_tier`, which re-computes the investigation deadline from the step's original start.
* The unit's 5/14/60 working days run from the day the case reached it (SP4N-LAPOR!: "sejak
  pengaduan diterima oleh pejabat penghubung"): `unit_investigate` keeps the forwarding day as
  the step start.  An information request answered directly has its 5 days from receipt.
* `conclude_*` records the pengkaji's finding and routes the case to the PYB, whose `close` is
  the approval of the outcome.  On the unit path the PYB held no key before, so without that
  hand-off the case could never be closed (issue 9).
* A verifikator may record `reporter_supplied_data` on the reporter's behalf, for reports that
  came by letter/phone whose reporter has no ticket to reply with.
* The reporter is never shown the sanction text: it is personnel data of the reported official.
* The sweeps (`auto_archive`, `auto_not_followable`, `archive`) must pass `due_on` and `today`;
  acting before the day is over is refused, so a clock or query bug cannot act early.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Final

from whistle.domain import notices as N
from whistle.domain.actions import Action, Anchor, TransitionRefused, refuse
from whistle.domain.calendar import DEFAULT_CONFIG, Calendar, DeadlineConfig
from whistle.domain.constants import (
    Actor,
    Category,
    DataRequestPolicy,
    InvestigationTier,
    Kind,
    NotFollowableReason,
    Party,
    Role,
    Status,
    Text,
    label,
)
from whistle.domain.params import check_params

__all__ = [
    "Action", "ActionSpec", "Anchor", "DeadlineRule", "EXPIRY_ACTION", "SPECS", "Transition",
    "TransitionRefused", "allowed_actions", "is_final", "next_statuses", "plan_transition",
]


@dataclass(frozen=True, slots=True)
class DeadlineRule:
    """How to compute the deadline the new status carries."""

    status: Status
    anchor: Anchor
    tier: InvestigationTier | None = None

    def anchor_date(self, *, event_date: date, received_on: date, step_started_on: date) -> date:
        """The new `step_started_on`, and the date the deadline counts from."""
        return {
            Anchor.EVENT: event_date,
            Anchor.RECEIPT: received_on,
            Anchor.STEP_START: step_started_on,
            Anchor.KEEP: step_started_on,
        }[self.anchor]

    def due(
        self,
        *,
        event_date: date,
        received_on: date,
        step_started_on: date,
        calendar: Calendar,
        config: DeadlineConfig = DEFAULT_CONFIG,
        current_due: date | None = None,
    ) -> date | None:
        """The new `due_on` (None: the status has no deadline)."""
        if self.anchor is Anchor.KEEP:
            return current_due
        start = self.anchor_date(
            event_date=event_date, received_on=received_on, step_started_on=step_started_on
        )
        return calendar.deadline_for(self.status, start, config, tier=self.tier)


@dataclass(frozen=True, slots=True)
class Transition:
    from_status: Status
    to_status: Status
    action: Action
    actor: Actor
    reporter_notice: Text | None  # posted to the reporter's thread; None = reporter not told
    deadline_rule: DeadlineRule
    params: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    routes_to: Role | None = None  # the team of this role receives the case key
    revokes: Role | None = None  # the teams of this role lose their wrap of the case key


# --- the table -------------------------------------------------------------------------------

_V, _PYB, _PK = Role.VERIFIKATOR, Role.PYB, Role.PENGKAJI
_REPORTER, _SYSTEM = Party.REPORTER, Party.SYSTEM


@dataclass(frozen=True, slots=True)
class ActionSpec:
    action: Action
    sources: Mapping[Status, frozenset[Actor]]  # from-status -> who may act from it
    to_status: Status | None  # None: status unchanged (a record on the case)
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    notice: Text | None = None  # template, see notices.py
    anchor: Anchor = Anchor.EVENT
    # Where the anchor depends on the kind of report (information requests: from receipt).
    anchor_by_kind: Mapping[Kind, Anchor] = field(default_factory=lambda: MappingProxyType({}))
    routes_to: Role | None = None  # the key goes to the team of this role (services pick the unit)
    revokes: Role | None = None  # the key is taken back from the teams of this role


def _src(**by_status: tuple[Actor, ...]) -> Mapping[Status, frozenset[Actor]]:
    return MappingProxyType({Status(s): frozenset(a) for s, a in by_status.items()})


_DUE: Final = ("due_on", "today")

SPECS: Final[Mapping[Action, ActionSpec]] = MappingProxyType({s.action: s for s in (
    ActionSpec(Action.START_VERIFICATION, _src(received=(_V,)), Status.VERIFICATION,
               notice=N.VERIFYING, anchor=Anchor.RECEIPT),
    ActionSpec(Action.REQUEST_DATA, _src(verification=(_V,)), Status.AWAITING_DATA, ("message",),
               notice=N.REQUEST_DATA),
    ActionSpec(Action.REPORTER_SUPPLIED_DATA, _src(awaiting_data=(_REPORTER, _V)), Status.VERIFICATION,
               notice=N.DATA_RECEIVED),
    # The telaah (SP4N-LAPOR! b, c, e): dispute or violation, subject and object, and whether
    # anonymous/confidential handling is needed. Internal: the reporter is not told.
    ActionSpec(Action.RECORD_TELAAH, _src(verification=(_V,)), None,
               ("classification", "subject", "object", "confidential_handling"), anchor=Anchor.KEEP),
    ActionSpec(Action.RECLASSIFY, _src(verification=(_V,)), None, ("kind", "category", "grounds"),
               notice=N.RECLASSIFIED, anchor=Anchor.KEEP),
    ActionSpec(Action.FORWARD_PYB, _src(verification=(_V,)), Status.FORWARDED_PYB,
               notice=N.TO_PYB, routes_to=_PYB),
    ActionSpec(Action.FORWARD_UNIT, _src(verification=(_V,)), Status.FORWARDED_UNIT,
               notice=N.TO_UNIT, routes_to=_PK),
    # SIPUMA: the PYB forwards to the Inspectorate General (WISE) what is outside the body's duties.
    ActionSpec(Action.REFER_EXTERNAL, _src(verification=(_V,), forwarded_pyb=(_PYB,)),
               Status.REFERRED_EXTERNAL, ("external_ref",), notice=N.REFERRED),
    # Tembusan (SP4N-LAPOR! i): copies to other agencies, the case stays in our workflow.
    ActionSpec(Action.COPY_EXTERNAL,
               _src(verification=(_V,), forwarded_pyb=(_PYB,), forwarded_unit=(_PK,),
                    investigation=(_PK, _PYB)),
               None, ("agency", "copy_ref"), ("disclose",), notice=N.COPIED, anchor=Anchor.KEEP),
    ActionSpec(Action.ANSWER, _src(verification=(_V,), forwarded_unit=(_PK,)), Status.ANSWERED,
               ("message",), notice=N.ANSWERED,
               anchor_by_kind=MappingProxyType({Kind.INFORMATION_REQUEST: Anchor.RECEIPT})),
    ActionSpec(Action.NOT_FOLLOWABLE, _src(verification=(_V,), forwarded_pyb=(_PYB,)),
               Status.NOT_FOLLOWABLE, ("reason",), ("reason_text",), notice=N.NOT_FOLLOWABLE),
    # The liaison sends back what is outside its authority; its key is removed.
    ActionSpec(Action.RETURN_TO_VERIFICATION, _src(forwarded_unit=(_PK,)), Status.VERIFICATION,
               ("grounds",), notice=N.RETURNED, revokes=_PK),
    # A unit that finds an ethics or discipline matter in a service complaint.
    ActionSpec(Action.ESCALATE_TO_PYB, _src(forwarded_unit=(_PK,), investigation=(_PK,)),
               Status.FORWARDED_PYB, ("grounds",), notice=N.TO_PYB, routes_to=_PYB),
    ActionSpec(Action.DISPOSE_TO_PENGKAJI, _src(forwarded_pyb=(_PYB,)), Status.INVESTIGATION, ("tier",),
               notice=N.INVESTIGATING, routes_to=_PK),
    ActionSpec(Action.UNIT_INVESTIGATE, _src(forwarded_unit=(_PK,)), Status.INVESTIGATION, ("tier",),
               notice=N.INVESTIGATING, anchor=Anchor.STEP_START),
    ActionSpec(Action.SET_TIER, _src(investigation=(_PK, _PYB)), None, ("tier",), anchor=Anchor.STEP_START),
    # Banten B: the reported person may give a statement freely; it is sealed, never shown.
    ActionSpec(Action.RECORD_STATEMENT, _src(investigation=(_PK,)), None, ("statement",),
               anchor=Anchor.KEEP),
    ActionSpec(Action.CONCLUDE_SUBSTANTIATED, _src(investigation=(_PK,)), Status.SUBSTANTIATED,
               ("sanction",), notice=N.SUBSTANTIATED, routes_to=_PYB),
    ActionSpec(Action.CONCLUDE_UNSUBSTANTIATED, _src(investigation=(_PK,)), Status.UNSUBSTANTIATED,
               notice=N.UNSUBSTANTIATED, routes_to=_PYB),
    ActionSpec(
        Action.CLOSE,
        _src(
            referred_external=(_V, _PYB), answered=(_V, _PK), substantiated=(_PYB,),
            unsubstantiated=(_PYB,), not_followable=(_V, _PYB),
        ),
        Status.CLOSED, (), ("message",), notice=N.CLOSED,
    ),
    ActionSpec(Action.ARCHIVE, _src(closed=(_SYSTEM,)), Status.ARCHIVED, _DUE),
    ActionSpec(Action.AUTO_ARCHIVE, _src(awaiting_data=(_SYSTEM,)), Status.ARCHIVED, _DUE,
               notice=N.AUTO_ARCHIVED),
    ActionSpec(Action.AUTO_NOT_FOLLOWABLE, _src(awaiting_data=(_SYSTEM,)), Status.NOT_FOLLOWABLE, _DUE,
               notice=N.AUTO_NOT_FOLLOWABLE),
)})

# What the sweep does to an unanswered data request, by the office's policy.
EXPIRY_ACTION: Final[Mapping[DataRequestPolicy, Action]] = MappingProxyType({
    DataRequestPolicy.SP4N_LAPOR: Action.AUTO_ARCHIVE,
    DataRequestPolicy.SIPUMA: Action.AUTO_NOT_FOLLOWABLE,
})
# The reason the reporter is shown when the SIPUMA clock runs out (verification 6).
EXPIRY_REASON: Final = NotFollowableReason.UNCLEAR_NOT_CLARIFIED


# --- queries ---------------------------------------------------------------------------------

def allowed_actions(status: Status | str, actor: Actor | str) -> list[Action]:
    """Actions `actor` may take on a case in `status`, in the order of `Action`."""
    status, actor = _status(status), _actor(actor)
    return [a for a, s in SPECS.items() if actor in s.sources.get(status, ())]


def next_statuses(status: Status | str) -> set[Status]:
    """Statuses reachable in one step (DESIGN's "next" column); excludes same-status actions."""
    status = _status(status)
    return {s.to_status for s in SPECS.values() if status in s.sources and s.to_status not in (None, status)}


def is_final(status: Status | str) -> bool:
    return not any(_status(status) in s.sources for s in SPECS.values())


# --- planning --------------------------------------------------------------------------------

def plan_transition(
    status: Status | str,
    action: Action | str,
    actor: Actor | str,
    params: Mapping[str, object] | None = None,
    *,
    kind: Kind | str | None = None,
    policy: DataRequestPolicy | str = DataRequestPolicy.SP4N_LAPOR,
) -> Transition:
    """Check one step and describe it; raise `TransitionRefused` naming what is wrong.

    ``kind`` (the case's kind of report) picks a kind-specific deadline anchor; ``policy`` is
    the office's data-request policy, which decides what a data request warns of.
    """
    status, actor = _status(status), _actor(actor)
    spec = SPECS[_action(action)]
    _check_source(spec, status, actor)
    values = check_params(spec.action, spec.required, spec.optional, dict(params or {}))
    to_status = spec.to_status or status
    tier = values.get("tier")
    anchor = spec.anchor_by_kind.get(Kind(kind), spec.anchor) if kind else spec.anchor
    return Transition(
        from_status=status,
        to_status=to_status,
        action=spec.action,
        actor=actor,
        reporter_notice=_render(spec.notice, values, DataRequestPolicy(policy)),
        deadline_rule=DeadlineRule(to_status, anchor, tier if isinstance(tier, InvestigationTier) else None),
        params=MappingProxyType(values),
        routes_to=spec.routes_to,
        revokes=spec.revokes,
    )


def _status(value: Status | str) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise refuse("unknown", f"Unknown status {value!r}.", f"Status {value!r} tidak dikenal.") from None


def _action(value: Action | str) -> Action:
    try:
        return Action(value)
    except ValueError:
        known = ", ".join(Action)
        raise refuse(
            "unknown", f"Unknown action {value!r}. Known actions: {known}.",
            f"Tindakan {value!r} tidak dikenal. Tindakan yang ada: {known}.",
        ) from None


def _actor(value: Actor | str) -> Actor:
    for kind in (Role, Party):
        try:
            return kind(value)
        except ValueError:
            pass
    raise refuse("unknown", f"Unknown role {value!r}.", f"Peran {value!r} tidak dikenal.")


def _check_source(spec: ActionSpec, status: Status, actor: Actor) -> None:
    if status not in spec.sources:
        possible = sorted({a.value for a, s in SPECS.items() if status in s.sources})
        if possible:
            en_tail = f"From {status.value!r} the possible actions are: {', '.join(possible)}."
            id_tail = f"Dari status {label(status, 'id')!r} tindakan yang mungkin: {', '.join(possible)}."
        else:
            en_tail = f"{status.value!r} is final: the case is read-only."
            id_tail = f"Status {label(status, 'id')!r} adalah akhir: laporan hanya dapat dibaca."
        raise refuse(
            "status",
            f"Cannot {spec.action.value} a case in status {status.value!r} ({label(status, 'en')}); "
            f"it is possible only from: {', '.join(s.value for s in spec.sources)}. {en_tail}",
            f"Tindakan {label(spec.action, 'id')!r} tidak dapat dilakukan pada laporan berstatus "
            f"{label(status, 'id')!r}. {id_tail}",
        )
    allowed = spec.sources[status]
    if actor not in allowed:
        who = ", ".join(sorted(a.value for a in allowed))
        raise refuse(
            "role",
            f"Role {actor.value!r} may not {spec.action.value} a case in status {status.value!r}; "
            f"only {who} may.",
            f"Peran {label(actor, 'id')!r} tidak berwenang melakukan {label(spec.action, 'id')!r} "
            f"pada status {label(status, 'id')!r}; yang berwenang: {who}.",
        )


def _render(template: Text | None, values: Mapping[str, object], policy: DataRequestPolicy) -> Text | None:
    """Fill a notice template; values are substituted, never parsed, so braces in them are safe."""
    if template is None:
        return None
    message = str(values.get("message", ""))
    reason = values.get("reason")
    if reason is None and template is N.AUTO_NOT_FOLLOWABLE:
        reason = EXPIRY_REASON
    out = []
    for lang in ("id", "en"):
        reason_txt = label(reason, lang) if isinstance(reason, NotFollowableReason) else ""
        if "reason_text" in values:
            extra = str(values["reason_text"])
            reason_txt = extra if reason is NotFollowableReason.OTHER else f"{reason_txt}. {extra}"
        kind, category = values.get("kind"), values.get("category")
        copy_detail = ""
        if values.get("disclose") is True:
            copy_detail = N.COPY_DETAIL.get(lang).format(
                agency=values.get("agency", ""), copy_ref=values.get("copy_ref", ""))
        out.append(template.get(lang).format(
            message=message,
            message_line=f"\n{message}" if message else "",
            external_ref=values.get("external_ref", ""),
            reason=reason_txt,
            consequence=N.CONSEQUENCE[policy].get(lang),
            kind=label(kind, lang) if isinstance(kind, Kind) else "",
            category=label(category, lang) if isinstance(category, Category) else "",
            copy_detail=copy_detail,
        ))
    return Text(*out)
