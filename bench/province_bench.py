"""Benchmark: the 看板 and the 机构档案 at the scale of a province.

Run on demand (never in CI):

    .venv/bin/python bench/province_bench.py --scale 0.01          # quick
    .venv/bin/python bench/province_bench.py                        # 10,000 institutions, 10M findings

It creates its own PostgreSQL database (``bench_prov_yibao``, dropped at the end unless
``--keep``), migrates it with the app's migrations and loads the shipped checklists, then
generates a province's history with COPY (asyncpg ``copy_records_to_table``): 10,000 institutions
in 16 counties, 200,000 inspections over three years (50 answers each: 10 million findings), the
notices of the inspections that found something, their tasks, escalation steps and physicians.
The same generator fills a SQLite file at a tenth of the size (``--sqlite-scale``, default
scale / 10). Each engine runs in a child process of this script (the app's engine is fixed when
the backend is imported).

Then, with a warm cache, it measures through real HTTP (the whole Litestar app in-process over
httpx's ASGI transport, signed in as a province supervisor and as a county supervisor) every
dashboard request: summary, details, each list behind a number, an export's first chunk, and the
institution page and history. Baselines in the same run: ``SELECT count(*)`` over ``inspection``
through the same engine, and the app's ``GET /health`` through the same transport. p50/p95 over
``--runs`` runs; target p95 ≤ 300 ms. Output: a Markdown table per engine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_NAME = "bench_prov_yibao"
TODAY = date(2026, 12, 7)  # replaced by today in China at run time
TARGET_MS = 300.0
PASSWORD = "bench-password-2026"

FULL = {"institutions": 10_000, "inspections": 200_000, "counties": 16}
ITEMS_PER_INSPECTION = 50  # 200,000 × 50 = 10 million findings
TYPES = (("hospital", 0.08), ("clinic", 0.42), ("tcm_clinic", 0.15), ("pharmacy", 0.35))
CHECKLIST_OF_TYPE = {
    "hospital": "hospital-routine",
    "clinic": "clinic-routine",
    "tcm_clinic": "clinic-routine",
    "pharmacy": "pharmacy-routine",
}
KINDS = (("routine", 0.6), ("random", 0.2), ("special", 0.1), ("flight", 0.04), ("reinspection", 0.06))


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    r, acc = rng.random(), 0.0
    for value, w in weighted:
        acc += w
        if r < acc:
            return value
    return weighted[-1][0]


class Ids:
    """Deterministic UUIDs per table (fast: no os.urandom for ten million rows)."""

    def __init__(self, tag: int) -> None:
        self.base, self.n = tag << 96 | 0xB0 << 88, 0

    def __call__(self) -> uuid.UUID:
        self.n += 1
        return uuid.UUID(int=self.base | self.n)


def grade_of(score: float) -> str:
    if score >= 90:
        return "优秀"
    if score >= 80:
        return "良好"
    if score >= 60:
        return "合格"
    return "不合格"


# --- the generator: yields (table, columns, rows) batches -----------------------------------


def generate(scale: float, checklists: dict[str, tuple[uuid.UUID, list[str]]], today: date):
    """A province's history: ``(table, columns, rows)`` batches in foreign-key order."""
    from backend.rectification.escalation import LADDER

    rng = random.Random(20261207)
    n_inst = max(16, round(FULL["institutions"] * scale))
    n_insp = max(50, round(FULL["inspections"] * scale))
    counties = FULL["counties"]
    now = datetime.now(UTC)

    province = uuid.UUID(int=0xBE << 96 | 1)
    regions = [(province, "BP0000", "基准省", None, "基准省医保局", now)]
    county_ids = []
    for c in range(1, counties + 1):
        rid = uuid.UUID(int=0xBE << 96 | 1 + c)
        county_ids.append(rid)
        regions.append((rid, f"BP{c:04d}", f"基准县{c:02d}", province, f"县{c:02d}局", now))
    yield "region", ("id", "code", "name", "parent", "office_short_name", "created_at"), regions

    inst_id, institutions, inst_rows = Ids(1), [], []
    for k in range(n_inst):
        iid, kind = inst_id(), pick(rng, TYPES)
        region = county_ids[k % counties]
        status = "suspended" if rng.random() < 0.02 else "terminated" if rng.random() < 0.005 else "normal"
        institutions.append((iid, kind, region))
        inst_rows.append(
            (iid, f"H{k:010d}", f"基准{kind}机构{k:05d}", kind, "", region, status,
             uuid.UUID(int=rng.getrandbits(128)).hex, now, now)
        )
    yield "institution", ("id", "code", "name", "type", "level", "region", "agreement_status",
                          "qr_token", "created_at", "updated_at"), inst_rows

    phys_id, phys = Ids(2), []
    for k, (iid, kind, _) in enumerate(institutions):
        for j in range(6 if kind == "hospital" else 2):
            points = 12 if rng.random() < 0.9 else rng.randint(0, 11)
            phys.append((phys_id(), iid, f"医师{k}-{j}", f"P{k:06d}{j:02d}", "", points,
                         "active", now, now))
    yield "physician", ("id", "institution", "name", "certificate_no", "department", "year_points",
                        "status", "created_at", "updated_at"), phys

    # Inspections spread over three years up to today; a few drafts.
    span = 3 * 365 * 86400
    end = datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=8)
    asg_id, insp_id, find_id = Ids(3), Ids(4), Ids(5)
    notice_id, task_id, esc_id = Ids(6), Ids(7), Ids(8)
    seq: dict[tuple[uuid.UUID, int], int] = {}
    chunk = 2000
    for start in range(0, n_insp, chunk):
        assignments, inspections, findings, notices, tasks, escalations = [], [], [], [], [], []
        for _ in range(min(chunk, n_insp - start)):
            iid, kind, region = institutions[rng.randrange(n_inst)]
            version, items = checklists[CHECKLIST_OF_TYPE[kind]]
            at = end - timedelta(seconds=rng.randrange(span))
            draft = rng.random() < 0.02
            aid, xid = asg_id(), insp_id()
            akind = pick(rng, KINDS)
            assignments.append((aid, iid, version, akind, at.date(), at.date() + timedelta(days=30),
                                "in_progress" if draft else "done", at, at))
            # 60 % of inspections find nothing; the others fail about one item in ten.
            fail_rate = 0.0 if rng.random() < 0.6 else 0.1
            failed = []
            for item in items[:ITEMS_PER_INSPECTION]:
                fid = find_id()
                r = rng.random()
                result = "fail" if r < fail_rate else "na" if r > 0.96 else "pass"
                findings.append((fid, xid, item, result, at, at))
                if result == "fail":
                    failed.append((fid, item))
            score = max(0.0, min(100.0, 100 - 4.5 * len(failed) - rng.random() * 12))
            score = round(score, 1)
            inspections.append(
                (xid, aid, iid, version, "draft" if draft else "submitted", at - timedelta(hours=2),
                 None if draft else at, None if draft else Decimal(str(score)),
                 None if draft else grade_of(score), at, at)
            )
            if draft or not failed:
                continue
            nid = notice_id()
            issued = at + timedelta(days=rng.randint(0, 4), hours=rng.randint(0, 8))
            year = issued.year
            seq[(region, year)] = seq.get((region, year), 0) + 1
            age = (end - issued).days
            status = "closed" if age > 120 and rng.random() < 0.85 else "issued"
            notices.append((nid, xid, iid, region, year, seq[(region, year)],
                            f"BP〔{year}〕{region.int & 0xFF:02d}-{seq[(region, year)]:05d}",
                            status, issued, issued if status == "closed" else None, issued, issued))
            deadline = issued.date() + timedelta(days=30)
            for n, (fid, item) in enumerate(failed):
                if status == "closed":
                    tstatus = "accepted"
                else:
                    tstatus = "open" if rng.random() < 0.5 else rng.choice(("answered", "accepted"))
                answered = issued + timedelta(days=rng.randint(5, 40)) if tstatus != "open" else None
                tasks.append((task_id(), nid, fid, item, "按要求整改", deadline, tstatus, answered,
                              n + 1, 30, issued, issued))
            if rng.random() < 0.05:
                step = LADDER[min(len(LADDER) - 1, int(rng.random() ** 2 * len(LADDER)))]
                escalations.append((esc_id(), nid, iid, step.code, issued + timedelta(days=45),
                                    (issued + timedelta(days=45)).date()))
        yield "assignment", ("id", "institution", "checklist", "kind", "window_start", "window_end",
                             "status", "created_at", "updated_at"), assignments
        yield "inspection", ("id", "assignment", "institution", "checklist", "status", "started_at",
                             "submitted_at", "score_total", "grade", "created_at", "updated_at"), inspections
        yield "finding", ("id", "inspection", "item_id", "result", "created_at", "updated_at"), findings
        yield "rectification_notice", ("id", "inspection", "institution", "office", "year", "seq",
                                       "number", "status", "issued_at", "closed_at", "created_at",
                                       "updated_at"), notices
        yield "rectification_task", ("id", "notice", "finding", "item_id", "required_action",
                                     "deadline", "status", "answered_at", "seq", "deadline_days",
                                     "created_at", "updated_at"), tasks
        yield "rectification_escalation", ("id", "notice", "institution", "step", "created_at",
                                           "decided_on"), escalations


# --- one engine, in a child process -----------------------------------------------------------


async def checklist_items() -> dict[str, tuple[uuid.UUID, list[str]]]:
    """The newest version of each shipped checklist with its item ids, in order."""
    from backend.checklists.tables import ChecklistVersion

    out: dict[str, tuple[uuid.UUID, list[str]]] = {}
    rows = await ChecklistVersion.select(
        ChecklistVersion.id, ChecklistVersion.checklist_id, ChecklistVersion.content
    ).order_by(ChecklistVersion.version).output(load_json=True)
    for r in rows:
        items = [i["id"] for s in r["content"].get("sections", []) for i in s.get("items", [])]
        out[r["checklist_id"]] = (r["id"], items)
    return out


async def fill(engine: str, scale: float, target: str) -> dict[str, int]:
    """Generate the data into the database; rows per table."""
    from backend.china_time import today_in_china

    counts: dict[str, int] = {}
    batches = generate(scale, await checklist_items(), today_in_china())
    if engine == "postgres":
        import asyncpg

        conn = await asyncpg.connect(target)
        try:
            # A bulk load: the task tally's triggers are left out here and the tallies rebuilt
            # once afterwards (after_fill), as `yibao tracking rebuild` does.
            await conn.execute("SET session_replication_role = replica")
            for table, columns, rows in batches:
                if rows:
                    await conn.copy_records_to_table(table, records=rows, columns=list(columns))
                counts[table] = counts.get(table, 0) + len(rows)
        finally:
            await conn.close()
    else:
        import sqlite3

        import piccolo.engine.sqlite  # noqa: F401  (registers Piccolo's value adapters)

        conn = sqlite3.connect(target)
        try:
            for table, columns, rows in batches:
                if rows:
                    marks = ", ".join("?" for _ in columns)
                    conn.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                    )
                counts[table] = counts.get(table, 0) + len(rows)
            conn.commit()
        finally:
            conn.close()
    return counts


async def after_fill(engine: str, target: str) -> dict[str, float]:
    """What production does as the rows arrive, done once for the bulk load: the answer tallies
    (``yibao tracking rebuild``), then the statistics and, on PostgreSQL, the visibility map
    that index-only scans need (autovacuum's work). Seconds per step."""
    from backend.tracking.tally import rebuild

    took: dict[str, float] = {}
    t0 = time.perf_counter()
    from backend.audit.services import Actor

    counts = await rebuild(Actor.system("bench"))
    took["tally_rebuild_s"] = time.perf_counter() - t0
    print(f"{engine}: tallies {counts} in {took['tally_rebuild_s']:.0f} s", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    if engine == "postgres":
        import asyncpg

        conn = await asyncpg.connect(target)
        try:
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
    else:
        import sqlite3

        conn = sqlite3.connect(os.environ["BENCH_SQLITE_PATH"])
        try:
            conn.execute("ANALYZE")
        finally:
            conn.close()
    took["vacuum_analyze_s"] = time.perf_counter() - t0
    return took


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def measure(runs: int) -> list[dict[str, Any]]:
    """Every dashboard request and the institution page, timed over ``runs`` warm runs."""
    import logging

    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    from backend.accounts.services import create_user
    from backend.app import create_app
    from backend.audit.services import Actor
    from backend.inspections.tables import Inspection
    from backend.institutions.tables import Institution

    actor = Actor.system("bench")
    from backend.accounts.tables import User

    for username, code in (("bench-province", "BP0000"), ("bench-county", "BP0003")):
        if not await User.exists().where(User.username == username):
            await create_user(username, "supervisor", PASSWORD, actor, region_code=code)
    app = create_app()
    results: list[dict[str, Any]] = []

    async def timed(name: str, call, who: str = "") -> None:
        await call()  # warm the cache (and the plan)
        await call()
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            await call()
            times.append((time.perf_counter() - t0) * 1000)
        results.append({"what": name, "who": who, "p50": statistics.median(times),
                        "p95": percentile(times, 0.95), "max": max(times)})
        print(f"  {who:8} {name:48} p50 {results[-1]['p50']:8.1f}  p95 {results[-1]['p95']:8.1f}",
              file=sys.stderr, flush=True)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        # The busiest institution of the county (most inspections): the worst 机构档案.
        county_inst = await Institution.raw(
            "SELECT x.institution AS id, COUNT(*) AS n FROM inspection x"
            " JOIN institution i ON i.id = x.institution JOIN region r ON r.id = i.region"
            " WHERE r.code = 'BP0003' GROUP BY x.institution ORDER BY n DESC LIMIT 1"
        )
        busiest = county_inst[0]["id"]

        async def baseline_count() -> None:
            await Inspection.raw("SELECT count(*) AS n FROM inspection")

        await timed("baseline: SELECT count(*) FROM inspection", baseline_count, "-")

        async def health() -> None:
            assert (await http.get("/health")).status_code == 200

        await timed("baseline: GET /health (same app)", health, "-")

        for who in ("province", "county"):
            r = await http.post("/api/auth/login", json={"username": f"bench-{who}",
                                "password": PASSWORD, "device_id": f"bench-{who}"})
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            top = (await http.get("/api/dashboard/details", headers=headers)).json()["failed_items"]
            item = top[0]["item"] if top else "x:y"
            requests = [
                ("summary", "/api/dashboard/summary", {}),
                ("details", "/api/dashboard/details", {}),
                ("list inspections", "/api/dashboard/list/inspections", {}),
                ("list inspections grade=不合格", "/api/dashboard/list/inspections", {"grade": "不合格"}),
                ("list inspections item (most failed)", "/api/dashboard/list/inspections", {"item": item}),
                ("list institutions inspected=no", "/api/dashboard/list/institutions", {"inspected": "no"}),
                ("list tasks state=open", "/api/dashboard/list/tasks", {"state": "open"}),
                ("list tasks state=overdue", "/api/dashboard/list/tasks", {"state": "overdue"}),
                ("list notices state=open", "/api/dashboard/list/notices", {"state": "open"}),
                ("list escalations", "/api/dashboard/list/escalations", {}),
                ("list physicians", "/api/dashboard/list/physicians", {}),
                ("summary, 3 years", "/api/dashboard/summary",
                 {"from": str(date(TODAY.year - 2, 1, 1)), "to": str(TODAY)}),
                ("details, 3 years", "/api/dashboard/details",
                 {"from": str(date(TODAY.year - 2, 1, 1)), "to": str(TODAY)}),
                ("details, 1 Mar – 15 Nov (partial months)", "/api/dashboard/details",
                 {"from": str(date(TODAY.year, 3, 1)), "to": str(date(TODAY.year, 11, 15))}),
            ]
            for name, path, params in requests:
                async def get(path=path, params=params, headers=headers) -> None:
                    resp = await http.get(path, params=params, headers=headers)
                    assert resp.status_code == 200, resp.text

                await timed(name, get, who)

            # httpx's ASGI transport collects a whole body before it answers, so the first chunk
            # of an export is timed on the stream the route returns (the same service function).
            from backend.accounts.auth import CurrentUser, region_scope
            from backend.accounts.tables import Role
            from backend.institutions.tables import Region
            from backend.tracking import exports, filters, lists

            code = "BP0000" if who == "province" else "BP0003"
            rid = (await Region.select(Region.id).where(Region.code == code).first())["id"]
            user = CurrentUser(id=uuid.uuid4(), username=f"bench-{who}", display_name=who,
                               role=Role.supervisor, region_id=rid, institution_id=None,
                               region_ids=await region_scope(rid), session_id=uuid.uuid4(),
                               device_id="bench")
            for export_name in ("findings", "inspections", "rectification-tasks"):
                async def first_chunk(export_name=export_name, user=user) -> None:
                    f = await filters.resolve(user)
                    stream = exports.csv_stream(exports.EXPORTS[export_name], f, lists.Narrowing())
                    try:
                        await stream.__anext__()  # the BOM and the header
                        await stream.__anext__()  # the first batch of rows
                    finally:
                        await stream.aclose()

                await timed(f"export {export_name}.csv, first batch", first_chunk, who)
            for name, path in (("institution archive (busiest)", f"/api/institutions/{busiest}/archive"),
                               ("institution history (busiest)", f"/api/institutions/{busiest}/history")):
                async def page(path=path, headers=headers) -> None:
                    resp = await http.get(path, headers=headers)
                    assert resp.status_code == 200, resp.text

                await timed(name, page, who)
    return results


KEY_PLAN_WORDS = ("Scan", "Join", "Aggregate", "Sort", "Limit", "Nested Loop", "Execution Time",
                  "SEARCH", "SCAN", "USE TEMP", "Subquery", "SubPlan", "InitPlan", "Append")


async def explain_plans(engine: str) -> list[dict[str, Any]]:
    """The plan of every query the dashboard runs for the province supervisor (current year):
    each statement the tracking code sends is explained (``EXPLAIN (ANALYZE, BUFFERS)`` on
    PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite) before it runs, and its key lines kept."""
    from backend.accounts.auth import CurrentUser, region_scope
    from backend.accounts.tables import Role
    from backend.institutions.tables import Institution, Region
    from backend.tracking import archive, dashboard, filters, lists, sql

    rid = (await Region.select(Region.id).where(Region.code == "BP0000").first())["id"]
    user = CurrentUser(id=uuid.uuid4(), username="bench-province", display_name="province",
                       role=Role.supervisor, region_id=rid, institution_id=None,
                       region_ids=await region_scope(rid), session_id=uuid.uuid4(),
                       device_id="bench")
    f = await filters.resolve(user)
    plans: list[dict[str, Any]] = []
    label = {"now": ""}
    real_rows = sql.Query.rows

    async def explained(self: Any) -> list[dict[str, Any]]:
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if engine == "postgres" else "EXPLAIN QUERY PLAN "
        rows = await Institution.raw(prefix + self.text, *self.args)
        lines = [str(r.get("QUERY PLAN") or r.get("detail") or r) for r in rows]
        plans.append({"what": label["now"], "sql": self.text[:160],
                      "plan": [line for line in lines if any(w in line for w in KEY_PLAN_WORDS)]})
        return await real_rows(self)

    sql.Query.rows = explained  # type: ignore[method-assign]
    try:
        for name, call in (
            ("summary", lambda: dashboard.summary(f)),
            ("details: coverage", lambda: dashboard.coverage(f)),
            ("details: trend", lambda: dashboard.trend(f)),
            ("details: scores", lambda: dashboard.scores(f)),
            ("details: failed items (tallies)", lambda: dashboard.failed_items(f)),
            ("details: tasks", lambda: dashboard.task_statuses(f)),
            ("details: escalations", lambda: dashboard.escalations(f)),
            ("details: physicians", lambda: dashboard.physicians(f)),
        ):
            label["now"] = name
            await call()
        label["now"] = "details: failed items (the top one, for the list below)"
        top = await dashboard.failed_items(f, 1)
        item = top[0]["item"] if top else "x:y"
        for what, narrowing in (("inspections", {}), ("inspections", {"grade": "不合格"}),
                                ("inspections", {"item": item}),
                                ("institutions", {"inspected": "no"}), ("tasks", {"state": "overdue"}),
                                ("notices", {"state": "open"})):
            label["now"] = f"list {what} {narrowing or ''}".strip()
            await lists.page(what, f, lists.Narrowing(**narrowing))
        busiest = (await Institution.raw(
            "SELECT institution AS id FROM inspection GROUP BY institution ORDER BY COUNT(*) DESC LIMIT 1"
        ))[0]["id"]
        label["now"] = "institution history (busiest)"
        await archive.history(user, busiest)
    finally:
        sql.Query.rows = real_rows  # type: ignore[method-assign]
    return plans


async def child(engine: str, scale: float, runs: int, target: str, keep: bool,
                explain: bool = False, reuse: bool = False) -> dict[str, Any]:
    from backend import db
    from backend.audit.services import Actor
    from backend.checklists.services import load_paths
    from backend.migrations import migrate

    await db.start()
    try:
        await migrate()
        from backend.institutions.tables import Institution

        if reuse and await Institution.count() > 0:  # a kept database: measure it again
            counts, generated, prepared = await existing_counts(), 0.0, {}
            await Institution.raw("ANALYZE")  # tables a new migration has just filled
        else:
            await load_paths([ROOT / "checklists"], Actor.system("bench"))
            t0 = time.perf_counter()
            fill_target = target if engine == "postgres" else os.environ["BENCH_SQLITE_PATH"]
            counts = await fill(engine, scale, fill_target)
            generated = time.perf_counter() - t0
            print(f"{engine}: generated {counts} in {generated:.0f} s", file=sys.stderr, flush=True)
            prepared = await after_fill(engine, target)
        results = await measure(runs)
        plans = await explain_plans(engine) if explain else []
    finally:
        await db.stop()
    return {"engine": engine, "scale": scale, "counts": counts, "generate_s": generated,
            **prepared, "load_average": os.getloadavg(), "results": results, "plans": plans}


async def existing_counts() -> dict[str, int]:
    """Rows per generated table of a kept database."""
    from backend.institutions.tables import Institution

    out = {}
    for table in ("institution", "inspection", "finding", "rectification_notice", "rectification_task"):
        out[table] = int((await Institution.raw(f"SELECT COUNT(*) AS n FROM {table}"))[0]["n"])
    return out


def run_child(engine: str, scale: float, runs: int, pg_admin: str, keep: bool,
              explain: bool = False, reuse: bool = False) -> dict[str, Any]:
    import asyncpg

    env = dict(os.environ)
    data = tempfile.mkdtemp(prefix="yibao-bench-")
    env.update({"YIBAO_DATA_DIR": data, "YIBAO_ENV": "development", "YIBAO_LOG_LEVEL": "WARNING",
                "YIBAO_SECRET_KEY": "bench-secret-key-" + "x" * 32,
                "YIBAO_LOGIN_RATE_PER_MINUTE": "100000", "PICCOLO_CONF": "backend.piccolo_conf"})
    env.pop("YIBAO_DEMO", None)
    target = ""
    if engine == "postgres":
        target = f"{pg_admin.rsplit('/', 1)[0]}/{DB_NAME}"
        env["YIBAO_DATABASE_URL"] = target

        async def admin(sql: str) -> None:
            conn = await asyncpg.connect(pg_admin)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        async def exists() -> bool:
            conn = await asyncpg.connect(pg_admin)
            try:
                return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DB_NAME))
            finally:
                await conn.close()

        if not (reuse and asyncio.run(exists())):
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
            asyncio.run(admin(f'CREATE DATABASE "{DB_NAME}"'))
    else:
        env.pop("YIBAO_DATABASE_URL", None)
        env["BENCH_SQLITE_PATH"] = str(Path(data) / "yibao.sqlite3")
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", engine, "--scale", str(scale), "--runs", str(runs),
             "--target", target, *(["--explain"] if explain else []), *(["--reuse"] if reuse else [])],
            env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
        ).stdout
        return json.loads(out.strip().splitlines()[-1])
    finally:
        if engine == "postgres" and not keep:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        import shutil

        shutil.rmtree(data, ignore_errors=True)


def table(report: dict[str, Any]) -> str:
    c = report["counts"]
    base = next(r for r in report["results"] if r["what"].startswith("baseline: SELECT"))
    lines = [
        f"{report['engine']}, scale {report['scale']}: {c.get('institution', 0):,} institutions,"
        f" {c.get('inspection', 0):,} inspections, {c.get('finding', 0):,} findings,"
        f" {c.get('rectification_notice', 0):,} notices, {c.get('rectification_task', 0):,} tasks"
        f" (generated in {report['generate_s']:.0f} s, tallies rebuilt in"
        f" {report.get('tally_rebuild_s', 0):.0f} s, vacuum/analyze {report.get('vacuum_analyze_s', 0):.0f} s;"
        f" load average at the end {', '.join(f'{x:.1f}' for x in report.get('load_average', ()))})",
        "",
        "| who | what | p50 ms | p95 ms | p95 vs count(*) | ≤ 300 ms |",
        "|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        ok = "✅" if r["p95"] <= TARGET_MS else "❌"
        lines.append(f"| {r['who']} | {r['what']} | {r['p50']:.1f} | {r['p95']:.1f} |"
                     f" {r['p95'] / max(base['p95'], 0.001):.1f}× | {ok} |")
    return "\n".join(lines)


def main() -> None:
    global DB_NAME
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = the full province")
    parser.add_argument("--sqlite-scale", type=float, default=None, help="default: scale / 10")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    parser.add_argument("--engines", default="postgres,sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--db-name", default="bench_prov_yibao", help="the PostgreSQL database (bench_prov_…)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure a kept PostgreSQL database again instead of generating one")
    parser.add_argument("--explain", action="store_true",
                        help="print the key lines of each dashboard query's plan after the table")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--target", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    DB_NAME = args.db_name
    if args.child:
        sys.path.insert(0, str(ROOT))
        report = asyncio.run(child(args.child, args.scale, args.runs, args.target, args.keep,
                                   args.explain, args.reuse))
        print(json.dumps(report, default=str))
        return
    reports = []
    for engine in args.engines.split(","):
        scale = args.scale if engine == "postgres" else (args.sqlite_scale or args.scale / 10)
        reports.append(run_child(engine, scale, args.runs, args.pg_admin, args.keep or args.reuse,
                                 args.explain, args.reuse))
    print(f"Command: .venv/bin/python bench/province_bench.py {' '.join(sys.argv[1:])}\n")
    for report in reports:
        print(table(report) + "\n")
        for plan in report.get("plans", []):
            print(f"{report['engine']} — {plan['what']}: {plan['sql']}…")
            print("\n".join(f"    {line}" for line in plan["plan"]) + "\n")


if __name__ == "__main__":
    main()
