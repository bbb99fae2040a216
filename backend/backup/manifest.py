"""What a backup archive holds and how its manifest is written and read.

The archive is a tar file (gzip-compressed when its name ends in ``.gz`` or ``.tgz``) whose
members are paths relative to the data folder: ``yibao.sqlite3`` (the database snapshot),
``files/…`` (the file store), the keys (``secret_key``, ``signing_key.pem``) and any other file
the data folder held, plus ``manifest.json``, written last, naming every other member with its
size and SHA-256.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

FORMAT = "yibao-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "yibao.sqlite3"  # the snapshot's name inside the archive, wherever the live file is
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot be done; the message (Chinese) says why and what to do."""


@dataclass
class Manifest:
    """The archive's table of contents: every member with its size and SHA-256."""

    created_at: str
    database: str = DATABASE
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def add(self, name: str, size: int, sha256: str) -> None:
        """Record one member."""
        self.files[name] = {"size": size, "sha256": sha256}

    def to_json(self) -> bytes:
        """The manifest as stored in the archive."""
        body = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": self.created_at,
            "database": self.database,
            "counts": self.counts,
            "warnings": self.warnings,
            "files": dict(sorted(self.files.items())),
        }
        return json.dumps(body, ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """Read a stored manifest.

        Raises:
            BackupError: not a manifest of a backup this version can restore.
        """
        try:
            body = json.loads(raw)
            if body.get("format") != FORMAT:
                raise BackupError("这不是本系统的备份文件（manifest.json 格式不符）")
            if body.get("version") != VERSION:
                raise BackupError(f"备份格式版本 {body.get('version')} 无法由本版本恢复")
            manifest = cls(created_at=str(body["created_at"]), database=str(body["database"]))
            for name, entry in body["files"].items():
                manifest.add(member_name(name), int(entry["size"]), str(entry["sha256"]))
            manifest.counts = {str(k): int(v) for k, v in body.get("counts", {}).items()}
            manifest.warnings = [str(w) for w in body.get("warnings", [])]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError(f"备份文件的 manifest.json 无法读取：{exc}") from exc
        return manifest


def member_name(name: str) -> str:
    """Check that an archive member's name is a plain relative path inside the data folder.

    Raises:
        BackupError: an absolute path, ``..``, or anything else that could land outside.
    """
    path = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or "\x00" in name
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in name.split("/"))
    ):
        raise BackupError(f"备份文件中有不安全的路径：{name!r}")
    return name
