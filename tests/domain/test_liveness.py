"""Liveness: every case, whatever route it took, can still reach `archived`, and only through
actors who hold its key.

Exhaustive over the table: a state is (status, team roles holding the case key), see
tests/domain/liveness.py. Whether a case can go on depends only on that state, so checking
every reachable state checks every route into every status. The search is over the real
`SPECS` (and `plan_transition` is asked to agree on every step), so a new action or a changed
routing is covered without editing this file. tests/web/test_case_lives.py checks that the
services really leave exactly these wraps behind.

Before issue 9 the table had no PYB hand-off on the unit path: `forward_unit` ->
`unit_investigate` -> `conclude_*` left the case with the verifikator and pengkaji teams only,
and only the PYB may close a concluded case. `test_the_check_finds_the_old_dead_end` rebuilds
that table and shows the search reports exactly that dead end.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from tests.domain.liveness import INITIAL, KEYLESS, dead_ends, moves, reachable, statuses
from whistle.domain.constants import Party, Role, Status
from whistle.domain.workflow import SPECS, Action


def _route(path: list[tuple[Action, object, object]]) -> str:
    return " -> ".join(f"{a.value}({getattr(actor, 'value', actor)})" for a, actor, _ in path)


def test_every_reachable_state_reaches_archived_through_key_holders() -> None:
    dead = dead_ends()
    assert not dead, "dead ends (status, key holders) <- route:\n" + "\n".join(
        f"{s.value} {sorted(r.value for r in holders)} <- {_route(path)}"
        for (s, holders), path in dead.items())


def test_every_status_is_reached_by_key_holders() -> None:
    assert statuses(reachable(INITIAL)) == set(Status)


def test_from_every_state_the_archive_is_reached_without_the_sweep_holding_a_key() -> None:
    """The system actor never needs a key: every move it makes starts from a status whose data
    request notice was sealed by an officer who held the key (awaiting_data) or needs none."""
    for state in reachable(INITIAL):
        for action, actor, _ in moves(state):
            if actor is Party.SYSTEM:
                assert action in (Action.ARCHIVE, Action.AUTO_ARCHIVE, Action.AUTO_NOT_FOLLOWABLE)
    assert KEYLESS == {Party.SYSTEM, Party.REPORTER}


def test_the_verifikator_of_the_receiving_unit_keeps_the_key_on_every_route() -> None:
    """Nothing revokes the filing wrap: the case key can never become unreachable to the office."""
    assert all(Role.VERIFIKATOR in holders for _, holders in reachable(INITIAL))


def test_the_returned_case_has_no_unit_key() -> None:
    for (status, holders), path in reachable(INITIAL).items():
        if path and path[-1][0] is Action.RETURN_TO_VERIFICATION:
            assert status is Status.VERIFICATION and Role.PENGKAJI not in holders


def test_the_check_finds_the_old_dead_end() -> None:
    """Positive control: the table as it was (no routing on conclude_*) has the dead end."""
    old = dict(SPECS)
    for action in (Action.CONCLUDE_SUBSTANTIATED, Action.CONCLUDE_UNSUBSTANTIATED):
        old[action] = replace(SPECS[action], routes_to=None)
    dead = dead_ends(old)
    found = {(s, holders) for s, holders in dead}
    unit_path = frozenset({Role.VERIFIKATOR, Role.PENGKAJI})
    assert (Status.SUBSTANTIATED, unit_path) in found
    assert (Status.UNSUBSTANTIATED, unit_path) in found
    route = [m[0] for m in dead[(Status.SUBSTANTIATED, unit_path)]]
    assert Action.FORWARD_UNIT in route and Action.UNIT_INVESTIGATE in route


@pytest.mark.parametrize("action", [a for a, s in SPECS.items() if s.routes_to is not None])
def test_every_hand_off_is_needed(action: Action) -> None:
    """Dropping any one key hand-off strands the cases it carries, and the search says where:
    the check follows the key wraps, it does not pass by construction."""
    table = dict(SPECS)
    table[action] = replace(SPECS[action], routes_to=None)
    dead = dead_ends(table)
    assert dead, f"without the wrap of {action.value} the table would still be live"
    target = SPECS[action].to_status
    assert any(status is target for status, _ in dead), sorted(s.value for s, _ in dead)
    for (_, holders), path in dead.items():
        assert SPECS[action].routes_to not in holders and path[-1][0] is action
