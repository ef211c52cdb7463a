"""Working-day calendar on real 2026 dates (SKB 3 Menteri 2026, as shipped by `holidays`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from whistle.domain.calendar import (
    DEFAULT_CALENDAR,
    Calendar,
    DeadlineConfig,
    acknowledgement_due,
    add_months,
    add_working_days,
    deadline_for,
    feedback_due,
    is_late,
    is_working_day,
    national_holidays,
    quiet_period_ends,
    working_days_between,
)
from whistle.domain.constants import InvestigationTier, Status

D = date

# 17 national holidays + 8 cuti bersama for 2026, checked against the SKB 3 Menteri 2026.
PUBLIC_2026 = {
    D(2026, 1, 1), D(2026, 1, 16), D(2026, 2, 17), D(2026, 3, 19), D(2026, 3, 21), D(2026, 3, 22),
    D(2026, 4, 3), D(2026, 4, 5), D(2026, 5, 1), D(2026, 5, 14), D(2026, 5, 27), D(2026, 5, 31),
    D(2026, 6, 1), D(2026, 6, 16), D(2026, 8, 17), D(2026, 8, 25), D(2026, 12, 25),
}
CUTI_BERSAMA_2026 = {
    D(2026, 2, 16), D(2026, 3, 18), D(2026, 3, 20), D(2026, 3, 23), D(2026, 3, 24),
    D(2026, 5, 15), D(2026, 5, 28), D(2026, 12, 24),
}


def test_2026_holiday_list_is_what_we_expect() -> None:
    got = national_holidays(2026)
    for day, name in sorted(got.items()):  # visible with `pytest -s`
        print(day, day.strftime("%a"), name)
    assert set(got) == PUBLIC_2026 | CUTI_BERSAMA_2026
    cuti = {d for d, n in got.items() if n.startswith("Cuti Bersama")}
    assert cuti == CUTI_BERSAMA_2026
    assert got[D(2026, 3, 19)] == "Hari Suci Nyepi"
    assert national_holidays(2026, "en")[D(2026, 3, 18)] == "Day of Silence Joint Holiday"


def test_march_2026_nyepi_and_lebaran_block() -> None:
    # Wed 18 (cuti Nyepi) .. Tue 24 March (cuti Lebaran) is one unbroken week off.
    assert [is_working_day(D(2026, 3, d)) for d in range(16, 27)] == [
        True, True, False, False, False, False, False, False, False, True, True,
    ]


@pytest.mark.parametrize(("event", "due", "without_holidays"), [
    (D(2026, 3, 17), D(2026, 3, 27), D(2026, 3, 20)),  # Tue: whole block skipped, +7 days
    (D(2026, 3, 13), D(2026, 3, 25), D(2026, 3, 18)),  # Fri: Mon 16, Tue 17, then Wed 25
    (D(2026, 3, 19), D(2026, 3, 27), D(2026, 3, 24)),  # received on Nyepi itself
])
def test_nyepi_lebaran_moves_three_day_deadline(event: date, due: date, without_holidays: date) -> None:
    assert deadline_for(Status.VERIFICATION, event) == due
    weekdays_only = Calendar({d: True for d in PUBLIC_2026 | CUTI_BERSAMA_2026 if d.weekday() < 5})
    assert deadline_for(Status.VERIFICATION, event, calendar=weekdays_only) == without_holidays
    assert (due - without_holidays).days >= 3


@pytest.mark.parametrize(("event", "n", "due"), [
    (D(2026, 3, 6), 3, D(2026, 3, 11)),  # Friday: the weekend does not count
    (D(2026, 3, 7), 1, D(2026, 3, 9)),  # Saturday event -> Monday
    (D(2026, 3, 8), 1, D(2026, 3, 9)),  # Sunday event -> Monday
    (D(2026, 3, 9), 1, D(2026, 3, 10)),  # the event day itself never counts
    (D(2026, 3, 9), 0, D(2026, 3, 9)),
    (D(2026, 2, 12), 2, D(2026, 2, 18)),  # Imlek: Mon 16 cuti bersama, Tue 17 holiday
    (D(2026, 12, 23), 3, D(2026, 12, 30)),  # Christmas eve cuti bersama + Christmas
    (D(2026, 12, 29), 3, D(2027, 1, 4)),  # year boundary: 1 Jan 2027 is a holiday
    (D(2026, 12, 31), 1, D(2027, 1, 4)),
    (D(2025, 12, 31), 1, D(2026, 1, 2)),
])
def test_add_working_days_real_dates(event: date, n: int, due: date) -> None:
    assert add_working_days(event, n) == due
    assert working_days_between(event, due) == n


def test_overrides_extra_holiday_delays() -> None:
    cal = Calendar({D(2026, 3, 10): False})  # e.g. a regional day off decreed late
    assert cal.add_working_days(D(2026, 3, 6), 3) == D(2026, 3, 12)
    assert cal.holiday_name(D(2026, 3, 10)) == "Hari libur (ditetapkan admin)"


def test_overrides_removed_holiday_speeds_up() -> None:
    cal = Calendar({D(2026, 3, 24): True})  # the government cancels one cuti bersama day
    assert cal.add_working_days(D(2026, 3, 17), 3) == D(2026, 3, 26)
    assert cal.holiday_name(D(2026, 3, 24)) is None


def test_overrides_weekend_workday_and_table() -> None:
    cal = Calendar.from_table([(D(2026, 3, 7), "workday"), (D(2026, 3, 9), "holiday")])
    assert cal.add_working_days(D(2026, 3, 6), 1) == D(2026, 3, 7)
    assert cal.add_working_days(D(2026, 3, 6), 2) == D(2026, 3, 10)
    with pytest.raises(ValueError, match="kind"):
        Calendar.from_table([(D(2026, 3, 7), "party")])


def test_overrides_are_copied() -> None:
    table = {D(2026, 3, 10): False}
    cal = Calendar(table)
    table[D(2026, 3, 10)] = True
    assert not cal.is_working_day(D(2026, 3, 10))


def test_working_days_between_sign_and_zero() -> None:
    assert working_days_between(D(2026, 3, 11), D(2026, 3, 6)) == -3
    assert working_days_between(D(2026, 3, 6), D(2026, 3, 6)) == 0
    assert working_days_between(D(2026, 3, 17), D(2026, 3, 24)) == 0  # the holiday week


CONFIG = DeadlineConfig()


@pytest.mark.parametrize(("status", "tier", "due"), [
    (Status.RECEIVED, None, D(2026, 3, 11)),
    (Status.VERIFICATION, None, D(2026, 3, 11)),
    (Status.AWAITING_DATA, None, D(2026, 3, 27)),  # 10 working days crossing the March block
    (Status.ANSWERED, None, D(2026, 3, 13)),
    (Status.INVESTIGATION, InvestigationTier.NORMATIVE, D(2026, 3, 13)),
    (Status.INVESTIGATION, InvestigationTier.NO_OVERSIGHT_CONTENT, D(2026, 4, 2)),
    (Status.INVESTIGATION, 60, D(2026, 6, 17)),
])
def test_deadline_for_statuses(status: Status, tier: InvestigationTier | None, due: date) -> None:
    assert deadline_for(status, D(2026, 3, 6), CONFIG, tier=tier) == due


@pytest.mark.parametrize("status", [
    Status.FORWARDED_PYB, Status.FORWARDED_UNIT, Status.REFERRED_EXTERNAL, Status.SUBSTANTIATED,
    Status.UNSUBSTANTIATED, Status.NOT_FOLLOWABLE, Status.CLOSED, Status.ARCHIVED,
])
def test_statuses_without_deadline(status: Status) -> None:
    assert deadline_for(status, D(2026, 3, 6)) is None
    assert not is_late(deadline_for(status, D(2026, 3, 6)), D(2030, 1, 1))


def test_awaiting_data_configurable() -> None:
    fourteen = DeadlineConfig(awaiting_data_days=14)
    assert deadline_for(Status.AWAITING_DATA, D(2026, 3, 6), fourteen) == D(2026, 4, 2)
    calendar_days = DeadlineConfig(awaiting_data_days=14, awaiting_data_in_working_days=False)
    assert deadline_for(Status.AWAITING_DATA, D(2026, 3, 6), calendar_days) == D(2026, 3, 20)
    with pytest.raises(ValueError):
        DeadlineConfig(awaiting_data_days=0)


def test_investigation_needs_tier() -> None:
    with pytest.raises(ValueError, match="tier"):
        deadline_for(Status.INVESTIGATION, D(2026, 3, 6))


def test_is_late() -> None:
    due = D(2026, 3, 11)
    assert not is_late(due, D(2026, 3, 10))
    assert not is_late(due, due)  # done on the due day is on time
    assert is_late(due, D(2026, 3, 12))
    assert not is_late(None, D(2026, 3, 12))


def test_international_norms() -> None:
    assert acknowledgement_due(D(2026, 3, 17)) == D(2026, 3, 24)  # calendar days: holidays count
    assert feedback_due(D(2026, 3, 17), D(2026, 3, 17)) == D(2026, 6, 17)
    assert feedback_due(D(2026, 3, 17)) == D(2026, 6, 24)  # no acknowledgement: from day 7
    assert feedback_due(D(2026, 11, 23)) == D(2027, 2, 28)  # 30 Nov + 3 months clamps
    assert add_months(D(2027, 11, 30), 3) == D(2028, 2, 29)
    assert quiet_period_ends(D(2026, 3, 1)) == D(2026, 3, 31)


def test_datetimes_refused() -> None:
    with pytest.raises(TypeError, match="local calendar date"):
        is_working_day(datetime(2026, 3, 18, 23, 0))
    with pytest.raises(TypeError):
        add_working_days("2026-03-18", 1)  # type: ignore[arg-type]


# --- properties --------------------------------------------------------------------------------

DAYS = st.dates(min_value=D(2024, 1, 1), max_value=D(2027, 12, 31))
N = st.integers(min_value=1, max_value=60)
OVERRIDES = st.dictionaries(DAYS, st.booleans(), max_size=20)


@settings(max_examples=300, deadline=None)
@given(DAYS, N, OVERRIDES)
def test_result_is_working_day_strictly_after_with_n_between(event: date, n: int, ov: dict[date, bool]) -> None:
    cal = Calendar(ov)
    due = cal.add_working_days(event, n)
    assert due > event
    assert cal.is_working_day(due)
    assert cal.working_days_between(event, due) == n
    assert cal.working_days_between(event, due - timedelta(days=1)) == n - 1


@settings(max_examples=200, deadline=None)
@given(DAYS, N)
def test_monotone_in_n(event: date, n: int) -> None:
    assert add_working_days(event, n) < add_working_days(event, n + 1)


@settings(max_examples=200, deadline=None)
@given(DAYS, N, DAYS)
def test_extra_holiday_never_earlier_removed_never_later(event: date, n: int, day: date) -> None:
    base = DEFAULT_CALENDAR.add_working_days(event, n)
    assert Calendar({day: False}).add_working_days(event, n) >= base
    assert Calendar({day: True}).add_working_days(event, n) <= base


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=D(2026, 1, 1), max_value=D(2026, 9, 30)), N)
def test_matches_reference_2026(event: date, n: int) -> None:
    """An independent count against the literal 2026 list."""
    off = PUBLIC_2026 | CUTI_BERSAMA_2026
    d, left = event, n
    while left:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in off:
            left -= 1
    assume(d.year == 2026)
    assert add_working_days(event, n) == d
