"""Fixtures for crypto tests: cheap Argon2 so the suite stays fast.

Blobs carry their own Argon2 parameters, so anything sealed under the cheap params still
opens after the fixture is undone.
"""

from __future__ import annotations

import pytest

import crypto.kdf as kdf


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> kdf.Argon2Params:
    """Lower both Argon2 defaults to the minimum for every crypto test."""
    monkeypatch.setattr(kdf, "PASSPHRASE_DEFAULT", kdf.TEST_PARAMS)
    monkeypatch.setattr(kdf, "TICKET_DEFAULT", kdf.TEST_PARAMS)
    return kdf.TEST_PARAMS
