"""An insider with a copy of the database and some credentials, trying to open identities.

``attack(engine, passphrases={officer id: passphrase}, tickets=[...])`` reads EVERY binary value of EVERY table
(reflected, so a column added later is included), unseals the officers' keys whose passphrase
it was given, derives the reporter keys of the tickets it was given, and then, to a fixed
point: unwraps every HPKE blob with every private key it holds, under every context the
service uses filled in with the ids found in that row (and every officer id, for the
request-bound contexts), keeping whatever comes out (team keys, case keys, ephemeral keys,
shares). Finally it combines the recovered shares of each case in every pair and tries them,
and every recovered 32-byte secret, on the identity blobs.

It returns the identity plaintexts it opened. The tests check it against a positive control
(the same attacker DOES open the identity while a live request holds both releases), so an
empty result means something.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, MetaData, select

import crypto
from crypto import CryptoError, PrivateKey, Share

HPKE_SUITES = (0x01, 0x02)
CONTEXTS = (
    "whistle/case-key/{case}",
    "whistle/team-key/{team}",
    "whistle/identity-share/{case}/{idx}",
    "whistle/identity-release/{req}/{case}/{idx}",
    "whistle/identity-release/{req}/{idx}",  # the format before 0006 (long-term key)
    "whistle/identity-ephemeral/{req}/{case}/{officer}",
)


@dataclass
class Loot:
    private_keys: list[PrivateKey] = field(default_factory=list)
    secrets: set[bytes] = field(default_factory=set)  # 32-byte keys
    shares: list[Share] = field(default_factory=list)
    identities: dict[str, Any] = field(default_factory=dict)  # case id -> identity plaintext
    unwrapped: int = 0

    def add_key(self, key: PrivateKey) -> bool:
        raw = key.to_bytes()
        if any(k.to_bytes() == raw for k in self.private_keys):
            return False
        self.private_keys.append(key)
        return True


def _rows(engine: Engine) -> list[tuple[str, dict[str, Any]]]:
    meta = MetaData()
    meta.reflect(engine)
    out: list[tuple[str, dict[str, Any]]] = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for r in conn.execute(select(table)).mappings():
                out.append((table.name, dict(r)))
    return out


def _contexts(table: str, row: Mapping[str, Any], request_case: Mapping[str, str],
              officers: Iterable[int]) -> set[bytes]:
    cases = {v for k, v in row.items() if k == "case_id" and v}
    if table == "cases":
        cases.add(row["id"])
    reqs = {row["id"]} if table == "identity_requests" else set()
    if row.get("request_id"):
        reqs.add(row["request_id"])
        if row["request_id"] in request_case:
            cases.add(request_case[row["request_id"]])
    teams = {row["team_id"]} if row.get("team_id") is not None else set()
    idxs = {1, 2} | ({row["idx"]} if row.get("idx") is not None else set())
    people = set(officers) if reqs else set()
    out: set[bytes] = set()
    for tpl in CONTEXTS:
        for case, req, team, idx, officer in itertools.product(
                cases or {""}, reqs or {""}, teams or {""}, idxs, people or {""}):
            out.add(tpl.format(case=case, req=req, team=team, idx=idx, officer=officer).encode())
    return {c for c in out if b"//" not in c and not c.endswith(b"/")}


def _keep(loot: Loot, secret: bytes) -> bool:
    """File a recovered secret under what it parses as; True if it is new."""
    try:
        return loot.add_key(PrivateKey.from_bytes(secret))
    except (CryptoError, ValueError):
        pass
    try:
        share = Share.from_bytes(secret)
        if all(s.to_bytes() != secret for s in loot.shares):
            loot.shares.append(share)
            return True
        return False
    except (CryptoError, ValueError):
        pass
    if len(secret) == 32 and secret not in loot.secrets:
        loot.secrets.add(secret)
        return True
    return False


def attack(engine: Engine, *, passphrases: Mapping[int, str] | None = None,
           tickets: Iterable[str] = (), private_keys: Iterable[PrivateKey] = ()) -> Loot:
    """``passphrases``: officer id -> passphrase (the test world gives every officer the same
    one, so each is tried only on the sealed key of the officer it belongs to)."""
    rows = _rows(engine)
    loot = Loot()
    for key in private_keys:
        loot.add_key(key)
    officers = [r["id"] for t, r in rows if t == "officers"]
    words = dict(passphrases or {})
    for table, r in rows:  # the passphrases the actor knows open the officer keys they seal
        if table == "officers" and r.get("sealed_private_key") and r["id"] in words:
            try:
                loot.add_key(crypto.open_sealed_key(bytes(r["sealed_private_key"]), words[r["id"]]))
            except CryptoError:
                continue
    for ticket in tickets:
        for table, r in rows:
            if table == "cases" and r.get("ticket_salt"):
                params = crypto.decode_params(bytes(r["ticket_kdf"])) if r.get("ticket_kdf") else None
                reporter = crypto.reporter_key(crypto.parse_ticket(ticket), bytes(r["ticket_salt"]),
                                               params)
                for t2, w in rows:  # the ticket's wrap of the case key
                    if t2 == "case_key_wraps" and w["case_id"] == r["id"] and w["team_id"] is None:
                        try:
                            _keep(loot, crypto.decrypt(reporter, bytes(w["blob"]),
                                                       aad=f"case:{r['id']}|ticket".encode()))
                        except CryptoError:
                            pass
    request_case = {r["id"]: r["case_id"] for t, r in rows if t == "identity_requests"}
    blobs = [(t, r, bytes(v)) for t, r in rows for v in r.values()
             if isinstance(v, (bytes, memoryview)) and len(v) > 40 and bytes(v)[0] == 1
             and bytes(v)[1] in HPKE_SUITES]
    contexts = {id(r): _contexts(t, r, request_case, officers) for t, r, _ in blobs}
    tried: set[tuple[int, int]] = set()
    grew = True
    while grew:
        grew = False
        for ki, key in enumerate(list(loot.private_keys)):
            for bi, (_, r, blob) in enumerate(blobs):
                if (ki, bi) in tried:
                    continue
                tried.add((ki, bi))
                for ctx in contexts[id(r)]:
                    try:
                        secret = key.unwrap(blob, context=ctx)
                    except CryptoError:
                        continue
                    loot.unwrapped += 1
                    grew = _keep(loot, secret) or grew
    candidates = set(loot.secrets)
    for a, b in itertools.combinations(loot.shares, 2):
        try:
            candidates.add(crypto.combine_shares([a, b]))
        except CryptoError:
            continue
    for table, r in rows:
        if table != "identity_blobs":
            continue
        for key in candidates:
            try:
                loot.identities.setdefault(r["case_id"], []).append(crypto.decrypt(
                    key, bytes(r["blob"]), aad=f"case:{r['case_id']}|{r['kind']}".encode()))
            except CryptoError:
                continue
    loot.identities = {k: v for k, v in loot.identities.items() if v}
    return loot
