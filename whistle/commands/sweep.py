"""``whistle sweep``: archive unanswered data requests, refresh late flags, notify officers,
tidy what crashes leave behind (expired sessions, stale temp files; services/housekeeping),
then purge archived cases past the retention period (services/retention).

One shot by default (for a systemd timer or cron); ``--every SECONDS`` keeps running for
container set-ups without a timer. Running several at once is safe (see services/sweep.py).
"""
from __future__ import annotations

import logging
import time
from typing import Any

import click

from whistle.commands.audit import audited
from whistle.config import ConfigError, load_config
from whistle.db import make_engine, make_sessionmaker


def _warn_estimated_holidays(factory: Any, config: Any) -> None:
    """`holidays` still guessing a date of this year or the next (and no override settles it):
    tell the operator on stderr and in the log, every run, until it is fixed."""
    from whistle.services.cases.calendar import today
    from whistle.services.operations import holiday_check

    with factory() as db:
        note = holiday_check.warning(db, today(config))
    if note:
        click.echo(note, err=True)
        logging.getLogger("whistle.sweep").warning("%s", note)


def register(cli: click.Group) -> None:
    @cli.command("sweep", help="Archive expired data requests, mark late cases, e-mail officers, "
                 "purge archived cases past the retention period.")
    @click.option("--every", type=click.IntRange(min=30), default=None,
                  help="repeat every SECONDS (at least 30) instead of running once")
    @click.option("--batch", type=click.IntRange(min=1, max=10_000), default=500, show_default=True,
                  help="cases per transaction")
    @click.option("--no-mail", is_flag=True, help="claim notifications but send no e-mail")
    @click.option("--dry-run", is_flag=True,
                  help="list what would be archived, flagged and purged; change nothing")
    def sweep_command(every: int | None, batch: int, no_mail: bool, dry_run: bool) -> None:
        from whistle.attachments.storage import AttachmentStore
        from whistle.models import utcnow
        from whistle.services.operations import housekeeping, metrics
        from whistle.services.operations import retention
        from whistle.services.operations import sweep
        from whistle.web.logging import configure_logging

        try:
            config = load_config()
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        if dry_run:
            from whistle.commands.retention import show_preview

            show_preview(config, sweep=True, purge=True)
            return
        configure_logging(config.logs_dir)
        engine = make_engine(config.db_url)
        factory = audited(make_sessionmaker(engine), config)
        try:
            while True:
                started = time.monotonic()
                report = sweep.run(factory, config=config, batch=batch, send_mail=not no_mail)
                tidy = housekeeping.run(factory, engine, config)
                purged = retention.purge_archived(
                    factory, AttachmentStore(config.attachments_dir),
                    retention_days=config.retention_days, now=utcnow())
                metrics.record_sweep(config)  # /metrics: whistle_sweep_lag_seconds
                click.echo(f"sweep: {report.summary()}; {tidy.summary()}; "
                           f"purged {purged} archived cases "
                           f"({time.monotonic() - started:.2f} s)")
                _warn_estimated_holidays(factory, config)
                if every is None:
                    return
                time.sleep(max(1.0, every - (time.monotonic() - started)))
        finally:
            engine.dispose()
