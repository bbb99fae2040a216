"""Where a sync push's time goes: the app in this process, on SQLite, without HTTP or a server.

Run on demand:

    .venv/bin/python bench/sync_profile.py                  # a fresh data folder with the demo data
    .venv/bin/python bench/sync_profile.py --data-dir DIR   # a copy of DIR (e.g. what
                                                            # `bench/sync_bench.py --keep` left)
    .venv/bin/python bench/sync_profile.py --cprofile /tmp/push   # also /tmp/push.{draft,submit}.pstats

It prepares the same pushes as ``bench/sync_bench.py`` (60-finding hospital drafts, 62-finding
submissions with their photos and signatures uploaded first), sends them through the ASGI app with
httpx's ASGI transport (the load's client runs in the same process and is counted in its CPU), and
reports for drafts and for submissions:

- four concurrent pushes: their rate, the CPU of the process per push, and the share of the time
  the SQLite write lock is held (the app serialises its write transactions per process, so a push
  spends that time in the queue of the others);
- each statement of the write transactions, by its text: time per push on the connection's
  thread (``COMMIT`` includes the write to disk);
- with ``--cprofile``: the Python profile of the same pushes one at a time, for ``pstats``.

The figures of ``docs/benchmarks.md`` ("Third pass") on the lock, the statements and a
million-finding file against a small one were taken this way.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
YIBAO = str(Path(sys.executable).parent / "yibao")


class StatementClock:
    """Times each statement the write transactions send, by its text (on SQLite's thread)."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])

    def add(self, sql: str, seconds: float) -> None:
        entry = self.seconds[" ".join(sql.split())[:100]]
        entry[0] += 1
        entry[1] += seconds

    def report(self, pushes: int) -> None:
        total = sum(s for _, s in self.seconds.values())
        print(f"  statements of the write transactions: {1000 * total / pushes:.2f} ms a push")
        for sql, (count, seconds) in sorted(self.seconds.items(), key=lambda kv: -kv[1][1])[:12]:
            print(f"    {1000 * seconds / pushes:7.3f} ms  ×{count / pushes:4.1f}  {sql}")
        self.seconds.clear()


class _TimedConnection:
    """A sqlite3 connection whose ``execute``/``executemany`` report to a :class:`StatementClock`."""

    def __init__(self, raw: Any, clock: StatementClock) -> None:
        self._raw, self._clock = raw, clock

    def execute(self, sql: str, *args: Any) -> Any:
        start = time.perf_counter()
        cursor = self._raw.execute(sql, *args)
        rows = cursor.fetchall()
        self._clock.add(sql, time.perf_counter() - start)
        return _Fetched(rows)

    def executemany(self, sql: str, rows: Any) -> Any:
        start = time.perf_counter()
        cursor = self._raw.executemany(sql, rows)
        self._clock.add(sql, time.perf_counter() - start)
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _Fetched:
    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def fetchall(self) -> list[Any]:
        return self._rows


def instrument(clock: StatementClock) -> list[float]:
    """Time the write transactions' statements and the write lock; returns the lock's held
    seconds (a one-element list, added to as pushes run)."""
    from backend import db

    original_run = db._KeptConnectionTransaction.run

    async def timed_run(self: Any, sql: str | None, args: Any = ()) -> list[Any]:
        # aiosqlite's ``_conn`` reads ``_connection``; the writes of this transaction are the
        # only use of the kept connection meanwhile (the write lock is held).
        raw = self.connection._connection
        self.connection._connection = _TimedConnection(raw, clock)
        try:
            return await original_run(self, sql, args)
        finally:
            self.connection._connection = raw

    db._KeptConnectionTransaction.run = timed_run
    held = [0.0]

    class HeldLock:
        def __init__(self) -> None:
            self.lock = asyncio.Lock()
            self.since = 0.0

        async def __aenter__(self) -> None:
            await self.lock.acquire()
            self.since = time.perf_counter()

        async def __aexit__(self, *exc: Any) -> None:
            held[0] += time.perf_counter() - self.since
            self.lock.release()

    lock = HeldLock()
    db._lock = lambda: lock  # type: ignore[assignment]
    return held


def prepare(data_dir: Path | None) -> Path:
    """A data folder to work on: a copy of ``data_dir``, or a fresh one with the demo data."""
    work = Path(tempfile.mkdtemp(prefix="yibao-profile-"))
    if data_dir is not None:
        shutil.copytree(data_dir, work, dirs_exist_ok=True)
        return work
    env = {**os.environ, "YIBAO_DATA_DIR": str(work), "YIBAO_LOG_LEVEL": "WARNING"}
    env.pop("YIBAO_DATABASE_URL", None)
    for command in (["migrate"], ["checklists", "load", str(ROOT / "checklists")], ["demo-data"]):
        subprocess.run([YIBAO, *command], env=env, check=True, capture_output=True)
    return work


async def run(args: argparse.Namespace, work: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import httpx
    import sync_bench

    from backend.app import create_app

    logging.disable(logging.INFO)
    clock = StatementClock()
    held = instrument(clock)
    bench = sync_bench.Bench(argparse.Namespace(port=0, postgres=None))
    shutil.rmtree(bench.data_dir, ignore_errors=True)  # its own folder: this one works on ``work``
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://app") as client,
    ):
        await bench.sign_in(client)
        rounds = 2 if args.cprofile else 1
        kinds = {
            "draft": [
                bench.record(a, bench.items[: sync_bench.DRAFT_FINDINGS])
                for a in await bench.assignments(client, rounds * args.n + 5)
            ],
            "submit": [
                await bench.submission(client, a)
                for a in await bench.assignments(client, rounds * args.n + 5)
            ],
        }
        headers = {**bench.inspector, "content-type": "application/json"}

        async def push(bodies: list[bytes]) -> None:
            for body in bodies:
                response = await client.post("/api/sync", content=body, headers=headers)
                status = response.json()["results"][0]["status"]
                if response.status_code != 200 or status not in ("accepted", "merged"):
                    raise SystemExit(f"unexpected answer: {response.text[:300]}")

        for kind, records in kinds.items():
            bodies = [
                json.dumps({"device_id": "profile", "inspections": [r]}).encode() for r in records
            ]
            await push(bodies[:5])  # warm: caches filled, statements prepared
            measured = bodies[5 : 5 + args.n]
            clock.seconds.clear()
            held[0] = 0.0
            wall, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(push(measured[k::4]) for k in range(4)))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"{kind}: {args.n / wall:.0f} pushes/s with 4 concurrent, CPU {1000 * cpu / args.n:.2f} ms "
                f"a push, the write lock held {100 * held[0] / wall:.0f} % of the time "
                f"({1000 * held[0] / args.n:.2f} ms a push)"
            )
            clock.report(args.n)
            if args.cprofile:
                profile = cProfile.Profile()
                profile.enable()
                await push(bodies[5 + args.n :])
                profile.disable()
                profile.dump_stats(f"{args.cprofile}.{kind}.pstats")
                print(
                    f"  profile of {len(bodies) - 5 - args.n} pushes one at a time: {args.cprofile}.{kind}.pstats"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data-dir", type=Path, help="a data folder to copy (default: a fresh one)"
    )
    parser.add_argument("-n", type=int, default=300, help="pushes measured of each kind")
    parser.add_argument(
        "--cprofile", help="also write cProfile stats to PREFIX.{draft,submit}.pstats"
    )
    args = parser.parse_args()
    work = prepare(args.data_dir)
    os.environ.update(
        YIBAO_DATA_DIR=str(work),
        YIBAO_LOG_LEVEL="WARNING",
        YIBAO_LOGIN_RATE_PER_MINUTE="100000",
        YIBAO_AUDIT_SEAL_SECONDS="0",
    )
    os.environ.pop("YIBAO_DATABASE_URL", None)
    try:
        asyncio.run(run(args, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
