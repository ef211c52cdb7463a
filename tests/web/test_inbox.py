"""Inbox service: visibility by key wrap, filters, deadline order (nulls last), keyset pages."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import Session, sessionmaker

from tests.web.cases_world import World, build_world
from whistle.db import transaction
from whistle.domain.constants import Category, Kind
from whistle.models import Case
from whistle.services.cases import inbox


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return build_world(factory)


# (due_on, status, category, kind, late)
SPEC = [
    (date(2026, 4, 2), "verification", Category.ETHICS_CODE, Kind.WHISTLEBLOWING, False),
    (date(2026, 3, 27), "received", Category.POOR_PUBLIC_SERVICE, Kind.COMPLAINT, True),
    (None, "forwarded_pyb", Category.ETHICS_CODE, Kind.WHISTLEBLOWING, False),
    (date(2026, 3, 27), "awaiting_data", Category.MALADMINISTRATION, Kind.COMPLAINT, True),
    (date(2026, 4, 20), "investigation", Category.ABUSE_OF_AUTHORITY, Kind.WHISTLEBLOWING, False),
    (None, "archived", Category.ETHICS_CODE, Kind.ASPIRATION, False),
    (None, "closed", Category.POOR_PUBLIC_SERVICE, Kind.INFORMATION_REQUEST, False),
    (date(2026, 4, 2), "answered", Category.MALADMINISTRATION, Kind.ASPIRATION, False),
]


@pytest.fixture
def seeded(world: World) -> dict[str, tuple]:
    out = {}
    for i, (due, status, cat, kind, late) in enumerate(SPEC):
        case_id, _ = world.file(category=cat, kind=kind, what=f"Laporan nomor {i}")
        with transaction(world.factory) as db:
            db.execute(update(Case).where(Case.id == case_id)
                       .values(due_on=due, status=status, is_late=late))
        out[case_id] = (due, status, cat, kind, late, i)
    world.file(unit="KANWIL", what="Laporan unit lain")  # never visible to PUSAT's verifikator
    return out


def expected_order(seeded: dict[str, tuple], keep=lambda v: v[1] != "archived") -> list[str]:
    ids = [cid for cid, v in seeded.items() if keep(v)]
    return sorted(ids, key=lambda cid: (seeded[cid][0] is None, seeded[cid][0] or date.min, cid))


def all_pages(world: World, who: str, filters: inbox.Filters, size: int) -> list[str]:
    out: list[str] = []
    after = None
    with transaction(world.factory) as db:
        team_ids = list(world.keys(who))
        for _ in range(100):
            page = inbox.list_page(db, team_ids, filters, after=after, page_size=size)
            assert len(page.rows) <= size
            out += [r.id for r in page.rows]
            if page.next_cursor is None:
                return out
            # the cursor survives the URL round trip
            after = inbox.Cursor.decode(page.next_cursor.encode())
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("size", [1, 2, 3, 50])
def test_keyset_pages_cover_everything_in_deadline_order(world: World, seeded, size: int) -> None:
    assert all_pages(world, "ver", inbox.Filters(), size) == expected_order(seeded)


def test_filters(world: World, seeded) -> None:
    def ids(**kw: object) -> set[str]:
        return set(all_pages(world, "ver", inbox.Filters(**kw), 50))

    by = lambda pred: {cid for cid, v in seeded.items() if pred(v)}  # noqa: E731
    assert ids(status="all") == set(seeded)
    assert ids(status="archived") == by(lambda v: v[1] == "archived")
    assert ids(status="received") == by(lambda v: v[1] == "received")
    assert ids(category="ethics_code") == by(lambda v: v[2] == Category.ETHICS_CODE and v[1] != "archived")
    assert ids(kind="complaint") == by(lambda v: v[3] == Kind.COMPLAINT)
    assert ids(late_only=True) == by(lambda v: v[4])
    assert ids(due_before=date(2026, 4, 2)) == by(lambda v: v[0] is not None and v[0] < date(2026, 4, 2))
    assert ids(unit_id=world.units["PUSAT"]) == by(lambda v: v[1] != "archived")
    assert ids(unit_id=world.units["KANWIL"]) == set()


def test_another_units_officer_sees_nothing_and_no_team_means_empty(world: World, seeded) -> None:
    assert not set(all_pages(world, "pk_kw", inbox.Filters(status="all"), 50)) & set(seeded)
    assert len(all_pages(world, "ver_kw", inbox.Filters(status="all"), 50)) == 1
    with transaction(world.factory) as db:
        assert inbox.list_page(db, [], inbox.Filters()).rows == []


def test_titles_are_decrypted_for_the_page_only_in_two_queries(world: World, seeded) -> None:
    keys = world.keys("ver")
    with transaction(world.factory) as db:
        page = inbox.list_page(db, list(keys), inbox.Filters(status="all"), page_size=3)
        statements: list[str] = []
        engine = db.get_bind()
        listener = lambda *a: statements.append(a[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            inbox.decrypt_titles(db, page.rows, keys)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) == 2
    for row in page.rows:
        assert row.title == f"Laporan nomor {seeded[row.id][5]}"


@pytest.mark.parametrize("args,field", [
    ({"status": "bogus"}, "status"), ({"category": "x"}, "category"), ({"kind": "y"}, "kind"),
    ({"unit": "1; drop"}, "unit"), ({"due_before": "tomorrow"}, "due_before"),
])
def test_filter_parsing_refuses_unknown_values(args: dict[str, str], field: str) -> None:
    with pytest.raises(inbox.BadFilter) as err:
        inbox.Filters.parse(args)
    assert err.value.field == field


def test_filters_round_trip_through_query_args() -> None:
    f = inbox.Filters(status="all", category="ethics_code", kind="complaint", unit_id=3,
                      due_before=date(2026, 5, 1), late_only=True)
    assert inbox.Filters.parse(f.as_args()) == f
    for bad in ("", "!!!", "LXw", inbox.Cursor(None, "g" * 32).encode()):
        with pytest.raises(inbox.BadFilter):
            inbox.Cursor.decode(bad)
