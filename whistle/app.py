"""Application factory."""
from __future__ import annotations

import importlib
import logging
from typing import Any, Mapping

from flask import Flask

from whistle.attachments.sandbox import MIB, CleanLimits
from whistle.attachments.sandbox import configure as configure_cleaning
from whistle.attachments.workspace import end_request
from whistle.config import Config, load_config, load_secrets
from whistle.db import make_engine, make_sessionmaker
from whistle.services.custody import audit
from whistle.filemodes import secure_instance
from whistle.resources import share_dir
from whistle.web.errors import init_errors, log_unhandled
from whistle.web.i18n import init_i18n
from whistle.web.ints import install as install_int_converter
from whistle.web.limits import init_limits
from whistle.web.security import init_security
from whistle.web.sessions import EncryptedSessionInterface, make_store
from whistle.web.state import EXTENSION_KEY, AppState

ROOT = share_dir()  # templates/ and static/: the checkout's, or the installed wheel's copy
# (module, url_prefix). Modules are written by other parts of the team; a missing one is skipped
# so the service boots at every stage of development.
BLUEPRINTS: tuple[tuple[str, str], ...] = (
    ("whistle.blueprints.reporter", "/"),
    ("whistle.blueprints.officer", "/officer"),
    ("whistle.blueprints.admin", "/admin"),
    ("whistle.blueprints.ops", "/"),  # /healthz, /metrics
)

log = logging.getLogger("whistle")


class WhistleFlask(Flask):
    def log_exception(self, exc_info: Any) -> None:
        # Flask's default logs the message and full traceback; either may quote report content
        # or SQL parameters. Keep the type and code locations only.
        log_unhandled(exc_info[1])


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``overrides``: Config field names (any case) -> values, applied after
    the environment; a ``flask`` key may hold raw Flask config (tests: PROPAGATE_EXCEPTIONS)."""
    overrides = dict(overrides or {})
    flask_extra: dict[str, Any] = overrides.pop("flask", {})
    config = load_config(overrides=overrides)
    secure_instance(config)  # umask 0077; instance folder 0700, its files 0600 (incl. -wal/-shm)
    secrets = load_secrets(config)  # refuses clearly if `whistle init` was never run

    app = WhistleFlask("whistle", root_path=str(ROOT), template_folder="templates",
                static_folder="static", instance_path=str(config.instance_dir.resolve()))
    app.config.update(
        SECRET_KEY=secrets.secret_key,
        TESTING=config.testing,
        MAX_CONTENT_LENGTH=config.max_upload_bytes,
        # Report text travels as form fields; allow long reports but keep a hard cap.
        MAX_FORM_MEMORY_SIZE=2 * 1024 * 1024,
        SESSION_COOKIE_NAME=config.session_cookie_name,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        SESSION_COOKIE_PATH="/",
        PREFERRED_URL_SCHEME="https" if config.secure_cookies else "http",
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.config.update(flask_extra)
    # `whistle demo` marks its instance folder; every page then carries a DEMO banner.
    app.config["WHISTLE_DEMO"] = (config.instance_dir / "DEMO").is_file()
    app.jinja_env.globals["demo_mode"] = app.config["WHISTLE_DEMO"]
    install_int_converter(app)  # out-of-range ids match no route (404); before any rule

    engine = make_engine(config.db_url)
    # Every session appends to the audit log under the instance key (services/custody/audit).
    factory = audit.bind(make_sessionmaker(engine), audit.AuditKeys.from_secrets(secrets))
    app.extensions[EXTENSION_KEY] = AppState(
        config=config, secrets=secrets, engine=engine, db=factory)
    app.session_interface = EncryptedSessionInterface(make_store(config, engine), config)

    init_security(app, config)
    init_i18n(app, config)
    init_limits(app, config)
    configure_cleaning(CleanLimits(config.clean_memory_mib * MIB, config.clean_timeout_seconds,
                                   config.clean_concurrency, config.clean_wait_seconds))
    init_errors(app)
    app.jinja_env.autoescape = True

    register_blueprints(app)
    # The journal entries of a request's upload temps end with the request (workspace.py).
    app.teardown_request(lambda _exc: end_request())
    recover_after_crash(app)
    return app


def recover_after_crash(app: Flask) -> None:
    """At start-up and whenever a gunicorn worker exits: remove the plaintext a killed process
    left in the work folder and finish its half-done file moves, before anyone can see a case
    whose file is missing. Never stops the service from starting."""
    from whistle.services.operations.housekeeping import recover

    st = app.extensions[EXTENSION_KEY]
    try:
        done = recover(st.db, st.config)
    except OSError as exc:
        log.warning("crash recovery failed: %s", type(exc).__name__)
        return
    finally:
        st.engine.dispose()  # a gunicorn master must not hand its connections to the workers
    if done.plaintext_removed or done.files_recovered or done.temps_discarded:
        log.warning("crash recovery: %s", done.summary())


def register_blueprints(app: Flask) -> list[str]:
    """Register each blueprint module that exists (it must expose ``bp``)."""
    registered = []
    for module_name, prefix in BLUEPRINTS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # Only skip when the blueprint itself is absent, not when it fails to import.
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        app.register_blueprint(module.bp, url_prefix=None if prefix == "/" else prefix)
        registered.append(module_name)
    return registered


def config_of(app: Flask) -> Config:
    return app.extensions[EXTENSION_KEY].config  # type: ignore[no-any-return]
