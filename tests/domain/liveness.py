"""A model of who holds a case's key along every path of the workflow table, for the liveness
tests (tests/domain/test_liveness.py against the table, tests/web/test_case_lives.py against
the real services and their key wraps).

A state is (status, the team roles that hold a wrap of the case key). Filing wraps the key to
the ticket and to the verifikator team of the receiving unit; each action then adds the role it
routes to (`routes_to`, done by `grant_team` in services/cases/transitions.py) and removes the
role it revokes. An officer may act only if a team of their role holds the key: without it
`open_case` answers "not found". The reporter holds the ticket's wrap for the case's whole
life; the sweep (system) needs no key, because it only moves notices sealed in advance by the
officer who asked for the data.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from datetime import date

from whistle.domain.constants import Actor, Party, Role, Status
from whistle.domain.workflow import SPECS, Action, ActionSpec, plan_transition

State = tuple[Status, frozenset[Role]]
Move = tuple[Action, Actor, State]

INITIAL: State = (Status.RECEIVED, frozenset({Role.VERIFIKATOR}))
KEYLESS: frozenset[Actor] = frozenset({Party.SYSTEM, Party.REPORTER})

# Minimal valid parameters for each action (the table refuses a step without its fields).
VALID: dict[Action, dict[str, object]] = {
    Action.REQUEST_DATA: {"message": "Kapan kejadiannya?"},
    Action.RECORD_TELAAH: {"classification": "violation", "subject": "Kepala seksi",
                           "object": "Pungutan izin", "confidential_handling": "1"},
    Action.RECLASSIFY: {"kind": "complaint", "category": "maladministration",
                        "grounds": "Bukan pelanggaran etik"},
    Action.REFER_EXTERNAL: {"external_ref": "Inspektorat Jenderal, WISE-2026-0042"},
    Action.COPY_EXTERNAL: {"agency": "Ombudsman RI", "copy_ref": "ORI/2026/17"},
    Action.ANSWER: {"message": "Jam layanan 08.00-16.00."},
    Action.NOT_FOLLOWABLE: {"reason": "official_retired"},
    Action.RETURN_TO_VERIFICATION: {"grounds": "Bukan urusan unit kami"},
    Action.ESCALATE_TO_PYB: {"grounds": "Ada dugaan pelanggaran disiplin"},
    Action.DISPOSE_TO_PENGKAJI: {"tier": 60},
    Action.UNIT_INVESTIGATE: {"tier": 14},
    Action.SET_TIER: {"tier": "normative"},
    Action.RECORD_STATEMENT: {"statement": "Terlapor membantah."},
    Action.CONCLUDE_SUBSTANTIATED: {"sanction": "Teguran tertulis"},
    Action.ARCHIVE: {"due_on": date(2026, 4, 1), "today": date(2026, 4, 2)},
    Action.AUTO_ARCHIVE: {"due_on": date(2026, 4, 1), "today": date(2026, 4, 2)},
    Action.AUTO_NOT_FOLLOWABLE: {"due_on": date(2026, 4, 1), "today": date(2026, 4, 2)},
}


def holds_key(actor: Actor, holders: frozenset[Role]) -> bool:
    return actor in KEYLESS or actor in holders


def moves(state: State, specs: Mapping[Action, ActionSpec] = SPECS) -> Iterator[Move]:
    """Every step the table allows from ``state`` to an actor who holds the key."""
    status, holders = state
    for action, spec in specs.items():
        for actor in sorted(spec.sources.get(status, ()), key=str):
            if not holds_key(actor, holders):
                continue
            if specs is SPECS:  # the real planner, with valid fields, must agree
                plan = plan_transition(status, action, actor, VALID.get(action, {}))
                assert (plan.routes_to, plan.revokes) == (spec.routes_to, spec.revokes)
            after = set(holders)
            if spec.routes_to is not None:
                after.add(spec.routes_to)
            if spec.revokes is not None:
                after.discard(spec.revokes)
            yield action, actor, (spec.to_status or status, frozenset(after))


def reachable(start: State, specs: Mapping[Action, ActionSpec] = SPECS) -> dict[State, list[Move]]:
    """Every state reachable from ``start`` with the path (moves) that first reaches it."""
    paths: dict[State, list[Move]] = {start: []}
    todo = deque([start])
    while todo:
        state = todo.popleft()
        for move in moves(state, specs):
            if move[2] not in paths:
                paths[move[2]] = [*paths[state], move]
                todo.append(move[2])
    return paths


def dead_ends(specs: Mapping[Action, ActionSpec] = SPECS,
              start: State = INITIAL) -> dict[State, list[Move]]:
    """Reachable states from which no key-holding path reaches `archived`, with the route in."""
    paths = reachable(start, specs)
    return {state: path for state, path in paths.items()
            if not any(s[0] is Status.ARCHIVED for s in reachable(state, specs))}


def statuses(states: Iterable[State]) -> set[Status]:
    return {s for s, _ in states}


