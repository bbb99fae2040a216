"""``yibao backup`` and ``yibao restore`` refuse what they must: a non-empty data folder, an
archive altered, cut short or reaching outside the folder, PostgreSQL. Each refusal is Chinese,
exits 1 and leaves the data folder as it was."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
from contextlib import closing
from pathlib import Path

import pytest

from backend.backup.create import make_backup
from backend.backup.manifest import BackupError
from backend.backup.restore import restore_backup
from tests.cli_helpers import run_yibao


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    """A small data folder: a database in WAL mode with a photo row, its files, the keys."""
    data = tmp_path / "live"
    (data / "files" / "photos" / "ab").mkdir(parents=True)
    (data / "files" / "photos" / "ab" / "abc.jpg").write_bytes(b"\xff\xd8photo" * 100)
    (data / "files" / "photos" / "ab" / "abc.thumb.jpg").write_bytes(b"\xff\xd8thumb")
    (data / "files" / "photos" / "ab" / ".abc.jpg.123.tmp").write_bytes(b"half an upload")
    (data / "secret_key").write_text("k" * 64)
    (data / "signing_key.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    with closing(sqlite3.connect(data / "yibao.sqlite3")) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE photo (id TEXT, storage_key TEXT, thumbnail_key TEXT)")
        db.execute("INSERT INTO photo VALUES ('p1', 'photos/ab/abc.jpg', 'photos/ab/abc.thumb.jpg')")
        db.commit()
    return data


def _restore(archive: Path, target: Path) -> None:
    restore_backup(archive, target, target / "yibao.sqlite3")


def test_a_round_trip_keeps_every_file_and_row(deployment: Path, tmp_path: Path) -> None:
    report = make_backup(deployment, deployment / "yibao.sqlite3", tmp_path / "b.tar")
    assert report.manifest.counts["photos"] == 1
    assert report.path.stat().st_mode & 0o777 == 0o600  # it holds the keys
    assert report.manifest.warnings == []
    # An upload in flight is not a stored file.
    assert not any(name.endswith(".tmp") for name in report.manifest.files)
    target = tmp_path / "restored"
    _restore(report.path, target)
    for name in ("files/photos/ab/abc.jpg", "files/photos/ab/abc.thumb.jpg", "secret_key", "signing_key.pem"):
        assert (target / name).read_bytes() == (deployment / name).read_bytes(), name
    with closing(sqlite3.connect(target / "yibao.sqlite3")) as db:
        assert db.execute("SELECT id FROM photo").fetchall() == [("p1",)]
    assert not (target / "yibao.sqlite3-wal").exists()
    assert sorted(p.name for p in target.iterdir()) == ["files", "secret_key", "signing_key.pem", "yibao.sqlite3"]


def test_a_photo_the_database_names_but_the_store_lacks_is_reported(deployment: Path, tmp_path: Path) -> None:
    (deployment / "files" / "photos" / "ab" / "abc.jpg").unlink()
    report = make_backup(deployment, deployment / "yibao.sqlite3", tmp_path / "b.tar")
    assert report.manifest.warnings == ["文件存储中缺少 files/photos/ab/abc.jpg（数据库仍引用它）"]


def test_an_existing_archive_is_never_overwritten(deployment: Path, tmp_path: Path) -> None:
    (tmp_path / "b.tar").write_bytes(b"older backup")
    with pytest.raises(BackupError, match="已存在"):
        make_backup(deployment, deployment / "yibao.sqlite3", tmp_path / "b.tar")
    assert (tmp_path / "b.tar").read_bytes() == b"older backup"


def _rewrite(archive: Path, out: Path, change) -> Path:
    """A copy of ``archive`` with its members passed through ``change(name, data)``."""
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for member in src:
            data = src.extractfile(member).read()
            for name, body in change(member.name, data):
                info = tarfile.TarInfo(name)
                info.size = len(body)
                dst.addfile(info, io.BytesIO(body))
    return out


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda n, d: [(n, d.replace(b"photo", b"fotos") if n.endswith("abc.jpg") else d)], "SHA-256"),
        (lambda n, d: [] if n.endswith("abc.thumb.jpg") else [(n, d)], "缺少"),
        (lambda n, d: [] if n == "manifest.json" else [(n, d)], "manifest.json"),
        (lambda n, d: [(n, d), ("../outside.txt", b"x")] if n == "secret_key" else [(n, d)], "不安全"),
        (lambda n, d: [(n, d), ("extra.txt", b"x")] if n == "secret_key" else [(n, d)], "清单中没有"),
    ],
    ids=["altered-photo", "missing-file", "no-manifest", "path-outside", "unlisted-file"],
)
def test_an_archive_that_does_not_verify_restores_nothing(deployment, tmp_path, change, words) -> None:
    good = make_backup(deployment, deployment / "yibao.sqlite3", tmp_path / "b.tar").path
    bad = _rewrite(good, tmp_path / "bad.tar", change)
    target = tmp_path / "restored"
    with pytest.raises(BackupError, match=words):
        _restore(bad, target)
    assert not target.exists()
    assert not (tmp_path / "outside.txt").exists()


def test_a_truncated_archive_restores_nothing(deployment: Path, tmp_path: Path) -> None:
    good = make_backup(deployment, deployment / "yibao.sqlite3", tmp_path / "b.tar.gz").path
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    target = tmp_path / "restored"
    target.mkdir()
    with pytest.raises(BackupError):
        _restore(cut, target)
    assert target.is_dir() and not any(target.iterdir())  # left as found: empty


def test_the_commands_refuse_in_chinese_and_exit_1(deployment: Path, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    made = run_yibao("backup", str(archive), env={"YIBAO_DATA_DIR": str(deployment)})
    assert made.returncode == 0, made.stderr
    assert "备份完成" in made.stdout
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["files"]["secret_key"]["sha256"] == hashlib.sha256(b"k" * 64).hexdigest()

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("someone's data")
    refused = run_yibao("restore", str(archive), env={"YIBAO_DATA_DIR": str(busy)})
    assert refused.returncode == 1
    assert "不是空的" in refused.stderr
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]

    pg = {"YIBAO_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/nowhere"}
    refused = run_yibao("backup", str(tmp_path / "pg.tar"), env=pg)
    assert refused.returncode == 1
    assert "pg_dump" in refused.stderr and "docs/backup.md" in refused.stderr
    refused = run_yibao("restore", str(archive), env=pg)
    assert refused.returncode == 1
    assert "pg_restore" in refused.stderr
