"""Benchmark: pushing inspections, against baselines measured in the same run.

Run on demand (not part of the test suite):

    .venv/bin/python bench/sync_bench.py                       # SQLite
    .venv/bin/python bench/sync_bench.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

It starts a real ``yibao serve`` on a fresh database with the demo data, and a bare Litestar app
on the same machine, then measures with concurrent HTTP clients:

- baseline A: the bare Litestar app echoing the same JSON body (HTTP + JSON cost only);
- baseline B: inserting the same number of finding rows straight into the database (one
  transaction, executemany), without HTTP;
- POST /api/sync with one draft inspection of 44 findings per request (each a new assignment);
- the same record pushed again (the idempotent "unchanged" path, a retry after a lost answer);
- the audit chain's cost beside a push: the server runs with its background sealer off, the
  setup's events are sealed first, then ``yibao audit seal`` chains exactly the events the pushes
  wrote; its sealing time per new push is set beside the push's p50 (the MAC written with each
  event is inside the push already). On PostgreSQL the server runs 2 workers by default.

Results are printed as a Markdown table; paste them into docs/benchmarks.md with the command.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
YIBAO = str(Path(sys.executable).parent / "yibao")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


BARE_APP = textwrap.dedent(
    """
    from typing import Any
    from litestar import Litestar, post

    @post("/echo", status_code=200)
    async def echo(data: dict[str, Any]) -> dict[str, Any]:
        return {"received": len(data.get("inspections", []))}

    app = Litestar([echo])
    """
)


async def measure(client: httpx.AsyncClient, requests: list[tuple[str, dict, dict]], concurrency: int) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    queue = list(requests)

    async def worker() -> None:
        while queue:
            url, body, headers = queue.pop()
            start = time.perf_counter()
            response = await client.post(url, json=body, headers=headers)
            latencies.append(time.perf_counter() - start)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 400 and not errors:
                errors.append(response.text[:300])

    start = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "n": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "statuses": statuses,
        "error": errors[0] if errors else None,
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server to run against")
    parser.add_argument("-n", type=int, default=200, help="pushes per measurement")
    parser.add_argument("-c", type=int, default=4, help="concurrent clients")
    parser.add_argument("--workers", type=int, help="server workers (default 2 on PostgreSQL, 1 on SQLite)")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="yibao-bench-"))
    env = {**os.environ, "YIBAO_DATA_DIR": str(data_dir), "YIBAO_DEMO": "true",
           "YIBAO_LOG_LEVEL": "WARNING", "YIBAO_LOGIN_RATE_PER_MINUTE": "100000",
           # The chain is sealed by `yibao audit seal` below, so that its cost can be measured.
           "YIBAO_AUDIT_SEAL_SECONDS": "0"}
    pg_db = None
    if args.postgres:
        import asyncpg

        pg_db = f"yibao_bench_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(args.postgres)
        await conn.execute(f'CREATE DATABASE "{pg_db}"')
        await conn.close()
        env["YIBAO_DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + f"/{pg_db}"
    else:
        env.pop("YIBAO_DATABASE_URL", None)

    workers = args.workers or (2 if args.postgres else 1)
    port, bare_port = free_port(), free_port()
    server = subprocess.Popen([YIBAO, "serve", "--port", str(port), "--workers", str(workers)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    bare_dir = Path(tempfile.mkdtemp(prefix="yibao-bare-"))
    (bare_dir / "bare.py").write_text(BARE_APP)
    bare = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare:app", "--port", str(bare_port),
                             "--log-level", "warning"], cwd=bare_dir, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait(f"{base}/health", server)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.post(f"http://127.0.0.1:{bare_port}/echo", json={}, timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            from backend.demo import demo_password

            async def token(username: str) -> dict[str, str]:
                r = await client.post("/api/auth/login", json={"username": username, "password": demo_password()})
                return {"Authorization": f"Bearer {r.json()['access_token']}"}

            inspector, supervisor = await token("inspector"), await token("supervisor")
            team = [(await client.get("/api/auth/me", headers=await token(u))).json()["id"]
                    for u in ("inspector", "inspector2")]
            institutions = (await client.get("/api/institutions", params={"type": "pharmacy", "region": "371002"},
                                             headers=supervisor)).json()["items"]
            bundle = (await client.get("/api/sync/bundle", headers=inspector)).json()
            checklist = next(c for c in bundle["checklists"] if c["checklist_id"] == "pharmacy-routine")
            items = [i for s in checklist["content"]["sections"] for i in s["items"]]

            def record(assignment_id: str) -> dict:
                findings = []
                for item in items:
                    f = {"id": str(uuid.uuid4()), "item": item["id"], "result": "pass",
                         "client_updated_at": now_iso(), "client_revision": 1}
                    if item["mode"] == "sample":
                        f.update(sampled=max(10, item.get("min_sampled") or 0), failed=0)
                    findings.append(f)
                return {"id": str(uuid.uuid4()), "assignment_id": assignment_id,
                        "checklist_id": checklist["checklist_id"], "checklist_version": checklist["version"],
                        "client_updated_at": now_iso(), "findings": findings}

            assignments = []
            for i in range(args.n):
                r = await client.post("/api/assignments", headers=supervisor, json={
                    "institution_id": institutions[i % len(institutions)]["id"], "checklist_id": "pharmacy-routine",
                    "window_start": str(date.today()), "window_end": str(date.today() + timedelta(days=3)),
                    "inspector_ids": team})
                assignments.append(r.json()["id"])
            records = [record(a) for a in assignments]
            bodies = [{"device_id": "bench", "inspections": [r]} for r in records]
            size = len(json.dumps(bodies[0]))

        seal_audit(env)  # the setup's events, so that the next seal holds only the pushes'
        results = {}
        async with httpx.AsyncClient(timeout=60) as client:
            bare_requests = [(f"http://127.0.0.1:{bare_port}/echo", b, {}) for b in bodies]
            await measure(client, bare_requests[:20], args.c)  # warm-up
            results["bare Litestar echo (same body)"] = await measure(client, bare_requests, args.c)
            push_requests = [(f"{base}/api/sync", b, inspector) for b in bodies]
            results["POST /api/sync, new inspection (44 findings)"] = await measure(client, push_requests, args.c)
            results["POST /api/sync, same push again (unchanged)"] = await measure(client, push_requests, args.c)
        chain_events, chain_seconds = seal_audit(env)

        # Baseline B: the same rows straight into the database, one transaction per inspection.
        rows = [(str(uuid.uuid4()), f["item"], "pass") for r in records for f in r["findings"]]
        start = time.perf_counter()
        if args.postgres:
            import asyncpg

            conn = await asyncpg.connect(env["YIBAO_DATABASE_URL"])
            await conn.execute("CREATE TEMP TABLE bench_rows (id uuid, item text, result text)")
            for i in range(0, len(rows), len(items)):
                async with conn.transaction():
                    await conn.executemany("INSERT INTO bench_rows VALUES ($1::uuid, $2, $3)", rows[i:i + len(items)])
            await conn.close()
        else:
            db = sqlite3.connect(data_dir / "bench-raw.sqlite3")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE bench_rows (id text, item text, result text)")
            for i in range(0, len(rows), len(items)):
                with db:
                    db.executemany("INSERT INTO bench_rows VALUES (?, ?, ?)", rows[i:i + len(items)])
            db.close()
        raw_elapsed = time.perf_counter() - start
        raw_rps = args.n / raw_elapsed
    finally:
        for proc in (server, bare):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if pg_db:
            import asyncpg

            conn = await asyncpg.connect(args.postgres)
            await conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
            await conn.close()

    engine = "PostgreSQL" if args.postgres else "SQLite"
    bare_rps = results["bare Litestar echo (same body)"]["rps"]
    print(f"\n{engine}, {workers} worker(s), {args.n} requests, {args.c} concurrent clients, "
          f"body {size / 1024:.1f} KB\n")
    print("| what | req/s | p50 ms | p99 ms | vs bare echo | statuses |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        if r["error"]:
            print(f"<!-- {name}: first error {r['error']} -->")
        print(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
              f"{r['rps'] / bare_rps:.2f}× | {r['statuses']} |")
    print(f"| raw inserts of the same rows ({len(items)} per transaction, no HTTP) | {raw_rps:.0f} inspections/s "
          f"| | | {raw_rps / bare_rps:.2f}× | |")
    push_ms = results["POST /api/sync, new inspection (44 findings)"]["p50_ms"]
    per_push_ms = chain_seconds * 1000 / args.n
    print(f"| audit chain: sealing the pushes' {chain_events} events (`yibao audit seal`), per new push "
          f"| | {per_push_ms:.2f} | | {per_push_ms / push_ms:.1%} of a push's p50 | |")


def seal_audit(env: dict[str, str]) -> tuple[int, float]:
    """Run `yibao audit seal`; returns the events it chained and its sealing time (seconds)."""
    out = subprocess.run([YIBAO, "audit", "seal"], env=env, capture_output=True, text=True, check=True).stdout
    found = re.search(r"已封存 (\d+) 个事件.*用时 ([\d.]+) 秒", out)
    if not found:
        raise SystemExit(f"unexpected output of yibao audit seal: {out}")
    return int(found.group(1)), float(found.group(2))


if __name__ == "__main__":
    asyncio.run(main())
