"""State machine tests.  The expected table is written out here independently of SPECS, so a
change to the workflow must be made twice, on purpose."""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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

# DESIGN.md §2 "next" column, verbatim.
DESIGN_NEXT: dict[Status, set[Status]] = {
    S.RECEIVED: {S.VERIFICATION},
    S.VERIFICATION: {S.AWAITING_DATA, S.FORWARDED_PYB, S.FORWARDED_UNIT, S.REFERRED_EXTERNAL,
                     S.ANSWERED, S.NOT_FOLLOWABLE},
    S.AWAITING_DATA: {S.VERIFICATION, S.ARCHIVED},
    S.FORWARDED_PYB: {S.INVESTIGATION, S.NOT_FOLLOWABLE},
    S.FORWARDED_UNIT: {S.INVESTIGATION, S.ANSWERED},
    S.REFERRED_EXTERNAL: {S.CLOSED},
    S.ANSWERED: {S.CLOSED},
    S.INVESTIGATION: {S.SUBSTANTIATED, S.UNSUBSTANTIATED},
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
    (A.FORWARD_PYB, S.VERIFICATION): (S.FORWARDED_PYB, {R.VERIFIKATOR}),
    (A.FORWARD_UNIT, S.VERIFICATION): (S.FORWARDED_UNIT, {R.VERIFIKATOR}),
    (A.REFER_EXTERNAL, S.VERIFICATION): (S.REFERRED_EXTERNAL, {R.VERIFIKATOR}),
    (A.ANSWER, S.VERIFICATION): (S.ANSWERED, {R.VERIFIKATOR}),
    (A.ANSWER, S.FORWARDED_UNIT): (S.ANSWERED, {R.PENGKAJI}),
    (A.NOT_FOLLOWABLE, S.VERIFICATION): (S.NOT_FOLLOWABLE, {R.VERIFIKATOR}),
    (A.NOT_FOLLOWABLE, S.FORWARDED_PYB): (S.NOT_FOLLOWABLE, {R.PYB}),
    (A.DISPOSE_TO_PENGKAJI, S.FORWARDED_PYB): (S.INVESTIGATION, {R.PYB}),
    (A.UNIT_INVESTIGATE, S.FORWARDED_UNIT): (S.INVESTIGATION, {R.PENGKAJI}),
    (A.SET_TIER, S.INVESTIGATION): (S.INVESTIGATION, {R.PENGKAJI, R.PYB}),
    (A.CONCLUDE_SUBSTANTIATED, S.INVESTIGATION): (S.SUBSTANTIATED, {R.PENGKAJI}),
    (A.CONCLUDE_UNSUBSTANTIATED, S.INVESTIGATION): (S.UNSUBSTANTIATED, {R.PENGKAJI}),
    (A.CLOSE, S.REFERRED_EXTERNAL): (S.CLOSED, {R.VERIFIKATOR}),
    (A.CLOSE, S.ANSWERED): (S.CLOSED, {R.VERIFIKATOR, R.PENGKAJI}),
    (A.CLOSE, S.SUBSTANTIATED): (S.CLOSED, {R.PYB}),
    (A.CLOSE, S.UNSUBSTANTIATED): (S.CLOSED, {R.PYB}),
    (A.CLOSE, S.NOT_FOLLOWABLE): (S.CLOSED, {R.VERIFIKATOR, R.PYB}),
    (A.ARCHIVE, S.CLOSED): (S.ARCHIVED, {P.SYSTEM}),
    (A.AUTO_ARCHIVE, S.AWAITING_DATA): (S.ARCHIVED, {P.SYSTEM}),
}

# Minimal valid parameters for each action.
VALID: dict[Action, dict[str, object]] = {
    A.REQUEST_DATA: {"message": "Kapan kejadiannya?"},
    A.REFER_EXTERNAL: {"external_ref": "Inspektorat Jenderal, WISE-2026-0042"},
    A.ANSWER: {"message": "Jam layanan 08.00-16.00."},
    A.NOT_FOLLOWABLE: {"reason": "official_retired"},
    A.DISPOSE_TO_PENGKAJI: {"tier": InvestigationTier.FIELD_EXAMINATION},
    A.UNIT_INVESTIGATE: {"tier": 14},
    A.SET_TIER: {"tier": "normative"},
    A.CONCLUDE_SUBSTANTIATED: {"sanction": "Teguran tertulis"},
    A.ARCHIVE: {"due_on": date(2026, 4, 1), "today": date(2026, 4, 2)},
    A.AUTO_ARCHIVE: {"due_on": date(2026, 4, 1), "today": date(2026, 4, 2)},
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
    assert len(PRODUCT) == 13 * 16 * 9


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
        A.REFER_EXTERNAL: ("external_ref",),
        A.ANSWER: ("message",),
        A.NOT_FOLLOWABLE: ("reason",),
        A.DISPOSE_TO_PENGKAJI: ("tier",),
        A.UNIT_INVESTIGATE: ("tier",),
        A.SET_TIER: ("tier",),
        A.CONCLUDE_SUBSTANTIATED: ("sanction",),
        A.ARCHIVE: ("due_on", "today"),
        A.AUTO_ARCHIVE: ("due_on", "today"),
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

SILENT = {A.SET_TIER, A.ARCHIVE}


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
        assert t.to_status in DESIGN_NEXT[status] | ({status} if action is A.SET_TIER else set())
        status = t.to_status
