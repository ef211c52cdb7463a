"""The landing page: what the service is for, what is protected, how to stay safe."""
from __future__ import annotations

from flask import render_template

from . import bp


@bp.get("/")
def landing() -> str:
    return render_template("reporter/landing.html")
