"""``yibao backup PATH`` and ``yibao restore PATH``: the embedded deployment's backups.

Exit codes as every ``yibao`` command: 0 done, 1 refused (a non-empty data folder, an archive
that does not verify, PostgreSQL, files the database names missing from the store), 2 usage or
configuration error. Messages are Chinese, one line each.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PG_PROCEDURE = (
    "数据库为 PostgreSQL：yibao backup 只备份内置的 SQLite 部署。请用 pg_dump 备份数据库"
    "（pg_dump -Fc -f yibao.dump \"$YIBAO_DATABASE_URL\"），并复制文件存储 {files} 和签名密钥；"
    "恢复用 pg_restore。完整步骤见 docs/backup.md"
)


def _locations() -> tuple[Path, str]:
    """The data folder and database URL, read as :func:`backend.settings.load_settings` reads
    them but without its side effect: it writes a development secret key into the data
    folder, and a restore needs that folder empty."""
    data_dir = Path(os.environ.get("YIBAO_DATA_DIR") or "data").expanduser().resolve()
    url = os.environ.get("YIBAO_DATABASE_URL") or f"sqlite:///{data_dir / 'yibao.sqlite3'}"
    return data_dir, url


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def cmd_backup(args: argparse.Namespace) -> int:
    """Write one archive of the running (or stopped) embedded deployment."""
    from backend.backup.create import make_backup
    from backend.backup.manifest import BackupError

    data_dir, url = _locations()
    db_path = _sqlite_path(url)
    if db_path is None:
        print(PG_PROCEDURE.format(files=data_dir / "files"), file=sys.stderr)
        return 1
    try:
        report = make_backup(data_dir, db_path, Path(args.path))
    except BackupError as exc:
        print(f"备份失败：{exc}", file=sys.stderr)
        return 1
    counts = report.manifest.counts
    print(
        f"备份完成：{report.path}（{_size(report.size)}，{len(report.manifest.files)} 个文件；"
        f"已提交检查 {counts.get('inspections_submitted', 0)} 份，"
        f"检查照片 {counts.get('photos', 0)} 张，整改照片 {counts.get('rectification_photos', 0)} 张）"
    )
    for warning in report.manifest.warnings:
        print(f"警告：{warning}", file=sys.stderr)
    return 1 if report.manifest.warnings else 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Put an archive back into the empty data folder (YIBAO_DATA_DIR)."""
    from backend.backup.manifest import BackupError
    from backend.backup.restore import restore_backup

    data_dir, url = _locations()
    db_path = _sqlite_path(url)
    if db_path is None:
        print(
            "数据库为 PostgreSQL：请用 pg_restore 恢复数据库，再把文件存储复制回 YIBAO_DATA_DIR；"
            "步骤见 docs/backup.md",
            file=sys.stderr,
        )
        return 1
    try:
        report = restore_backup(Path(args.path), data_dir, db_path)
    except BackupError as exc:
        print(f"恢复失败：{exc}", file=sys.stderr)
        return 1
    counts = report.manifest.counts
    print(
        f"恢复完成：{report.files} 个文件已校验（SHA-256）并放入 {report.data_dir}；"
        f"备份时间 {report.manifest.created_at}，已提交检查 {counts.get('inspections_submitted', 0)} 份，"
        f"检查照片 {counts.get('photos', 0)} 张。启动：yibao serve"
    )
    return 0


def add_backup_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``backup`` and ``restore`` to the ``yibao`` command."""
    backup = sub.add_parser(
        "backup",
        help="one archive of the embedded deployment (SQLite database, photos, keys), "
        "consistent while the server runs",
    )
    backup.add_argument("path", help="archive to write (.tar, or .tar.gz compressed); must not exist")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser(
        "restore", help="put a backup archive back into an empty YIBAO_DATA_DIR (checks every SHA-256)"
    )
    restore.add_argument("path", help="archive written by yibao backup")
    restore.set_defaults(func=cmd_restore)
