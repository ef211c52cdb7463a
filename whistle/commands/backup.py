"""``whistle backup``, ``whistle backup keygen`` and ``whistle restore``.

    whistle backup keygen /safe/place/whistle-data        # -> whistle-data.key, whistle-data.pub
    whistle backup --to whistle-data.pub --out data.wbk   # database + attachment store
    whistle backup --secrets --to whistle-secrets.pub --out secrets.wbk
    whistle restore secrets.wbk --key whistle-secrets.key # on the new machine, secrets first
    whistle restore data.wbk --key whistle-data.key

The backup host needs only the public key; the private key stays offline, sealed under its
passphrase, and comes out for a restore. Formats: crypto/SPEC.md §9. Exit codes of restore:
0 restored (or, with ``--check``, verified); 1 refused (wrong key, damaged file, target not
empty: nothing was changed); 3 restored, but some attachment files were not in the backup.
"""
from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import click

from crypto import (
    CryptoError,
    PrivateKey,
    PublicKey,
    WrongPassphrase,
    open_sealed_key,
    seal_private_key,
)
from whistle.config import Config, ConfigError, load_config

MIN_PASSPHRASE = 12


def _config() -> Config:
    try:
        return load_config()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _passphrase(path: str | None, *, confirm: bool) -> str:
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"cannot read the passphrase file {path}: {exc}") from None
        return text.splitlines()[0] if text else ""
    return str(click.prompt("Backup key passphrase", hide_input=True,
                            confirmation_prompt=confirm))


def _exclusive(path: Path, mode: int) -> BinaryIO:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise click.ClickException(f"{path} exists; refusing to overwrite it") from None
    return os.fdopen(fd, "wb")


def _public_key(path: str) -> PublicKey:
    try:
        return PublicKey.from_bytes(Path(path).read_bytes())
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
    except (CryptoError, ValueError):
        raise click.ClickException(f"{path} is not a whistle public key (the .pub file of "
                                   "`whistle backup keygen`)") from None


def _private_key(path: str, passphrase_file: str | None) -> PrivateKey:
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
    try:
        return open_sealed_key(blob, _passphrase(passphrase_file, confirm=False))
    except WrongPassphrase:
        raise click.ClickException("wrong passphrase for this key") from None
    except (CryptoError, ValueError):
        raise click.ClickException(f"{path} is not a sealed whistle key (the .key file of "
                                   "`whistle backup keygen`)") from None


def _write_backup(config: Config, kind: str, to: str, out: str) -> None:
    from whistle.services.operations import backup
    from whistle.services.operations.backup_format import BackupError

    key = _public_key(to)
    try:
        backup.check_key_use(config, kind, key.fingerprint())
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    write = backup.write_secrets_backup if kind == "secrets" else backup.write_data_backup
    if out == "-":
        result = write(config, sys.stdout.buffer, key)
        sys.stdout.buffer.flush()
        where = "standard output"
    else:
        final = Path(out)
        part = final.with_name(final.name + ".part")
        if final.exists():
            raise click.ClickException(f"{final} exists; refusing to overwrite it")
        try:
            with _exclusive(part, 0o600) as fh:
                result = write(config, fh, key)
                fh.flush()
                os.fsync(fh.fileno())
            os.rename(part, final)  # a file under its final name is always complete
        except BaseException as exc:
            part.unlink(missing_ok=True)
            if isinstance(exc, BackupError):
                raise click.ClickException(str(exc)) from None
            raise
        where = str(final)
    click.echo(f"{kind} backup written to {where} for key {key.fingerprint()}: "
               f"{result.entries} entries, {result.attachments} attachment files", err=True)
    if result.missing:
        click.echo(f"warning: {len(result.missing)} attachment files named by the database were "
                   "not in the store (purged or lost meanwhile)", err=True)


def register(cli: click.Group) -> None:
    @cli.group("backup", invoke_without_command=True,
               help="Write an encrypted backup (database + attachments, or with --secrets the "
                    "instance secrets) for the holder of a backup key.")
    @click.option("--to", "to", metavar="PUBFILE", help="the backup public key (NAME.pub)")
    @click.option("--out", default=None, metavar="FILE",
                  help="output file ('-' for standard output); default "
                       "whistle-<kind>-<time>.wbk here")
    @click.option("--secrets", "secrets_", is_flag=True,
                  help="back up the instance secrets instead (use a different key)")
    @click.pass_context
    def backup_group(ctx: click.Context, to: str | None, out: str | None, secrets_: bool) -> None:
        if ctx.invoked_subcommand is not None:
            return
        if not to:
            raise click.UsageError("--to PUBFILE is required (make one: whistle backup keygen)")
        kind = "secrets" if secrets_ else "data"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        _write_backup(_config(), kind, to, out or f"whistle-{kind}-{stamp}.wbk")

    @backup_group.command("keygen", help="Make a backup key pair: NAME.pub for the backup "
                          "host, NAME.key sealed under a passphrase, kept offline.")
    @click.argument("name")
    @click.option("--passphrase-file", default=None, help="read the passphrase from a file")
    def keygen(name: str, passphrase_file: str | None) -> None:
        passphrase = _passphrase(passphrase_file, confirm=True)
        if len(passphrase) < MIN_PASSPHRASE:
            raise click.ClickException(f"the passphrase needs at least {MIN_PASSPHRASE} "
                                       "characters")
        key = PrivateKey.generate()
        sealed = seal_private_key(key, passphrase)
        with _exclusive(Path(f"{name}.key"), 0o600) as fh:
            fh.write(sealed)
        with _exclusive(Path(f"{name}.pub"), 0o644) as fh:
            fh.write(key.public_key().to_bytes())
        click.echo(f"wrote {name}.key (sealed, keep it offline) and {name}.pub; "
                   f"fingerprint {key.public_key().fingerprint()}")

    @cli.command("restore", help="Restore a backup onto a fresh instance (secrets backup "
                 "first, then the data backup). Nothing is changed unless all of it verifies.")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--key", "key_file", required=True, metavar="KEYFILE",
                  help="the sealed private key (NAME.key)")
    @click.option("--passphrase-file", default=None, help="read the passphrase from a file")
    @click.option("--check", is_flag=True, help="verify the whole file; restore nothing")
    def restore_command(file: str, key_file: str, passphrase_file: str | None,
                        check: bool) -> None:
        from whistle.services.operations.backup_format import BackupError
        from whistle.services.operations.restore import restore_backup

        config = _config()
        key = _private_key(key_file, passphrase_file)
        try:
            with open(file, "rb") as src:
                result = restore_backup(config, src, key, check_only=check)
        except BackupError as exc:
            raise click.ClickException(f"{exc}") from None
        made = result.info.get("created_at", "?")
        if result.kind == "secrets":
            verb = "verified" if check else "restored"
            click.echo(f"secrets backup of {made} {verb}: {', '.join(result.secrets)} "
                       f"(into {config.secrets_dir})")
            return
        if check:
            click.echo(f"data backup of {made} verified: database "
                       f"{result.info.get('database', {}).get('dialect')}, {result.files} "
                       f"attachment files, {len(result.missing)} missing")
            return
        from whistle.cli import upgrade_database
        from whistle.filemodes import secure_instance

        upgrade_database(config)  # a backup of an older release: bring the schema to head
        secure_instance(config)
        click.echo(f"data backup of {made} restored: {result.files} attachment files"
                   + (f", {result.skipped} newer files left out" if result.skipped else ""))
        if not (config.secrets_dir / "pepper").is_file():
            click.echo("note: restore the secrets backup before starting the service "
                       "(`whistle init` would make new secrets and no old ticket would open)",
                       err=True)
        if result.missing:
            click.echo(f"warning: {len(result.missing)} attachment files the database names "
                       "are not in the backup", err=True)
            sys.exit(3)
