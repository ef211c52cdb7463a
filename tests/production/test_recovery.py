"""Start-up recovery, deterministically (the crash test hits the same states at random):
what a SIGKILLed process leaves in the work folder and the store is gone once the app starts,
what a live process is using is never touched, and a committed file that was never moved in
is moved in before anyone can open the case."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from tests.production.conftest import ROOT
from tests.web.reporter_helpers import csrf, good_form, make_org
from whistle.attachments.storage import AttachmentStore
from whistle.db import transaction
from whistle.models import Attachment
from whistle.services.operations import housekeeping
from whistle.services.reporter import files as reporter_files
from whistle.web.state import state

# A process that uses the real workspace API, then dies by SIGKILL (or waits, when told to).
OWNER = r"""
import os, signal, sys
from pathlib import Path
from whistle.attachments.storage import AttachmentStore
from whistle.attachments.workspace import JournaledStore, Workspace
work, storage, marker, mode = sys.argv[1:5]
ws = Workspace.of(Path(work))
(ws.path / ".upload-x1").write_bytes(marker.encode() * 10)
(ws.path / ".cleaned-x1").write_bytes(marker.encode() * 10)
if mode.startswith("note:"):
    ws.note(mode[5:])  # the name of a temp this process was writing
    name = mode[5:]
else:
    tmp = JournaledStore(AttachmentStore(Path(storage)), ws).create_tmp()
    tmp.write(b"ciphertext of an upload whose request died"); tmp.close()
    name = tmp.storage_name
print(name, flush=True)
if mode == "wait":
    sys.stdin.readline()
else:
    os.kill(os.getpid(), signal.SIGKILL)
"""


def owner(app: Any, marker: str, mode: str) -> subprocess.Popen[str]:
    cfg = state(app).config
    return subprocess.Popen([sys.executable, "-c", OWNER, str(cfg.tmp_dir),
                             str(cfg.attachments_dir), marker, mode], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_start_up_removes_what_a_killed_process_left(make_app: Any) -> None:
    app = make_app()
    proc = owner(app, "RAHASIA-bukti-1", "temp")
    name = proc.stdout.readline().strip() if proc.stdout else ""
    assert proc.wait(30) == -9
    cfg = state(app).config
    store = AttachmentStore(cfg.attachments_dir)
    left = files_in(cfg.tmp_dir)
    assert any(b"RAHASIA-bukti-1" in p.read_bytes() for p in left)  # the state a kill leaves
    assert (store.tmp_dir / f"{name}.part").exists()
    make_app()  # the next start of the service
    assert files_in(cfg.tmp_dir) == []
    assert not (store.tmp_dir / f"{name}.part").exists()  # no request, no session claims it


def test_a_live_process_keeps_its_work_until_it_dies(make_app: Any) -> None:
    app = make_app()
    proc = owner(app, "RAHASIA-bukti-2", "wait")
    try:
        name = proc.stdout.readline().strip() if proc.stdout else ""
        cfg = state(app).config
        store = AttachmentStore(cfg.attachments_dir)
        st = state(app)
        report = housekeeping.recover(st.db, st.config)
        assert report.plaintext_removed == 0 and report.temps_discarded == 0
        assert len(files_in(cfg.tmp_dir)) >= 2 and (store.tmp_dir / f"{name}.part").exists()
    finally:
        proc.kill()
        proc.wait(30)
    report = housekeeping.recover(st.db, st.config)
    assert report.plaintext_removed >= 2 and report.temps_discarded == 1
    assert files_in(cfg.tmp_dir) == [] and not (store.tmp_dir / f"{name}.part").exists()


def _file_without_the_move(app: Any, client: Any, monkeypatch: Any) -> str:
    """File a report with evidence whose process 'dies' between the commit and the rename."""
    real = reporter_files.finish_staged

    def commit_then_die(store: Any, files: Any, *, committed: bool) -> None:
        if not committed:
            real(store, files, committed=committed)

    monkeypatch.setattr(reporter_files, "finish_staged", commit_then_die)
    make_org(app)
    import io

    html = client.get("/lapor").get_data(as_text=True)
    form = dict(good_form(), csrf_token=csrf(html),
                files=[(io.BytesIO(b"kuitansi 4471"), "kuitansi.txt")])
    assert client.post("/lapor", data=form, content_type="multipart/form-data").status_code == 303
    monkeypatch.setattr(reporter_files, "finish_staged", real)
    with transaction(state(app).db) as db:
        return db.scalars(select(Attachment.storage_name)).one()


def test_a_file_committed_but_never_moved_in_is_moved_in_at_start(make_app: Any,
                                                                     monkeypatch: Any) -> None:
    app = make_app()
    name = _file_without_the_move(app, app.test_client(), monkeypatch)
    store = AttachmentStore(state(app).config.attachments_dir)
    assert not store.exists(name) and (store.tmp_dir / f"{name}.part").exists()
    make_app()  # start-up: before anyone opens the case
    assert store.exists(name) and not (store.tmp_dir / f"{name}.part").exists()


def test_a_commit_landing_during_the_grace_is_moved_in_not_discarded(make_app: Any,
                                                                      monkeypatch: Any) -> None:
    """A killed request's journaled temp whose COMMIT becomes visible only after the process
    died (still on its way through the database) must be kept: recovery asks again."""
    app = make_app()
    name = _file_without_the_move(app, app.test_client(), monkeypatch)
    st = state(app)
    with transaction(st.db) as db:  # the row is not visible yet...
        db.execute(update(Attachment).values(storage_name="0" * 32))
    proc = owner(app, "RAHASIA-bukti-3", f"note:{name}")
    assert proc.wait(30) == -9

    def commit_lands() -> None:  # ...and lands while recovery waits
        with transaction(st.db) as db:
            db.execute(update(Attachment).values(storage_name=name))

    monkeypatch.setattr(housekeeping, "wait_for_commits_in_flight", commit_lands)
    report = housekeeping.recover(st.db, st.config)
    store = AttachmentStore(st.config.attachments_dir)
    assert report.files_recovered == 1 and report.temps_discarded == 0
    assert store.exists(name)


def test_without_a_commit_the_killed_requests_temp_is_discarded(make_app: Any,
                                                                monkeypatch: Any) -> None:
    """The control for the test above: the same state, and the row never appears."""
    app = make_app()
    name = _file_without_the_move(app, app.test_client(), monkeypatch)
    st = state(app)
    with transaction(st.db) as db:
        db.execute(update(Attachment).values(storage_name="0" * 32))
    proc = owner(app, "RAHASIA-bukti-4", f"note:{name}")
    assert proc.wait(30) == -9
    monkeypatch.setattr(housekeeping, "wait_for_commits_in_flight", lambda: None)
    report = housekeeping.recover(st.db, st.config)
    store = AttachmentStore(st.config.attachments_dir)
    assert report.temps_discarded == 1 and not (store.tmp_dir / f"{name}.part").exists()
