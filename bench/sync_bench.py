"""Benchmark: pushing inspections, against the limit measured in the same run.

Every id the bench makes (inspections, findings, photos, the raw rows' copies) is a UUID version 7,
as the tablets and the server make them (``backend/ids.py``, ``pwa/js/views/model.js``).

Run on demand (not part of the test suite), one command per engine:

    .venv/bin/python bench/sync_bench.py                       # SQLite
    .venv/bin/python bench/sync_bench.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

It starts a real ``yibao serve`` (one worker) on a fresh database with the demo data, and a bare
Litestar app on the same machine, then measures with concurrent HTTP clients:

- the pushes: one hospital inspection per request (each for its own assignment), with a realistic
  mix (mostly 符合, some 不符合 with counts, amounts, notes and photos, a few 不适用):
  a draft of 60 findings (a new inspection), the same draft again (the idempotent "unchanged"
  path a retry takes) and a submission of the whole checklist (62 findings, with signatures and
  photos: scoring, the rectification notice and the sealed record in the same transaction);
- the limit of each push: the bare Litestar app echoing the same JSON body (HTTP + JSON only)
  plus the same rows (the inspection, its findings, their history rows and the push's audit
  events, copied from what the push stored; for a submission also its notice with its number,
  tasks and their timeline events, the sealed record and the tallies, which the app's own tally
  statements add up; the narrower limit without them is printed beside) written straight into
  the same tables with
  ``sqlite3`` / ``asyncpg``, one transaction per push, with the app's durability settings
  (SQLite: WAL and the default ``synchronous``; PostgreSQL: the default commit), the best of
  three rounds (the database's own noise only inflates the limit). The ratio is
  the push's cost (1 / its rate) over the limit's (1 / echo rate + 1 / raw rate);
- the audit chain's cost beside a push: the server runs with its background sealer off, the
  setup's events are sealed first, then ``yibao audit seal`` chains exactly the events the pushes
  wrote; its time per push that wrote is set beside the push's cost;
- the curve: the draft push rate with 0, 250,000, 500,000 and 1,000,000 findings stored (loaded
  raw, with their history rows, in inspections of other assignments, with ids of the year before;
  each point after the load's maintenance, its pages flushed to disk, and 50 unmeasured pushes);
- on PostgreSQL, 16 concurrent tablets against ``yibao serve --workers 2``: p50 and p95, both
  as fast as the server answers (each tablet pushes again the moment it has its answer: the
  server's saturation) and at a tablet's pace (each pushes a new draft every second).

Requests go over keep-alive connections with their bytes encoded in advance (``LeanConnection``),
so that the load generator, which shares the machine, takes little of it.

Results are printed as Markdown; paste them into docs/benchmarks.md with the command.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import os
import random
import re
import shutil
import signal
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
from typing import Any

import httpx

from backend.ids import uuid7

ROOT = Path(__file__).resolve().parent.parent
YIBAO = str(Path(sys.executable).parent / "yibao")
DRAFT_FINDINGS = 60
CURVE = (0, 250_000, 500_000, 1_000_000)
CURVE_WARM = 50  # unmeasured draft pushes before each point of the curve

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


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


class LeanConnection:
    """One keep-alive HTTP/1.1 connection over asyncio streams, sending requests encoded in
    advance: the load generator's own work per request stays far below the server's (httpx
    spends about as much CPU on a request as the bare echo app does, on the same two cores)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    @staticmethod
    def encode(url: str, body: dict, headers: dict) -> bytes:
        parts = httpx.URL(url)
        data = json.dumps(body).encode()
        head = [f"POST {parts.raw_path.decode()} HTTP/1.1", f"Host: {parts.host}:{parts.port}",
                "Content-Type: application/json", f"Content-Length: {len(data)}",
                *(f"{k}: {v}" for k, v in headers.items())]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + data

    async def send(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if "content-length" in fields:
            body = await self.reader.readexactly(int(fields["content-length"]))
        else:  # chunked
            chunks = []
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            await self.reader.readuntil(b"\r\n")
            body = b"".join(chunks)
        if fields.get("connection", "").lower() == "close":
            self.writer.close()
            self.writer = None
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def measure(client: httpx.AsyncClient | None, requests: list[tuple[str, dict, dict]], concurrency: int,
                  pace_s: float | None = None) -> dict:
    """Send ``requests`` over ``concurrency`` keep-alive connections: each sends its next request
    when its last is answered, or, with ``pace_s``, every ``pace_s`` seconds (a tablet that pushes
    at that pace; a late answer delays only its own next push). ``client`` is not used (kept for
    the callers' form)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    answers: list[bytes] = []
    host_port = httpx.URL(requests[0][0])
    encoded = [LeanConnection.encode(url, body, headers) for url, body, headers in requests]
    queue = list(reversed(encoded))

    async def worker(k: int) -> None:
        connection = LeanConnection(host_port.host, host_port.port or 80)
        if pace_s:
            await asyncio.sleep(pace_s * k / concurrency)  # the tablets' pushes spread out
        try:
            while queue:
                request = queue.pop()
                start = time.perf_counter()
                status, body = await connection.send(request)
                took = time.perf_counter() - start
                latencies.append(took)
                statuses[status] = statuses.get(status, 0) + 1
                if status >= 400 or b'"rejected"' in body:
                    answers.append(body)
                if pace_s:
                    await asyncio.sleep(max(0.0, pace_s - took))
        finally:
            connection.close()

    start = time.perf_counter()
    await asyncio.gather(*[worker(k) for k in range(concurrency)])
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "n": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        "statuses": statuses,
        "error": answers[0][:300].decode(errors="replace") if answers else None,
    }


def now_iso(offset_s: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=offset_s)).isoformat()


def image_bytes(kind: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    if kind == "signature":
        image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
        for x in range(50, 550):
            image.putpixel((x, 100 + x % 40), (0, 0, 0, 255))
        image.save(buffer, "PNG")
    else:
        Image.new("RGB", (640, 480), (120, 160, 90)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


NOTES = ["现场查看收费公示，价格与系统一致", "抽查住院病历，医嘱与收费清单相符", "科室负责人陪同检查",
         "已查看监控记录", "未发现串换项目收费"]
FAIL_NOTES = ["抽查病历中发现重复收费，已拍照留存", "部分药品未按规定公示价格", "检查当日该项资料未能提供"]


def hospital_answers(items: list[dict], rng: random.Random, photos: dict[str, str] | None) -> list[dict]:
    """Answers for the given items: about 85 % 符合 (a third with a note), 10 % 不符合 with
    counts, an amount where the item carries one and a note, 5 % 不适用. Items whose failing needs
    a photo fail only when ``photos`` supplies one for them (submissions)."""
    findings = []
    for item in items:
        roll = rng.random()
        needs_photo_to_fail = item.get("evidence") in ("photo_on_fail", "photo_always")
        result = "pass"
        if roll < 0.10 and (not needs_photo_to_fail or (photos and item["id"] in photos)):
            result = "fail"
        elif roll > 0.95 and item.get("evidence") != "photo_always":
            result = "na"
        f: dict[str, Any] = {"id": str(uuid7()), "item": item["id"], "result": result,
                             "client_updated_at": now_iso(-rng.randint(60, 3600)), "client_revision": rng.randint(1, 4)}
        if result != "na":
            if item["mode"] == "sample":
                sampled = max(10, item.get("min_sampled") or 0)
                f.update(sampled=sampled, failed=0 if result == "pass" else rng.randint(1, 3))
            elif item["mode"] == "deduct" and result == "fail":
                f["occurrences"] = rng.randint(1, 4)
        if result == "fail":
            f["note"] = rng.choice(FAIL_NOTES)
            if item.get("monetary"):
                f["amount"] = f"{rng.randint(100, 90000)}.{rng.randint(0, 99):02d}"
        elif rng.random() < 0.33:
            f["note"] = rng.choice(NOTES)
        if photos and item["id"] in photos and result != "na":
            f["photo_ids"] = [photos[item["id"]]]
        findings.append(f)
    return findings


# --- raw access to the bench database (the limit, and the stored findings of the curve) ------


class RawDb:
    """The same tables the app writes, reached straight through sqlite3 or asyncpg."""

    def __init__(self, sqlite_path: Path | None, pg_url: str | None) -> None:
        self.sqlite_path, self.pg_url = sqlite_path, pg_url
        self.db: Any = None

    async def open(self) -> None:
        if self.pg_url:
            import asyncpg

            self.db = await asyncpg.connect(self.pg_url)
        else:
            self.db = sqlite3.connect(self.sqlite_path, isolation_level=None, timeout=60)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")  # as the app (synchronous left at its default)

    async def close(self) -> None:
        if self.pg_url:
            await self.db.close()
        else:
            self.db.close()

    async def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        if self.pg_url:
            return [dict(r) for r in await self.db.fetch(sql, *args)]
        return [dict(r) for r in self.db.execute(sql.replace("$1", "?"), args).fetchall()]

    async def count(self, table: str) -> int:
        return (await self.rows(f"SELECT count(*) AS n FROM {table}"))[0]["n"]

    def _insert_sql(self, table: str, columns: list[str]) -> str:
        marks = ", ".join(f"${i + 1}" if self.pg_url else "?" for i in range(len(columns)))
        return f'INSERT INTO {table} ({", ".join(columns)}) VALUES ({marks})'

    async def transaction(self, writes: list[tuple[str, list[str], list[tuple]]]) -> None:
        """Several multi-row inserts (and statements without rows) in one transaction."""
        if self.pg_url:
            async with self.db.transaction():
                for table, columns, rows in writes:
                    if columns:
                        await self.db.executemany(self._insert_sql(table, columns), rows)
                    else:
                        await self.db.execute(table, *rows[0])
        else:
            self.db.execute("BEGIN IMMEDIATE")
            for table, columns, rows in writes:
                if columns:
                    self.db.executemany(self._insert_sql(table, columns), rows)
                else:
                    self.db.execute(re.sub(r"\$\d+", "?", table), rows[0])
            self.db.execute("COMMIT")

    async def bulk(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        """A large load: COPY on PostgreSQL, executemany in one transaction on SQLite."""
        if self.pg_url:
            await self.db.copy_records_to_table(table, records=rows, columns=columns)
        else:
            self.db.execute("BEGIN")
            self.db.executemany(self._insert_sql(table, columns), rows)
            self.db.execute("COMMIT")


class Template:
    """The rows one stored push wrote, to be copied for new inspections of new assignments.

    For a submission (``with_submission``) also what submitting wrote besides: the notice and
    its number (the counter), its tasks and their timeline events, the sealed record and the
    看板 tallies (the app's own four tally statements, run raw on the copied rows)."""

    def __init__(self, raw: RawDb, inspection: dict, assignment: dict, findings: list[dict],
                 revisions: list[dict], events: list[dict]) -> None:
        self.raw, self.inspection, self.assignment = raw, inspection, assignment
        self.findings, self.revisions, self.events = findings, revisions, events
        self.notice: dict | None = None
        self.tasks: list[dict] = []
        self.task_events: list[dict] = []
        self.seals: list[dict] = []
        self.tally_sql: list[str] = []
        self.copies = 0
        # Set while loading the stored past: the ids' millisecond, one later per id.
        self.at_ms: int | None = None

    @classmethod
    async def of(cls, raw: RawDb, inspection_id: str, events_per_push: int,
                 tally_sql: list[str] | None = None) -> Template:
        key: Any = uuid.UUID(inspection_id) if raw.pg_url else inspection_id
        inspection = (await raw.rows("SELECT * FROM inspection WHERE id = $1", key))[0]
        assignment = (await raw.rows("SELECT * FROM assignment WHERE id = $1", inspection["assignment"]))[0]
        findings = await raw.rows("SELECT * FROM finding WHERE inspection = $1", key)
        revisions = await raw.rows("SELECT * FROM finding_revision WHERE inspection = $1", key)
        for r in revisions:
            r.pop("id")
        events = await raw.rows("SELECT * FROM audit_event ORDER BY id DESC LIMIT " + str(max(events_per_push, 1)))
        for e in events:
            for column in ("id", "seq", "prev_hash", "hash"):
                e.pop(column, None)
        template = cls(raw, inspection, assignment, findings, revisions, events)
        if tally_sql is not None:
            await template._submission_rows(key, tally_sql)
        return template

    async def _submission_rows(self, key: Any, tally_sql: list[str]) -> None:
        notices = await self.raw.rows("SELECT * FROM rectification_notice WHERE inspection = $1", key)
        self.notice = notices[0] if notices else None
        if self.notice:
            self.tasks = await self.raw.rows("SELECT * FROM rectification_task WHERE notice = $1", self.notice["id"])
            self.task_events = await self.raw.rows("SELECT * FROM rectification_event WHERE notice = $1",
                                                   self.notice["id"])
            for e in self.task_events:
                e.pop("id")
        self.seals = await self.raw.rows("SELECT * FROM record_seal WHERE inspection = $1", key)
        for seal in self.seals:
            seal.pop("id")
        self.tally_sql = tally_sql

    def _id(self) -> Any:
        """A new id as a tablet or the server makes it (UUID version 7, ``backend/ids.py``)."""
        if self.at_ms is not None:
            self.at_ms += 1
        made = uuid7(self.at_ms)
        return made if self.raw.pg_url else str(made)

    def assignments(self, count: int) -> list[dict]:
        return [{**self.assignment, "id": self._id(), "status": "in_progress"} for _ in range(count)]

    def inspection_rows(self, assignment: dict) -> tuple[dict, list[dict], list[dict], list[dict]]:
        inspection = {**self.inspection, "id": self._id(), "assignment": assignment["id"]}
        findings = [{**f, "id": self._id(), "inspection": inspection["id"]} for f in self.findings]
        revisions = [{**r, "inspection": inspection["id"], "finding_id": f["id"]}
                     for r, f in zip(self.revisions, findings, strict=False)]
        events = [{**e, "entity_id": str(inspection["id"])} for e in self.events]
        return inspection, findings, revisions, events

    def submission_writes(self, inspection: dict, findings: list[dict]) -> list[tuple[str, list[str], list[tuple]]]:
        """What submitting ``inspection`` writes besides its own rows, as :meth:`RawDb.transaction`
        takes them (nothing for a draft's template)."""
        writes: list[tuple[str, list[str], list[tuple]]] = []
        if self.notice:
            self.copies += 1
            notice = {**self.notice, "id": self._id(), "inspection": inspection["id"],
                      "verify_nonce": uuid.uuid4().hex}
            if notice["number"]:  # numbers are unique: a copy takes a number of its own
                notice.update(seq=1_000_000 + self.copies, number=f"{notice['number']}-{self.copies}")
                writes.append(("UPDATE rectification_counter SET last = last + 1 WHERE office = $1 AND year = $2",
                               [], [(notice["office"], notice["year"])]))
            finding_by_item = {f["item_id"]: f["id"] for f in findings}
            tasks = [{**t, "id": self._id(), "notice": notice["id"], "finding": finding_by_item[t["item_id"]]}
                     for t in self.tasks]
            task_ids = {old["id"]: new["id"] for old, new in zip(self.tasks, tasks, strict=True)}
            events = [{**e, "notice": notice["id"], "task": task_ids.get(e["task"])} for e in self.task_events]
            writes += [("rectification_notice", *table_rows([notice]))]
            writes += [("rectification_task", *table_rows(tasks))] if tasks else []
            writes += [("rectification_event", *table_rows(events))] if events else []
        if self.seals:
            writes.append(("record_seal", *table_rows([{**s, "inspection": inspection["id"]} for s in self.seals])))
        writes += [(sql, [], [(inspection["id"],)]) for sql in self.tally_sql]
        return writes


def table_rows(rows: list[dict]) -> tuple[list[str], list[tuple]]:
    columns = list(rows[0])
    return columns, [tuple(r[c] for c in columns) for r in rows]


async def raw_pushes(template: Template, count: int, rounds: int = 3, full: bool = True) -> float:
    """Write ``count`` pushes' rows straight into the tables, one transaction each, in
    ``rounds`` rounds; pushes/s of the best round (the limit: what the database can do).
    ``full=False`` leaves out what a submission writes besides the inspection's own rows."""
    per_round = max(1, count // rounds)
    return max([await _raw_round(template, per_round, full) for _ in range(rounds)])


async def _raw_round(template: Template, count: int, full: bool) -> float:
    raw = template.raw
    assignments = template.assignments(count)
    await raw.bulk("assignment", *table_rows(assignments))
    start = time.perf_counter()
    for assignment in assignments:
        inspection, findings, revisions, events = template.inspection_rows(assignment)
        await raw.transaction([
            ("inspection", *table_rows([inspection])),
            ("finding", *table_rows(findings)),
            ("finding_revision", *table_rows(revisions)),
            ("audit_event", *table_rows(events)),
            ("UPDATE assignment SET status = $1 WHERE id = $2", [], [("in_progress", assignment["id"])]),
            *(template.submission_writes(inspection, findings) if full else []),
        ])
    return count / (time.perf_counter() - start)


async def preload(template: Template, findings_wanted: int) -> None:
    """Store ``findings_wanted`` more findings (with their history rows) raw, in inspections of
    new assignments, in chunks."""
    per = len(template.findings)
    inspections = findings_wanted // per
    # Rows of the past: their ids were made before the ones being measured, as a year of
    # inspections would have made them.
    template.at_ms = time.time_ns() // 1_000_000 - 365 * 86_400_000
    for start in range(0, inspections, 2000):
        assignments = template.assignments(min(2000, inspections - start))
        rows = [template.inspection_rows(a) for a in assignments]
        await template.raw.bulk("assignment", *table_rows(assignments))
        await template.raw.bulk("inspection", *table_rows([r[0] for r in rows]))
        await template.raw.bulk("finding", *table_rows([f for r in rows for f in r[1]]))
        await template.raw.bulk("finding_revision", *table_rows([v for r in rows for v in r[2]]))
    template.at_ms = None
    await analyze(template.raw)


async def analyze(raw: RawDb) -> None:
    """Fresh planner statistics and the bulk load's maintenance done (what autovacuum and the
    checkpointer do in time), so that every point of the curve is measured in a steady state
    rather than while the database digests a million rows loaded in a minute."""
    if raw.pg_url:
        await raw.db.execute("VACUUM ANALYZE")
        await raw.db.execute("CHECKPOINT")
    else:
        raw.db.execute("ANALYZE")
        raw.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # The load's pages written out now, not by the kernel during the next measurement.
    os.sync()


# --- the run -----------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.data_dir = Path(tempfile.mkdtemp(prefix="yibao-bench-"))
        self.env = {**os.environ, "YIBAO_DATA_DIR": str(self.data_dir), "YIBAO_DEMO": "true",
                    "YIBAO_LOG_LEVEL": "WARNING", "YIBAO_LOGIN_RATE_PER_MINUTE": "100000",
                    # The chain is sealed by `yibao audit seal` below, so that its cost can be measured.
                    "YIBAO_AUDIT_SEAL_SECONDS": "0"}
        self.env.pop("YIBAO_DATABASE_URL", None)
        self.pg_db: str | None = None
        self.server: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{args.port}"
        self.rng = random.Random(2026)

    def start_server(self, workers: int) -> None:
        if self.server:
            stop(self.server)
        self.server = subprocess.Popen(
            [YIBAO, "serve", "--port", str(self.args.port), "--workers", str(workers)], env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        wait(f"{self.base}/health", self.server)

    async def login(self, client: httpx.AsyncClient, username: str) -> dict[str, str]:
        from backend.demo import demo_password

        r = await client.post("/api/auth/login", json={"username": username, "password": demo_password()})
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def sign_in(self, client: httpx.AsyncClient) -> None:
        """What the pushes need of the demo data: the team's logins, the hospitals, the hospital
        checklist and its items, and the images uploaded as photos and signatures."""
        self.images = (image_bytes("photo"), image_bytes("signature"))
        self.inspector, self.supervisor = await self.login(client, "inspector"), await self.login(client, "supervisor")
        self.team = [(await client.get("/api/auth/me", headers=await self.login(client, u))).json()["id"]
                     for u in ("inspector", "inspector2")]
        self.hospitals = (await client.get("/api/institutions", params={"type": "hospital", "region": "371002"},
                                           headers=self.supervisor)).json()["items"]
        bundle = (await client.get("/api/sync/bundle", headers=self.inspector)).json()
        self.checklist = max((c for c in bundle["checklists"] if c["checklist_id"] == "hospital-routine"),
                             key=lambda c: c["version"])
        self.items = [i for s in self.checklist["content"]["sections"] for i in s["items"]]

    async def assignments(self, client: httpx.AsyncClient, count: int) -> list[str]:
        made = []
        for i in range(count):
            r = await client.post("/api/assignments", headers=self.supervisor, json={
                "institution_id": self.hospitals[i % len(self.hospitals)]["id"], "checklist_id": "hospital-routine",
                "window_start": str(date.today()), "window_end": str(date.today() + timedelta(days=3)),
                "inspector_ids": self.team})
            assert r.status_code == 201, r.text
            made.append(r.json()["id"])
        return made

    def record(self, assignment_id: str, items: list[dict], *, submit: bool = False,
               photos: dict[str, str] | None = None, signatures: list[dict] | None = None,
               inspection_id: str | None = None) -> dict:
        rec = {"id": inspection_id or str(uuid7()), "assignment_id": assignment_id,
               "checklist_id": self.checklist["checklist_id"], "checklist_version": self.checklist["version"],
               "checklist_hash": self.checklist["content_hash"], "client_revision": 2,
               "client_updated_at": now_iso(), "started_at": now_iso(-7200),
               "findings": hospital_answers(items, self.rng, photos), "submit": submit}
        if signatures is not None:
            rec.update(representative_name="刘院长", signatures=signatures)
        return rec

    async def upload(self, client: httpx.AsyncClient, assignment_id: str, inspection_id: str, data: bytes,
                     **fields: str) -> str:
        photo_id = str(uuid7())
        form = {"id": photo_id, "sha256": hashlib.sha256(data).hexdigest(), "assignment_id": assignment_id,
                "inspection_id": inspection_id, **fields}
        name = "sig.png" if fields.get("kind") == "signature" else "photo.jpg"
        r = await client.post("/api/photos", data=form, files={"file": (name, data, "application/octet-stream")},
                              headers=self.inspector)
        assert r.status_code == 201, r.text
        return photo_id

    async def submission(self, client: httpx.AsyncClient, assignment_id: str) -> dict:
        """A whole inspection, submitted: photos of the items that need one (and of two failed
        items), the representative's and two inspectors' signatures, uploaded first."""
        inspection_id = str(uuid7())
        jpeg, png = self.images
        needing = [i for i in self.items if i.get("evidence") == "photo_always"]
        on_fail = [i for i in self.items if i.get("evidence") == "photo_on_fail"]
        photos = {}
        for item in needing + self.rng.sample(on_fail, 2):
            photos[item["id"]] = await self.upload(client, assignment_id, inspection_id, jpeg,
                                                   kind="evidence", item_id=item["id"])
        signatures = [{"photo_id": await self.upload(client, assignment_id, inspection_id, png, kind="signature",
                                                     signer="representative"),
                       "signer": "representative", "name": "刘院长"}]
        for uid, name in zip(self.team, ("检查员甲", "检查员乙"), strict=True):
            signatures.append({"photo_id": await self.upload(client, assignment_id, inspection_id, png,
                                                             kind="signature", signer="inspector"),
                               "signer": "inspector", "name": name, "user_id": uid})
        return self.record(assignment_id, self.items, submit=True, photos=photos, signatures=signatures,
                           inspection_id=inspection_id)

    def tally_sql(self) -> list[str]:
        """The app's statements adding a submitted inspection to the 看板 tallies (``$1``: its
        id), for this engine: the raw limit of a submission runs them too."""
        out = subprocess.run(
            [sys.executable, "-c", "import json; from backend.tracking.tally import _submission_sql; "
             "print(json.dumps(_submission_sql()))"],
            env=self.env, capture_output=True, text=True, check=True, cwd=ROOT).stdout
        return json.loads(out)

    def seal_audit(self) -> tuple[int, float]:
        """Run `yibao audit seal`; returns the events it chained and its sealing time (seconds)."""
        out = subprocess.run([YIBAO, "audit", "seal"], env=self.env, capture_output=True, text=True,
                             check=True).stdout
        found = re.search(r"已封存 (\d+) 个事件.*用时 ([\d.]+) 秒", out)
        if not found:
            raise SystemExit(f"unexpected output of yibao audit seal: {out}")
        return int(found.group(1)), float(found.group(2))

    async def run(self) -> None:
        args = self.args
        if args.postgres:
            import asyncpg

            self.pg_db = f"bench_sync_{uuid.uuid4().hex[:8]}"
            conn = await asyncpg.connect(args.postgres)
            await conn.execute(f'CREATE DATABASE "{self.pg_db}"')
            await conn.close()
            self.env["YIBAO_DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + f"/{self.pg_db}"
        self.raw = RawDb(self.data_dir / "yibao.sqlite3", self.env.get("YIBAO_DATABASE_URL"))
        bare_dir = Path(tempfile.mkdtemp(prefix="yibao-bare-"))
        (bare_dir / "bare.py").write_text(BARE_APP)
        bare = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare:app", "--port", str(args.port + 1),
                                 "--log-level", "warning"], cwd=bare_dir, start_new_session=True)
        echo_url = f"http://127.0.0.1:{args.port + 1}/echo"
        try:
            self.start_server(1)
            await self._run(echo_url)
        finally:
            for proc in (self.server, bare):
                if proc:
                    stop(proc)
            if self.raw.db is not None:
                await self.raw.close()
            if self.pg_db:
                import asyncpg

                conn = await asyncpg.connect(args.postgres)
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)')
                await conn.close()
            shutil.rmtree(bare_dir, ignore_errors=True)
            if args.keep:
                print(f"the data folder is kept: {self.data_dir}", file=sys.stderr)
            else:
                shutil.rmtree(self.data_dir, ignore_errors=True)

    async def _run(self, echo_url: str) -> None:
        args = self.args
        n, c = args.n, args.c
        curve = [] if args.no_curve else list(CURVE)
        async with httpx.AsyncClient(base_url=self.base, timeout=120) as client:
            await self.sign_in(client)
            drafts = [self.record(a, self.items[:DRAFT_FINDINGS]) for a in await self.assignments(client, n)]
            submissions = [await self.submission(client, a) for a in await self.assignments(client, args.n_submit)]
            curve_drafts = [self.record(a, self.items[:DRAFT_FINDINGS])
                            for a in await self.assignments(client, args.n_curve * len(curve))]
            # Pushed, unmeasured, before each point of the curve, as a raw round is best of three.
            curve_warm = [self.record(a, self.items[:DRAFT_FINDINGS])
                          for a in await self.assignments(client, CURVE_WARM * len(curve))]
            crowd = [self.record(a, self.items[:DRAFT_FINDINGS])
                     for a in await self.assignments(client, args.n_crowd if args.postgres else 0)]
            paced = [self.record(a, self.items[:DRAFT_FINDINGS])
                     for a in await self.assignments(client, args.n_crowd if args.postgres else 0)]

        def bodies(records: list[dict]) -> list[dict]:
            return [{"device_id": "bench-tablet", "inspections": [r]} for r in records]

        def posts(url: str, records: list[dict], headers: dict) -> list[tuple[str, dict, dict]]:
            return [(url, b, headers) for b in bodies(records)]

        push_url = f"{self.base}/api/sync"
        self.seal_audit()  # the setup's events, so that the next seal holds only the pushes'
        results: dict[str, dict] = {}
        await self.raw.open()
        # Planner statistics for the setup's rows, as autovacuum would have them: a database
        # created a minute ago has none, and PostgreSQL then plans the tally statements of a
        # submission as scans of every submitted inspection.
        await analyze(self.raw)
        events_before = await self.raw.count("audit_event")
        async with httpx.AsyncClient(timeout=120) as client:
            await measure(client, posts(echo_url, drafts[:20], {}), c)  # warm-up
            results["echo_draft"] = await measure(client, posts(echo_url, drafts, {}), c)
            results["echo_submit"] = await measure(client, posts(echo_url, submissions, {}), c)
            results["draft"] = await measure(client, posts(push_url, drafts, self.inspector), c)
            events_draft = await self.raw.count("audit_event")
            results["resend"] = await measure(client, posts(push_url, drafts, self.inspector), c)
            results["submit"] = await measure(client, posts(push_url, submissions, self.inspector), c)
        events_after = await self.raw.count("audit_event")
        chain_events, chain_seconds = self.seal_audit()
        per_draft_events = (events_draft - events_before) / n
        per_submit_events = (events_after - events_draft) / args.n_submit

        draft_template = await Template.of(self.raw, drafts[-1]["id"], round(per_draft_events))
        submit_template = await Template.of(self.raw, submissions[-1]["id"], round(per_submit_events),
                                            self.tally_sql())
        raw_draft = await raw_pushes(draft_template, n)
        raw_submit = await raw_pushes(submit_template, args.n_submit)
        raw_submit_own = await raw_pushes(submit_template, args.n_submit, full=False)

        curve_rows = []
        stored = await self.raw.count("finding")
        for k, level in enumerate(curve):
            if level > stored:
                load_start = time.perf_counter()
                await preload(draft_template, level - stored)
                print(f"  loaded {level - stored} findings in {time.perf_counter() - load_start:.0f} s", file=sys.stderr)
                stored = await self.raw.count("finding")
            else:
                await analyze(self.raw)
            batch = curve_drafts[k * args.n_curve:(k + 1) * args.n_curve]
            warm = curve_warm[k * CURVE_WARM:(k + 1) * CURVE_WARM]
            async with httpx.AsyncClient(timeout=120) as client:
                await measure(client, posts(push_url, warm, self.inspector), c)
                measured = await measure(client, posts(push_url, batch, self.inspector), c)
            # The database's own share at this size: the same rows written raw (30 pushes).
            curve_rows.append((stored, measured, await raw_pushes(draft_template, 30)))
            stored = await self.raw.count("finding")

        crowd_result = crowd_echo = crowd_paced = None
        if crowd:
            await self.raw.close()
            self.raw.db = None
            self.start_server(2)
            async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=32)) as client:
                crowd_echo = await measure(client, posts(echo_url, crowd, {}), 16)
                crowd_result = await measure(client, posts(push_url, crowd, self.inspector), 16)
                crowd_paced = await measure(client, posts(push_url, paced, self.inspector), 16, pace_s=1.0)
            stored = await self._count_after_restart()

        self.report(results, raw_draft, (raw_submit, raw_submit_own), chain_events, chain_seconds, per_draft_events,
                    per_submit_events, curve_rows, (crowd_result, crowd_echo, crowd_paced), stored,
                    len(json.dumps(bodies(drafts[:1])[0])), len(json.dumps(bodies(submissions[:1])[0])))

    async def _count_after_restart(self) -> int:
        await self.raw.open()
        return await self.raw.count("finding")

    def report(self, results: dict, raw_draft: float, raw_submits: tuple[float, float], chain_events: int,
               chain_seconds: float,
               per_draft_events: float, per_submit_events: float, curve_rows: list, crowds: tuple,
               stored: int, draft_size: int, submit_size: int) -> None:
        args = self.args
        engine = "PostgreSQL" if args.postgres else "SQLite"
        print(f"\n{engine}, 1 worker, {args.c} concurrent clients; drafts: {args.n} pushes of {DRAFT_FINDINGS} "
              f"findings ({draft_size / 1024:.1f} KB); submissions: {args.n_submit} pushes of {len(self.items)} "
              f"findings ({submit_size / 1024:.1f} KB); audit events per push: draft {per_draft_events:.1f}, "
              f"submission {per_submit_events:.1f}\n")
        print("| what | pushes/s | p50 ms | p95 ms | cost ms | limit ms (echo + raw) | × limit | statuses |")
        print("|---|---|---|---|---|---|---|---|")

        def line(name: str, r: dict, echo: dict | None, raw_rate: float | None) -> None:
            cost = 1000 / r["rps"]
            limit = (1000 / echo["rps"] + 1000 / raw_rate) if echo and raw_rate else None
            if r["error"]:
                print(f"<!-- {name}: first error {r['error']} -->")
            print(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {cost:.2f} | "
                  f"{'' if limit is None else f'{limit:.2f}'} | {'' if limit is None else f'{cost / limit:.1f}×'} "
                  f"| {r['statuses']} |")

        line("bare Litestar echo, draft body", results["echo_draft"], None, None)
        line("bare Litestar echo, submission body", results["echo_submit"], None, None)
        print(f"| raw rows of a draft push, one transaction (no HTTP) | {raw_draft:.0f} | | | {1000 / raw_draft:.2f} | | | |")
        raw_submit, raw_submit_own = raw_submits
        print(f"| raw rows of a submission push, one transaction (no HTTP): all of them (notice, tasks, "
              f"their events, sealed record, tallies included) | {raw_submit:.0f} | | | {1000 / raw_submit:.2f} | | | |")
        print(f"| raw rows of a submission push: the inspection's own only (inspection, findings, history, "
              f"audit events) | {raw_submit_own:.0f} | | | {1000 / raw_submit_own:.2f} | | | |")
        line(f"POST /api/sync, draft, new inspection ({DRAFT_FINDINGS} findings)", results["draft"],
             results["echo_draft"], raw_draft)
        line("POST /api/sync, the same draft again (unchanged)", results["resend"], results["echo_draft"], raw_draft)
        line(f"POST /api/sync, submission ({len(self.items)} findings: scoring, notice, seal)", results["submit"],
             results["echo_submit"], raw_submit)
        line("the same submissions against the limit of the inspection's own rows only", results["submit"],
             results["echo_submit"], raw_submit_own)
        pushes = args.n + args.n_submit
        per_push_ms = chain_seconds * 1000 / pushes
        mean_cost = (args.n * 1000 / results["draft"]["rps"] + args.n_submit * 1000 / results["submit"]["rps"]) / pushes
        print(f"| audit chain: sealing the pushes' {chain_events} events (`yibao audit seal`), per push that wrote "
              f"| | | | {per_push_ms:.2f} | | {per_push_ms / mean_cost:.1%} of a push's cost | |")
        if curve_rows:
            print("\nDraft push rate by findings already stored (same run, same server):\n")
            print("| findings stored | pushes/s | p50 ms | p95 ms | vs first | raw rows, pushes/s | raw vs first |")
            print("|---|---|---|---|---|---|---|")
            first, raw_first = curve_rows[0][1]["rps"], curve_rows[0][2]
            for stored_then, r, raw_rate in curve_rows:
                if r["error"]:
                    print(f"<!-- first error {r['error']} -->")
                print(f"| {stored_then:,} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
                      f"{r['rps'] / first:.2f}× | {raw_rate:.0f} | {raw_rate / raw_first:.2f}× |")
        crowd, echo, paced = crowds
        if crowd:
            if crowd["error"]:
                print(f"<!-- first error {crowd['error']} -->")
            print(f"\n16 concurrent tablets, `yibao serve --workers 2`, {crowd['n']} draft pushes, {stored:,} findings "
                  f"stored: {crowd['rps']:.0f} pushes/s, p50 {crowd['p50_ms']:.1f} ms, p95 {crowd['p95_ms']:.1f} ms, "
                  f"p99 {crowd['p99_ms']:.1f} ms, statuses {crowd['statuses']}; the bare echo of the same bodies "
                  f"at 16 clients: {echo['rps']:.0f} req/s, p50 {echo['p50_ms']:.1f} ms, p95 {echo['p95_ms']:.1f} ms")
            if paced["error"]:
                print(f"<!-- first error {paced['error']} -->")
            print(f"\n16 tablets each pushing a new {DRAFT_FINDINGS}-finding draft every second, same server: "
                  f"{paced['n']} pushes, {paced['rps']:.0f} pushes/s, p50 {paced['p50_ms']:.1f} ms, "
                  f"p95 {paced['p95_ms']:.1f} ms, p99 {paced['p99_ms']:.1f} ms, statuses {paced['statuses']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server to run against")
    parser.add_argument("-n", type=int, default=200, help="draft pushes per measurement")
    parser.add_argument("--n-submit", type=int, default=80, help="submissions measured")
    parser.add_argument("--n-curve", type=int, default=100, help="draft pushes at each point of the curve")
    parser.add_argument("--n-crowd", type=int, default=320, help="pushes of the 16 tablets (PostgreSQL)")
    parser.add_argument("-c", type=int, default=4, help="concurrent clients")
    parser.add_argument("--keep", action="store_true",
                        help="keep the data folder (SQLite: the database; bench/sync_profile.py --data-dir)")
    parser.add_argument("--no-curve", action="store_true", help="skip the 0 to 1,000,000 findings curve")
    parser.add_argument("--port", type=int, default=18100, help="the server's port (the echo app: port + 1)")
    asyncio.run(Bench(parser.parse_args()).run())


if __name__ == "__main__":
    main()
