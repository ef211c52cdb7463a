"""``whistle audit head | verify [--head FILE] | seal`` and the old name ``whistle verify-audit``.

Exit codes of ``verify``: 0 the chain is intact (and still holds the exported head, if one was
given); 1 it is broken, truncated or rewritten (the first bad entry is named); 2 the head file
cannot be used (unreadable, malformed, or not signed by this instance's key).

Every command that writes audit entries binds the instance's audit keys to its session
factory with :func:`audited`.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.orm import Session, sessionmaker

from whistle.config import Config, ConfigError, load_config, load_secrets
from whistle.db import make_engine, make_sessionmaker, transaction

SEALED_MARKER = "audit_sealed"  # in secrets/: this instance sealed its log (or had nothing to)


class HeadFileError(click.ClickException):
    exit_code = 2


def _config() -> Config:
    try:
        return load_config()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def audited(factory: sessionmaker[Session], config: Config) -> sessionmaker[Session]:
    """Bind the instance's audit keys (instance/secrets) to ``factory``."""
    from whistle.services.custody import audit

    try:
        secrets = load_secrets(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return audit.bind(factory, audit.AuditKeys.from_secrets(secrets))


@contextmanager
def audited_session(config: Config) -> Iterator[Session]:
    """One CLI unit of work whose audit appends are keyed (commands share it)."""
    engine = make_engine(config.db_url)
    try:
        with transaction(audited(make_sessionmaker(engine), config)) as db:
            yield db
    finally:
        engine.dispose()


def _verify(head_file: str | None) -> None:
    from whistle.services.custody import audit, audit_head

    config = _config()
    with audited_session(config) as db:
        head = None
        if head_file is not None:
            try:
                head = audit_head.check(audit_head.read(head_file), audit.keys_for(db))
            except audit_head.HeadError as exc:
                raise HeadFileError(f"bad head file: {exc}") from None
            result = audit_head.verify_against(db, head)
            report, problem = result.report, result.message()
        else:
            report = audit.verify(db)
            problem = report.problem or ""
    if not report.ok:
        click.echo(f"audit chain BROKEN at entry {report.first_bad_id}: {problem} "
                   f"({report.entries} entries verified before it)", err=True)
        raise SystemExit(1)
    click.echo(f"audit chain intact: {report.entries} entries (last #{report.last_id})")
    if head is not None:
        click.echo(f"it still holds the exported head of {head.at:%Y-%m-%d %H:%M:%S} UTC "
                   f"({head.entries} entries up to #{head.last_id})")


def seal_once(config: Config, *, quiet_if_done: bool = False) -> None:
    """Seal a log from before the keyed chain, once per instance (``whistle init`` calls it)."""
    from whistle.services.custody import audit_seal

    marker = config.secrets_dir / SEALED_MARKER
    if marker.exists():
        if quiet_if_done:
            return
        raise click.ClickException(
            f"this instance sealed its audit log already ({_read_marker(marker)}). Entries "
            "chained with plain SHA-256 now mean someone re-chained them without the key: "
            "not sealing them. Keep a copy of the database and investigate.")
    try:
        with audited_session(config) as db:
            result = audit_seal.seal(db)
    except audit_seal.SealRefused as exc:
        raise click.ClickException(f"{exc}. Keep a copy of the database as evidence.") from None
    note = (f"sealed {result.legacy} old entries (entry #{result.seal_id})" if result.legacy
            else "nothing to seal")
    _write_marker(marker, note)
    if result.legacy:
        click.echo(f"audit log: {note}; {result.rewritten} hashes recomputed under the key; "
                   f"old chain's last hash {result.legacy_head.hex() if result.legacy_head else ''}")


def _read_marker(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()[:200]
    except (OSError, UnicodeDecodeError):
        return "unreadable marker"


def _write_marker(path: Path, note: str) -> None:
    from whistle.models import utcnow

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another `whistle init` at the same moment
        return
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"{utcnow():%Y-%m-%dT%H:%M:%SZ} {note}\n")


def register(cli: click.Group) -> None:
    @cli.group("audit", help="The audit log: signed heads, verification, sealing an old log.")
    def audit_group() -> None:
        pass

    @audit_group.command("head", help="Verify the log, then print its head (entry count, last "
                         "id, last hash, time) signed with the instance key. Keep it off the "
                         "server; `whistle audit verify --head FILE` checks the log against it.")
    @click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
                  help="write the head to this file instead of printing it")
    def head_command(output: str | None) -> None:
        from whistle.services.custody import audit, audit_head

        with audited_session(_config()) as db:
            report = audit.verify(db)
            signed = audit_head.sign(audit_head.from_report(report), audit.keys_for(db))
        if not report.ok:
            click.echo(f"audit chain BROKEN at entry {report.first_bad_id}: {report.problem}; "
                       "no head signed", err=True)
            raise SystemExit(1)
        if output is None:
            click.echo(signed.text(), nl=False)
            return
        try:
            with open(output, "x", encoding="utf-8") as fh:
                fh.write(signed.text())
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
        click.echo(f"head of {signed.head.entries} entries written to {output}")

    @audit_group.command("verify", help="Verify the chain; with --head FILE also that no entry "
                         "up to that exported head was removed or rewritten. Exit 0 intact, "
                         "1 broken, 2 unusable head file.")
    @click.option("--head", "head_file", default=None, metavar="FILE",
                  help="a head from `whistle audit head` or the daily mail")
    def verify_command(head_file: str | None) -> None:
        _verify(head_file)

    @cli.command("verify-audit", help="Same as `whistle audit verify`.")
    @click.option("--head", "head_file", default=None, metavar="FILE")
    def verify_audit(head_file: str | None) -> None:
        _verify(head_file)

    @audit_group.command("seal", help="Once, after upgrading: verify the old plain SHA-256 chain "
                         "and re-chain it under the instance key (`whistle init` does this).")
    def seal_command() -> None:
        config = _config()
        seal_once(config)
        click.echo("audit log: chained under the instance key")
