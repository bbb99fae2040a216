"""``yibao backup PATH``: one archive of a running embedded deployment.

Consistency while the server writes: the database is copied first, with SQLite's online backup
API in one step (one read transaction: a snapshot of one moment; in WAL mode the server's
writers go on meanwhile). The file store is copied after it. Photos and documents are written
to the store before the row naming them commits and are never changed in place, so every file
the snapshot names is already there when the store is copied; files that arrive later are
copied too, harmless orphans in the restored store.
"""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from backend.backup.manifest import DATABASE, MANIFEST, BackupError, Manifest

# Rows counted into the manifest (and printed), so that whoever restores knows what to expect.
COUNTS = {
    "inspections_submitted": "SELECT count(*) FROM inspection WHERE status = 'submitted'",
    "inspections": "SELECT count(*) FROM inspection",
    "findings": "SELECT count(*) FROM finding",
    "photos": "SELECT count(*) FROM photo",
    "rectification_notices": "SELECT count(*) FROM rectification_notice",
    "rectification_photos": "SELECT count(*) FROM rectification_attachment",
    "audit_events": "SELECT count(*) FROM audit_event",
}
# Tables whose rows name stored files (photo and thumbnail of inspections and of rectification
# answers).
FILE_TABLES = ("photo", "rectification_attachment")


@dataclass
class BackupReport:
    """What ``yibao backup`` wrote."""

    path: Path
    size: int
    manifest: Manifest


def make_backup(data_dir: Path, db_path: Path, dest: Path) -> BackupReport:
    """Write one archive of the database at ``db_path`` and every file of ``data_dir``.

    Args:
        data_dir: the deployment's data folder (YIBAO_DATA_DIR).
        db_path: its SQLite database (live; the server may be writing).
        dest: the archive to create (``.tar``, or ``.tar.gz``/``.tgz`` compressed); it must not
            exist yet. Written under a temporary name and renamed when complete.

    Raises:
        BackupError: the database is missing or unreadable, or ``dest`` exists or cannot be
            written.
    """
    dest = dest.expanduser().resolve()
    if dest.exists():
        raise BackupError(f"{dest} 已存在：请指定新的备份文件名，不会覆盖已有文件")
    if not db_path.is_file():
        raise BackupError(f"找不到数据库文件 {db_path}：请检查 YIBAO_DATA_DIR / YIBAO_DATABASE_URL")
    if not dest.parent.is_dir():
        raise BackupError(f"备份目录 {dest.parent} 不存在")
    compressed = dest.name.endswith((".gz", ".tgz"))
    manifest = Manifest(created_at=datetime.now(UTC).isoformat(timespec="seconds"))
    try:
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".yibao-backup-") as work:
            snapshot = Path(work) / DATABASE
            _snapshot_database(db_path, snapshot)
            manifest.counts = _counts(snapshot)
            referenced = _referenced_files(snapshot)
            partial = Path(work) / "archive.partial"
            # Photos are JPEG already: the fastest gzip level gains nearly all there is to gain.
            options = {"compresslevel": 1} if compressed else {}
            with tarfile.open(partial, "w:gz" if compressed else "w", **options) as tar:
                _add_file(tar, manifest, DATABASE, snapshot)
                skip = _live_database_files(db_path) | {dest}
                for name, path in _data_files(data_dir, skip, Path(work)):
                    _add_file(tar, manifest, name, path)
                manifest.warnings = _missing(referenced, manifest, db_path)
                raw = manifest.to_json()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(raw), int(datetime.now(UTC).timestamp()), 0o600
                tar.addfile(info, io.BytesIO(raw))
            # The archive holds the keys: readable by its owner only (it was written inside
            # the 0700 temporary folder, so it never was by anyone else).
            os.chmod(partial, 0o600)
            with open(partial, "rb") as done:
                os.fsync(done.fileno())
            os.replace(partial, dest)
    except sqlite3.Error as exc:
        raise BackupError(f"无法读取数据库 {db_path}：{exc}") from exc
    except OSError as exc:
        raise BackupError(f"无法写入备份文件 {dest}：{exc.strerror or exc}") from exc
    return BackupReport(path=dest, size=dest.stat().st_size, manifest=manifest)


def _snapshot_database(db_path: Path, snapshot: Path) -> None:
    source = sqlite3.connect(db_path, timeout=30)
    try:
        target = sqlite3.connect(snapshot)
        try:
            # pages=-1: the whole database in one step, i.e. one read transaction and so one
            # moment's state (a stepped copy restarts whenever the server writes in between).
            source.backup(target, pages=-1)
            # A standalone file: no -wal beside it to forget.
            target.execute("PRAGMA journal_mode=DELETE")
            check = target.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"数据库快照检查未通过：{check}")
        finally:
            target.close()
    finally:
        source.close()


def _counts(snapshot: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with closing(sqlite3.connect(snapshot)) as db:
        for name, query in COUNTS.items():
            try:
                counts[name] = int(db.execute(query).fetchone()[0])
            except sqlite3.OperationalError:  # a table an older schema lacks
                continue
    return counts


def _referenced_files(snapshot: Path) -> set[str]:
    with closing(sqlite3.connect(snapshot)) as db:
        return _referenced_files_of(db)


def _missing(referenced: set[str], manifest: Manifest, db_path: Path) -> list[str]:
    """Files the snapshot names but the store lacked, unless their row is gone from the live
    database too (a draft photo removed while the backup ran)."""
    lacking = sorted(k for k in referenced if f"files/{k}" not in manifest.files)
    if not lacking:
        return []
    with closing(sqlite3.connect(db_path, timeout=30)) as live:
        still = _referenced_files_of(live)
    return [f"文件存储中缺少 files/{key}（数据库仍引用它）" for key in lacking if key in still]


def _referenced_files_of(db: sqlite3.Connection) -> set[str]:
    keys: set[str] = set()
    for table in FILE_TABLES:
        try:
            rows = db.execute(f"SELECT storage_key, thumbnail_key FROM {table}").fetchall()
        except sqlite3.OperationalError:  # a table an older schema lacks
            continue
        keys.update(key for row in rows for key in row if key)
    return keys


def _live_database_files(db_path: Path) -> set[Path]:
    db_path = db_path.resolve()
    return {db_path, *(db_path.with_name(db_path.name + s) for s in ("-wal", "-shm", "-journal"))}


def _data_files(data_dir: Path, skip: set[Path], work: Path) -> Iterator[tuple[str, Path]]:
    """Every regular file of the data folder, as (member name, path), in a stable order."""
    data_dir = data_dir.resolve()
    if not data_dir.is_dir():
        return
    for folder, dirs, files in os.walk(data_dir):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if here / d != work and not (here / d).is_symlink())
        for name in sorted(files):
            path = here / name
            # The store's temporaries (.{name}.….tmp) are uploads in flight, not stored files.
            if path in skip or path.is_symlink() or (name.startswith(".") and name.endswith(".tmp")):
                continue
            yield path.relative_to(data_dir).as_posix(), path


class _Hashing(io.RawIOBase):
    """A reader that hashes what passes through it (one read of each file, not two)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self.digest.update(chunk)
        return chunk


def _add_file(tar: tarfile.TarFile, manifest: Manifest, name: str, path: Path) -> None:
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:  # removed since the folder was listed (a draft photo deleted)
        return
    with stream:
        stat = os.fstat(stream.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), stat.st_mode & 0o777
        hashing = _Hashing(stream)
        tar.addfile(info, hashing)  # type: ignore[arg-type]
        manifest.add(name, stat.st_size, hashing.digest.hexdigest())


__all__ = ["BackupError", "BackupReport", "make_backup"]
