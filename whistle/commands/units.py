"""``whistle unit-timezone CODE ZONE``: the time zone a unit counts its days in (WIB, WITA, WIT).

Deadlines, archiving and "late" follow the unit's own day (services/cases/calendar.py). The
change is audited (`unit.timezone`); it applies to deadlines computed from then on, and to the
sweep's judgement of existing ones.
"""
from __future__ import annotations

import click

from whistle.config import Config, ConfigError, load_config


def _config() -> Config:
    try:
        return load_config()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def register(cli: click.Group) -> None:
    @cli.command("unit-timezone", help="Set a unit's time zone: WIB (Asia/Jakarta), WITA "
                 "(Asia/Makassar) or WIT (Asia/Jayapura). Without ZONE, show it.")
    @click.argument("code")
    @click.argument("zone", required=False)
    def unit_timezone(code: str, zone: str | None) -> None:
        from sqlalchemy import select

        from whistle.commands.audit import audited
        from whistle.db import make_engine, make_sessionmaker, transaction
        from whistle.domain.constants import OfficeZone
        from whistle.models import Unit
        from whistle.services.cases.calendar import set_unit_timezone
        from whistle.services.messages import Refusal

        config = _config()
        engine = make_engine(config.db_url)
        try:
            with transaction(audited(make_sessionmaker(engine), config)) as db:
                unit = db.scalar(select(Unit).where(Unit.code == code.strip().upper()))
                if unit is None:
                    raise click.ClickException(f"no unit with the code {code!r}")
                if zone:
                    try:
                        set_unit_timezone(db, "cli", unit.id, zone)
                    except Refusal as exc:
                        raise click.ClickException(str(exc)) from exc
                name = next((z.name for z in OfficeZone if z.value == unit.timezone), unit.timezone)
                click.echo(f"{unit.code}: {name} ({unit.timezone})")
        finally:
            engine.dispose()
