"""State machine tests.  The expected table is written out here independently of SPECS, so a
change to the workflow must be made twice, on purpose."""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.domain.liveness import VALID as LIVENESS_VALID
from whistle.domain.calendar import Calendar
from whistle.domain.constants import (
    ALL_ACTORS,
    InvestigationTier,
    NotFollowableReason,
    Party,
    Role,
    Status,
    Text,
    label,
)
from whistle.domain.workflow import (
    SPECS,
    Action,
    Anchor,
    Transition,
    TransitionRefused,
    allowed_actions,
    is_final,
    next_statuses,
    plan_transition,
)

S, A, R, P = Status, Action, Role, Party

# DESIGN.md §2 "next" column, plus the hand-offs issue 9 adds from the SOPs (the issue stands
# where it and DESIGN differ): PYB -> another agency (SIPUMA), unit -> back to verification
# and unit -> PYB (SP4N-LAPOR!), and SIPUMA's unanswered data request -> not followable.
DESIGN_NEXT: dict[Status, set[Status]] = {
    S.RECEIVED: {S.VERIFICATION},
    S.VERIFICATION: {S.AWAITING_DATA, S.FORWARDED_PYB, S.FORWARDED_UNIT, S.REFERRED_EXTERNAL,
                     S.ANSWERED, S.NOT_FOLLOWABLE},
    S.AWAITING_DATA: {S.VERIFICATION, S.ARCHIVED, S.NOT_FOLLOWABLE},
    S.FORWARDED_PYB: {S.INVESTIGATION, S.NOT_FOLLOWABLE, S.REFERRED_EXTERNAL},
    S.FORWARDED_UNIT: {S.INVESTIGATION, S.ANSWERED, S.VERIFICATION, S.FORWARDED_PYB},
    S.REFERRED_EXTERNAL: {S.CLOSED},
    S.ANSWERED: {S.CLOSED},
    S.INVESTIGATION: {S.SUBSTANTIATED, S.UNSUBSTANTIATED, S.FORWARDED_PYB},
    S.SUBSTANTIATED: {S.CLOSED},
    S.UNSUBSTANTIATED: {S.CLOSED},
    S.NOT_FOLLOWABLE: {S.CLOSED},
    S.CLOSED: {S.ARCHIVED},
    S.ARCHIVED: set(),
}

# (action, from) -> (to, actors allowed)
EXPECTED: dict[tuple[Action, Status], tuple[Status, set[object]]] = {
    (A.START_VERIFICATION, S.RECEIVED): (S.VERIFICATION, {R.VERIFIKATOR}),
    (A.REQUEST_DATA, S.VERIFICATION): (S.AWAITING_DATA, {R.VERIFIKATOR}),
    (A.REPORTER_SUPPLIED_DATA, S.AWAITING_DATA): (S.VERIFICATION, {P.REPORTER, R.VERIFIKATOR}),
    (A.RECORD_TELAAH, S.VERIFICATION): (S.VERIFICATION, {R.VERIFIKATOR}),
    (A.RECLASSIFY, S.VERIFICATION): (S.VERIFICATION, {R.VERIFIKATOR}),
    (A.FORWARD_PYB, S.VERIFICATION): (S.FORWARDED_PYB, {R.VERIFIKATOR}),
    (A.FORWARD_UNIT, S.VERIFICATION): (S.FORWARDED_UNIT, {R.VERIFIKATOR}),
    (A.REFER_EXTERNAL, S.VERIFICATION): (S.REFERRED_EXTERNAL, {R.VERIFIKATOR}),
    (A.REFER_EXTERNAL, S.FORWARDED_PYB): (S.REFERRED_EXTERNAL, {R.PYB}),
    (A.COPY_EXTERNAL, S.VERIFICATION): (S.VERIFICATION, {R.VERIFIKATOR}),
    (A.COPY_EXTERNAL, S.FORWARDED_PYB): (S.FORWARDED_PYB, {R.PYB}),
    (A.COPY_EXTERNAL, S.FORWARDED_UNIT): (S.FORWARDED_UNIT, {R.PENGKAJI}),
    (A.COPY_EXTERNAL, S.INVESTIGATION): (S.INVESTIGATION, {R.PENGKAJI, R.PYB}),
    (A.ANSWER, S.VERIFICATION): (S.ANSWERED, {R.VERIFIKATOR}),
    (A.ANSWER, S.FORWARDED_UNIT): (S.ANSWERED, {R.PENGKAJI}),
    (A.NOT_FOLLOWABLE, S.VERIFICATION): (S.NOT_FOLLOWABLE, {R.VERIFIKATOR}),
    (A.NOT_FOLLOWABLE, S.FORWARDED_PYB): (S.NOT_FOLLOWABLE, {R.PYB}),
    (A.RETURN_TO_VERIFICATION, S.FORWARDED_UNIT): (S.VERIFICATION, {R.PENGKAJI}),
    (A.ESCALATE_TO_PYB, S.FORWARDED_UNIT): (S.FORWARDED_PYB, {R.PENGKAJI}),
    (A.ESCALATE_TO_PYB, S.INVESTIGATION): (S.FORWARDED_PYB, {R.PENGKAJI}),
    (A.DISPOSE_TO_PENGKAJI, S.FORWARDED_PYB): (S.INVESTIGATION, {R.PYB}),
    (A.UNIT_INVESTIGATE, S.FORWARDED_UNIT): (S.INVESTIGATION, {R.PENGKAJI}),
    (A.SET_TIER, S.INVESTIGATION): (S.INVESTIGATION, {R.PENGKAJI, R.PYB}),
    (A.RECORD_STATEMENT, S.INVESTIGATION): (S.INVESTIGATION, {R.PENGKAJI}),
    (A.CONCLUDE_SUBSTANTIATED, S.INVESTIGATION): (S.SUBSTANTIATED, {R.PENGKAJI}),
    (A.CONCLUDE_UNSUBSTANTIATED, S.INVESTIGATION): (S.UNSUBSTANTIATED, {R.PENGKAJI}),
    (A.CLOSE, S.REFERRED_EXTERNAL): (S.CLOSED, {R.VERIFIKATOR, R.PYB}),
    (A.CLOSE, S.ANSWERED): (S.CLOSED, {R.VERIFIKATOR, R.PENGKAJI}),
    (A.CLOSE, S.SUBSTANTIATED): (S.CLOSED, {R.PYB}),
    (A.CLOSE, S.UNSUBSTANTIATED): (S.CLOSED, {R.PYB}),
    (A.CLOSE, S.NOT_FOLLOWABLE): (S.CLOSED, {R.VERIFIKATOR, R.PYB}),
    (A.ARCHIVE, S.CLOSED): (S.ARCHIVED, {P.SYSTEM}),
    (A.AUTO_ARCHIVE, S.AWAITING_DATA): (S.ARCHIVED, {P.SYSTEM}),
    (A.AUTO_NOT_FOLLOWABLE, S.AWAITING_DATA): (S.NOT_FOLLOWABLE, {P.SYSTEM}),
}

# Minimal valid parameters for each action (shared with the liveness model).
VALID: dict[Action, dict[str, object]] = {
    **LIVENESS_VALID, A.DISPOSE_TO_PENGKAJI: {"tier": InvestigationTier.FIELD_EXAMINATION},
}

PRODUCT = list(itertools.product(Status, Action, ALL_ACTORS))


def test_table_matches_design_next_column() -> None:
    for status in Status:
        assert next_statuses(status) == DESIGN_NEXT[status], status


def test_specs_match_expected_exactly() -> None:
    got = {
        (action, src): (spec.to_status or src, set(actors))
        for action, spec in SPECS.items()
        for src, actors in spec.sources.items()
    }
    assert got == EXPECTED


def test_full_product_size() -> None:
    assert len(PRODUCT) == 13 * 23 * 9


@pytest.mark.parametrize(("status", "action", "actor"), PRODUCT, ids=lambda v: str(v))
def test_every_status_action_actor(status: Status, action: Action, actor: object) -> None:
    expected = EXPECTED.get((action, status))
    params = VALID.get(action, {})
    if expected is not None and actor in expected[1]:
        t = plan_transition(status, action, actor, params)  # type: ignore[arg-type]
        assert isinstance(t, Transition)
        assert (t.from_status, t.to_status, t.action, t.actor) == (status, expected[0], action, actor)
        assert action in allowed_actions(status, actor)  # type: ignore[arg-type]
        return
    with pytest.raises(TransitionRefused) as info:
        plan_transition(status, action, actor, params)  # type: ignore[arg-type]
    err = info.value
    assert action not in allowed_actions(status, actor)  # type: ignore[arg-type]
    if expected is None:  # wrong status: the message names the status and the action
        assert err.problem == "status"
        assert repr(status.value) in str(err) and action.value in str(err)
        assert label(status, "id") in err.message_id
    else:  # right status, wrong role: the message names the role and who may act
        assert err.problem == "role"
        assert repr(actor.value) in str(err)  # type: ignore[attr-defined]
        for allowed in expected[1]:
            assert allowed.value in str(err)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("status", "actor"), list(itertools.product(Status, ALL_ACTORS)))
def test_allowed_actions_matches_expected(status: Status, actor: object) -> None:
    want = [a for a in Action if (a, status) in EXPECTED and actor in EXPECTED[(a, status)][1]]
    assert allowed_actions(status.value, str(actor)) == want


@pytest.mark.parametrize("role", [R.PENERIMA, R.UKI, R.ADMIN, R.AUDITOR])
def test_roles_without_workflow_powers(role: Role) -> None:
    assert all(allowed_actions(s, role) == [] for s in Status)


def test_archived_is_final_and_nothing_returns_to_received() -> None:
    assert is_final(S.ARCHIVED)
    assert [s for s in Status if is_final(s)] == [S.ARCHIVED]
    assert all(S.RECEIVED not in next_statuses(s) for s in Status)
    with pytest.raises(TransitionRefused, match="final"):
        plan_transition(S.ARCHIVED, A.CLOSE, R.PYB)


def test_no_reopen_from_closed() -> None:
    assert allowed_actions(S.CLOSED, P.REPORTER) == []
    with pytest.raises(TransitionRefused) as info:
        plan_transition(S.CLOSED, A.REPORTER_SUPPLIED_DATA, P.REPORTER)
    assert info.value.problem == "status"


def test_every_status_reachable_and_every_path_ends_archived() -> None:
    seen, todo = {S.RECEIVED}, [S.RECEIVED]
    while todo:
        for nxt in next_statuses(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(Status)
    # From every status archived is reachable (no dead end before archiving).
    for status in Status:
        reach, todo = {status}, [status]
        while todo:
            for nxt in next_statuses(todo.pop()):
                if nxt not in reach:
                    reach.add(nxt)
                    todo.append(nxt)
        assert S.ARCHIVED in reach, status


# --- required and invalid fields -------------------------------------------------------------

def _first_source(action: Action) -> tuple[Status, object]:
    (status, (_, actors)) = next((s, v) for (a, s), v in EXPECTED.items() if a is action)
    return status, sorted(actors, key=str)[0]


REQUIRED = [(a, f) for a, spec in SPECS.items() for f in spec.required]


def test_required_fields_are_the_briefed_ones() -> None:
    assert {a: SPECS[a].required for a in Action if SPECS[a].required} == {
        A.REQUEST_DATA: ("message",),
        A.RECORD_TELAAH: ("classification", "subject", "object", "confidential_handling"),
        A.RECLASSIFY: ("kind", "category", "grounds"),
        A.REFER_EXTERNAL: ("external_ref",),
        A.COPY_EXTERNAL: ("agency", "copy_ref"),
        A.ANSWER: ("message",),
        A.NOT_FOLLOWABLE: ("reason",),
        A.RETURN_TO_VERIFICATION: ("grounds",),
        A.ESCALATE_TO_PYB: ("grounds",),
        A.DISPOSE_TO_PENGKAJI: ("tier",),
        A.UNIT_INVESTIGATE: ("tier",),
        A.SET_TIER: ("tier",),
        A.RECORD_STATEMENT: ("statement",),
        A.CONCLUDE_SUBSTANTIATED: ("sanction",),
        A.ARCHIVE: ("due_on", "today"),
        A.AUTO_ARCHIVE: ("due_on", "today"),
        A.AUTO_NOT_FOLLOWABLE: ("due_on", "today"),
    }


MISSING = [
    (a, f, how) for a, f in REQUIRED for how in ("absent", "none", "blank")
    if not (how == "blank" and isinstance(VALID[a][f], date))  # a date has no blank form
]


@pytest.mark.parametrize(("action", "field", "missing"), MISSING, ids=str)
def test_missing_required_field_refused(action: Action, field: str, missing: str) -> None:
    status, actor = _first_source(action)
    params = dict(VALID[action])
    if missing == "absent":
        del params[field]
    else:
        params[field] = None if missing == "none" else "   "
    with pytest.raises(TransitionRefused) as info:
        plan_transition(status, action, actor, params)  # type: ignore[arg-type]
    assert info.value.problem == "field" and info.value.field == field
    assert repr(field) in str(info.value) and action.value in str(info.value)


def test_reason_other_needs_text_which_is_shown() -> None:
    with pytest.raises(TransitionRefused) as info:
        plan_transition(S.VERIFICATION, A.NOT_FOLLOWABLE, R.VERIFIKATOR, {"reason": "other"})
    assert info.value.field == "reason_text"
    t = plan_transition(S.VERIFICATION, A.NOT_FOLLOWABLE, R.VERIFIKATOR,
                        {"reason": NotFollowableReason.OTHER, "reason_text": "Sudah ditangani KPK"})
    assert t.reporter_notice is not None and "Sudah ditangani KPK" in t.reporter_notice.id


@pytest.mark.parametrize("reason", list(NotFollowableReason)[:-1])
def test_not_followable_reason_shown_to_reporter(reason: NotFollowableReason) -> None:
    t = plan_transition(S.FORWARDED_PYB, A.NOT_FOLLOWABLE, R.PYB, {"reason": reason.value})
    assert t.reporter_notice == Text(
        f"Laporan Anda tidak dapat ditindaklanjuti. Alasan: {label(reason, 'id')}",
        f"Your report cannot be followed up. Reason: {label(reason, 'en')}",
    )


@pytest.mark.parametrize(("field", "value"), [
    ("reason", "dunno"), ("reason", 3), ("tier", 7), ("tier", "7"), ("tier", True), ("tier", "fast"),
    ("tier", 5.0), ("message", 42), ("today", datetime(2026, 4, 2, 12)), ("due_on", "2026-04-01"),
])
def test_invalid_field_values_refused(field: str, value: object) -> None:
    action = {"reason": A.NOT_FOLLOWABLE, "tier": A.SET_TIER, "message": A.ANSWER,
              "today": A.AUTO_ARCHIVE, "due_on": A.AUTO_ARCHIVE}[field]
    status, actor = _first_source(action)
    params = {**VALID[action], field: value}
    with pytest.raises(TransitionRefused) as info:
        plan_transition(status, action, actor, params)  # type: ignore[arg-type]
    assert info.value.problem == "field" and info.value.field == field


@pytest.mark.parametrize(("value", "tier"), [
    (5, InvestigationTier.NORMATIVE), ("14", InvestigationTier.NO_OVERSIGHT_CONTENT),
    ("field_examination", InvestigationTier.FIELD_EXAMINATION),
    (InvestigationTier.NORMATIVE, InvestigationTier.NORMATIVE),
])
def test_tier_accepted_forms(value: object, tier: InvestigationTier) -> None:
    t = plan_transition(S.FORWARDED_PYB, A.DISPOSE_TO_PENGKAJI, R.PYB, {"tier": value})
    assert t.params["tier"] is tier and t.deadline_rule.tier is tier


def test_unknown_field_refused() -> None:
    with pytest.raises(TransitionRefused) as info:
        plan_transition(S.VERIFICATION, A.ANSWER, R.VERIFIKATOR, {"mesage": "x", "message": "y"})
    assert info.value.field == "mesage" and "message" in str(info.value)


def test_note_accepted_everywhere_and_never_shown() -> None:
    for (action, status), (_, actors) in EXPECTED.items():
        actor = sorted(actors, key=str)[0]
        t = plan_transition(status, action, actor, {**VALID.get(action, {}), "note": "INTERNAL-NOTE"})
        assert t.params["note"] == "INTERNAL-NOTE"
        if t.reporter_notice:
            assert "INTERNAL-NOTE" not in t.reporter_notice.id + t.reporter_notice.en


@pytest.mark.parametrize("action", [A.AUTO_ARCHIVE, A.ARCHIVE])
@pytest.mark.parametrize("today", [date(2026, 3, 31), date(2026, 4, 1)])
def test_sweeps_refuse_before_the_day_is_over(action: Action, today: date) -> None:
    status = S.AWAITING_DATA if action is A.AUTO_ARCHIVE else S.CLOSED
    with pytest.raises(TransitionRefused, match="before the deadline"):
        plan_transition(status, action, P.SYSTEM, {"due_on": date(2026, 4, 1), "today": today})


def test_unknown_codes_refused() -> None:
    for args in [("nope", A.CLOSE, R.PYB), (S.ANSWERED, "nope", R.PYB), (S.ANSWERED, A.CLOSE, "nope")]:
        with pytest.raises(TransitionRefused) as info:
            plan_transition(*args)  # type: ignore[arg-type]
        assert info.value.problem == "unknown" and "nope" in str(info.value)


def test_string_codes_accepted() -> None:
    t = plan_transition("verification", "forward_pyb", "verifikator")
    assert t.to_status is S.FORWARDED_PYB and t.actor is R.VERIFIKATOR


# --- reporter notices ------------------------------------------------------------------------

SILENT = {A.SET_TIER, A.ARCHIVE, A.RECORD_TELAAH, A.RECORD_STATEMENT}


@pytest.mark.parametrize(("action", "status"), list(EXPECTED), ids=str)
def test_reporter_told_except_internal_steps(action: Action, status: Status) -> None:
    actor = sorted(EXPECTED[(action, status)][1], key=str)[0]
    t = plan_transition(status, action, actor, VALID.get(action, {}))
    if action in SILENT:
        assert t.reporter_notice is None
        return
    notice = t.reporter_notice
    assert notice is not None and notice.id and notice.en and notice.id != notice.en
    assert "{" not in notice.id + notice.en  # every placeholder filled
    words = set((notice.id + " " + notice.en).lower().split())
    assert not words & {r.value for r in Role}  # no internal role codes leak to the reporter


def test_officer_text_reaches_the_reporter_verbatim_even_with_braces() -> None:
    msg = "Sebutkan nama {pejabat} dan tanggalnya."
    t = plan_transition(S.VERIFICATION, A.REQUEST_DATA, R.VERIFIKATOR, {"message": f"  {msg} "})
    assert t.reporter_notice is not None
    assert msg in t.reporter_notice.id and msg in t.reporter_notice.en


def test_external_ref_shown_sanction_not() -> None:
    t = plan_transition(S.VERIFICATION, A.REFER_EXTERNAL, R.VERIFIKATOR, VALID[A.REFER_EXTERNAL])
    assert t.reporter_notice is not None and "WISE-2026-0042" in t.reporter_notice.id
    t = plan_transition(S.INVESTIGATION, A.CONCLUDE_SUBSTANTIATED, R.PENGKAJI,
                        {"sanction": "Penurunan pangkat setingkat"})
    assert t.params["sanction"] == "Penurunan pangkat setingkat"
    assert t.reporter_notice is not None
    assert "pangkat" not in t.reporter_notice.id + t.reporter_notice.en


def test_close_with_and_without_outcome_message() -> None:
    bare = plan_transition(S.ANSWERED, A.CLOSE, R.VERIFIKATOR).reporter_notice
    assert bare == Text("Penanganan laporan Anda telah selesai.", "Handling of your report is complete.")
    full = plan_transition(S.ANSWERED, A.CLOSE, R.PENGKAJI, {"message": "Terima kasih."}).reporter_notice
    assert full is not None and full.id.endswith("selesai.\nTerima kasih.")


# --- deadlines carried by the new status ------------------------------------------------------

CAL = Calendar()
RECEIVED_ON = date(2026, 3, 6)  # Friday
STEP_START = date(2026, 4, 6)


def _due(t: Transition, event: date) -> date | None:
    return t.deadline_rule.due(event_date=event, received_on=RECEIVED_ON,
                               step_started_on=STEP_START, calendar=CAL)


def test_start_verification_counts_from_receipt() -> None:
    t = plan_transition(S.RECEIVED, A.START_VERIFICATION, R.VERIFIKATOR)
    assert t.deadline_rule.anchor is Anchor.RECEIPT
    # Opened on Tue 10 March, but 3 working days after Fri 6 March is Wed 11 March.
    assert _due(t, date(2026, 3, 10)) == date(2026, 3, 11)


def test_reporter_data_restarts_verification_clock() -> None:
    t = plan_transition(S.AWAITING_DATA, A.REPORTER_SUPPLIED_DATA, P.REPORTER)
    assert _due(t, date(2026, 4, 6)) == date(2026, 4, 9)


def test_request_data_gives_ten_working_days() -> None:
    t = plan_transition(S.VERIFICATION, A.REQUEST_DATA, R.VERIFIKATOR, VALID[A.REQUEST_DATA])
    # Mon 11 May 2026 + 10 working days: skips Ascension (Thu 14) + cuti bersama (Fri 15),
    # Idul Adha (Wed 27) + cuti bersama (Thu 28) -> Fri 29 May.
    assert _due(t, date(2026, 5, 11)) == date(2026, 5, 29)


@pytest.mark.parametrize(("tier", "due"), [
    (InvestigationTier.NORMATIVE, date(2026, 4, 10)),  # Good Friday 3 April skipped
    (InvestigationTier.NO_OVERSIGHT_CONTENT, date(2026, 4, 23)),
    (InvestigationTier.FIELD_EXAMINATION, date(2026, 7, 7)),  # 1 May, 14-15, 27-28 May, 1 + 16 June off
])
def test_investigation_deadline_by_tier(tier: InvestigationTier, due: date) -> None:
    t = plan_transition(S.FORWARDED_PYB, A.DISPOSE_TO_PENGKAJI, R.PYB, {"tier": tier})
    assert (t.deadline_rule.status, t.deadline_rule.anchor) == (S.INVESTIGATION, Anchor.EVENT)
    assert _due(t, date(2026, 4, 2)) == due


def test_set_tier_keeps_status_and_step_start() -> None:
    t = plan_transition(S.INVESTIGATION, A.SET_TIER, R.PYB, {"tier": 5})
    assert t.to_status is S.INVESTIGATION and t.deadline_rule.anchor is Anchor.STEP_START
    # Re-tiered on 20 April: still 5 working days from the 6 April start, not from today.
    assert _due(t, date(2026, 4, 20)) == date(2026, 4, 13)


@pytest.mark.parametrize(("action", "status"), list(EXPECTED), ids=str)
def test_deadline_rule_targets_new_status(action: Action, status: Status) -> None:
    actor = sorted(EXPECTED[(action, status)][1], key=str)[0]
    t = plan_transition(status, action, actor, VALID.get(action, {}))
    assert t.deadline_rule.status is t.to_status
    if t.deadline_rule.anchor is Anchor.KEEP:  # a record on the case: the deadline stays
        kept = date(2026, 6, 30)
        assert t.deadline_rule.due(event_date=date(2026, 6, 2), received_on=RECEIVED_ON,
                                   step_started_on=STEP_START, calendar=CAL, current_due=kept) == kept
        assert t.to_status is status
        return
    has_deadline = t.to_status in {S.VERIFICATION, S.AWAITING_DATA, S.ANSWERED, S.INVESTIGATION}
    assert (_due(t, date(2026, 6, 2)) is not None) is has_deadline


# --- property: random walks -------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=50), max_size=30))
def test_random_walk_only_follows_design_edges(choices: list[int]) -> None:
    status = S.RECEIVED
    for c in choices:
        options = [(a, actor) for actor in ALL_ACTORS for a in allowed_actions(status, actor)]
        if not options:
            assert status is S.ARCHIVED
            break
        action, actor = options[c % len(options)]
        t = plan_transition(status, action, actor, VALID.get(action, {}))
        assert t.to_status in DESIGN_NEXT[status] | ({status} if SPECS[action].to_status is None else set())
        status = t.to_status


# --- issue 9: the SOPs' hand-offs, records and clocks ------------------------------------------

def test_hand_offs_name_the_key_they_move() -> None:
    """Which team role gets (or loses) the case key is part of the table, not of a service."""
    routes = {a: s.routes_to for a, s in SPECS.items() if s.routes_to is not None}
    assert routes == {
        A.FORWARD_PYB: R.PYB, A.FORWARD_UNIT: R.PENGKAJI, A.ESCALATE_TO_PYB: R.PYB,
        A.DISPOSE_TO_PENGKAJI: R.PENGKAJI, A.CONCLUDE_SUBSTANTIATED: R.PYB,
        A.CONCLUDE_UNSUBSTANTIATED: R.PYB,
    }
    assert {a: s.revokes for a, s in SPECS.items() if s.revokes} == {A.RETURN_TO_VERIFICATION: R.PENGKAJI}
    t = plan_transition(S.FORWARDED_UNIT, A.RETURN_TO_VERIFICATION, R.PENGKAJI, {"grounds": "x"})
    assert (t.to_status, t.routes_to, t.revokes) == (S.VERIFICATION, None, R.PENGKAJI)


def test_unit_investigation_counts_from_the_day_the_unit_received_it() -> None:
    """SP4N-LAPOR!: 5/14/60 working days "sejak pengaduan diterima oleh pejabat penghubung"."""
    t = plan_transition(S.FORWARDED_UNIT, A.UNIT_INVESTIGATE, R.PENGKAJI, {"tier": 5})
    assert t.deadline_rule.anchor is Anchor.STEP_START
    # Forwarded on Mon 6 April (the step start), investigation opened on Thu 9 April:
    # 5 working days from 6 April is Mon 13 April, not Thu 16 April.
    assert _due(t, date(2026, 4, 9)) == date(2026, 4, 13)
    # The PYB's disposition is the pengkaji's receipt: it counts from its own day.
    t = plan_transition(S.FORWARDED_PYB, A.DISPOSE_TO_PENGKAJI, R.PYB, {"tier": 5})
    assert t.deadline_rule.anchor is Anchor.EVENT


@pytest.mark.parametrize(("status", "actor"), [(S.VERIFICATION, R.VERIFIKATOR), (S.FORWARDED_UNIT, R.PENGKAJI)])
def test_information_request_answer_due_five_working_days_from_receipt(status: Status, actor: Role) -> None:
    info = plan_transition(status, A.ANSWER, actor, VALID[A.ANSWER], kind="information_request")
    other = plan_transition(status, A.ANSWER, actor, VALID[A.ANSWER], kind="complaint")
    assert info.deadline_rule.anchor is Anchor.RECEIPT and other.deadline_rule.anchor is Anchor.EVENT
    # Received Fri 6 March 2026: Mon 9 .. Fri 13 March; answered on 12 March it is still 13 March.
    assert _due(info, date(2026, 3, 12)) == date(2026, 3, 13)
    # Other kinds count from the answer: 13, 16, 17, then Nyepi and Lebaran (18-24), 25, 26.
    assert _due(other, date(2026, 3, 12)) == date(2026, 3, 26)


@pytest.mark.parametrize(("policy", "words"), [("sp4n_lapor", ("diarsipkan", "archived")),
                                              ("sipuma", ("tidak dapat ditindaklanjuti", "cannot be followed up"))])
def test_data_request_warns_of_the_offices_policy(policy: str, words: tuple[str, str]) -> None:
    t = plan_transition(S.VERIFICATION, A.REQUEST_DATA, R.VERIFIKATOR, VALID[A.REQUEST_DATA], policy=policy)
    assert t.reporter_notice is not None
    assert words[0] in t.reporter_notice.id and words[1] in t.reporter_notice.en


def test_sipuma_expiry_tells_the_reason() -> None:
    t = plan_transition(S.AWAITING_DATA, A.AUTO_NOT_FOLLOWABLE, P.SYSTEM, VALID[A.AUTO_NOT_FOLLOWABLE])
    assert t.to_status is S.NOT_FOLLOWABLE and t.reporter_notice is not None
    assert label(NotFollowableReason.UNCLEAR_NOT_CLARIFIED, "id") in t.reporter_notice.id
    assert label(NotFollowableReason.UNCLEAR_NOT_CLARIFIED, "en") in t.reporter_notice.en


def test_copy_names_the_agency_only_when_the_officer_says_so() -> None:
    base = {"agency": "Ombudsman RI Perwakilan NTT", "copy_ref": "ORI-77"}
    quiet = plan_transition(S.INVESTIGATION, A.COPY_EXTERNAL, R.PYB, base).reporter_notice
    told = plan_transition(S.INVESTIGATION, A.COPY_EXTERNAL, R.PYB, {**base, "disclose": "1"}).reporter_notice
    assert quiet is not None and told is not None
    assert "Ombudsman" not in quiet.id + quiet.en and "ORI-77" not in quiet.id + quiet.en
    assert "Ombudsman RI Perwakilan NTT" in told.id and "ORI-77" in told.en
    assert "salinan" in quiet.id.lower() and "copy" in quiet.en.lower()


def test_reclassification_tells_the_final_kind_and_category_not_the_grounds() -> None:
    t = plan_transition(S.VERIFICATION, A.RECLASSIFY, R.VERIFIKATOR,
                        {"kind": "complaint", "category": "maladministration", "grounds": "RAHASIA-ALASAN"})
    assert t.reporter_notice is not None
    assert "Pengaduan" in t.reporter_notice.id and "Maladministrasi" in t.reporter_notice.id
    assert "RAHASIA-ALASAN" not in t.reporter_notice.id + t.reporter_notice.en
    assert t.to_status is S.VERIFICATION and t.deadline_rule.anchor is Anchor.KEEP


@pytest.mark.parametrize(("field", "value"), [
    ("classification", "sengketa"), ("confidential_handling", "maybe"), ("kind", "rumour"),
    ("category", "gossip"),
])
def test_invalid_new_fields_refused(field: str, value: object) -> None:
    action = A.RECLASSIFY if field in ("kind", "category") else A.RECORD_TELAAH
    with pytest.raises(TransitionRefused) as info:
        plan_transition(S.VERIFICATION, action, R.VERIFIKATOR, {**VALID[action], field: value})
    assert info.value.problem == "field" and info.value.field == field


def test_telaah_fields_are_parsed() -> None:
    t = plan_transition(S.VERIFICATION, A.RECORD_TELAAH, R.VERIFIKATOR,
                        {**VALID[A.RECORD_TELAAH], "confidential_handling": "0", "classification": "dispute"})
    assert t.params["confidential_handling"] is False and t.params["classification"] == "dispute"
    assert t.reporter_notice is None
