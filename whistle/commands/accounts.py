"""``whistle create-admin``, ``whistle enrolment-reset USER``, and the first-admin step of
``whistle init`` (``whistle verify-audit`` moved to commands/audit.py).

There is no default password anywhere: an account only ever starts from a one-time enrolment
secret printed here, on the operator's terminal, valid for 72 hours.
"""
from __future__ import annotations


import click
from sqlalchemy import func, select

from whistle.commands.audit import audited_session
from whistle.config import Config, ConfigError, load_config
from whistle.domain.constants import Role
from whistle.models import Officer


def _config() -> Config:
    try:
        return load_config()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _print_secret(username: str, secret: str) -> None:
    click.echo(f"Enrolment secret for {username!r} (shown once, valid 72 hours):")
    click.echo(f"    {secret}")
    click.echo("Open /officer/enrol on the service, enter the username and this secret, then "
               "choose a passphrase and set up the authenticator app.")


def create_first_admin(config: Config, username: str = "admin",
                       display_name: str = "Administrator") -> tuple[str, str] | None:
    """Create an admin if the instance has no active one; (username, secret) or None."""
    from whistle.services.people import accounts

    with audited_session(config) as db:
        exists = db.scalar(select(func.count()).select_from(Officer).where(
            Officer.role == Role.ADMIN, Officer.active.is_(True)))
        if exists:
            return None
        officer, secret = accounts.create_first_admin(db, username, display_name)
        return officer.username, secret


def init_first_admin(config: Config) -> None:
    """Hook called by ``whistle init`` after the database is ready (idempotent)."""
    created = create_first_admin(config)
    if created is not None:
        _print_secret(*created)


def register(cli: click.Group) -> None:
    @cli.command("create-admin", help="Create an administrator account (prints a one-time "
                                      "enrolment secret; no password is ever set here).")
    @click.option("--username", default="admin", show_default=True)
    @click.option("--name", "display_name", default="Administrator", show_default=True)
    def create_admin(username: str, display_name: str) -> None:
        from whistle.services.people import accounts

        with audited_session(_config()) as db:
            try:
                officer, secret = accounts.create_officer(db, "cli", username, display_name,
                                                          Role.ADMIN, None)
            except accounts.AccountError as exc:
                raise click.ClickException(str(exc)) from exc
            name = officer.username
        _print_secret(name, secret)

    @cli.command("enrolment-reset", help="Wipe USER's passphrase, TOTP and key pair and print a "
                                         "new one-time enrolment secret. The officer's team "
                                         "access then waits for the team's key holders to "
                                         "approve the new key; refused for the last key holder "
                                         "of a team.")
    @click.argument("username")
    def enrolment_reset(username: str) -> None:
        from whistle.services.people import accounts

        with audited_session(_config()) as db:
            officer = db.scalar(select(Officer).where(
                func.lower(Officer.username) == accounts.normalise_username(username)))
            if officer is None:
                raise click.ClickException(f"no such officer: {username}")
            try:
                secret = accounts.reset_enrolment(db, "cli", officer)
            except accounts.AccountError as exc:
                raise click.ClickException(str(exc)) from exc
            name = officer.username
        _print_secret(name, secret)
