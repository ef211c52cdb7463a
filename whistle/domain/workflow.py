"""The case state machine of DESIGN.md §2, as pure data plus two functions.

`plan_transition(status, action, actor, params)` checks a requested step and returns a
`Transition` describing it (new status, message for the reporter, how to set the deadline); it
never touches storage.  The web/service layer records the event, posts the notice to the thread
and stores the deadline.  Unit scoping (a pengkaji sees only their unit's cases) is access
control and is enforced by the service layer, not here.

Decisions taken where DESIGN.md is silent (DESIGN's table is the law; nothing here adds a
status change it does not list):

* No reopen.  DESIGN allows closed -> archived only, and archived is read-only.  New reporter
  input on a closed case is a thread message; a new matter is a new report.  The only "back to
  verification" edge is awaiting_data -> verification when the reporter answers.
* `set_tier` is the one action that keeps the status (investigation -> investigation); it
  re-computes the investigation deadline from the step's original start.
* A verifikator may record `reporter_supplied_data` on the reporter's behalf, for reports that
  came by letter/phone whose reporter has no ticket to reply with.
* `conclude_*` records the pengkaji's finding; closing a substantiated/unsubstantiated case is
  the PYB's approval of the outcome.
* The reporter is never shown the sanction text: it is personnel data of the reported official.
* The sweeps (`auto_archive`, `archive`) must pass `due_on` and `today`; archiving before the
  day is over is refused, so a clock or query bug cannot archive a case early.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from whistle.domain.calendar import DEFAULT_CONFIG, Calendar, DeadlineConfig
from whistle.domain.constants import (
    Actor,
    InvestigationTier,
    NotFollowableReason,
    Party,
    Role,
    Status,
    Text,
    label,
    register_labels,
)


class Action(StrEnum):
    START_VERIFICATION = "start_verification"
    REQUEST_DATA = "request_data"
    REPORTER_SUPPLIED_DATA = "reporter_supplied_data"
    FORWARD_PYB = "forward_pyb"
    FORWARD_UNIT = "forward_unit"
    REFER_EXTERNAL = "refer_external"
    ANSWER = "answer"
    NOT_FOLLOWABLE = "not_followable"
    DISPOSE_TO_PENGKAJI = "dispose_to_pengkaji"
    UNIT_INVESTIGATE = "unit_investigate"
    SET_TIER = "set_tier"
    CONCLUDE_SUBSTANTIATED = "conclude_substantiated"
    CONCLUDE_UNSUBSTANTIATED = "conclude_unsubstantiated"
    CLOSE = "close"
    ARCHIVE = "archive"
    AUTO_ARCHIVE = "auto_archive"


class Anchor(StrEnum):
    """Which date the new step's clock (and `cases.step_started_on`) starts from."""

    EVENT = "event"  # the day of this transition
    RECEIPT = "receipt"  # the day the report was received (verification: "3 days from receipt")
    STEP_START = "step_start"  # unchanged (re-tiering does not give the team fresh time)


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
        }[self.anchor]

    def due(
        self,
        *,
        event_date: date,
        received_on: date,
        step_started_on: date,
        calendar: Calendar,
        config: DeadlineConfig = DEFAULT_CONFIG,
    ) -> date | None:
        """The new `due_on` (None: the status has no deadline)."""
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


class TransitionRefused(Exception):
    """A requested step is not allowed.  str(e) is English; `message_id` is Indonesian.

    `problem` is one of "unknown", "status", "role", "field"; `field` names the bad field.
    """

    def __init__(
        self, message: str, *, message_id: str | None = None, problem: str, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.message_id = message_id or message
        self.problem = problem
        self.field = field


# --- the table -------------------------------------------------------------------------------

_V, _PYB, _PK = Role.VERIFIKATOR, Role.PYB, Role.PENGKAJI
_REPORTER, _SYSTEM = Party.REPORTER, Party.SYSTEM


@dataclass(frozen=True, slots=True)
class ActionSpec:
    action: Action
    sources: Mapping[Status, frozenset[Actor]]  # from-status -> who may act from it
    to_status: Status | None  # None: status unchanged
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    notice: Text | None = None  # template: {message} {message_line} {external_ref} {reason}
    anchor: Anchor = Anchor.EVENT


def _src(**by_status: tuple[Actor, ...]) -> Mapping[Status, frozenset[Actor]]:
    return MappingProxyType({Status(s): frozenset(a) for s, a in by_status.items()})


_INVESTIGATING = Text(
    "Laporan Anda kini diperiksa oleh tim pemeriksa. Kami akan memberi kabar bila ada hasil.",
    "Your report is now being investigated by a review team. We will let you know the outcome.",
)

SPECS: Final[Mapping[Action, ActionSpec]] = MappingProxyType({s.action: s for s in (
    ActionSpec(
        Action.START_VERIFICATION, _src(received=(_V,)), Status.VERIFICATION,
        notice=Text(
            "Laporan Anda sedang ditelaah oleh petugas verifikasi.",
            "An officer is now reviewing your report.",
        ),
        anchor=Anchor.RECEIPT,
    ),
    ActionSpec(
        Action.REQUEST_DATA, _src(verification=(_V,)), Status.AWAITING_DATA, ("message",),
        notice=Text(
            "Kami memerlukan keterangan tambahan:\n{message}\nMohon balas sebelum batas waktu; "
            "bila tidak ada jawaban, laporan akan diarsipkan.",
            "We need more information:\n{message}\nPlease reply before the deadline; "
            "without a reply the report will be archived.",
        ),
    ),
    ActionSpec(
        Action.REPORTER_SUPPLIED_DATA, _src(awaiting_data=(_REPORTER, _V)), Status.VERIFICATION,
        notice=Text(
            "Terima kasih, keterangan tambahan Anda telah diterima dan laporan kembali ditelaah.",
            "Thank you, we have received your additional information and are reviewing the report again.",
        ),
    ),
    ActionSpec(
        Action.FORWARD_PYB, _src(verification=(_V,)), Status.FORWARDED_PYB,
        notice=Text(
            "Laporan Anda diteruskan kepada pejabat yang berwenang untuk ditindaklanjuti.",
            "Your report has been passed to the authorised official for follow-up.",
        ),
    ),
    ActionSpec(
        Action.FORWARD_UNIT, _src(verification=(_V,)), Status.FORWARDED_UNIT,
        notice=Text(
            "Laporan Anda diteruskan kepada unit kerja terkait untuk ditindaklanjuti.",
            "Your report has been passed to the unit concerned for follow-up.",
        ),
    ),
    ActionSpec(
        Action.REFER_EXTERNAL, _src(verification=(_V,)), Status.REFERRED_EXTERNAL, ("external_ref",),
        notice=Text(
            "Laporan Anda berada di luar kewenangan kami dan telah diteruskan kepada instansi yang "
            "berwenang. Rujukan: {external_ref}",
            "Your report is outside our authority and has been passed to the competent agency. "
            "Reference: {external_ref}",
        ),
    ),
    ActionSpec(
        Action.ANSWER, _src(verification=(_V,), forwarded_unit=(_PK,)), Status.ANSWERED, ("message",),
        notice=Text("Jawaban atas laporan Anda:\n{message}", "Our answer to your report:\n{message}"),
    ),
    ActionSpec(
        Action.NOT_FOLLOWABLE, _src(verification=(_V,), forwarded_pyb=(_PYB,)), Status.NOT_FOLLOWABLE,
        ("reason",), ("reason_text",),
        notice=Text(
            "Laporan Anda tidak dapat ditindaklanjuti. Alasan: {reason}",
            "Your report cannot be followed up. Reason: {reason}",
        ),
    ),
    ActionSpec(
        Action.DISPOSE_TO_PENGKAJI, _src(forwarded_pyb=(_PYB,)), Status.INVESTIGATION, ("tier",),
        notice=_INVESTIGATING,
    ),
    ActionSpec(
        Action.UNIT_INVESTIGATE, _src(forwarded_unit=(_PK,)), Status.INVESTIGATION, ("tier",),
        notice=_INVESTIGATING,
    ),
    ActionSpec(
        Action.SET_TIER, _src(investigation=(_PK, _PYB)), None, ("tier",), anchor=Anchor.STEP_START,
    ),
    ActionSpec(
        Action.CONCLUDE_SUBSTANTIATED, _src(investigation=(_PK,)), Status.SUBSTANTIATED, ("sanction",),
        notice=Text(
            "Pemeriksaan selesai: laporan Anda terbukti dan sanksi dijatuhkan sesuai ketentuan.",
            "The investigation is complete: your report was upheld and a sanction imposed under the rules.",
        ),
    ),
    ActionSpec(
        Action.CONCLUDE_UNSUBSTANTIATED, _src(investigation=(_PK,)), Status.UNSUBSTANTIATED,
        notice=Text(
            "Pemeriksaan selesai: laporan Anda tidak terbukti. Laporan disimpan dan dapat digunakan "
            "kembali bila diperlukan.",
            "The investigation is complete: your report could not be confirmed. It is kept on file "
            "and can be used again if needed.",
        ),
    ),
    ActionSpec(
        Action.CLOSE,
        _src(
            referred_external=(_V,), answered=(_V, _PK), substantiated=(_PYB,),
            unsubstantiated=(_PYB,), not_followable=(_V, _PYB),
        ),
        Status.CLOSED, (), ("message",),
        notice=Text(
            "Penanganan laporan Anda telah selesai.{message_line}",
            "Handling of your report is complete.{message_line}",
        ),
    ),
    ActionSpec(Action.ARCHIVE, _src(closed=(_SYSTEM,)), Status.ARCHIVED, ("due_on", "today")),
    ActionSpec(
        Action.AUTO_ARCHIVE, _src(awaiting_data=(_SYSTEM,)), Status.ARCHIVED, ("due_on", "today"),
        notice=Text(
            "Laporan Anda diarsipkan karena keterangan tambahan yang kami minta tidak diterima "
            "sampai batas waktu.",
            "Your report has been archived because the information we asked for did not arrive "
            "by the deadline.",
        ),
    ),
)})

# Every action may carry an internal note for the event record (never shown to the reporter).
_COMMON_OPTIONAL: Final = ("note",)

register_labels({
    Action.START_VERIFICATION: Text("Mulai verifikasi", "Start verification"),
    Action.REQUEST_DATA: Text("Minta kelengkapan data", "Ask for more information"),
    Action.REPORTER_SUPPLIED_DATA: Text("Data dari pelapor diterima", "Reporter supplied information"),
    Action.FORWARD_PYB: Text("Teruskan ke pejabat berwenang", "Forward to authorised official"),
    Action.FORWARD_UNIT: Text("Teruskan ke unit terkait", "Forward to unit concerned"),
    Action.REFER_EXTERNAL: Text("Teruskan ke instansi lain", "Refer to another agency"),
    Action.ANSWER: Text("Jawab langsung", "Answer directly"),
    Action.NOT_FOLLOWABLE: Text("Tidak dapat ditindaklanjuti", "Cannot be followed up"),
    Action.DISPOSE_TO_PENGKAJI: Text("Disposisi ke tim pengkaji", "Dispose to review team"),
    Action.UNIT_INVESTIGATE: Text("Mulai pemeriksaan", "Start investigation"),
    Action.SET_TIER: Text("Ubah kategori jangka waktu", "Change deadline tier"),
    Action.CONCLUDE_SUBSTANTIATED: Text("Nyatakan terbukti", "Record as substantiated"),
    Action.CONCLUDE_UNSUBSTANTIATED: Text("Nyatakan tidak terbukti", "Record as not substantiated"),
    Action.CLOSE: Text("Selesaikan", "Close"),
    Action.ARCHIVE: Text("Arsipkan", "Archive"),
    Action.AUTO_ARCHIVE: Text("Arsipkan otomatis (batas waktu lewat)", "Auto-archive (deadline passed)"),
})


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
) -> Transition:
    """Check one step and describe it; raise `TransitionRefused` naming what is wrong."""
    status, actor = _status(status), _actor(actor)
    spec = SPECS[_action(action)]
    _check_source(spec, status, actor)
    values = _check_params(spec, dict(params or {}))
    to_status = spec.to_status or status
    tier = values.get("tier")
    return Transition(
        from_status=status,
        to_status=to_status,
        action=spec.action,
        actor=actor,
        reporter_notice=_render(spec.notice, values),
        deadline_rule=DeadlineRule(to_status, spec.anchor, tier if isinstance(tier, InvestigationTier) else None),
        params=MappingProxyType(values),
    )


def _refuse(problem: str, en: str, id_: str, field: str | None = None) -> TransitionRefused:
    return TransitionRefused(en, message_id=id_, problem=problem, field=field)


def _status(value: Status | str) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise _refuse("unknown", f"Unknown status {value!r}.", f"Status {value!r} tidak dikenal.") from None


def _action(value: Action | str) -> Action:
    try:
        return Action(value)
    except ValueError:
        known = ", ".join(Action)
        raise _refuse(
            "unknown", f"Unknown action {value!r}. Known actions: {known}.",
            f"Tindakan {value!r} tidak dikenal. Tindakan yang ada: {known}.",
        ) from None


def _actor(value: Actor | str) -> Actor:
    for kind in (Role, Party):
        try:
            return kind(value)
        except ValueError:
            pass
    raise _refuse("unknown", f"Unknown role {value!r}.", f"Peran {value!r} tidak dikenal.")


def _check_source(spec: ActionSpec, status: Status, actor: Actor) -> None:
    if status not in spec.sources:
        possible = sorted({a.value for a, s in SPECS.items() if status in s.sources})
        if possible:
            en_tail = f"From {status.value!r} the possible actions are: {', '.join(possible)}."
            id_tail = f"Dari status {label(status, 'id')!r} tindakan yang mungkin: {', '.join(possible)}."
        else:
            en_tail = f"{status.value!r} is final: the case is read-only."
            id_tail = f"Status {label(status, 'id')!r} adalah akhir: laporan hanya dapat dibaca."
        raise _refuse(
            "status",
            f"Cannot {spec.action.value} a case in status {status.value!r} ({label(status, 'en')}); "
            f"it is possible only from: {', '.join(s.value for s in spec.sources)}. {en_tail}",
            f"Tindakan {label(spec.action, 'id')!r} tidak dapat dilakukan pada laporan berstatus "
            f"{label(status, 'id')!r}. {id_tail}",
        )
    allowed = spec.sources[status]
    if actor not in allowed:
        who = ", ".join(sorted(a.value for a in allowed))
        raise _refuse(
            "role",
            f"Role {actor.value!r} may not {spec.action.value} a case in status {status.value!r}; "
            f"only {who} may.",
            f"Peran {label(actor, 'id')!r} tidak berwenang melakukan {label(spec.action, 'id')!r} "
            f"pada status {label(status, 'id')!r}; yang berwenang: {who}.",
        )


def _check_params(spec: ActionSpec, raw: dict[str, object]) -> dict[str, object]:
    accepted = (*spec.required, *spec.optional, *_COMMON_OPTIONAL)
    unknown = sorted(set(raw) - set(accepted))
    if unknown:
        raise _refuse(
            "field",
            f"Action {spec.action.value!r} does not take {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(accepted)}.",
            f"Tindakan {label(spec.action, 'id')!r} tidak menerima isian {', '.join(unknown)}.",
            field=unknown[0],
        )
    values: dict[str, object] = {}
    for name in accepted:
        try:
            value = _FIELDS[name](raw.get(name))
        except (TypeError, ValueError) as exc:
            raise _refuse(
                "field",
                f"Action {spec.action.value!r}: field {name!r} must be {exc}; got {raw.get(name)!r}.",
                f"Tindakan {label(spec.action, 'id')!r}: isian {name!r} tidak sah.",
                field=name,
            ) from None
        if value is None and name in spec.required:
            raise _refuse(
                "field",
                f"Action {spec.action.value!r} needs the field {name!r}{_HINTS.get(name, '')}.",
                f"Tindakan {label(spec.action, 'id')!r} memerlukan isian {name!r}.",
                field=name,
            )
        if value is not None:
            values[name] = value
    if values.get("reason") is NotFollowableReason.OTHER and "reason_text" not in values:
        raise _refuse(
            "field",
            "Reason 'other' needs 'reason_text': the reporter must be told the reason.",
            "Alasan 'lainnya' memerlukan isian 'reason_text' karena alasannya wajib disampaikan kepada pelapor.",
            field="reason_text",
        )
    due, today = values.get("due_on"), values.get("today")
    if isinstance(due, date) and isinstance(today, date) and not today > due:
        raise _refuse(
            "field",
            f"Cannot {spec.action.value} before the deadline has passed (due {due}, today {today}).",
            f"Belum dapat diarsipkan: batas waktu {due} belum lewat.",
            field="today",
        )
    return values


# Field parsers: return None when absent/blank, raise ValueError("<what is expected>") when bad.

def _text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("a text")
    return value.strip() or None  # blank counts as missing


def _date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError("a local date (not a datetime)")
    return value


_REASONS: Final = ", ".join(NotFollowableReason)
_TIERS: Final = ", ".join(f"{t.name.lower()}={t.value}" for t in InvestigationTier)


def _reason(value: object) -> NotFollowableReason | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value in NotFollowableReason._value2member_map_:
        return NotFollowableReason(value)
    raise ValueError(f"one of {_REASONS}")


def _tier(value: object) -> InvestigationTier | None:
    """Accepts the enum, its day count (5/14/60, also as a form string) or its name."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        key = value.strip()
        if key.upper() in InvestigationTier.__members__:
            return InvestigationTier[key.upper()]
        value = int(key) if key.isdigit() else key
    if isinstance(value, int) and not isinstance(value, bool) and value in InvestigationTier._value2member_map_:
        return InvestigationTier(value)
    raise ValueError(f"one of {_TIERS}")


_FIELDS: Final = {
    "message": _text, "external_ref": _text, "sanction": _text, "reason_text": _text,
    "note": _text, "reason": _reason, "tier": _tier, "due_on": _date, "today": _date,
}
_HINTS: Final = {
    "reason": f" (one of: {_REASONS})",
    "tier": f" (one of: {_TIERS})",
    "message": " (the text the reporter will read)",
    "external_ref": " (the agency and its reference)",
    "sanction": " (the sanction imposed)",
}


def _render(template: Text | None, values: Mapping[str, object]) -> Text | None:
    """Fill a notice template; values are substituted, never parsed, so braces in them are safe."""
    if template is None:
        return None
    message = str(values.get("message", ""))
    out = []
    for lang in ("id", "en"):
        reason = values.get("reason")
        reason_txt = label(reason, lang) if isinstance(reason, NotFollowableReason) else ""
        if "reason_text" in values:
            extra = str(values["reason_text"])
            reason_txt = extra if reason is NotFollowableReason.OTHER else f"{reason_txt}. {extra}"
        out.append(template.get(lang).format(
            message=message,
            message_line=f"\n{message}" if message else "",
            external_ref=values.get("external_ref", ""),
            reason=reason_txt,
        ))
    return Text(*out)
