"""Service-level tests of filing a report and following it up (no HTTP)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import crypto
import crypto.kdf as kdf
from crypto import CryptoError, Share
from tests.factories import TeamWithKey, make_team, make_unit
from whistle.db import make_engine, make_sessionmaker, transaction
from whistle.domain.constants import Category, Kind, Status
from whistle.models import (
    Base, Case, CaseField, CaseKeyWrap, Event, IdentityBlob, IdentityShare, Message,
)
from whistle.services import followup, reports
from whistle.services.casekeys import CaseCipher, case_key_for_teams, identity_share_context

PEPPER = b"p" * 32


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kdf, "PASSPHRASE_DEFAULT", kdf.TEST_PARAMS)
    monkeypatch.setattr(kdf, "TICKET_DEFAULT", kdf.TEST_PARAMS)


@pytest.fixture()
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    Base.metadata.create_all(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture()
def teams(factory: sessionmaker[Session]) -> dict[str, TeamWithKey]:
    with transaction(factory) as db:
        unit = make_unit(db)
        return {role: make_team(db, unit, role) for role in ("verifikator", "uki", "pyb")}


def report(**kw: object) -> reports.ReportInput:
    base: dict[str, object] = dict(
        kind=Kind.WHISTLEBLOWING, category=Category.ABUSE_OF_AUTHORITY, unit_id=None,
        who="Pak Budi", who_position="Kepala Seksi", what="Meminta uang pelicin untuk izin.",
        when="Maret 2026", where="Kantor Pelayanan", how="Diminta tunai di ruangannya.")
    base.update(kw)
    return reports.ReportInput(**base)  # type: ignore[arg-type]


def test_file_anonymous_report_opens_for_verifikator(factory, teams) -> None:
    case, ticket = reports.file_report(factory, report(), pepper=PEPPER)
    assert crypto.parse_ticket(ticket) == ticket
    with transaction(factory) as db:
        row = db.get(Case, case.id)
        assert row.status == "received" and row.channel == "web" and row.anonymity == "anonymous"
        assert row.register_no.startswith("WBS-") and len(row.register_no.split("-")[2]) == 6
        assert row.due_on is not None and row.due_on > row.step_started_on
        assert not row.has_identity
        key = case_key_for_teams(db, case.id, {teams["verifikator"].team.id: teams["verifikator"].private_key})
        assert key is not None
        cipher = CaseCipher(case.id, key)
        fields = {f.name: cipher.open_text("field", f.name, f.blob)
                  for f in db.scalars(select(CaseField).where(CaseField.case_id == case.id))}
        assert fields["who"] == "Pak Budi" and fields["what"].startswith("Meminta")
        assert fields["title"] == "Meminta uang pelicin untuk izin."
        assert db.scalar(select(func.count()).select_from(IdentityBlob)) == 0
        assert [e.action for e in db.scalars(select(Event))] == ["filed"]
        msgs = db.scalars(select(Message).where(Message.case_id == case.id)).all()
        assert len(msgs) == 1 and msgs[0].author == "system"
        assert row.register_no in cipher.open_text("message", msgs[0].id, msgs[0].blob)
        # the ticket is nowhere in the row
        assert ticket.encode() not in repr(vars(row)).encode()


def test_identity_needs_both_custodian_shares(factory, teams) -> None:
    ident = {"name": "Siti Aminah", "nik": "3174012345678901", "email": "siti@example.org"}
    case, ticket = reports.file_report(
        factory, report(anonymity="confidential", identity=ident,
                        witnesses=(reports.Witness("Andi", "0812", "saw it"),)), pepper=PEPPER)
    logged = followup.login(factory, ticket, pepper=PEPPER)
    with transaction(factory) as db:
        row = db.get(Case, case.id)
        assert row.has_identity and row.has_witnesses and row.anonymity == "confidential"
        blobs = {b.kind: b.blob for b in db.scalars(select(IdentityBlob))}
        # neither the case key nor the ticket-derived key opens the identity
        for key in (logged.case_key, crypto.reporter_key(ticket, row.ticket_salt)):
            with pytest.raises(CryptoError):
                CaseCipher(case.id, key).open_json("identity", None, blobs["identity"])
        shares = {s.idx: s for s in db.scalars(select(IdentityShare).where(IdentityShare.case_id == case.id))}
        assert shares[1].team_id == teams["uki"].team.id and shares[2].team_id == teams["pyb"].team.id
        s1 = Share.from_bytes(teams["uki"].private_key.unwrap(shares[1].blob, context=identity_share_context(case.id, 1)))
        s2 = Share.from_bytes(teams["pyb"].private_key.unwrap(shares[2].blob, context=identity_share_context(case.id, 2)))
        with pytest.raises(Exception):
            crypto.combine_shares([s1])
        id_key = crypto.combine_shares([s1, s2])
        opener = CaseCipher(case.id, id_key)
        assert opener.open_json("identity", None, blobs["identity"]) == ident
        assert opener.open_json("witnesses", None, blobs["witnesses"])[0]["name"] == "Andi"
        # the verifikator team cannot unwrap a custodian share
        with pytest.raises(CryptoError):
            teams["verifikator"].private_key.unwrap(shares[1].blob, context=identity_share_context(case.id, 1))


def test_anonymous_choice_drops_identity(factory, teams) -> None:
    case, _ = reports.file_report(factory, report(anonymity="anonymous", identity={"name": "X"}), pepper=PEPPER)
    with transaction(factory) as db:
        assert db.get(Case, case.id).has_identity is False
        assert db.scalar(select(func.count()).select_from(IdentityBlob)) == 0


def test_refusals(factory) -> None:
    with transaction(factory) as db:
        unit = make_unit(db)
    with pytest.raises(reports.ReportRefused) as exc:
        reports.file_report(factory, report(), pepper=PEPPER)
    assert exc.value.code == "not_accepting"
    with transaction(factory) as db:
        make_team(db, db.merge(unit), "verifikator")
    with pytest.raises(reports.ReportRefused) as exc:
        reports.file_report(factory, report(anonymity="confidential", identity={"name": "A"}), pepper=PEPPER)
    assert exc.value.code == "no_custodians"
    with transaction(factory) as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 0
    reports.file_report(factory, report(), pepper=PEPPER)  # anonymous still works


def test_custodians_fall_back_to_first_unit(factory) -> None:
    with transaction(factory) as db:
        hq = make_unit(db, "HQ", "Pusat")
        uki, pyb = make_team(db, hq, "uki"), make_team(db, hq, "pyb")
        branch = make_unit(db, "CAB", "Cabang")
        make_team(db, branch, "verifikator")
        branch_id = branch.id
    case, _ = reports.file_report(factory, report(unit_id=branch_id, anonymity="confidential",
                                                  identity={"name": "A"}), pepper=PEPPER)
    with transaction(factory) as db:
        assert db.get(Case, case.id).unit_id == branch_id
        teams_ = sorted(s.team_id for s in db.scalars(select(IdentityShare)))
        assert teams_ == sorted([uki.team.id, pyb.team.id])


def test_login_paths_and_argon2_count(factory, teams, monkeypatch) -> None:
    case, ticket = reports.file_report(factory, report(), pepper=PEPPER)
    calls: list[int] = []
    real = kdf.derive_key
    monkeypatch.setattr(kdf, "derive_key", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    ok = followup.login(factory, ticket.lower().replace("-", " "), pepper=PEPPER)
    assert ok.case_id == case.id and len(calls) == 1
    typo = ticket[:-1] + ("0" if ticket[-1] != "0" else "1")
    with pytest.raises(followup.TicketMistyped):
        followup.login(factory, typo, pepper=PEPPER)
    assert len(calls) == 2
    with pytest.raises(followup.TicketUnknown):
        followup.login(factory, crypto.new_ticket(), pepper=PEPPER)
    assert len(calls) == 3
    with pytest.raises(followup.TicketMistyped):
        followup.login(factory, "", pepper=PEPPER)
    assert len(calls) == 4


def test_hit_limit_gets_lookup_id_not_ticket(factory, teams) -> None:
    _, ticket = reports.file_report(factory, report(), pepper=PEPPER)
    seen: list[bytes] = []
    followup.login(factory, ticket, pepper=PEPPER, hit_limit=seen.append)
    assert seen == [crypto.ticket_lookup_id(ticket, PEPPER)]
    with pytest.raises(followup.TicketMistyped):
        followup.login(factory, "nonsense", pepper=PEPPER, hit_limit=seen.append)
    assert len(seen) == 1


def test_case_view_and_reply_answers_data_request(factory, teams) -> None:
    case, ticket = reports.file_report(factory, report(), pepper=PEPPER)
    logged = followup.login(factory, ticket, pepper=PEPPER)
    cipher = CaseCipher(case.id, logged.case_key)
    with transaction(factory) as db:
        row = db.get(Case, case.id)
        row.status = Status.AWAITING_DATA.value
        db.add(Message(id="m" * 32, case_id=case.id, author="officer", officer_id=None,
                       blob=cipher.seal_text("message", "m" * 32, "Mohon kirim bukti.")))
        db.add(Message(id="n" * 32, case_id=case.id, author="officer", internal=True,
                       blob=cipher.seal_text("message", "n" * 32, "INTERNAL NOTE")))
    view = followup.case_view(factory, logged, "id")
    assert view.awaiting_data and view.status_label == "Menunggu kelengkapan data"
    bodies = [m.body for m in view.messages]
    assert "Mohon kirim bukti." in bodies and "INTERNAL NOTE" not in bodies
    assert followup.reply(factory, logged, "Ini buktinya.") == "verification"
    with transaction(factory) as db:
        events = [(e.action, e.from_status, e.to_status) for e in db.scalars(select(Event).order_by(Event.at))]
        assert ("reporter_supplied_data", "awaiting_data", "verification") in events
        assert db.get(Case, case.id).needs_attention
    view = followup.case_view(factory, logged, "en")
    assert [m.author for m in view.messages][-2:] == ["reporter", "system"]
    assert view.status_label == "Being verified"


def test_archived_is_read_only(factory, teams) -> None:
    case, ticket = reports.file_report(factory, report(), pepper=PEPPER)
    logged = followup.login(factory, ticket, pepper=PEPPER)
    with transaction(factory) as db:
        db.get(Case, case.id).status = "archived"
    assert followup.case_view(factory, logged, "id").read_only
    with pytest.raises(followup.CaseReadOnly):
        followup.reply(factory, logged, "hello")
    with transaction(factory) as db:
        assert db.scalar(select(func.count()).select_from(Message).where(Message.author == "reporter")) == 0


def test_register_numbers_unique(factory, teams) -> None:
    nos = {reports.file_report(factory, report(), pepper=PEPPER)[0].register_no for _ in range(5)}
    assert len(nos) == 5
    assert reports.make_title("a " * 100).endswith("…") and len(reports.make_title("a " * 100)) <= 81
