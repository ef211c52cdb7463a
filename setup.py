"""Build hook only (metadata lives in pyproject.toml): the wheel carries templates/, static/,
migrations/ and deploy/ inside the package, under whistle/_share/, so that a normal
(non-editable) install can render pages, migrate a database and find gunicorn.conf.py.
The checkout keeps its top-level layout; whistle/resources.py finds either.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHARED = ("templates", "static", "migrations", "deploy")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".*")


class build_with_share(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "whistle" / "_share"
        for name in SHARED:
            if (target / name).exists():
                shutil.rmtree(target / name)
            shutil.copytree(HERE / name, target / name, ignore=SKIP)


setup(cmdclass={"build_py": build_with_share})
