"""Every setting can come from a file (``WHISTLE_<NAME>_FILE``), and the instance secrets from a
folder outside the instance (``WHISTLE_SECRETS_PATH``, e.g. systemd's credentials directory),
so that no secret has to sit in an environment variable."""
from __future__ import annotations

import os
import shutil
from dataclasses import fields
from pathlib import Path

import pytest

from tests.web.reporter_helpers import file_report, make_org
from whistle.app import create_app
from whistle.config import Config, ConfigError, init_instance, load_config
from whistle.web.state import state


def test_every_setting_has_a_file_variant(tmp_path: Path) -> None:
    samples = {"str": "postgresql+psycopg://whistle:s3cret@db/whistle", "int": "42",
               "float": "2.5", "bool": "true"}
    convert = {"int": int, "float": float, "bool": lambda v: v == "true", "str": str}
    for f in fields(Config):
        kind = str(f.type)
        # Settings with a fixed set of values get one of them; the rest a sample of their type.
        fixed = {"session_backend": "db", "data_request_policy": "sipuma"}
        value = fixed.get(f.name) or samples.get(kind, str(tmp_path / "x"))
        path = tmp_path / f"{f.name}.txt"
        path.write_text(value + "\n")  # the final newline an editor adds is not part of it
        try:
            config = load_config({f"WHISTLE_{f.name.upper()}_FILE": str(path)})
        except ConfigError as exc:
            pytest.fail(f"{f.name}: {exc}")
        want = Path(value) if "Path" in kind else convert[kind](value)
        assert getattr(config, f.name) == want, f.name


def test_secret_from_file_never_shows_in_errors(tmp_path: Path) -> None:
    secret_file = tmp_path / "db_url"
    secret_file.write_text("postgresql+psycopg://whistle:hunter2@db/whistle\n")
    config = load_config({"WHISTLE_DATABASE_URL_FILE": str(secret_file)})
    assert config.database_url == "postgresql+psycopg://whistle:hunter2@db/whistle"
    with pytest.raises(ConfigError, match="not both"):
        load_config({"WHISTLE_DATABASE_URL_FILE": str(secret_file),
                     "WHISTLE_DATABASE_URL": "sqlite:///x.db"})
    with pytest.raises(ConfigError, match="cannot read") as missing:
        load_config({"WHISTLE_SMTP_PASSWORD_FILE": str(tmp_path / "absent")})
    assert str(tmp_path / "absent") in str(missing.value)
    unreadable = tmp_path / "metrics_token"
    unreadable.write_text("tok-hunter2")
    os.chmod(unreadable, 0)
    try:
        if os.access(unreadable, os.R_OK):  # root reads anything: nothing to check here
            return
        with pytest.raises(ConfigError) as denied:
            load_config({"WHISTLE_METRICS_TOKEN_FILE": str(unreadable)})
        assert "hunter2" not in str(denied.value)
    finally:
        os.chmod(unreadable, 0o600)


def test_instance_secrets_from_a_credentials_folder(tmp_path: Path, db_url: str) -> None:
    """The service runs with its secrets in a read-only folder outside the instance, as
    systemd's LoadCredential= provides them, and uses exactly those bytes."""
    made = tmp_path / "made"
    init_instance(Config(instance_dir=made))
    creds = tmp_path / "credentials"
    shutil.copytree(made / "secrets", creds)
    for name in os.listdir(creds):
        os.chmod(creds / name, 0o400)
    os.chmod(creds, 0o500)
    instance = tmp_path / "instance"
    try:
        init_instance(Config(instance_dir=instance, secrets_path=creds))  # creates nothing there
        assert not (instance / "secrets").exists()
        app = create_app({"instance_dir": instance, "secrets_path": creds, "database_url": db_url,
                          "testing": True})
        try:
            assert state(app).secrets.pepper == (creds / "pepper").read_bytes()
            make_org(app)
            file_report(app.test_client())
        finally:
            state(app).engine.dispose()
        with pytest.raises(ConfigError, match="not a folder"):
            init_instance(Config(instance_dir=instance, secrets_path=tmp_path / "nope"))
    finally:
        os.chmod(creds, 0o700)
