"""The file store: atomic, idempotent writes and keys that cannot leave the store."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import os
from pathlib import Path

import pytest

from backend.errors import InsufficientStorage
from backend.settings import load_settings
from backend.storage import FileStore, LocalFileStore, get_file_store, validate_key

KEY = "photos/ab/abcdef0123456789.jpg"


@pytest.fixture
def store(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "files")


def leftovers(root: Path) -> list[Path]:
    """Temporary files a write left behind."""
    return [path for path in root.rglob("*") if path.name.endswith(".tmp")]


async def test_put_get_exists_delete(store: LocalFileStore) -> None:
    assert not await store.exists(KEY)

    await store.put(KEY, b"\xff\xd8 photo")

    assert await store.exists(KEY)
    assert await store.get(KEY) == b"\xff\xd8 photo"
    assert store.path_for(KEY) == store.root / "photos" / "ab" / "abcdef0123456789.jpg"
    assert store.path_for(KEY).read_bytes() == b"\xff\xd8 photo"

    await store.delete(KEY)

    assert not await store.exists(KEY)
    with pytest.raises(FileNotFoundError):
        await store.get(KEY)


async def test_get_of_a_missing_key_is_file_not_found(store: LocalFileStore) -> None:
    with pytest.raises(FileNotFoundError):
        await store.get("photos/none.jpg")


async def test_delete_of_a_missing_key_is_fine(store: LocalFileStore) -> None:
    await store.delete("photos/none.jpg")
    await store.delete("photos/none.jpg")


async def test_put_leaves_no_temporary_files(store: LocalFileStore) -> None:
    await store.put(KEY, b"a" * 3_000_000)
    await store.put(KEY, b"b" * 10)

    assert await store.get(KEY) == b"b" * 10
    assert leftovers(store.root) == []
    assert sorted(p.name for p in store.path_for(KEY).parent.iterdir()) == [Path(KEY).name]


async def test_same_key_same_bytes_is_a_no_op(store: LocalFileStore) -> None:
    await store.put(KEY, b"photo")
    before = store.path_for(KEY).stat()

    await store.put(KEY, b"photo")

    after = store.path_for(KEY).stat()
    # Same inode and modification time: the file was not rewritten.
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert await store.get(KEY) == b"photo"


async def test_same_key_other_bytes_replaces_atomically(store: LocalFileStore) -> None:
    await store.put(KEY, b"old")
    before = store.path_for(KEY).stat()

    await store.put(KEY, b"new!")

    # A new file took the old one's place (rename), rather than the old one being rewritten
    # in place where a reader could catch it half-written.
    assert store.path_for(KEY).stat().st_ino != before.st_ino
    assert await store.get(KEY) == b"new!"


async def test_failed_write_keeps_the_old_file_and_cleans_up(
    store: LocalFileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.put(KEY, b"old")

    def disk_gone(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_gone)
    # The API's error (507, in Chinese), raised from the file system's.
    with pytest.raises(InsufficientStorage) as refused:
        await store.put(KEY, b"new")
    assert isinstance(refused.value.__cause__, OSError)
    assert refused.value.status_code == 507 and "存储空间已满" in refused.value.message
    monkeypatch.undo()

    assert await store.get(KEY) == b"old"
    assert leftovers(store.root) == []


async def test_concurrent_puts_of_one_key_leave_a_whole_file(store: LocalFileStore) -> None:
    payload = os.urandom(512 * 1024)

    await asyncio.gather(*(store.put(KEY, payload) for _ in range(40)))

    assert await store.get(KEY) == payload
    assert leftovers(store.root) == []


async def test_concurrent_puts_of_different_bytes_leave_one_of_them_whole(
    store: LocalFileStore,
) -> None:
    payloads = [bytes([n]) * (256 * 1024 + n) for n in range(20)]

    await asyncio.gather(*(store.put(KEY, payload) for payload in payloads))

    assert await store.get(KEY) in payloads
    assert leftovers(store.root) == []


async def test_reader_never_sees_a_partial_file(store: LocalFileStore) -> None:
    small, large = b"s" * 1000, b"L" * 4_000_000
    await store.put(KEY, small)
    seen: list[bytes] = []

    async def read_repeatedly() -> None:
        for _ in range(30):
            seen.append(await store.get(KEY))

    await asyncio.gather(
        read_repeatedly(), *(store.put(KEY, large if n % 2 else small) for n in range(10))
    )

    assert seen and all(data in (small, large) for data in seen)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../secret_key",
        "photos/../../secret_key",
        "photos/..",
        "photos//a.jpg",
        "photos/a.jpg/",
        "./photos/a.jpg",
        "photos\\a.jpg",
        "..\\..\\secret_key",
        "photos/a\x00.jpg",
    ],
)
async def test_unsafe_keys_are_refused(store: LocalFileStore, key: str) -> None:
    with pytest.raises(ValueError):
        validate_key(key)
    with pytest.raises(ValueError):
        await store.put(key, b"x")
    with pytest.raises(ValueError):
        await store.get(key)
    with pytest.raises(ValueError):
        await store.exists(key)
    with pytest.raises(ValueError):
        await store.delete(key)
    with pytest.raises(ValueError):
        store.path_for(key)
    assert not store.root.exists()  # nothing was written anywhere


def test_keys_may_have_dots_inside_names() -> None:
    assert validate_key("documents/2025/整改通知书.v2.pdf").parts[-1] == "整改通知书.v2.pdf"


def test_get_file_store_uses_the_files_dir_and_caches(tmp_path: Path) -> None:
    settings = dataclasses.replace(load_settings(), data_dir=tmp_path)

    store = get_file_store(settings)

    assert isinstance(store, LocalFileStore)
    assert isinstance(store, FileStore)
    assert store.root == tmp_path / "files"
    assert get_file_store(dataclasses.replace(settings, demo=not settings.demo)) is store
    other = get_file_store(dataclasses.replace(settings, data_dir=tmp_path / "other"))
    assert other is not store
