"""How a case's keys are bound, wrapped and unwrapped (docs/ARCHITECTURE.md, "How the service uses the keys").

Every ciphertext carries associated data naming its case and slot, so a blob copied to
another case or field fails to open instead of showing the wrong text.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from crypto import PrivateKey, PublicKey

from ...models import Case, CaseKeyWrap, Team
from ..messages import CaseNotFound

CASE_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def aad(case_id: str, slot: str, name: str | None = None) -> bytes:
    """``case:<id>|<slot>`` or ``case:<id>|<slot>:<name>``; ids and slot names never hold ``|``."""
    if "|" in case_id or "|" in slot or (name is not None and "|" in name):
        raise ValueError("'|' is not allowed in an AAD component")
    tail = slot if name is None else f"{slot}:{name}"
    return f"case:{case_id}|{tail}".encode()


def team_context(case_id: str) -> bytes:
    return b"whistle/case-key/" + case_id.encode()


def identity_share_context(case_id: str, idx: int) -> bytes:
    return f"whistle/identity-share/{case_id}/{idx}".encode()


def team_key_context(team_id: int) -> bytes:
    return f"whistle/team-key/{team_id}".encode()


@dataclass(frozen=True)
class CaseCipher:
    """The open case key of one case, with helpers that bind every blob to its slot."""

    case_id: str
    key: bytes

    def seal(self, slot: str, name: str | None, value: bytes) -> bytes:
        return crypto.encrypt(self.key, value, aad=aad(self.case_id, slot, name))

    def open(self, slot: str, name: str | None, blob: bytes) -> bytes:
        return crypto.decrypt(self.key, blob, aad=aad(self.case_id, slot, name))

    def seal_text(self, slot: str, name: str | None, text: str) -> bytes:
        return self.seal(slot, name, text.encode("utf-8"))

    def open_text(self, slot: str, name: str | None, blob: bytes) -> str:
        return self.open(slot, name, blob).decode("utf-8")

    def seal_json(self, slot: str, name: str | None, value: Any) -> bytes:
        return self.seal(slot, name, json.dumps(value, ensure_ascii=False, sort_keys=True).encode())

    def open_json(self, slot: str, name: str | None, blob: bytes) -> Any:
        return json.loads(self.open(slot, name, blob))


def wrap_for_ticket(case_id: str, case_key: bytes, reporter_key: bytes) -> bytes:
    return crypto.encrypt(reporter_key, case_key, aad=aad(case_id, "ticket"))


def unwrap_for_ticket(case_id: str, blob: bytes, reporter_key: bytes) -> bytes:
    return crypto.decrypt(reporter_key, blob, aad=aad(case_id, "ticket"))


def wrap_for_team(case_id: str, case_key: bytes, team_public_key: bytes) -> bytes:
    return PublicKey.from_bytes(team_public_key).wrap(case_key, context=team_context(case_id))


def grant_team(db: Session, case: Case, team: Team, case_key: bytes) -> None:
    """Wrap the case key to ``team`` (routing); idempotent."""
    exists = db.scalar(
        select(CaseKeyWrap.id).where(CaseKeyWrap.case_id == case.id, CaseKeyWrap.team_id == team.id)
    )
    if exists is None:
        db.add(CaseKeyWrap(case_id=case.id, team_id=team.id,
                           blob=wrap_for_team(case.id, case_key, team.public_key)))


def case_key_for_teams(db: Session, case_id: str, team_keys: Mapping[int, PrivateKey]) -> bytes | None:
    """The case key, if any of the given (already unsealed) team keys holds a wrap; else None.

    None means "not your case": callers must answer exactly as for a missing case.
    """
    if not team_keys:
        return None
    wraps = db.scalars(
        select(CaseKeyWrap).where(
            CaseKeyWrap.case_id == case_id, CaseKeyWrap.team_id.in_(list(team_keys))
        )
    ).all()
    for wrap in wraps:
        assert wrap.team_id is not None
        return team_keys[wrap.team_id].unwrap(wrap.blob, context=team_context(case_id))
    return None


def valid_case_id(case_id: str) -> bool:
    return bool(CASE_ID_RE.match(case_id or ""))


def open_case(db: Session, case_id: str, team_keys: Mapping[int, PrivateKey],
              *, for_update: bool = False) -> tuple[Case, CaseCipher]:
    """The case and its open key, or CaseNotFound when missing *or* not wrapped to the officer."""
    if not valid_case_id(case_id):
        raise CaseNotFound()
    key = case_key_for_teams(db, case_id, team_keys)
    if key is None:
        raise CaseNotFound()
    case = db.get(Case, case_id)
    if case is None:  # pragma: no cover - a wrap without a case cannot exist (FK)
        raise CaseNotFound()
    return case, CaseCipher(case_id, key)
