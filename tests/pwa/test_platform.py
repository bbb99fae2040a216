"""The PWA's platform in real Chromium against a real server: the service worker (offline shell,
updates), the offline bundle and the sync queue. These tests drive the modules directly
(``import('/js/…')`` in the page), so they don't depend on the screens.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from backend.pwa_routes import DESK_PREFIXES
from tests.pwa.conftest import PwaServer, api_login, wait_for_sw

# --- helpers ----------------------------------------------------------------------------------

HUANCUI_PHARMACY = "P37100200001"

# Builds a complete inspection of an assignment in IndexedDB, as the screens would: a finding per
# item (one deduct item failed with 2 occurrences), evidence photos where the checklist asks
# (generated camera images passed through photo-prep), the representative's and two inspectors'
# signatures. Returns its id and the score scoring.js gives it.
FILL_INSPECTION = """async ({ assignmentId }) => {
  const { db } = await import('/js/db.js');
  const { prepareImage, prepareSignature, sha256Hex } = await import('/js/photo-prep.js');
  const { score } = await import('/js/scoring.js');
  const session = await (await import('/js/db.js')).getMeta('session');
  const assignment = await db.assignments.get(assignmentId);
  if (!assignment) throw new Error('assignment not in the bundle: ' + assignmentId);
  const checklist = await db.checklists.get(assignment.checklist.version_id);
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  const photos = [];
  async function photo(itemId, kind, signer, n) {
    let prepared;
    if (kind === 'signature') {
      const canvas = new OffscreenCanvas(600, 200);
      const g = canvas.getContext('2d');
      g.lineWidth = 4; g.beginPath(); g.moveTo(40, 120);
      for (let x = 40; x < 560; x += 10) g.lineTo(x, 100 + 50 * Math.sin(x / 40 + n));
      g.stroke();
      prepared = await prepareSignature(canvas);
    } else {
      const canvas = new OffscreenCanvas(3000, 2000);   // a camera-sized image: downscaled to 2048
      const g = canvas.getContext('2d');
      g.fillStyle = `hsl(${(n * 47) % 360}, 60%, 50%)`; g.fillRect(0, 0, 3000, 2000);
      g.fillStyle = '#fff'; g.fillRect(200 + n * 10, 200, 800, 600);
      prepared = await prepareImage(await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.95 }));
    }
    const record = { id: crypto.randomUUID(), inspection_id: id, assignment_id: assignmentId,
      item_id: itemId, kind, signer, blob: prepared.blob, type: prepared.type,
      sha256: await sha256Hex(prepared.blob), width: prepared.width, height: prepared.height,
      size: prepared.size, created_at: now, uploaded: 0 };
    photos.push(record);
    return record.id;
  }
  const findings = [];
  let failed = null;
  let n = 0;
  for (const section of checklist.content.sections) {
    for (const item of section.items) {
      n += 1;
      const finding = { id: crypto.randomUUID(), inspection_id: id, item: item.id, result: 'pass',
        note: '', physician_id: null, photo_ids: [], client_revision: 1, client_updated_at: now };
      if (item.mode === 'deduct' && !failed && !item.critical) {
        finding.result = 'fail'; finding.occurrences = 2; finding.note = '现场发现 2 处'; failed = item.id;
      }
      if (item.mode === 'sample') { finding.sampled = Math.max(10, item.min_sampled || 0); finding.failed = 0; }
      const evidence = item.evidence || 'none';
      if (evidence === 'photo_always' || (evidence === 'photo_on_fail' && finding.result === 'fail')) {
        finding.photo_ids.push(await photo(item.id, 'evidence', null, n));
      }
      findings.push(finding);
    }
  }
  const representative = await photo(null, 'signature', 'representative', 1);
  // 条例第二十九条: two inspectors of the team sign, this user first.
  const team = [...assignment.inspectors].sort((a, b) => (a.id === session.user_id ? -1 : b.id === session.user_id ? 1 : 0));
  const inspectorSignatures = [];
  for (const [i, member] of team.slice(0, 2).entries()) {
    inspectorSignatures.push({ photo_id: await photo(null, 'signature', 'inspector', 2 + i), signer: 'inspector',
      name: member.display_name, user_id: member.id });
  }
  const inspection = { id, assignment_id: assignmentId, institution_id: assignment.institution_id,
    checklist_version_id: checklist.version_id, checklist_id: checklist.checklist_id,
    checklist_version: checklist.version, checklist_hash: checklist.content_hash, state: 'draft',
    started_at: now, client_updated_at: now, updated_at: Date.now(),
    client_revision: findings.length + 2, representative_name: '王店长',
    signature_refused_reason: '', note: '',
    signatures: [
      { photo_id: representative, signer: 'representative', name: '王店长' },
      ...inspectorSignatures],
    submitted_at: null, rejection: null, server: null };
  await db.transaction('rw', db.inspections, db.findings, db.photos, async () => {
    await db.inspections.put(inspection);
    await db.findings.bulkPut(findings);
    await db.photos.bulkPut(photos);
  });
  const official = score(checklist.content, findings);
  return { id, findings: findings.length, photos: photos.length,
    evidence: photos.filter((p) => p.kind === 'evidence').length, failed,
    total: official.total, grade: official.grade };
}"""

RECORD = """async (id) => {
  const { db } = await import('/js/db.js');
  const inspection = await db.inspections.get(id);
  const photos = await db.photos.where('inspection_id').equals(id).toArray();
  return { inspection, photos: photos.map((p) => ({ id: p.id, uploaded: p.uploaded, hasBlob: !!p.blob })) };
}"""

LISTEN = """() => import('/js/events.js').then(({ on }) => {
  window.__events = [];
  for (const type of ['auth-required', 'inspection-synced', 'inspection-rejected', 'app-update-ready',
                      'bundle-updated', 'session']) {
    on(type, (detail) => window.__events.push({ type, detail: JSON.parse(JSON.stringify(detail ?? null)) }));
  }
})"""


async def module_call(page: Any, module: str, function: str, *args: Any) -> Any:
    """``await import(module)[function](...args)`` in the page."""
    return await page.evaluate(
        """async ([module, fn, args]) => (await import(module))[fn](...args)""",
        [module, function, list(args)],
    )


async def record(page: Any, inspection_id: str) -> dict[str, Any]:
    return await page.evaluate(RECORD, inspection_id)


async def wait_state(page: Any, inspection_id: str, state: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    current = None
    while time.monotonic() < deadline:
        current = await record(page, inspection_id)
        if current["inspection"] and current["inspection"]["state"] == state:
            return current
        await page.wait_for_timeout(150)
    raise AssertionError(f"inspection never reached {state}: {current and current['inspection']}")


async def events(page: Any, kind: str) -> list[dict]:
    return [
        e["detail"] for e in await page.evaluate("() => window.__events || []") if e["type"] == kind
    ]


async def open_app(page: Any, username: str | None = "inspector") -> None:
    """Load the app, sign in through api.js, start the engines, wait for the service worker."""
    await page.goto("/")
    await page.evaluate(LISTEN)
    if username:
        await api_login(page, username)
    await page.evaluate(
        """async () => {
          (await import('/js/sw-register.js')).registerServiceWorker();
          (await import('/js/connection.js')).startConnectionMonitor();
          (await import('/js/sync-queue.js')).startSyncEngine();
        }"""
    )
    await wait_for_sw(page)


def _id(server: PwaServer, sql: str, *params: Any) -> str:
    rows = server.query(sql, *params)
    assert rows, (sql, params)
    return str(rows[0]["id"])


def fresh_assignment(server: PwaServer, institution_code: str = HUANCUI_PHARMACY) -> dict[str, Any]:
    """A new assignment of inspector + inspector2 (each test its own: one inspection each)."""
    response = server.api(
        "POST",
        "/api/assignments",
        username="supervisor.huancui",
        json={
            "institution_id": _id(
                server, "SELECT id FROM institution WHERE code = ?", institution_code
            ),
            "checklist_id": "pharmacy-routine",
            "window_start": str(date.today()),
            "window_end": str(date.today() + timedelta(days=5)),
            "inspector_ids": [
                _id(server, "SELECT id FROM app_user WHERE username = ?", "inspector"),
                _id(server, "SELECT id FROM app_user WHERE username = ?", "inspector2"),
            ],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def server_inspections(server: PwaServer, assignment_id: str) -> list[dict[str, Any]]:
    return server.query("SELECT * FROM inspection WHERE assignment = ?", assignment_id)


def server_version(server: PwaServer) -> str:
    text = httpx.get(f"{server.base_url}/sw.js", timeout=10).text
    match = re.match(r"self\.__PRECACHE = (.*);\n", text)
    assert match, text[:200]
    return json.loads(match.group(1))["version"]


# --- the service worker -----------------------------------------------------------------------


async def test_sw_is_served_for_the_whole_origin(pwa_server: PwaServer) -> None:
    response = httpx.get(f"{pwa_server.base_url}/sw.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    precache = json.loads(re.match(r"self\.__PRECACHE = (.*);\n", response.text).group(1))
    assert re.fullmatch(r"[0-9a-f]{16}", precache["version"])
    urls = set(precache["urls"])
    pwa = pwa_server.pwa_dir
    expected = {
        "/" + p.relative_to(pwa).as_posix()
        for p in pwa.rglob("*")
        if p.is_file()
        and p.name != "sw.js"
        and p.suffix not in {".md", ".txt", ".map"}
        and not p.relative_to(pwa).as_posix().startswith(DESK_PREFIXES)
    }
    assert urls == expected
    # The desk is loaded only by desk users and is not part of the inspector's offline shell.
    assert not any(
        u.startswith(("/js/views/desk/", "/css/desk.css", "/vendor/desk/")) for u in urls
    )
    assert (pwa / "js/views/desk/shell.js").exists()
    shell_gzip = sum(len(gzip.compress((pwa / u.lstrip("/")).read_bytes(), 6)) for u in urls)
    shell_gzip += len(gzip.compress(response.content, 6))
    assert shell_gzip <= 300 * 1024, (
        f"offline shell is {shell_gzip / 1024:.1f} KB gzip (limit 300 KB)"
    )
    assert {
        "/index.html",
        "/manifest.webmanifest",
        "/js/sync-queue.js",
        "/icons/icon-192.png",
    } <= urls
    assert any(u.startswith("/vendor/dexie") for u in urls)
    # The deep link from a QR poster needs no login and gives the app.
    link = httpx.get(f"{pwa_server.base_url}/s/some-token")
    assert link.status_code == 200 and link.text == (pwa / "index.html").read_text(encoding="utf-8")
    manifest = httpx.get(f"{pwa_server.base_url}/manifest.webmanifest").json()
    assert manifest["name"] == "医保现场检查" and manifest["short_name"] == "医保检查"
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert httpx.get(f"{pwa_server.base_url}{icon['src']}").status_code == 200
    assert {"192x192", "512x512"} <= {
        i["sizes"] for i in manifest["icons"] if i.get("purpose") == "maskable"
    }


async def test_app_shell_opens_offline(context: Any, page: Any, pwa_server: PwaServer) -> None:
    await open_app(page, username=None)
    caches = await page.evaluate("async () => caches.keys()")
    assert caches == [f"yibao-shell-{server_version(pwa_server)}"]
    await page.evaluate(
        "async () => (await import('/js/db.js')).setMeta('offline-test', 'written online')"
    )
    await context.set_offline(True)
    response = await page.reload()
    assert response is not None and response.ok and response.from_service_worker
    # Offline: the modules come from the cache, and IndexedDB keeps what is written now.
    await page.evaluate(
        "async () => (await import('/js/db.js')).setMeta('offline-test', 'written offline')"
    )
    response = await page.reload()
    assert response.from_service_worker
    assert (
        await page.evaluate("async () => (await import('/js/db.js')).getMeta('offline-test')")
        == "written offline"
    )
    # The QR poster's deep link opens the app offline too.
    response = await page.goto("/s/some-token")
    assert response.ok and response.from_service_worker
    # The API is never answered from a cache: offline, a request fails.
    failed = await page.evaluate(
        "async () => { try { await fetch('/api/auth/me'); return false; } catch (e) { return true; } }"
    )
    assert failed
    await context.set_offline(False)


async def test_new_version_is_picked_up(
    start_server: Any, new_context: Any, tmp_path: Path
) -> None:
    copy = tmp_path / "pwa"
    shutil.copytree(Path(__file__).resolve().parents[2] / "pwa", copy)
    server = start_server(pwa_dir=copy)
    context = await new_context(base_url=server.base_url)
    page = await context.new_page()
    await open_app(page, username=None)
    old = server_version(server)
    assert await module_call(page, "/js/sw-register.js", "activeVersion") == old
    draft = {
        "id": "draft-kept-across-updates",
        "assignment_id": "a",
        "state": "draft",
        "updated_at": 1,
    }
    await page.evaluate(
        """async (draft) => { const { db, setMeta } = await import('/js/db.js');
                              await db.inspections.put(draft); await setMeta('queued-work', 42); }""",
        draft,
    )
    assert await module_call(page, "/js/sw-register.js", "checkForUpdate") is False

    # A new release: one shell file changes on the server.
    events_js = copy / "js" / "events.js"
    events_js.write_text(
        events_js.read_text(encoding="utf-8") + "\n// release 2\n", encoding="utf-8"
    )
    new = server_version(server)
    assert new != old
    assert await module_call(page, "/js/sw-register.js", "checkForUpdate") is True
    assert await events(page, "app-update-ready") == [{}]
    # The old version keeps running until the user chooses to update.
    assert await module_call(page, "/js/sw-register.js", "activeVersion") == old

    async with page.expect_navigation():
        await page.evaluate("() => { import('/js/sw-register.js').then((m) => m.applyUpdate()); }")
    await wait_for_sw(page)
    assert await module_call(page, "/js/sw-register.js", "activeVersion") == new
    assert await page.evaluate("async () => caches.keys()") == [f"yibao-shell-{new}"]
    served = await page.evaluate("async () => (await fetch('/js/events.js')).text()")
    assert served.endswith("// release 2\n")
    kept = await page.evaluate(
        """async (id) => { const { db, getMeta } = await import('/js/db.js');
                           return [await db.inspections.get(id), await getMeta('queued-work')]; }""",
        draft["id"],
    )
    assert kept == [draft, 42]


# --- the offline bundle -----------------------------------------------------------------------


async def test_bundle_full_then_304_then_incremental(start_server: Any, new_context: Any) -> None:
    # A server of its own, young: every row is inside the overlap window of each pull below.
    # (On the shared server, rows written by tests two minutes earlier leave the window between
    # two pulls, and a pull without them is rightly a 200.)
    pwa_server = start_server()
    context = await new_context(base_url=pwa_server.base_url)
    page = await context.new_page()
    await open_app(page)
    first = await module_call(page, "/js/bundle.js", "refreshBundle", {"full": True})
    assert first["status"] == 200 and first["full"] is True
    local = await page.evaluate(
        """async () => { const { db } = await import('/js/db.js');
          return { assignments: await db.assignments.toArray(), checklists: await db.checklists.count(),
                   institutions: await db.institutions.count(), physicians: await db.physicians.count() }; }"""
    )
    assert (
        local["assignments"]
        and local["checklists"]
        and local["institutions"]
        and local["physicians"]
    )
    assert all(a["institution_id"] == a["institution"]["id"] for a in local["assignments"])
    # Unchanged: the first pull since the cursor may repeat rows of the overlap window; then 304.
    statuses = [
        (await module_call(page, "/js/bundle.js", "refreshBundle"))["status"] for _ in range(3)
    ]
    assert 304 in statuses[:2] and statuses[-1] == 304, statuses

    # A change on the server comes as a delta.
    assignment = fresh_assignment(pwa_server)
    delta = await module_call(page, "/js/bundle.js", "refreshBundle")
    # (Rows changed in the two minutes before the cursor come again: on this young server, all.)
    assert delta["status"] == 200 and delta["full"] is False and delta["counts"]["assignments"] >= 1
    stored = await page.evaluate(
        "async (id) => (await import('/js/db.js')).db.assignments.get(id)", assignment["id"]
    )
    assert stored and stored["institution_id"] == assignment["institution"]["id"]

    # Cancelled: dropped locally — unless it holds unsynced work.
    busy = fresh_assignment(pwa_server)
    await module_call(page, "/js/bundle.js", "refreshBundle")
    await page.evaluate(
        """async (assignmentId) => (await import('/js/db.js')).db.inspections.put(
             { id: crypto.randomUUID(), assignment_id: assignmentId, state: 'draft', updated_at: Date.now() })""",
        busy["id"],
    )
    for cancelled in (assignment, busy):
        response = pwa_server.api(
            "POST",
            f"/api/assignments/{cancelled['id']}/cancel",
            username="supervisor.huancui",
            json={"reason": "测试取消"},
        )
        assert response.status_code == 200, response.text
    result = await module_call(page, "/js/bundle.js", "refreshBundle")
    assert result["counts"]["dropped"] >= 1
    kept = await page.evaluate(
        """async (ids) => { const { db } = await import('/js/db.js');
                            return Promise.all(ids.map(async (id) => !!(await db.assignments.get(id)))); }""",
        [assignment["id"], busy["id"]],
    )
    assert kept == [False, True]


# --- the sync queue ---------------------------------------------------------------------------


async def test_queued_offline_survives_reopen_and_syncs_exactly_once(
    context: Any, page: Any, pwa_server: PwaServer
) -> None:
    assignment = fresh_assignment(pwa_server)
    await open_app(page)
    await module_call(page, "/js/bundle.js", "refreshBundle")
    made = await page.evaluate(FILL_INSPECTION, {"assignmentId": assignment["id"]})
    assert made["evidence"] >= 1 and made["total"] is not None

    await context.set_offline(True)
    await module_call(page, "/js/sync-queue.js", "enqueue", made["id"])
    await module_call(page, "/js/sync-queue.js", "runQueue")  # tries, fails: no network
    queued = await wait_state(page, made["id"], "queued")
    assert queued["inspection"]["submitted_at"]
    status = await module_call(page, "/js/sync-queue.js", "queueStatus")
    assert status["waiting"] == 1 and status["lastError"]
    # A double tap on 提交 changes nothing.
    await module_call(page, "/js/sync-queue.js", "enqueue", made["id"])

    # The tab is closed and opened again, still offline: still waiting, photos still there.
    await page.close()
    page = await context.new_page()
    sent: list[str] = []
    context.on("requestfinished", lambda request: sent.append(f"{request.method} {request.url}"))
    response = await page.goto("/")
    assert response.from_service_worker
    await page.evaluate(LISTEN)
    reopened = await record(page, made["id"])
    assert reopened["inspection"]["state"] == "queued"
    assert len(reopened["photos"]) == made["photos"]
    assert all(p["hasBlob"] and not p["uploaded"] for p in reopened["photos"])
    assert server_inspections(pwa_server, assignment["id"]) == []

    # Back online: the queue resumes by itself (the online event → probe → reconnect).
    await page.evaluate(
        """async () => { (await import('/js/connection.js')).startConnectionMonitor();
                         (await import('/js/sync-queue.js')).startSyncEngine(); }"""
    )
    await context.set_offline(False)
    synced = await wait_state(page, made["id"], "synced", timeout=60)
    server = synced["inspection"]["server"]
    assert server["status"] == "submitted"
    assert server["score"]["total"] == made["total"] and server["score"]["grade"] == made["grade"]
    assert all(p["uploaded"] and not p["hasBlob"] for p in synced["photos"])
    assert [e["id"] for e in await events(page, "inspection-synced")] == [made["id"]]

    # Again on demand: nothing more is sent.
    await module_call(page, "/js/sync-queue.js", "runQueue")
    pushes = [s for s in sent if s.startswith("POST") and s.endswith("/api/sync")]
    uploads = [s for s in sent if s.startswith("POST") and s.endswith("/api/photos")]
    assert len(pushes) == 1, sent
    assert len(uploads) == made["photos"], sent

    rows = server_inspections(pwa_server, assignment["id"])
    assert len(rows) == 1
    row = rows[0]
    assert str(row["id"]) == made["id"] and row["status"] == "submitted"
    assert float(row["score_total"]) == made["total"] and row["grade"] == made["grade"]
    signatures = json.loads(row["signatures"])
    assert sorted(s["signer"] for s in signatures) == ["inspector", "inspector", "representative"]
    findings = pwa_server.query("SELECT * FROM finding WHERE inspection = ?", made["id"])
    assert len(findings) == made["findings"]
    failed = [f for f in findings if f["result"] == "fail"]
    assert [(f["item_id"], f["occurrences"]) for f in failed] == [(made["failed"], 2)]
    photos = pwa_server.query("SELECT kind FROM photo WHERE assignment = ?", assignment["id"])
    assert len(photos) == made["photos"]
    assert sum(p["kind"] == "signature" for p in photos) == 3


async def test_rejection_is_kept_with_the_servers_reason(page: Any, pwa_server: PwaServer) -> None:
    assignment = fresh_assignment(pwa_server)
    await open_app(page)
    await module_call(page, "/js/bundle.js", "refreshBundle")
    made = await page.evaluate(FILL_INSPECTION, {"assignmentId": assignment["id"]})

    # A checklist version the assignment doesn't use.
    await page.evaluate(
        "async (id) => (await import('/js/db.js')).db.inspections.update(id, { checklist_version: 99 })",
        made["id"],
    )
    await module_call(page, "/js/sync-queue.js", "enqueue", made["id"])
    rejected = await wait_state(page, made["id"], "rejected")
    rejection = rejected["inspection"]["rejection"]
    assert rejection["code"] == "checklist_mismatch" and "99" in rejection["message"]
    assert [e["id"] for e in await events(page, "inspection-rejected")] == [made["id"]]
    assert (await module_call(page, "/js/sync-queue.js", "queueStatus"))["rejected"] == 1

    # Corrected, but an item left unanswered: rejected again, the item named.
    assert await module_call(page, "/js/sync-queue.js", "reopen", made["id"]) is True
    removed = await page.evaluate(
        """async (id) => { const { db } = await import('/js/db.js');
             const inspection = await db.inspections.get(id);
             const checklist = await db.checklists.get(inspection.checklist_version_id);
             await db.inspections.update(id, { checklist_version: checklist.version });
             const finding = (await db.findings.where('inspection_id').equals(id).toArray())
               .find((f) => f.result === 'pass' && !f.photo_ids.length);
             await db.findings.delete(finding.id);
             return finding; }""",
        made["id"],
    )
    await module_call(page, "/js/sync-queue.js", "enqueue", made["id"])
    rejected = await wait_state(page, made["id"], "rejected")
    rejection = rejected["inspection"]["rejection"]
    assert rejection["code"] == "incomplete"
    assert any(removed["item"] in problem for problem in rejection["problems"])
    assert all(p["hasBlob"] for p in rejected["photos"])  # nothing deleted on a rejection

    # Fixed: accepted.
    await module_call(page, "/js/sync-queue.js", "reopen", made["id"])
    await page.evaluate("async (f) => (await import('/js/db.js')).db.findings.put(f)", removed)
    await module_call(page, "/js/sync-queue.js", "enqueue", made["id"])
    synced = await wait_state(page, made["id"], "synced")
    assert synced["inspection"]["server"]["score"]["total"] == made["total"]
    assert synced["inspection"]["rejection"] is None
    assert len(server_inspections(pwa_server, assignment["id"])) == 1


async def test_revoked_session_asks_for_login_and_keeps_the_queue(
    page: Any, pwa_server: PwaServer
) -> None:
    assignment = fresh_assignment(pwa_server)
    await open_app(page)
    await module_call(page, "/js/bundle.js", "refreshBundle")
    made = await page.evaluate(FILL_INSPECTION, {"assignmentId": assignment["id"]})
    session = await page.evaluate("async () => (await import('/js/db.js')).getMeta('session')")
    response = pwa_server.api(
        "POST", f"/api/admin/sessions/{session['session_id']}/revoke", username="admin"
    )
    assert response.status_code == 200, response.text

    await module_call(page, "/js/sync-queue.js", "enqueue", made["id"])
    await module_call(page, "/js/sync-queue.js", "runQueue")
    deadline = time.monotonic() + 20
    while not await events(page, "auth-required") and time.monotonic() < deadline:
        await page.wait_for_timeout(100)
    assert await events(page, "auth-required")
    queued = await wait_state(page, made["id"], "queued")
    assert all(p["hasBlob"] for p in queued["photos"])
    status = await module_call(page, "/js/sync-queue.js", "queueStatus")
    assert status["authRequired"] is True and status["waiting"] == 1
    assert server_inspections(pwa_server, assignment["id"]) == []

    # Signing in again resumes the queue.
    await api_login(page, "inspector")
    synced = await wait_state(page, made["id"], "synced")
    assert synced["inspection"]["server"]["score"]["total"] == made["total"]
    assert len(server_inspections(pwa_server, assignment["id"])) == 1
    assert (await module_call(page, "/js/sync-queue.js", "queueStatus"))["authRequired"] is False


async def test_build_push_matches_the_protocol(page: Any, pwa_server: PwaServer) -> None:
    assignment = fresh_assignment(pwa_server)
    await open_app(page)
    await module_call(page, "/js/bundle.js", "refreshBundle")
    made = await page.evaluate(FILL_INSPECTION, {"assignmentId": assignment["id"]})
    push = await module_call(page, "/js/sync-queue.js", "buildPush", made["id"])
    assert push["id"] == made["id"] and push["assignment_id"] == assignment["id"]
    assert push["submit"] is True and push["checklist_id"] == "pharmacy-routine"
    assert push["checklist_hash"].startswith("sha256:")
    assert len(push["findings"]) == made["findings"]
    assert {s["signer"] for s in push["signatures"]} == {"representative", "inspector"}
    for finding in push["findings"]:
        assert set(finding) <= {
            "id",
            "item",
            "result",
            "occurrences",
            "sampled",
            "failed",
            "population",
            "note",
            "physician_ids",
            "photo_ids",
            "client_revision",
            "client_updated_at",
        }
    # The server takes it as it is (a draft push: nothing submitted, nothing locked).
    draft = await module_call(page, "/js/sync-queue.js", "buildPush", made["id"], {"submit": False})
    response = pwa_server.api(
        "POST",
        "/api/sync",
        username="inspector",
        json={"device_id": "harness-inspector", "inspections": [draft]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["status"] == "accepted"


async def test_record_ids_are_uuid7_in_the_order_they_were_made(page: Any) -> None:
    """The tablet's ids (inspections, findings, photos) carry the millisecond they were made, so
    the server's indexes on them grow at one end (backend/ids.py makes the server's alike)."""
    await page.goto("/")
    made = await page.evaluate(
        """async () => {
          const { uuid } = await import('/js/views/model.js');
          const before = Date.now();
          const first = Array.from({ length: 200 }, () => uuid());
          await new Promise((r) => setTimeout(r, 5));
          const later = uuid();
          return { before, after: Date.now(), first, later };
        }"""
    )
    ids = [uuid.UUID(text) for text in made["first"]]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in ids)
    assert all(made["before"] <= u.int >> 80 <= made["after"] for u in ids)
    assert len(set(made["first"])) == 200
    assert all(text < made["later"] for text in made["first"])  # a later id sorts after


async def test_photo_prep_downscales_and_keeps_png(page: Any) -> None:
    await page.goto("/")
    result = await page.evaluate(
        """async () => {
          const { prepareImage, prepareSignature, sha256Hex } = await import('/js/photo-prep.js');
          const big = new OffscreenCanvas(4000, 3000);
          big.getContext('2d').fillRect(0, 0, 10, 10);
          const large = await prepareImage(await big.convertToBlob({ type: 'image/png' }));
          const small = new OffscreenCanvas(640, 480);
          small.getContext('2d').fillRect(0, 0, 10, 10);
          const kept = await prepareImage(await small.convertToBlob({ type: 'image/jpeg' }));
          const pad = new OffscreenCanvas(600, 200);
          pad.getContext('2d').fillRect(100, 100, 300, 4);
          const signature = await prepareSignature(pad);
          const bytes = new Uint8Array(await signature.blob.slice(0, 8).arrayBuffer());
          let refused = null;
          try { await prepareImage(new Blob(['not an image'])); } catch (e) { refused = e.message; }
          return { large: [large.width, large.height, large.type, large.size === large.blob.size],
                   kept: [kept.width, kept.height], signature: [signature.type, Array.from(bytes)],
                   sha: await sha256Hex(new Blob(['abc'])), refused };
        }"""
    )
    assert result["large"] == [2048, 1536, "image/jpeg", True]
    assert result["kept"] == [640, 480]  # never enlarged
    assert result["signature"] == ["image/png", [137, 80, 78, 71, 13, 10, 26, 10]]
    assert result["sha"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert result["refused"]


async def test_persistence_and_connection(context: Any, page: Any) -> None:
    await page.goto("/")
    await page.evaluate(LISTEN)
    persisted = await page.evaluate(
        """async () => { const persist = await import('/js/persist.js');
                         const seen = [];
                         (await import('/js/events.js')).on('persist', (d) => seen.push(d));
                         const granted = await persist.requestPersistence();
                         return { granted, stored: await persist.persistGranted(), seen,
                                  estimate: await persist.storageEstimate() }; }"""
    )
    assert persisted["stored"] == persisted["granted"]
    assert persisted["seen"] and persisted["seen"][0]["granted"] == persisted["granted"]
    assert persisted["estimate"]["quota"] > 0
    assert await module_call(page, "/js/connection.js", "probe") is True
    assert await module_call(page, "/js/connection.js", "isOnline") is True
    await context.set_offline(True)
    assert await module_call(page, "/js/connection.js", "probe") is False
    assert await module_call(page, "/js/connection.js", "isOnline") is False
    await context.set_offline(False)
    assert await module_call(page, "/js/connection.js", "probe") is True


async def test_lost_answer_and_server_error_never_duplicate(
    context: Any, page: Any, pwa_server: PwaServer
) -> None:
    """The server stores the push but its answer is lost, then it fails with 503: the engine
    retries by itself (back-off) and the resend answers ``unchanged`` — one inspection."""
    assignment = fresh_assignment(pwa_server)
    await open_app(page)
    await module_call(page, "/js/bundle.js", "refreshBundle")
    made = await page.evaluate(FILL_INSPECTION, {"assignmentId": assignment["id"]})
    pushes: list[str] = []

    async def flaky(route: Any) -> None:
        pushes.append(route.request.method)
        if len(pushes) == 1:
            await route.fetch()  # reaches the server, which commits it …
            await route.abort("connectionreset")  # … but the tablet never hears back
        elif len(pushes) == 2:
            await route.fulfill(status=503, json={"status_code": 503, "detail": "服务暂不可用"})
        else:
            await route.continue_()

    await context.route("**/api/sync", flaky)
    await module_call(page, "/js/sync-queue.js", "enqueue", made["id"])
    synced = await wait_state(page, made["id"], "synced", timeout=60)
    assert len(pushes) == 3
    assert synced["inspection"]["server"]["code"] == "duplicate"  # the resend: unchanged
    assert synced["inspection"]["server"]["score"]["total"] == made["total"]
    assert len(server_inspections(pwa_server, assignment["id"])) == 1
    status = await module_call(page, "/js/sync-queue.js", "queueStatus")
    assert status["waiting"] == 0 and status["lastError"] is None


async def test_photo_the_server_lacks_is_sent_again(page: Any, pwa_server: PwaServer) -> None:
    """A photo marked uploaded that the server doesn't have (photos_missing): sent again, then
    the submission goes through — never "success" with a photo missing."""
    assignment = fresh_assignment(pwa_server)
    await open_app(page)
    await module_call(page, "/js/bundle.js", "refreshBundle")
    made = await page.evaluate(FILL_INSPECTION, {"assignmentId": assignment["id"]})
    await page.evaluate(
        """async (id) => { const { db } = await import('/js/db.js');
             const sig = (await db.photos.where('inspection_id').equals(id).toArray())
               .find((p) => p.kind === 'signature');
             await db.photos.update(sig.id, { uploaded: 1 }); }""",
        made["id"],
    )
    await module_call(page, "/js/sync-queue.js", "enqueue", made["id"])
    synced = await wait_state(page, made["id"], "synced")
    assert synced["inspection"]["server"]["status"] == "submitted"
    photos = pwa_server.query("SELECT id FROM photo WHERE assignment = ?", assignment["id"])
    assert len(photos) == made["photos"]
