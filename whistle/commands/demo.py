"""``whistle demo``: a local trial instance, seeded and served on loopback only.

A newcomer gets, in one command, a unit with enrolled officers for every role and the teams
that take web reports (verifikator, PYB, pengkaji, UKI), so they can file a report in the
browser and follow it through the workflow within minutes. ``whistle demo code USER`` prints
the current one-time code of a demo officer, so no phone is needed.

Safety rails, because a demo prints passphrases and TOTP secrets on the terminal:
* it uses its own instance folder (``instance-demo`` unless ``--instance`` says otherwise),
  marked with a ``DEMO`` file; the app then shows a DEMO banner on every page;
* it refuses any bind address that is not loopback, and refuses to seed an instance folder
  that exists without the DEMO mark (a real instance is never touched).
"""
from __future__ import annotations

import ipaddress
import json
import os
import secrets
from pathlib import Path
from typing import Any

import click

DEMO_MARK = "DEMO"
ROLES = ("verifikator", "pyb", "pengkaji", "uki", "penerima", "admin", "auditor")
TEAM_ROLES = ("verifikator", "pyb", "pengkaji", "uki")
MARK_TEXT = ("Instance DEMO whistle: data uji coba, kata sandi dan rahasia TOTP tercetak di "
             "terminal. Jangan gunakan untuk laporan sungguhan.\n"
             "whistle DEMO instance: trial data, passphrases and TOTP secrets were printed on a "
             "terminal. Never use it for real reports.\n")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _passphrase() -> str:
    words = ("merah", "pulau", "kopi", "hujan", "sungai", "bintang", "jendela", "sepeda", "awan",
             "gunung", "pasar", "lampu", "angin", "daun", "batik", "kereta")
    return "-".join(secrets.choice(words) for _ in range(4)) + f"-{secrets.randbelow(90) + 10}"


def seed(config: Any) -> list[dict[str, str]]:
    """Unit DEMO, one enrolled officer per role, and the four case-handling teams."""
    from whistle.db import make_engine, make_sessionmaker, transaction
    from whistle.models import Unit
    from whistle.services.custody import teams
    from whistle.services.people import accounts, totp

    from whistle.config import load_secrets

    secrets_ = load_secrets(config)
    engine = make_engine(config.db_url)
    people: list[dict[str, str]] = []
    try:
        with transaction(make_sessionmaker(engine)) as db:
            unit = accounts.create_unit(db, "cli:demo", "DEMO", "Unit Demo (uji coba)")
            made = {}
            for role in ROLES:
                username = f"demo-{role}"
                officer, secret = accounts.create_officer(
                    db, "cli:demo", username, f"Demo {role.upper()}", role,
                    None if role in ("admin", "auditor") else unit.id)
                passphrase = _passphrase()
                totp_secret = totp.new_secret()
                code = totp.code_at_step(totp_secret, totp.step_of(accounts.now()))
                accounts.complete_enrolment(db, officer.id, accounts.enrolment_digest(secret),
                                            passphrase, totp_secret, code, secrets_.totp_key)
                made[role] = officer
                people.append({"username": username, "role": role, "passphrase": passphrase,
                               "totp": totp_secret})
            db.flush()
            unit_row = db.get(Unit, unit.id)
            assert unit_row is not None
            for role in TEAM_ROLES:
                # A brand-new team key wrapped to its first, enrolled member: no existing key is
                # handed to anyone (services/custody: nothing hands a key on automatically).
                teams.create_team(db, "cli:demo", unit_row, role, made[role])
    finally:
        engine.dispose()
    return people


def register(group: click.Group) -> None:
    @group.group("demo", invoke_without_command=True,
                 help="Seed and serve a local trial instance (loopback only, DEMO banner).")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=8090, show_default=True, type=int)
    @click.option("--instance", "instance", default="instance-demo", show_default=True,
                  type=click.Path(path_type=Path))
    @click.option("--no-serve", is_flag=True, help="seed and print the accounts, do not serve")
    @click.pass_context
    def demo(ctx: click.Context, host: str, port: int, instance: Path, no_serve: bool) -> None:
        if ctx.invoked_subcommand is not None:
            ctx.obj = instance
            return
        if not is_loopback(host):
            raise click.ClickException("the demo serves on a loopback address only "
                                       "(127.0.0.1, ::1 or localhost)")
        config = _demo_config(instance)
        mark = instance / DEMO_MARK
        fresh = not instance.exists() or not any(instance.iterdir())
        if not fresh and not mark.exists():
            raise click.ClickException(f"{instance} exists and is not a demo instance; "
                                       "choose another --instance folder")
        from whistle.cli import upgrade_database
        from whistle.config import init_instance

        accounts_file = instance / "demo-accounts.json"
        init_instance(config)
        mark.write_text(MARK_TEXT, encoding="utf-8")
        if not accounts_file.exists():
            upgrade_database(config)
            people = seed(config)
            accounts_file.write_text(json.dumps(people, indent=1), encoding="utf-8")
            os.chmod(accounts_file, 0o600)
        people = json.loads(accounts_file.read_text(encoding="utf-8"))
        _print_accounts(people, host, port, instance)
        if no_serve:
            return
        os.environ["WHISTLE_INSTANCE_DIR"] = str(instance)
        from whistle.cli import _serve_gunicorn

        _serve_gunicorn(host, port)

    @demo.command("code", help="Print the current one-time code of a demo officer.")
    @click.argument("username")
    @click.pass_obj
    def code(instance: Path, username: str) -> None:
        from whistle.models import utcnow
        from whistle.services.people import totp

        accounts_file = instance / "demo-accounts.json"
        if not (instance / DEMO_MARK).exists() or not accounts_file.exists():
            raise click.ClickException(f"{instance} is not a seeded demo instance")
        for person in json.loads(accounts_file.read_text(encoding="utf-8")):
            if person["username"] == username:
                click.echo(totp.code_at_step(person["totp"], totp.step_of(utcnow())))
                return
        raise click.ClickException(f"no demo officer {username!r}")


def _demo_config(instance: Path) -> Any:
    from whistle.config import Config

    return Config(instance_dir=instance)


def _print_accounts(people: list[dict[str, str]], host: str, port: int, instance: Path) -> None:
    click.echo("whistle DEMO — trial data only; never use it for real reports.")
    click.echo(f"instance folder: {instance.resolve()}")
    click.echo(f"reporter pages: http://{host}:{port}/   officers: http://{host}:{port}/officer/login")
    click.echo("")
    click.echo(f"{'username':<18} {'role':<12} {'passphrase':<40} TOTP secret")
    for p in people:
        click.echo(f"{p['username']:<18} {p['role']:<12} {p['passphrase']:<40} {p['totp']}")
    click.echo("")
    click.echo(f"one-time code for a log-in: whistle demo --instance {instance} code demo-verifikator")
