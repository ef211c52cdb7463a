from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from whistle.attachments import AttachmentStore, StorageError


@pytest.fixture
def store(tmp_path: Path) -> AttachmentStore:
    return AttachmentStore(tmp_path / "store")


def _put(store: AttachmentStore, data: bytes) -> str:
    pending = store.create_tmp()
    pending.write(data)
    return store.commit(pending)


def test_write_commit_read_delete(store: AttachmentStore) -> None:
    pending = store.create_tmp()
    assert pending.path.parent == store.tmp_dir and pending.path.name.endswith(".part")
    assert stat.S_IMODE(os.stat(pending.path).st_mode) == 0o600
    pending.write(b"ciphertext")
    name = store.commit(pending)
    assert name == pending.storage_name and len(name) == 32
    assert not pending.path.exists()
    path = store.path_for(name)
    assert path == store.root / name[:2] / name and path.is_file()
    with store.open_read(name) as f:
        assert f.read() == b"ciphertext"
    assert store.delete(name) and not store.exists(name)
    assert not store.delete(name)


def test_discard_leaves_nothing(store: AttachmentStore) -> None:
    pending = store.create_tmp()
    pending.write(b"x")
    store.discard(pending)
    assert list(store.tmp_dir.iterdir()) == []


def test_names_are_random(store: AttachmentStore) -> None:
    assert len({_put(store, b"a") for _ in range(20)}) == 20


@pytest.mark.parametrize("bad", [
    "../etc/passwd", "/etc/passwd", "..", "", "ab/cd", "A" * 32, "0" * 31, "0" * 33,
    "0" * 31 + "/", "0" * 32 + "\n", "../" + "0" * 29, "tmp", "0" * 32 + ".part",
    "００" * 16,  # full-width digits: \d would accept these, our regex must not
])
def test_bad_names_refused(store: AttachmentStore, bad: str) -> None:
    for op in (store.path_for, store.open_read, store.delete, store.exists):
        with pytest.raises(StorageError):
            op(bad)


def test_non_string_refused(store: AttachmentStore) -> None:
    with pytest.raises(StorageError):
        store.path_for(b"0" * 32)  # type: ignore[arg-type]


def test_symlinked_fanout_dir_refused(store: AttachmentStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    name = "ab" + "0" * 30
    (outside / name).write_bytes(b"secret elsewhere")
    (store.root / "ab").symlink_to(outside)
    with pytest.raises(StorageError):
        store.open_read(name)
    with pytest.raises(StorageError):
        store.delete(name)
    assert (outside / name).exists()


def test_symlinked_file_refused(store: AttachmentStore, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"not ours")
    name = "cd" + "1" * 30
    (store.root / "cd").mkdir()
    (store.root / "cd" / name).symlink_to(target)
    with pytest.raises(StorageError):
        store.open_read(name)


def test_sweep_orphans(store: AttachmentStore) -> None:
    old = 1_000_000.0
    # 1) abandoned upload (crash before the DB row) -> deleted
    abandoned = store.create_tmp()
    abandoned.write(b"a")
    abandoned.close()
    # 2) DB row committed, rename never happened -> rolled forward
    known_pending = store.create_tmp()
    known_pending.write(b"k")
    known_pending.close()
    # 3) committed but the DB transaction rolled back -> deleted
    unknown = _put(store, b"u")
    # 4) committed and known -> kept
    kept = _put(store, b"kept")
    # 5) a fresh temp (upload in progress) -> untouched
    fresh = store.create_tmp()
    for p in (abandoned.path, known_pending.path, store.path_for(unknown), store.path_for(kept)):
        os.utime(p, (old, old))
    result = store.sweep_orphans({known_pending.storage_name, kept}, timedelta(hours=1),
                                 now=old + 7200)
    assert (result.removed_tmp, result.recovered, result.removed_files) == (1, 1, 1)
    assert not abandoned.path.exists() and fresh.path.exists()
    with store.open_read(known_pending.storage_name) as f:
        assert f.read() == b"k"
    assert not store.exists(unknown) and store.exists(kept)
    store.discard(fresh)


def test_sweep_respects_age(store: AttachmentStore) -> None:
    name = _put(store, b"new")
    result = store.sweep_orphans(set(), timedelta(hours=1))
    assert result.removed_files == 0 and store.exists(name)
