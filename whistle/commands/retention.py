"""``whistle retention [--dry-run]``: the retention purge alone, or a preview of it.

``whistle sweep --dry-run`` uses :func:`show_preview` too. A dry run opens the database read-only
in effect (SELECTs in a rolled-back session), writes no audit entry, no log file and no
heartbeat, and touches no attachment.
"""
from __future__ import annotations

import click

from whistle.config import Config, ConfigError, load_config
from whistle.db import make_engine, make_sessionmaker


def _config() -> Config:
    try:
        return load_config()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def show_preview(config: Config, *, sweep: bool, purge: bool) -> None:
    from whistle.models import utcnow
    from whistle.services.operations.preview import preview

    engine = make_engine(config.db_url)
    try:
        result = preview(make_sessionmaker(engine), now=utcnow(), config=config,
                         retention_days=config.retention_days, sweep=sweep, purge=purge)
    finally:
        engine.dispose()
    click.echo(result.render())


def register(cli: click.Group) -> None:
    @cli.command("retention", help="Purge archived cases past WHISTLE_RETENTION_DAYS with "
                 "their records and files (the last step of `whistle sweep`).")
    @click.option("--dry-run", is_flag=True, help="list what would be purged; change nothing")
    def retention_command(dry_run: bool) -> None:
        config = _config()
        if dry_run:
            show_preview(config, sweep=False, purge=True)
            return
        from whistle.attachments.storage import AttachmentStore
        from whistle.commands.audit import audited
        from whistle.models import utcnow
        from whistle.services.operations import retention
        from whistle.web.logging import configure_logging

        configure_logging(config.logs_dir)
        engine = make_engine(config.db_url)
        try:
            purged = retention.purge_archived(
                audited(make_sessionmaker(engine), config),
                AttachmentStore(config.attachments_dir),
                retention_days=config.retention_days, now=utcnow())
        finally:
            engine.dispose()
        click.echo(f"retention: purged {purged} archived cases")
