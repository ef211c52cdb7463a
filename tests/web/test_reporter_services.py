"""Service-level tests of filing a report and following it up (no HTTP)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import crypto
import crypto.kdf as kdf
from crypto import CryptoError, Share
from tests.factories import TeamWithKey, make_team, make_unit
from whistle.db import transaction
from whistle.domain.constants import Category, Kind, Status
from whistle.models import (
    Case, CaseField, Event, IdentityBlob, IdentityShare, Message,
)
from whistle.services.reporter import followup
from whistle.services.reporter import reports
from whistle.services.custody.casekeys import CaseCipher, case_key_for_teams, identity_share_context

PEPPER = b"p" * 32


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
        with pytest.raises(crypto.ShareError):  # one custodian alone opens nothing
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


# -- files ---------------------------------------------------------------------------------

import io  # noqa: E402

from whistle.attachments.storage import AttachmentStore  # noqa: E402
from whistle.models import Attachment  # noqa: E402
from whistle.services.reporter import files as reporter_files  # noqa: E402


def _stage(store: AttachmentStore, tmp_path: Path, data: bytes, name: str) -> reporter_files.StagedFile:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return reporter_files.stage_upload(store, io.BytesIO(data), name, "text/plain",
                                       max_bytes=1 << 20, workdir=work)


def test_files_committed_after_db_commit(factory, teams, tmp_path) -> None:
    store = AttachmentStore(tmp_path / "att")
    staged = [_stage(store, tmp_path, b"evidence one", "a.txt"), _stage(store, tmp_path, b"two", "b.txt")]
    assert all(reporter_files.still_there(store, f) for f in staged)
    case, ticket = reports.file_report(factory, report(), pepper=PEPPER, files=staged, store=store)
    assert not list((store.tmp_dir).iterdir())
    logged = followup.login(factory, ticket, pepper=PEPPER)
    view = followup.case_view(factory, logged, "id")
    assert sorted(f.name for f in view.report_files) == ["a.txt", "b.txt"]
    with transaction(factory) as db:
        att = db.scalars(select(Attachment)).all()
        cipher = CaseCipher(case.id, logged.case_key)
        for a in att:
            key = cipher.open("filekey", a.id, a.key_blob)
            plain = b"".join(crypto.iter_decrypt(key, store.open_read(a.storage_name)))
            assert plain in (b"evidence one", b"two")


def test_db_failure_discards_files(factory, tmp_path) -> None:
    store = AttachmentStore(tmp_path / "att")
    staged = [_stage(store, tmp_path, b"evidence", "a.txt")]
    with pytest.raises(reports.ReportRefused):  # no unit at all: refused inside the transaction
        reports.file_report(factory, report(), pepper=PEPPER, files=staged, store=store)
    assert not list(store.tmp_dir.iterdir())
    assert [p for p in store.root.iterdir() if p.name != "tmp"] == []


def test_too_large_leaves_nothing(tmp_path) -> None:
    store = AttachmentStore(tmp_path / "att")
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(reporter_files.TooLarge):
        reporter_files.stage_upload(store, io.BytesIO(b"x" * 2000), "big.bin", None,
                                    max_bytes=1000, workdir=work)
    # The process's own (empty, locked) workspace folder stays; no file does, anywhere.
    assert not list(store.tmp_dir.iterdir()) and not [p for p in work.rglob("*") if p.is_file()]


def test_reply_with_file(factory, teams, tmp_path) -> None:
    store = AttachmentStore(tmp_path / "att")
    _, ticket = reports.file_report(factory, report(), pepper=PEPPER)
    logged = followup.login(factory, ticket, pepper=PEPPER)
    followup.reply(factory, logged, "more", files=[_stage(store, tmp_path, b"x", "c.txt")], store=store)
    view = followup.case_view(factory, logged, "en")
    assert view.messages[-1].author == "reporter" and view.messages[-1].files[0].name == "c.txt"
    assert view.messages[-1].files[0].clean is not None


def test_raising_the_ticket_cost_keeps_old_tickets_working(factory, teams, monkeypatch) -> None:
    """Each case records the Argon2 cost of its reporter key, so the default can rise later."""
    old = kdf.Argon2Params(memory_kib=8, iterations=1, lanes=1)
    new = kdf.Argon2Params(memory_kib=64, iterations=2, lanes=1)
    monkeypatch.setattr(kdf, "TICKET_DEFAULT", old)
    case, ticket = reports.file_report(factory, report(), pepper=PEPPER)
    monkeypatch.setattr(kdf, "TICKET_DEFAULT", new)
    newer, newer_ticket = reports.file_report(factory, report(), pepper=PEPPER)
    with transaction(factory) as db:
        assert kdf.decode_params(db.get(Case, case.id).ticket_kdf) == old
        assert kdf.decode_params(db.get(Case, newer.id).ticket_kdf) == new
    assert followup.login(factory, ticket, pepper=PEPPER).case_id == case.id
    assert followup.login(factory, newer_ticket, pepper=PEPPER).case_id == newer.id
