"""``yibao restore PATH``: put a backup back into an empty data folder.

Nothing is left half-restored: the archive is unpacked into a temporary folder inside the data
folder, every file is checked against the manifest's size and SHA-256 and the database against
SQLite's integrity check, and only then are the files moved into place. A data folder that holds
anything already is refused, so a restore never mixes two deployments nor overwrites one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tarfile
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from backend.backup.manifest import (
    CHUNK,
    DATABASE,
    MANIFEST,
    BackupError,
    Manifest,
    member_name,
)

MAX_MANIFEST_BYTES = 256 * 1024 * 1024


@dataclass
class RestoreReport:
    """What ``yibao restore`` put back."""

    data_dir: Path
    db_path: Path
    files: int
    manifest: Manifest


def restore_backup(archive: Path, data_dir: Path, db_path: Path) -> RestoreReport:
    """Unpack ``archive`` into the empty ``data_dir``, its database to ``db_path``.

    Args:
        archive: a file written by :func:`backend.backup.create.make_backup`.
        data_dir: the data folder to fill; it must be missing or empty.
        db_path: where the database goes (``{data_dir}/yibao.sqlite3`` by default); must not
            exist.

    Raises:
        BackupError: the folder is not empty, the archive is unreadable, incomplete, altered or
            holds an unsafe path; nothing is left in ``data_dir`` then.
    """
    archive = archive.expanduser().resolve()
    data_dir = data_dir.expanduser().resolve()
    db_path = db_path.expanduser().resolve()
    if not archive.is_file():
        raise BackupError(f"找不到备份文件 {archive}")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"数据目录 {data_dir} 不是空的：只能恢复到空目录，请指定新的 YIBAO_DATA_DIR")
    if db_path.exists():
        raise BackupError(f"数据库文件 {db_path} 已存在：只能恢复到空目录")
    created = not data_dir.exists()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(dir=data_dir, prefix=".restore-") as work:
            staging = Path(work)
            manifest = _unpack(archive, staging)
            _check_database(staging / DATABASE)
            count = _move_into_place(staging, manifest, data_dir, db_path)
    except BaseException:
        db_path.unlink(missing_ok=True)  # it did not exist before (checked above)
        _empty(data_dir, remove=created)
        raise
    return RestoreReport(data_dir=data_dir, db_path=db_path, files=count, manifest=manifest)


def _unpack(archive: Path, staging: Path) -> Manifest:
    """Write every member under ``staging``, checked against the manifest."""
    found: dict[str, tuple[int, str]] = {}
    manifest: Manifest | None = None
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                name = member_name(member.name)
                if not member.isfile():
                    raise BackupError(f"备份文件中有不是普通文件的条目：{name}")
                stream = tar.extractfile(member)
                if stream is None:  # pragma: no cover - regular files always have a stream
                    raise BackupError(f"备份文件中的 {name} 无法读取")
                if name == MANIFEST:
                    if member.size > MAX_MANIFEST_BYTES:
                        raise BackupError("备份文件的 manifest.json 过大")
                    manifest = Manifest.from_json(stream.read())
                    continue
                if name in found:
                    raise BackupError(f"备份文件中 {name} 出现了两次")
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "xb") as out:
                    found[name] = _copy_hashing(stream, out)
                os.chmod(target, member.mode & 0o700 or 0o600)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"备份文件 {archive} 已损坏或不完整：{exc}") from exc
    if manifest is None:
        raise BackupError("备份文件不完整：缺少 manifest.json（备份可能在写入时中断）")
    _compare(manifest, found)
    return manifest


def _copy_hashing(stream: BinaryIO, out: BinaryIO) -> tuple[int, str]:
    """Copy ``stream`` to ``out``; the size and SHA-256 of what was copied."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        out.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _compare(manifest: Manifest, found: dict[str, tuple[int, str]]) -> None:
    problems: list[str] = []
    for name, entry in sorted(manifest.files.items()):
        if name not in found:
            problems.append(f"缺少 {name}")
        elif found[name] != (entry["size"], entry["sha256"]):
            problems.append(f"{name} 的内容与清单不符（SHA-256 不同）")
    problems += [f"清单中没有 {name}" for name in sorted(set(found) - set(manifest.files))]
    if DATABASE not in found:
        problems.append(f"缺少数据库 {DATABASE}")
    if problems:
        shown = "；".join(problems[:10]) + ("……" if len(problems) > 10 else "")
        raise BackupError(f"备份文件校验失败（{len(problems)} 处）：{shown}")


def _check_database(path: Path) -> None:
    try:
        with closing(sqlite3.connect(path)) as db:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as exc:
        raise BackupError(f"备份中的数据库无法打开：{exc}") from exc
    if result != "ok":
        raise BackupError(f"备份中的数据库完整性检查未通过：{result}")


def _move_into_place(staging: Path, manifest: Manifest, data_dir: Path, db_path: Path) -> int:
    """Rename the checked files into the data folder (same file system: no second copy)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(staging / DATABASE, db_path)
    count = 1
    for name in sorted(manifest.files):
        if name == DATABASE:
            continue
        target = data_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, target)
        count += 1
    return count


def _empty(data_dir: Path, *, remove: bool) -> None:
    """Undo a failed restore: the folder is left as it was found (empty, or absent)."""
    for child in data_dir.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    if remove:
        data_dir.rmdir()
