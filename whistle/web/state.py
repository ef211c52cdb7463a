"""Per-application state (config, secrets, database) reachable from request code.

Routes and services get these through :func:`state` rather than globals so that several apps
(tests: one per database backend) can live in one process.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from whistle.config import Config, Secrets

EXTENSION_KEY = "whistle"


@dataclass(frozen=True)
class AppState:
    config: Config
    secrets: Secrets
    engine: Engine
    db: sessionmaker[Session]  # use with whistle.db.transaction(state().db)


def state(app: Flask | None = None) -> AppState:
    """The running app's state (``current_app`` unless ``app`` is given)."""
    target = app if app is not None else current_app
    return target.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
