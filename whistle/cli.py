"""The ``whistle`` command.

Core commands live here (init, serve, db). Later commands (sweep, audit, create-admin, ...)
go in small modules under ``whistle/commands/``: each module exposes
``register(cli: click.Group) -> None`` and is picked up automatically.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

import click

from whistle.config import Config, ConfigError, init_instance, load_config, load_secrets
from whistle.resources import share_dir

ROOT = share_dir()  # migrations/ and deploy/: the checkout's, or the installed wheel's copy
MIGRATIONS = ROOT / "migrations"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def alembic_config(config: Config) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    # '%' must be doubled for configparser; migrations/env.py reads the URL from here.
    cfg.set_main_option("sqlalchemy.url", config.db_url.replace("%", "%%"))
    return cfg


def upgrade_database(config: Config, revision: str = "head") -> None:
    from alembic import command

    from whistle.filemodes import prepare_sqlite_file

    prepare_sqlite_file(config.db_url)  # 0600 before SQLite creates it (its -wal/-shm follow)
    command.upgrade(alembic_config(config), revision)


def _config() -> Config:
    try:
        return load_config()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(help="whistle: anonymous reporting service.")
def cli() -> None:
    from whistle.filemodes import private_umask

    private_umask()  # whatever the operator's umask, nothing we write is readable by others


@cli.command(help="Create the instance folder, its secrets and the database (idempotent).")
def init() -> None:
    config = _config()
    created = init_instance(config)
    from whistle.filemodes import secure_instance

    secure_instance(config)
    for name in created:
        click.echo(f"created secret {config.secrets_dir / name}")
    upgrade_database(config)
    from whistle.commands.audit import seal_once  # an old plain SHA-256 audit log goes under the key
    seal_once(config, quiet_if_done=True)
    from whistle.commands.accounts import init_first_admin  # first admin: one-time secret, no password
    init_first_admin(config)
    click.echo(f"instance ready: {config.instance_dir.resolve()}")


@cli.command(help="Run the service with gunicorn, a production server (loopback only unless "
             "--host says otherwise). --dev: Werkzeug's reloading development server.")
@click.option("--host", default=DEFAULT_HOST, show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--dev", is_flag=True, help="development server with the reloader (never in production)")
@click.option("--prod", is_flag=True, hidden=True, help="the default; kept for old unit files")
def serve(host: str, port: int, dev: bool, prod: bool) -> None:
    config = _config()
    if not dev:
        try:
            load_secrets(config)  # a clear message now, not a traceback from a worker
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"whistle on http://{host}:{port}/ (gunicorn; Ctrl-C to stop)")
        _serve_gunicorn(host, port)
        return
    from whistle.web.logging import configure_logging

    configure_logging(config.logs_dir)
    from whistle.app import create_app

    try:
        app = create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    from werkzeug.serving import run_simple

    click.echo(f"whistle on http://{host}:{port}/ (Ctrl-C to stop)")
    run_simple(host, port, app, threaded=True, request_handler=quiet_handler(),
               use_reloader=True, use_debugger=False)


def quiet_handler() -> type:
    """Werkzeug request handler without request lines (they carry the client address and the
    query) and without a Server header."""
    from werkzeug.serving import WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

        def send_header(self, keyword: str, value: str) -> None:
            if keyword.lower() != "server":
                super().send_header(keyword, value)

    return QuietHandler


def _serve_gunicorn(host: str, port: int) -> None:
    from gunicorn.app.wsgiapp import run

    sys.argv = ["gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--bind", f"{host}:{port}", "whistle.app:create_app()"]
    run()


@cli.group(help="Database schema (Alembic).")
def db() -> None:
    pass


@db.command("upgrade", help="Upgrade the schema (default: to head).")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    upgrade_database(_config(), revision)


@db.command("downgrade", help="Downgrade the schema to REVISION (e.g. -1, base).")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(_config()), revision)


@db.command("current", help="Show the current revision.")
def db_current() -> None:
    from alembic import command

    command.current(alembic_config(_config()))


@db.command("revision", help="Create a migration (developers), autogenerated from the models.")
@click.option("-m", "--message", required=True)
@click.option("--empty", is_flag=True, help="no autogenerate")
def db_revision(message: str, empty: bool) -> None:
    from alembic import command

    command.revision(alembic_config(_config()), message=message, autogenerate=not empty)


def _load_plugins(group: click.Group) -> None:
    try:
        package = importlib.import_module("whistle.commands")
    except ModuleNotFoundError as exc:
        if exc.name in ("whistle.commands",):
            return
        raise
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"whistle.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(group)


_load_plugins(cli)


def main() -> None:
    cli(prog_name="whistle")


if __name__ == "__main__":
    main()
