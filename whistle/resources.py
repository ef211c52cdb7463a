"""Where the parts of whistle that are not Python live: templates/, static/, migrations/ and
the deploy/ examples.

In a checkout (and an editable install) they are the top-level folders the project is known
by. A built wheel carries copies inside the package, under ``whistle/_share/`` (setup.py adds
them at build time), because a wheel can only install into the package's own folder.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
BUNDLED = PACKAGE / "_share"
CHECKOUT = PACKAGE.parent
SHARED_FOLDERS = ("templates", "static", "migrations", "deploy")


def share_dir() -> Path:
    """The folder holding templates/, static/, migrations/ and deploy/.

    The bundled copy wins: it exists only in an installed wheel, where the folder above the
    package is site-packages and must never be searched for templates.
    """
    if (BUNDLED / "templates").is_dir():
        return BUNDLED
    return CHECKOUT


class ForeignCrypto(ImportError):
    """The module named ``crypto`` is not whistle's own (the PyPI package of that name)."""


def check_crypto_is_ours() -> None:
    """Refuse to start when ``import crypto`` would load something else than whistle's crypto/.

    The PyPI project "crypto" installs a top-level package of the same name. In one environment
    with whistle, one of them silently replaces the other; whistle would then fail later, or
    worse, half-work. Checked without importing it, before anything else imports it.
    """
    import importlib.util

    spec = importlib.util.find_spec("crypto")
    origin = Path(spec.origin) if spec is not None and spec.origin else None
    ours = (origin is not None and origin.name == "__init__.py"
            and origin.parent.parent == CHECKOUT
            and all((origin.parent / f).is_file() for f in ("suites.py", "stream.py", "SPEC.md"))
            and origin.read_text(encoding="utf-8", errors="replace").startswith(
                '"""whistle cryptography'))
    if not ours:
        raise ForeignCrypto(
            f"the module 'crypto' found at {origin} is not whistle's own crypto/ package. "
            "The PyPI package named 'crypto' cannot share an environment with whistle: "
            "uninstall it (pip uninstall crypto) or give whistle its own virtual environment.")
