"""The installed `holidays` must know Indonesia's official dates, not estimates, wherever a
deadline computed today can fall; and `whistle sweep` tells the operator when it does not."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from whistle.db import transaction
from whistle.domain.calendar import add_working_days, national_holidays
from whistle.models import CalendarOverride
from whistle.services.operations import holiday_check

LONGEST_DEADLINE = 60  # working days: investigation with field examination (DESIGN.md)


def test_current_year_holidays_are_official_not_estimated() -> None:
    today = date.today()
    assert holiday_check.estimated_days([today.year]) == {}, (
        "holidays only estimates this year's Indonesian dates: raise the floor / refresh the "
        "lock (README: Dependencies and the lock)")


def test_next_year_is_official_as_far_as_a_deadline_set_today_reaches() -> None:
    today = date.today()
    horizon = add_working_days(today, LONGEST_DEADLINE)
    guessed = {d: n for d, n in holiday_check.estimated_days([today.year + 1]).items()
               if d <= horizon}
    assert guessed == {}, f"estimated dates before {horizon}: {guessed}"


def test_2025_and_2026_carry_the_decreed_dates() -> None:
    # Official dates the floor release must have (SKB 2025 and 2026): Idul Fitri and cuti bersama.
    assert "Idul Fitri" in national_holidays(2025)[date(2025, 3, 31)]
    assert date(2025, 4, 7) in national_holidays(2025)  # cuti bersama Idul Fitri
    assert "Idul Fitri" in national_holidays(2026)[date(2026, 3, 20)]
    assert holiday_check.estimated_days([2025, 2026]) == {}


def test_warning_names_unsettled_estimates_and_overrides_settle_them(factory: object) -> None:
    # 2028 is still computed astronomically in every release so far: a real estimate.
    today = date(2027, 6, 1)
    estimated = holiday_check.estimated_days([2027, 2028])
    if not estimated:
        pytest.skip("this holidays release has official dates through 2028")
    with factory() as db:  # type: ignore[operator]
        note = holiday_check.warning(db, today)
    assert note is not None and f"{len(estimated)} Indonesian holiday date(s)" in note
    assert min(estimated).isoformat() in note
    with transaction(factory) as db:  # type: ignore[arg-type]
        for day in estimated:
            db.add(CalendarOverride(day=day, is_holiday=True, note="SKB"))
    with factory() as db:  # type: ignore[operator]
        assert holiday_check.warning(db, today) is None


def test_sweep_command_prints_the_warning(db_url: str, instance_dir: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from whistle.cli import cli
    from whistle.services.cases import calendar

    monkeypatch.setattr(calendar, "today", lambda config=None, **kw: date(2027, 6, 1))
    if not holiday_check.estimated_days([2027, 2028]):
        pytest.skip("this holidays release has official dates through 2028")
    monkeypatch.setenv("WHISTLE_INSTANCE_DIR", str(instance_dir))
    monkeypatch.setenv("WHISTLE_DATABASE_URL", db_url)
    result = CliRunner().invoke(cli, ["sweep", "--no-mail"])
    assert result.exit_code == 0, result.output
    assert "only estimates" in result.output and "calendar overrides" in result.output
