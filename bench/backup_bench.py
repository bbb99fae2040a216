"""How fast ``yibao backup`` and ``yibao restore`` move a data folder, against copying it.

Builds a data folder of incompressible photo-sized files (``--photos`` × 430 KB, as phones send
them) and a SQLite database of filler rows (``--rows``, ~150 bytes each, the size of a finding
row with its indexes), then times in the same run:

- baseline: ``shutil.copytree`` of the folder (what the disk can do, no hashing, no archive);
- ``make_backup`` to a plain ``.tar`` and to a ``.tar.gz``;
- ``restore_backup`` of each into an empty folder (hash check, integrity check, moves).

Run: .venv/bin/python bench/backup_bench.py [--photos 400] [--rows 400000] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.backup.create import make_backup  # noqa: E402
from backend.backup.restore import restore_backup  # noqa: E402

PHOTO_BYTES = 430 * 1024


def build(data: Path, photos: int, rows: int) -> int:
    """Fill ``data``; return its size in bytes."""
    for n in range(photos):
        folder = data / "files" / "photos" / f"{n % 256:02x}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{n:08d}.jpg").write_bytes(os.urandom(PHOTO_BYTES))
    (data / "secret_key").write_text("k" * 64)
    with closing(sqlite3.connect(data / "yibao.sqlite3")) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE finding (id TEXT PRIMARY KEY, inspection TEXT, item_id TEXT, "
            "result TEXT, note TEXT)"
        )
        db.execute("CREATE INDEX finding_inspection ON finding (inspection)")
        batch = 10_000
        for start in range(0, rows, batch):
            db.executemany(
                "INSERT INTO finding VALUES (?, ?, ?, ?, ?)",
                (
                    (f"{i:032x}", f"{i // 60:032x}", f"section.item-{i % 60}", "pass", "现场核查" * 4)
                    for i in range(start, min(rows, start + batch))
                ),
            )
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in data.rglob("*") if p.is_file())


def timed(what: str, work, size: int, baseline: float | None) -> float:
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    rate = size / seconds / 1024 / 1024
    ratio = f"{baseline / seconds:.2f}×" if baseline else "1.00×"
    print(f"| {what} | {seconds:.2f} | {rate:.0f} | {ratio} |")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=400)
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="yibao-backup-bench-", dir=args.dir))
    try:
        data = root / "data"
        size = build(data, args.photos, args.rows)
        db_size = (data / "yibao.sqlite3").stat().st_size
        print(f"data folder: {size / 1024 / 1024:.0f} MB ({args.photos} photos, "
              f"database {db_size / 1024 / 1024:.0f} MB with {args.rows} rows)\n")
        print("| what | seconds | MB/s | vs copy |")
        print("|---|---|---|---|")
        base = timed("baseline: copy the folder (shutil.copytree)",
                     lambda: shutil.copytree(data, root / "copy"), size, None)
        db = data / "yibao.sqlite3"
        timed("yibao backup → .tar", lambda: make_backup(data, db, root / "b.tar"), size, base)
        timed("yibao backup → .tar.gz", lambda: make_backup(data, db, root / "b.tar.gz"), size, base)
        timed("yibao restore ← .tar", lambda: restore_backup(root / "b.tar", root / "r1", root / "r1" / "yibao.sqlite3"), size, base)
        timed("yibao restore ← .tar.gz", lambda: restore_backup(root / "b.tar.gz", root / "r2", root / "r2" / "yibao.sqlite3"), size, base)
        print(f"\narchive sizes: .tar {(root / 'b.tar').stat().st_size / 1024 / 1024:.0f} MB, "
              f".tar.gz {(root / 'b.tar.gz').stat().st_size / 1024 / 1024:.0f} MB")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
