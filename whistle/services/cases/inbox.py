"""An officer's inbox: the cases wrapped to one of their teams, filtered, sorted by deadline.

Visibility is the key wrap itself (`case_key_wraps.team_id`), not a unit column: an officer
sees exactly what their teams can decrypt. Sorting is by deadline with cases without one
last, then by id, and pages are keyset-paginated so that page 2000 costs what page 1 does.

"Nulls last" is done as two index-friendly ranges (dated cases, then undated ones) instead of
an ``ORDER BY due_on IS NULL, ...`` expression that no index can serve: each range walks
``ix_cases_due_id (due_on, id)`` (migration 'officer_inbox') in order and stops at the page
size, on SQLite and PostgreSQL alike.

Only the visible page is decrypted: one query for the page's wraps, one for its titles.
"""
from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, TypeAlias

from sqlalchemy import Select, exists, select, tuple_
from sqlalchemy.orm import Session

from crypto import CryptoError, PrivateKey

from ...domain.constants import Category, Kind, Status
from ...models import Case, CaseField, CaseKeyWrap
from ..custody.casekeys import CaseCipher, team_context

if TYPE_CHECKING:
    from sqlalchemy.engine import Row as DbRow

PAGE_SIZE = 50
# The default view hides archived cases: they are read-only history, not work.
ACTIVE = "active"
ALL = "all"


class BadFilter(ValueError):
    """A filter value that is not one of the known codes; the route answers 400 with it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.field = name


@dataclass(frozen=True)
class Filters:
    status: str = ACTIVE
    category: str | None = None
    kind: str | None = None
    unit_id: int | None = None
    due_before: date | None = None
    late_only: bool = False

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Filters:
        """From query-string values; anything unknown is a BadFilter, never a silent ignore."""
        status = args.get("status") or ACTIVE
        if status not in (ACTIVE, ALL) and status not in Status._value2member_map_:
            raise BadFilter("status")
        category = args.get("category") or None
        if category is not None and category not in Category._value2member_map_:
            raise BadFilter("category")
        kind = args.get("kind") or None
        if kind is not None and kind not in Kind._value2member_map_:
            raise BadFilter("kind")
        unit_id: int | None = None
        if args.get("unit"):
            try:
                unit_id = int(args["unit"])
            except ValueError:
                raise BadFilter("unit") from None
        due_before: date | None = None
        if args.get("due_before"):
            try:
                due_before = date.fromisoformat(args["due_before"])
            except ValueError:
                raise BadFilter("due_before") from None
        late = (args.get("late") or "") in ("1", "on", "true", "yes")
        return cls(status, category, kind, unit_id, due_before, late)

    def as_args(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.status != ACTIVE:
            out["status"] = self.status
        for name in ("category", "kind"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.unit_id is not None:
            out["unit"] = str(self.unit_id)
        if self.due_before is not None:
            out["due_before"] = self.due_before.isoformat()
        if self.late_only:
            out["late"] = "1"
        return out


@dataclass(frozen=True)
class Cursor:
    """Position after the last row shown: (due_on or None for the undated range, id)."""

    due_on: date | None
    case_id: str

    def encode(self) -> str:
        raw = f"{self.due_on.isoformat() if self.due_on else '-'}|{self.case_id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            due, case_id = raw.split("|", 1)
            if len(case_id) != 32 or any(c not in "0123456789abcdef" for c in case_id):
                raise ValueError
            return cls(None if due == "-" else date.fromisoformat(due), case_id)
        except (ValueError, UnicodeDecodeError):
            raise BadFilter("after") from None


@dataclass
class Row:
    id: str
    register_no: str
    status: str
    kind: str
    category: str
    channel: str
    unit_id: int
    due_on: date | None
    is_late: bool
    needs_attention: bool
    title: str | None = None  # None: could not be decrypted (shown as such, never a 500)


@dataclass
class Page:
    rows: list[Row] = field(default_factory=list)
    next_cursor: Cursor | None = None


# The types of _COLUMNS, in order (what Row(*r) receives).
_Columns: TypeAlias = tuple[str, str, str, str, str, str, int, date | None, bool, bool]
_COLUMNS = (Case.id, Case.register_no, Case.status, Case.kind, Case.category, Case.channel,
            Case.unit_id, Case.due_on, Case.is_late, Case.needs_attention)


def _base(team_ids: Sequence[int], f: Filters) -> Select[*_Columns]:
    visible = exists().where(CaseKeyWrap.case_id == Case.id, CaseKeyWrap.team_id.in_(team_ids))
    q = select(*_COLUMNS).where(visible)
    if f.status == ACTIVE:
        q = q.where(Case.status != Status.ARCHIVED.value)
    elif f.status != ALL:
        q = q.where(Case.status == f.status)
    if f.category:
        q = q.where(Case.category == f.category)
    if f.kind:
        q = q.where(Case.kind == f.kind)
    if f.unit_id is not None:
        q = q.where(Case.unit_id == f.unit_id)
    if f.late_only:
        q = q.where(Case.is_late.is_(True))
    return q


def list_page(db: Session, team_ids: Sequence[int], filters: Filters, *, after: Cursor | None = None,
              page_size: int = PAGE_SIZE) -> Page:
    """One page of the inbox, without titles (see `decrypt_titles`)."""
    if not team_ids:
        return Page()
    want = page_size + 1  # one extra row tells whether there is a next page
    rows: list[DbRow[*_Columns]] = []
    base = _base(team_ids, filters)
    # Range 1: cases with a deadline, unless the cursor is already in the undated range.
    if after is None or after.due_on is not None:
        q = base.where(Case.due_on.is_not(None))
        if filters.due_before is not None:
            q = q.where(Case.due_on < filters.due_before)
        if after is not None:
            # A row-value comparison, which both PostgreSQL and SQLite turn into one index
            # range scan on (due_on, id); the OR form made PostgreSQL filter row by row.
            q = q.where(tuple_(Case.due_on, Case.id) > tuple_(after.due_on, after.case_id))
        rows = list(db.execute(q.order_by(Case.due_on, Case.id).limit(want)).all())
    # Range 2: undated cases (closed, forwarded, ...) — a due-before filter excludes them.
    if len(rows) < want and filters.due_before is None:
        q = base.where(Case.due_on.is_(None))
        if after is not None and after.due_on is None:
            q = q.where(Case.id > after.case_id)
        rows += db.execute(q.order_by(Case.id).limit(want - len(rows))).all()
    page = Page(rows=[Row(*r) for r in rows[:page_size]])
    if len(rows) > page_size:
        last = page.rows[-1]
        page.next_cursor = Cursor(last.due_on, last.id)
    return page


def decrypt_titles(db: Session, rows: list[Row], team_keys: Mapping[int, PrivateKey]) -> None:
    """Fill ``title`` for the visible rows only: 2 queries, one unwrap per case."""
    if not rows or not team_keys:
        return
    ids = [r.id for r in rows]
    wraps: dict[str, tuple[int, bytes]] = {}
    for case_id, team_id, wrapped in db.execute(
        select(CaseKeyWrap.case_id, CaseKeyWrap.team_id, CaseKeyWrap.blob)
        .where(CaseKeyWrap.case_id.in_(ids), CaseKeyWrap.team_id.in_(list(team_keys)))
    ):
        if team_id is not None:  # always (team_id IN (...)); narrows the type
            wraps.setdefault(case_id, (team_id, wrapped))
    titles = dict(db.execute(
        select(CaseField.case_id, CaseField.blob)
        .where(CaseField.case_id.in_(ids), CaseField.name == "title")
    ).all())
    for row in rows:
        wrap, blob = wraps.get(row.id), titles.get(row.id)
        if wrap is None or blob is None:
            continue
        try:
            key = team_keys[wrap[0]].unwrap(wrap[1], context=team_context(row.id))
            row.title = CaseCipher(row.id, key).open_text("field", "title", blob)
        except CryptoError:
            row.title = None  # a damaged blob shows as "unreadable", it must not break the list
