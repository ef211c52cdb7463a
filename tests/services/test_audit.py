"""The audit log is a hash chain: any edit, deletion or reordering is detected."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from whistle.db import make_engine, make_sessionmaker, transaction
from whistle.models import AuditEntry, Base
from whistle.services.custody import audit


@pytest.fixture
def factory(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    Base.metadata.create_all(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _fill(factory, n: int = 5) -> None:
    for i in range(n):
        with transaction(factory) as db:
            audit.append(db, "officer:1", "case.view", f"case:{i}")


def test_intact_chain_verifies(factory) -> None:
    _fill(factory)
    with transaction(factory) as db:
        report = audit.verify(db)
    assert report.ok and report.entries == 5


def test_edited_entry_is_detected(factory) -> None:
    _fill(factory)
    with transaction(factory) as db:
        db.execute(update(AuditEntry).where(AuditEntry.id == 3).values(actor="officer:2"))
    with transaction(factory) as db:
        report = audit.verify(db)
    assert not report.ok and report.first_bad_id == 3 and report.problem == "entry altered"


def test_deleted_entry_is_detected(factory) -> None:
    _fill(factory)
    with transaction(factory) as db:
        db.execute(delete(AuditEntry).where(AuditEntry.id == 2))
    with transaction(factory) as db:
        report = audit.verify(db)
    assert not report.ok and report.first_bad_id == 3


def test_rolled_back_work_leaves_no_entry(factory) -> None:
    with pytest.raises(RuntimeError):
        with transaction(factory) as db:
            audit.append(db, "officer:1", "case.transition", "case:x")
            raise RuntimeError("the business step failed")
    with transaction(factory) as db:
        assert audit.verify(db).entries == 0


def test_concurrent_appends_keep_one_chain(factory) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            _fill(factory, 10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with transaction(factory) as db:
        report = audit.verify(db)
    assert report.ok and report.entries == 40
