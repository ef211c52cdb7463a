"""Typed configuration from the environment (``WHISTLE_*``) plus the instance folder.

The instance folder (default ``./instance``) holds everything that belongs to one deployment
and never to the repository: the embedded SQLite database, attachments, the plaintext work
directory, logs and ``secrets/`` (pepper, Flask secret key, TOTP-at-rest key, the audit chain's
HMAC key and the audit head's Ed25519 signing key). Secrets live in files (mode 0600, directory
0700), never in the database, so a database backup alone opens nothing and an insider who can
write to the database cannot re-chain the audit log.
"""
from __future__ import annotations

import os
import secrets as _secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

SECRET_NAMES: tuple[str, ...] = ("pepper", "secret_key", "totp_key", "audit_key",
                                 "audit_signing_key")
SECRET_SIZE = 32
MIB = 1024 * 1024


class ConfigError(RuntimeError):
    """Configuration is invalid or the instance is not initialised."""


class InstanceNotInitialised(ConfigError):
    def __init__(self, instance_dir: Path, missing: list[str]) -> None:
        super().__init__(
            f"whistle instance {instance_dir} is not initialised (missing secrets: "
            f"{', '.join(missing)}). Run `whistle init` first."
        )
        self.missing = missing


@dataclass(frozen=True, repr=False)
class Secrets:
    """Instance secrets. ``repr`` is suppressed so a traceback or log never prints them."""

    pepper: bytes  # keyed hash for ticket lookup ids
    secret_key: bytes  # Flask / CSRF signing
    totp_key: bytes  # encrypts officers' TOTP secrets at rest
    audit_key: bytes  # HMAC-SHA256 key chaining the audit log (services/custody/audit.py)
    audit_signing_key: bytes  # Ed25519 seed signing exported audit heads (custody/audit_head.py)

    def __repr__(self) -> str:
        return "Secrets(<redacted>)"


@dataclass(frozen=True)
class Config:
    instance_dir: Path = Path("instance")
    database_url: str = ""  # default: sqlite:///<instance>/whistle.db
    storage_dir: Path | None = None  # encrypted attachments; default <instance>/attachments
    # Plaintext temp files (uploads being cleaned). Production: a tmpfs so nothing plaintext
    # ever reaches a disk; see deploy/README.md.
    work_dir: Path | None = None  # default <instance>/tmp
    log_dir: Path | None = None  # default <instance>/logs
    ratelimit_storage_uri: str = "memory://"  # redis://... in production (shared by workers)
    # Whole-service budget (Tor: one client address). Chosen from bench/bench_flood.py: a
    # log-in flood at this rate costs ~1/4 core on 2 vCPU and genuine filings still complete.
    ratelimit_global: str = "600 per minute"
    ratelimit_session: str = "120 per minute"  # per session cookie
    ratelimit_ticket: str = "10 per hour"  # per ticket lookup id (guessing/brute force)
    ratelimit_key_prefix: str = "whistle"
    session_backend: str = "db"  # "db" | "redis"
    session_redis_url: str = ""  # default: redis_url
    redis_url: str = ""
    max_upload_bytes: int = 100 * MIB
    max_file_bytes: int = 0  # per uploaded file; 0 = same as max_upload_bytes
    argon2_concurrency: int = field(default_factory=lambda: os.cpu_count() or 1)
    argon2_wait_seconds: float = 3.0
    # Metadata cleaning runs in a bounded child per file (whistle/attachments/sandbox.py).
    clean_concurrency: int = field(default_factory=lambda: os.cpu_count() or 1)
    clean_memory_mib: int = 768  # address space of one cleaning child
    clean_timeout_seconds: float = 30.0  # wall clock for one file; past it: "not cleaned"
    clean_wait_seconds: float = 10.0  # queue for a free slot, then refuse the upload (busy)
    reporter_idle_timeout: int = 15 * 60
    reporter_absolute_timeout: int = 4 * 3600
    officer_idle_timeout: int = 30 * 60
    officer_absolute_timeout: int = 12 * 3600
    secure_cookies: bool = False  # True when served over HTTPS (adds Secure + __Host-)
    onion_location: str = ""  # e.g. http://xxxx.onion ; sent on non-onion hosts only
    data_request_days: int = 10  # working days a reporter has to send requested data
    # What an unanswered data request leads to: "sp4n_lapor" (data_request_days working days,
    # then archived) or "sipuma" (data_request_calendar_days calendar days, then not followable).
    data_request_policy: str = "sp4n_lapor"
    data_request_calendar_days: int = 14
    retention_days: int = 1826  # archived cases are purged this long after archiving; 0 = never
    # Identity escalation: a request's life to be decided, then (once approved) to be released
    # and opened; and how long the requester may reload the identity once it has been shown.
    identity_decide_days: int = 7
    identity_release_days: int = 3
    identity_reading_seconds: int = 15 * 60
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = ""
    smtp_starttls: bool = True
    smtp_implicit_tls: bool = False  # TLS from the first byte (also implied by port 465)
    smtp_timeout: float = 10.0
    # Bearer token for /metrics (empty: /metrics answers 404). Give it as a file
    # (WHISTLE_METRICS_TOKEN_FILE), like every secret setting; see load_config.
    metrics_token: str = field(default="", repr=False)
    # Where the instance secrets are read from; default <instance>/secrets. Point it at a
    # systemd credentials directory (LoadCredential=pepper:..., %d) to keep them off the
    # instance folder.
    secrets_path: Path | None = None
    testing: bool = False

    # -- derived paths -------------------------------------------------------------------
    @property
    def secrets_dir(self) -> Path:
        return self.secrets_path or self.instance_dir / "secrets"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.instance_dir / 'whistle.db').resolve()}"

    @property
    def attachments_dir(self) -> Path:
        return self.storage_dir or self.instance_dir / "attachments"

    @property
    def tmp_dir(self) -> Path:
        return self.work_dir or self.instance_dir / "tmp"

    @property
    def logs_dir(self) -> Path:
        return self.log_dir or self.instance_dir / "logs"

    @property
    def sessions_redis_url(self) -> str:
        return self.session_redis_url or self.redis_url

    @property
    def session_cookie_name(self) -> str:
        # __Host- makes the browser refuse the cookie unless Secure, Path=/ and no Domain.
        return "__Host-whistle" if self.secure_cookies else "whistle"

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Config":
        return replace(self, **_coerce_all(overrides))


# -- environment parsing -----------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _to_bool(value: str) -> bool:
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ConfigError(f"not a boolean: {value!r}")


def _coerce(name: str, value: Any) -> Any:
    """Turn an env string (or an override of any type) into the field's type."""
    types = {f.name: f.type for f in fields(Config)}
    if name not in types:
        raise ConfigError(f"unknown setting {name!r}")
    kind = str(types[name])
    if not isinstance(value, str):
        return Path(value) if "Path" in kind and value is not None else value
    if kind == "bool":
        return _to_bool(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if "Path" in kind:
        return Path(value) if value else None if "None" in kind else Path(value)
    return value


def _coerce_all(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k.lower(): _coerce(k.lower(), v) for k, v in values.items()}


def load_config(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Config:
    """Build a Config from ``WHISTLE_<FIELD>`` variables, then apply ``overrides``.

    Every setting may instead be read from a file named by ``WHISTLE_<FIELD>_FILE`` (as systemd
    ``LoadCredential`` provides them), so that no secret (a database password inside its URL,
    the SMTP password, the metrics token) has to sit in the environment.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Config):
        name = "WHISTLE_" + f.name.upper()
        raw = env.get(name)
        path = env.get(name + "_FILE")
        if path is not None:
            if raw is not None:
                raise ConfigError(f"set {name} or {name}_FILE, not both")
            raw = _read_setting_file(name + "_FILE", path)
        if raw is not None:
            values[f.name] = _coerce(f.name, raw)
    config = Config(**values)
    if overrides:
        config = config.with_overrides(overrides)
    validate(config)
    return config


def _read_setting_file(variable: str, path: str) -> str:
    """The file's text without its final line break. Errors name the file, never the content."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read {path} ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{variable}: {path} is not UTF-8 text") from None
    return text[:-1] if text.endswith("\n") else text


def validate(config: Config) -> None:
    if config.data_request_policy not in ("sp4n_lapor", "sipuma"):
        raise ConfigError("WHISTLE_DATA_REQUEST_POLICY must be 'sp4n_lapor' or 'sipuma'")
    if config.data_request_days < 1 or config.data_request_calendar_days < 1:
        raise ConfigError("WHISTLE_DATA_REQUEST_DAYS and WHISTLE_DATA_REQUEST_CALENDAR_DAYS must be >= 1")
    if config.session_backend not in ("db", "redis"):
        raise ConfigError("WHISTLE_SESSION_BACKEND must be 'db' or 'redis'")
    if config.session_backend == "redis" and not config.sessions_redis_url:
        raise ConfigError("session backend 'redis' needs WHISTLE_REDIS_URL")
    if config.max_upload_bytes < 1:
        raise ConfigError("WHISTLE_MAX_UPLOAD_BYTES must be positive")
    if config.argon2_concurrency < 1:
        raise ConfigError("WHISTLE_ARGON2_CONCURRENCY must be >= 1")
    # Below ~96 MiB a cleaning child cannot even load its parser: every file is then kept
    # "not cleaned" (safe, but useless); README says so.
    if config.clean_concurrency < 1 or config.clean_memory_mib < 1:
        raise ConfigError("WHISTLE_CLEAN_CONCURRENCY and WHISTLE_CLEAN_MEMORY_MIB must be >= 1")
    if config.clean_timeout_seconds <= 0 or config.clean_wait_seconds < 0:
        raise ConfigError("WHISTLE_CLEAN_TIMEOUT_SECONDS must be > 0, WHISTLE_CLEAN_WAIT_SECONDS >= 0")
    for name in ("reporter_idle_timeout", "officer_idle_timeout", "reporter_absolute_timeout",
                 "officer_absolute_timeout", "identity_decide_days", "identity_release_days",
                 "identity_reading_seconds"):
        if getattr(config, name) < 1:
            raise ConfigError(f"{name} must be positive")


# -- instance folder and secrets ---------------------------------------------------------

def _write_secret(path: Path) -> bool:
    """Create ``path`` with 32 random bytes, mode 0600; never overwrite. True if created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as fh:
        fh.write(_secrets.token_bytes(SECRET_SIZE))
        fh.flush()
        os.fsync(fh.fileno())
    return True


def init_instance(config: Config) -> list[str]:
    """Create the instance folders and any missing secret (idempotent). Returns created names."""
    config.instance_dir.mkdir(parents=True, exist_ok=True)
    for path in (config.attachments_dir, config.tmp_dir, config.logs_dir):
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    if config.secrets_path is not None and not config.secrets_dir.is_dir():
        raise ConfigError(f"WHISTLE_SECRETS_PATH {config.secrets_dir} is not a folder")
    if config.secrets_path is None:  # an outside folder (systemd credentials) is not ours to chmod
        config.secrets_dir.mkdir(mode=0o700, exist_ok=True)
        os.chmod(config.secrets_dir, 0o700)
    return [name for name in SECRET_NAMES if _write_secret(config.secrets_dir / name)]


def load_secrets(config: Config) -> Secrets:
    """Read the instance secrets; refuse clearly if any is missing or malformed."""
    missing = [n for n in SECRET_NAMES if not (config.secrets_dir / n).is_file()]
    if missing:
        raise InstanceNotInitialised(config.instance_dir, missing)
    values: dict[str, bytes] = {}
    for name in SECRET_NAMES:
        path = config.secrets_dir / name
        data = path.read_bytes()
        if len(data) != SECRET_SIZE:
            raise ConfigError(f"secret {path} must be exactly {SECRET_SIZE} bytes")
        if path.stat().st_mode & 0o077:
            raise ConfigError(f"secret {path} is readable by others; chmod 600 it")
        values[name] = data
    return Secrets(**values)
