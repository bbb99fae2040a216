"""Where uploaded photos, signatures and generated documents are kept.

Callers speak to a :class:`FileStore` with relative POSIX keys (``photos/ab/abcdef….jpg``) and
never build file paths themselves, so that an S3-compatible store can be added later without
touching them. Today there is one implementation, :class:`LocalFileStore`, rooted at
``{YIBAO_DATA_DIR}/files`` (:attr:`backend.settings.Settings.files_dir`).

Guarantees every store gives (the lesson from peers whose servers said "success" while photos
were missing):

- ``put`` is atomic: a reader sees either the old file, or the whole new one, never a part.
- ``put`` returns only once the bytes are durable (fsync), so an upload acknowledged with a 2xx
  survives a crash or a power cut right after.
- ``put`` of the same key with the same bytes is a no-op, so retried uploads are harmless.
- ``put`` that fails (disk full, read-only) leaves nothing behind, not even a temporary file,
  and raises a :class:`~backend.errors.ServiceUnavailable` (507 when full) with a message for
  the user; :class:`NewFiles` lets a caller remove the files of an upload that failed later.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import anyio.to_thread

from backend.errors import (
    STORAGE_FULL,
    STORAGE_UNAVAILABLE,
    InsufficientStorage,
    ServiceUnavailable,
)

if TYPE_CHECKING:
    from backend.settings import Settings


@runtime_checkable
class FileStore(Protocol):
    """A flat store of immutable-ish blobs addressed by relative POSIX keys."""

    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically and durably.

        Writing the same bytes again is a no-op; different bytes replace the old ones.

        Raises:
            ValueError: the key is not a safe relative path.
        """
        ...

    async def get(self, key: str) -> bytes:
        """The bytes stored under ``key``.

        Raises:
            FileNotFoundError: nothing is stored under ``key``.
            ValueError: the key is not a safe relative path.
        """
        ...

    async def exists(self, key: str) -> bool:
        """True when something is stored under ``key``."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; no error when it is already gone."""
        ...

    def path_for(self, key: str) -> Path | None:
        """The local file behind ``key`` (to stream it), or None for remote stores."""
        ...


def validate_key(key: str) -> PurePosixPath:
    """Check that ``key`` is a plain relative POSIX path and return it parsed.

    Keys come from our own code today, but a key built from client data must never reach
    outside the store, so every store checks every key.

    Raises:
        ValueError: the key is empty, absolute, contains ``.``/``..`` or empty segments,
            a backslash or a NUL character.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("file key must be a non-empty string")
    if "\\" in key or "\x00" in key:
        raise ValueError(f"file key must not contain backslashes or NUL: {key!r}")
    if key.startswith("/"):
        raise ValueError(f"file key must be relative: {key!r}")
    segments = key.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise ValueError(f"file key must not contain empty, '.' or '..' segments: {key!r}")
    return PurePosixPath(key)


class LocalFileStore:
    """A :class:`FileStore` on the local file system, below one root folder.

    Blocking file I/O runs in a worker thread: photos are several MB and fsync can take a while
    on a busy disk, neither of which may stall the event loop.
    """

    def __init__(self, root: Path | str) -> None:
        """Create a store below ``root`` (created on the first write)."""
        self._root = Path(root)

    def __repr__(self) -> str:
        return f"LocalFileStore({str(self._root)!r})"

    @property
    def root(self) -> Path:
        """The folder all keys are relative to."""
        return self._root

    def _path(self, key: str) -> Path:
        return self._root.joinpath(*validate_key(key).parts)

    async def put(self, key: str, data: bytes) -> None:
        """See :meth:`FileStore.put`.

        Raises:
            InsufficientStorage: the disk is full or over quota (507).
            ServiceUnavailable: the folder cannot be written (read-only, no permission) (503).
        """
        path = self._path(key)
        try:
            await anyio.to_thread.run_sync(_write_atomically, path, bytes(data))
        except OSError as exc:
            raise store_failure(exc) from exc

    async def get(self, key: str) -> bytes:
        """See :meth:`FileStore.get`."""
        path = self._path(key)
        return await anyio.to_thread.run_sync(path.read_bytes)

    async def exists(self, key: str) -> bool:
        """See :meth:`FileStore.exists`."""
        path = self._path(key)
        return await anyio.to_thread.run_sync(path.is_file)

    async def delete(self, key: str) -> None:
        """See :meth:`FileStore.delete`."""
        path = self._path(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    def path_for(self, key: str) -> Path:
        """The file behind ``key``; it may not exist (check with :meth:`exists`)."""
        return self._path(key)


def store_failure(exc: OSError) -> ServiceUnavailable:
    """The API error for a write the file system refused: 507 when full, else 503."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return InsufficientStorage(STORAGE_FULL)
    return ServiceUnavailable(STORAGE_UNAVAILABLE)


class NewFiles:
    """A view of a store that remembers which keys it created, to remove them if the upload
    they belong to fails afterwards (the second file of a pair, or the database row).

    Only keys that did not exist before are removed: a key that was already there belongs to
    an earlier upload of the same bytes (keys are content-addressed) and must stay.
    """

    def __init__(self, store: FileStore) -> None:
        """Wrap ``store``."""
        self.store = store
        self.created: list[str] = []

    async def put(self, key: str, data: bytes) -> None:
        """Store like the wrapped store, remembering ``key`` when it is new."""
        existed = await self.store.exists(key)
        # Remembered before the write: a write that fails half-way is removed too.
        if not existed:
            self.created.append(key)
        await self.store.put(key, data)

    async def get(self, key: str) -> bytes:
        """See :meth:`FileStore.get`."""
        return await self.store.get(key)

    async def exists(self, key: str) -> bool:
        """See :meth:`FileStore.exists`."""
        return await self.store.exists(key)

    async def delete(self, key: str) -> None:
        """See :meth:`FileStore.delete`."""
        await self.store.delete(key)

    def path_for(self, key: str) -> Path | None:
        """See :meth:`FileStore.path_for`."""
        return self.store.path_for(key)

    async def discard(self, in_use: Callable[[str], Awaitable[bool]] | None = None) -> None:
        """Remove the keys created through this view (best effort: an orphan file is harmless,
        a retry of the same upload reuses it).

        Args:
            in_use: asked for each key; a key it says is in use (a concurrent upload of the
                same bytes has committed a row naming it) stays, and so does one it cannot
                answer for (database unreachable): a file that is kept does no harm.
        """
        for key in self.created:
            try:
                if in_use is not None and await in_use(key):
                    continue
            except Exception:  # noqa: BLE001 - unsure: keep the file
                continue
            try:
                await self.store.delete(key)
            except (OSError, ValueError):
                pass
        self.created.clear()


def _same_content(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def _write_atomically(path: Path, data: bytes) -> None:
    # Content-addressed keys make retries common: skip the write (and its fsync) when the same
    # bytes are already there. A concurrent writer of different bytes is no concern: the last
    # os.replace wins with a complete file either way.
    if _same_content(path, data):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary file lives in the target folder so that os.replace is a rename on one file
    # system (atomic), and its unique name lets concurrent writers of one key not collide.
    # mkstemp creates it 0600: evidence photos are for this service only.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms that cannot open folders (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


@lru_cache(maxsize=8)
def _local_store(root: Path) -> LocalFileStore:
    return LocalFileStore(root)


def get_file_store(settings: Settings) -> FileStore:
    """The file store configured by ``settings`` (one instance per root folder).

    Args:
        settings: the resolved settings; files go to ``settings.files_dir``.

    Returns:
        A :class:`LocalFileStore` at ``settings.files_dir``.
    """
    return _local_store(settings.files_dir)
