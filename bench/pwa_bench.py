"""PWA benchmark: app-shell size, offline start, form responsiveness and IndexedDB volume, in
headless Debian Chromium against a real ``yibao serve``. Run on demand (not part of the suite):

    .venv/bin/python bench/pwa_bench.py              # print the results (Markdown)
    .venv/bin/python bench/pwa_bench.py --write      # also replace "## PWA" in docs/benchmarks.md

The server serves a copy of ``pwa/`` with one extra file, ``bare.html`` (an empty page), as the
baseline of the same run: what any page costs on this server and machine.

Targets (issue 4): app shell ≤ 300 KB transferred (gzip) on first load; offline (from the service
worker cache) interactive in ≤ 1.5 s; input to paint ≤ 100 ms on a 150-item checklist; 100
inspections × 10 photos in IndexedDB without the app slowing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.pwa.conftest import CHROMIUM, CHROMIUM_ARGS, launch_server  # noqa: E402

COMMAND = ".venv/bin/python bench/pwa_bench.py --write"

# Records when the app says it is ready (app.js sets body[data-ready="1"]) and measures, for each
# pointer input, the time to the next paint after the DOM reacted (first) and after it settled.
INIT_SCRIPT = """
(() => {
  const mark = () => {
    if (!window.__readyAt && document.body && document.body.dataset.ready === '1') window.__readyAt = performance.now();
  };
  new MutationObserver(mark).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ready'] });
  document.addEventListener('DOMContentLoaded', () => { window.__dclAt = performance.now(); mark(); });
  window.__paints = [];
  const afterPaint = (fn) => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = fn;
    channel.port2.postMessage(0);
  });
  document.addEventListener('pointerdown', (event) => {
    const t0 = event.timeStamp;
    const entry = { first: null, settled: null };
    window.__paints.push(entry);
    let quiet = null;
    const settle = () => { observer.disconnect(); afterPaint(() => { entry.settled = performance.now() - t0; }); };
    const observer = new MutationObserver(() => {
      if (entry.first === null) { entry.first = -1; afterPaint(() => { entry.first = performance.now() - t0; }); }
      clearTimeout(quiet);
      quiet = setTimeout(settle, 150);  // settled: no change for 150 ms (subtracted below)
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    quiet = setTimeout(settle, 1000);
  }, true);
  window.__eventTiming = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.interactionId) window.__eventTiming.push({ id: e.interactionId, name: e.name, duration: e.duration });
    }).observe({ type: 'event', durationThreshold: 16, buffered: true });
  } catch (error) {}
})();
"""

SEED_CHECKLIST = """async ({ sections, perSection }) => {
  const { db } = await import('/js/db.js');
  const { startInspection } = await import('/js/views/model.js');
  const modes = ['pass_fail', 'deduct', 'sample'];
  const content = { id: 'bench-150', version: 1, title: '性能测试检查表（150 项）', applies_to: ['pharmacy'],
    grade_bands: [{ grade: '优秀', min: 90 }, { grade: '良好', min: 80 }, { grade: '合格', min: 60 }, { grade: '不合格', min: 0 }],
    sections: [] };
  let n = 0;
  for (let s = 0; s < sections; s += 1) {
    const items = [];
    for (let i = 0; i < perSection; i += 1) {
      n += 1;
      const mode = modes[n % 3];
      items.push({ id: `s${s}.item-${i}`, text: `第 ${n} 项：核查药品购销存台账与医保结算数据是否一致（测试项 ${n}）`,
        fail_when: '台账缺失或与结算数据不一致', mode, points: 5, ...(mode === 'deduct' ? { per_occurrence: 1 } : {}),
        critical: n % 50 === 0, evidence: n % 4 === 0 ? 'photo_on_fail' : 'none',
        basis: '《医疗保障基金使用监督管理条例》第十五条', deadline_days: 15 });
    }
    content.sections.push({ id: `s${s}`, title: `检查类别 ${s + 1}`, weight: 10 + s, items });
  }
  const institution = (await db.institutions.toArray())[0];
  const versionId = crypto.randomUUID();
  const assignmentId = crypto.randomUUID();
  await db.checklists.put({ version_id: versionId, checklist_id: content.id, version: 1, title: content.title,
    content_hash: 'sha256:bench', content });
  await db.assignments.put({ id: assignmentId, institution: { id: institution.id, code: institution.code,
      name: institution.name, type: institution.type, address: institution.address, agreement_status: 'normal' },
    institution_id: institution.id,
    checklist: { version_id: versionId, checklist_id: content.id, version: 1, title: content.title, content_hash: 'sha256:bench' },
    kind: 'routine', kind_label: '日常检查', window_start: new Date().toISOString().slice(0, 10),
    window_end: new Date().toISOString().slice(0, 10), status: 'planned', status_label: '待检查',
    inspectors: [], note: '', inspection: null });
  const { inspection } = await startInspection(assignmentId);
  return { inspectionId: inspection.id, firstSection: content.sections[0].id, items: n };
}"""

SEED_VOLUME = """async ({ inspections, photosEach, photoBytes }) => {
  const { db } = await import('/js/db.js');
  const chunk = () => {
    const parts = [];
    for (let left = photoBytes; left > 0; left -= 65536) parts.push(crypto.getRandomValues(new Uint8Array(Math.min(65536, left))));
    return new Blob(parts, { type: 'image/jpeg' });
  };
  const t0 = performance.now();
  for (let k = 0; k < inspections; k += 1) {
    const id = crypto.randomUUID();
    const now = new Date().toISOString();
    const photos = Array.from({ length: photosEach }, (_, j) => ({ id: crypto.randomUUID(), inspection_id: id,
      assignment_id: 'bench', item_id: `item-${j}`, kind: 'evidence', signer: null, blob: chunk(), type: 'image/jpeg',
      sha256: '', width: 2048, height: 1536, size: photoBytes, created_at: now, uploaded: 0 }));
    const findings = Array.from({ length: 30 }, (_, j) => ({ id: crypto.randomUUID(), inspection_id: id, item: `item-${j}`,
      result: 'pass', note: '', photo_ids: j < photosEach ? [photos[j].id] : [], client_revision: 1, client_updated_at: now }));
    await db.transaction('rw', db.inspections, db.findings, db.photos, async () => {
      await db.inspections.put({ id, assignment_id: crypto.randomUUID(), institution_id: 'bench', state: 'draft',
        checklist_version_id: 'none', started_at: now, client_updated_at: now, updated_at: Date.now() - k,
        client_revision: 31, signatures: [], rejection: null, server: null });
      await db.findings.bulkPut(findings);
      await db.photos.bulkPut(photos);
    });
  }
  return performance.now() - t0;
}"""

QUERIES = """async () => {
  const { db, unsyncedInspections } = await import('/js/db.js');
  const { queueStatus } = await import('/js/sync-queue.js');
  const { loadInspection } = await import('/js/views/model.js');
  const time = async (fn) => { const runs = []; for (let i = 0; i < 5; i += 1) { const t = performance.now(); await fn(); runs.push(performance.now() - t); }
                               runs.sort((a, b) => a - b); return runs[2]; };
  const newest = await db.inspections.orderBy('updated_at').last();
  return {
    unsynced: await time(() => unsyncedInspections()),
    queueStatus: await time(() => queueStatus()),
    homeLists: await time(() => Promise.all([db.assignments.toArray(), db.inspections.toArray()])),
    oneInspection: newest ? await time(async () => { const d = await loadInspection(newest.id);
                                                     await Promise.all(d.photos.map((p) => p.blob && p.blob.size)); }) : null,
    photos: await db.photos.count(),
    inspections: await db.inspections.count(),
    estimate: await navigator.storage.estimate(),
  };
}"""


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def shell_size(base_url: str) -> dict[str, Any]:
    """Bytes of the precached shell, as sent by the server with gzip, and raw."""
    text = httpx.get(f"{base_url}/sw.js").text
    precache = json.loads(re.match(r"self\.__PRECACHE = (.*);\n", text).group(1))
    wire = raw = 0
    biggest = []
    with httpx.Client(base_url=base_url, headers={"Accept-Encoding": "gzip"}) as client:
        for url in [*precache["urls"], "/sw.js"]:
            if url == "/bare.html":
                continue
            response = client.get(url)
            response.raise_for_status()
            wire += response.num_bytes_downloaded
            raw += len(response.content)
            biggest.append((response.num_bytes_downloaded, url))
    biggest.sort(reverse=True)
    return {"files": len(precache["urls"]), "gzip": wire, "raw": raw, "biggest": biggest[:4]}


async def ready_time(page: Any, url: str | None = None) -> tuple[float, bool]:
    """Navigate (or reload) and return (ms from navigation start to the app's ready marker, from SW)."""
    response = await (page.goto(url) if url else page.reload())
    await page.wait_for_function("() => window.__readyAt", timeout=30_000)
    return await page.evaluate("() => window.__readyAt"), bool(
        response and response.from_service_worker
    )


async def bare_time(page: Any) -> float:
    await page.goto("/bare.html")
    return await page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0]; return n.domContentLoadedEventEnd; }"
    )


async def login(page: Any, username: str = "inspector") -> None:
    from backend.demo import demo_password

    await page.evaluate(
        "async ([u, p]) => (await import('/js/api.js')).login(u, p)", [username, demo_password()]
    )


async def wait_sw(page: Any) -> None:
    for _ in range(200):
        ok = await page.evaluate(
            """async () => { const r = await navigator.serviceWorker.getRegistration();
                             return !!(r && r.active && r.active.state === 'activated' && navigator.serviceWorker.controller); }"""
        )
        if ok:
            return
        await page.wait_for_timeout(100)
    raise RuntimeError("service worker did not take control")


async def input_to_paint(page: Any, sections: int, per_section: int, clicks: int) -> dict[str, Any]:
    seeded = await page.evaluate(SEED_CHECKLIST, {"sections": sections, "perSection": per_section})
    await page.goto(f"/#/inspect/{seeded['inspectionId']}/{seeded['firstSection']}")
    await page.wait_for_selector("article.item-card button.result-btn.result-pass")
    cards = await page.locator("article.item-card").count()
    await page.wait_for_timeout(300)
    await page.evaluate("() => { window.__paints = []; window.__eventTiming = []; }")
    for i in range(clicks):
        # Every tap changes the answer (a second round over the same cards picks another result).
        result = ("pass", "fail", "na")[(i + i // cards) % 3]
        button = page.locator(f"article.item-card button.result-btn.result-{result}").nth(i % cards)
        await button.scroll_into_view_if_needed()
        box = await button.bounding_box()
        await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        await page.wait_for_function(
            "(n) => window.__paints.length >= n && window.__paints[n - 1].settled !== null",
            arg=i + 1,
            timeout=10_000,
        )
    paints = await page.evaluate("() => window.__paints")
    timing = await page.evaluate("() => window.__eventTiming")
    first = [p["first"] for p in paints if p["first"] not in (None, -1)]
    settled = [
        p["settled"] - 150 for p in paints if p["first"] is not None
    ]  # minus the quiet period
    per_interaction: dict[int, float] = {}
    for entry in timing:
        per_interaction[entry["id"]] = max(per_interaction.get(entry["id"], 0), entry["duration"])
    return {
        "items": seeded["items"],
        "cards": cards,
        "clicks": clicks,
        "first_median": median(first),
        "first_p95": p95(first),
        "first_max": max(first),
        "settled_median": median(settled),
        "settled_max": max(settled),
        "event_timing_max": max(per_interaction.values()) if per_interaction else None,
        "event_timing_over_16": len(per_interaction),
    }


async def run(runs: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    results: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    root = Path(tempfile.mkdtemp(prefix="yibao-bench-"))
    copy = root / "pwa"
    shutil.copytree(REPO / "pwa", copy)
    (copy / "bare.html").write_text(
        "<!doctype html><html lang=zh-CN><meta charset=utf-8><title>bare</title><p>baseline</p>",
        encoding="utf-8",
    )
    server = launch_server(root / "data", copy)
    try:
        results["shell"] = shell_size(server.base_url)
        async with async_playwright() as driver:
            browser = await driver.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            results["browser"] = browser.version

            # First load, cold (new context: empty HTTP cache, no service worker).
            first_loads, first_bytes, bare = [], [], []
            for _ in range(runs):
                context = await browser.new_context(
                    base_url=server.base_url,
                    viewport={"width": 1280, "height": 800},
                    service_workers="allow",
                    locale="zh-CN",
                )
                await context.add_init_script(INIT_SCRIPT)
                sizes: list[Any] = []
                context.on("requestfinished", lambda request, sizes=sizes: sizes.append(request))
                page = await context.new_page()
                ms, _ = await ready_time(page, "/")
                first_loads.append(ms)
                total = 0
                for request in list(sizes):
                    total += (await request.sizes())["responseBodySize"]
                first_bytes.append(total)
                bare.append(await bare_time(page))
                await context.close()
            results["first_load_ms"] = median(first_loads)
            results["first_load_page_bytes"] = median(first_bytes)
            results["bare_ms"] = median(bare)

            # Offline from the service worker cache, signed in (the home screen), 1280×800.
            context = await browser.new_context(
                base_url=server.base_url,
                viewport={"width": 1280, "height": 800},
                service_workers="allow",
                locale="zh-CN",
            )
            await context.add_init_script(INIT_SCRIPT)
            page = await context.new_page()
            await ready_time(page, "/")
            await login(page)
            await page.evaluate("async () => (await import('/js/bundle.js')).refreshBundle()")
            await wait_sw(page)
            online = [(await ready_time(page))[0] for _ in range(runs)]
            await context.set_offline(True)
            offline, from_sw = [], []
            for _ in range(runs):
                ms, sw = await ready_time(page)
                offline.append(ms)
                from_sw.append(sw)
            await context.set_offline(False)
            results["online_reload_ms"] = median(online)
            results["offline_ms"] = median(offline)
            results["offline_max_ms"] = max(offline)
            results["offline_from_sw"] = all(from_sw)

            # Input to paint on a 150-item checklist: 6 sections of 25, and all 150 in one section.
            results["form_6x25"] = await input_to_paint(page, 6, 25, 30)
            results["form_1x150"] = await input_to_paint(page, 1, 150, 30)

            # IndexedDB volume: empty vs 100 inspections × 10 photos × 200 KB.
            await page.goto("/")
            await page.wait_for_function("() => window.__readyAt")
            empty_start = [(await ready_time(page))[0] for _ in range(runs)]
            empty_queries = await page.evaluate(QUERIES)
            fill_ms = await page.evaluate(
                SEED_VOLUME, {"inspections": 100, "photosEach": 10, "photoBytes": 200 * 1024}
            )
            full_start = [(await ready_time(page))[0] for _ in range(runs)]
            full_queries = await page.evaluate(QUERIES)
            await context.set_offline(True)
            full_offline = [(await ready_time(page))[0] for _ in range(runs)]
            await context.set_offline(False)
            results["volume"] = {
                "fill_s": fill_ms / 1000,
                "empty_start_ms": median(empty_start),
                "full_start_ms": median(full_start),
                "full_offline_start_ms": median(full_offline),
                "empty": empty_queries,
                "full": full_queries,
            }
            await context.close()
            await browser.close()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return results


def cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def report(r: dict[str, Any], runs: int) -> str:
    kb = lambda n: f"{n / 1024:.1f} KB"  # noqa: E731
    ms = lambda n: "—" if n is None else f"{n:.0f} ms"  # noqa: E731
    shell, v = r["shell"], r["volume"]
    f6, f150 = r["form_6x25"], r["form_1x150"]
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    biggest = ", ".join(f"`{url}` {kb(size)}" for size, url in shell["biggest"])
    ok = lambda good: "✅" if good else "❌"  # noqa: E731
    return f"""## PWA

Command: `{COMMAND}` (headless Chromium {r["browser"]}, {cpu()}, {nproc} cores; medians of {runs}
runs unless said; a real `yibao serve` with gzip on a fresh SQLite folder; the baseline is an
empty HTML page from the same server in the same run; 1-minute load average when it started:
{r["load_before"]:.1f} — other work on the machine makes the millisecond figures noisier).

| what | result | target |
|---|---|---|
| app shell, everything the service worker precaches ({shell["files"]} files + sw.js), gzip as sent | **{kb(shell["gzip"])}** ({kb(shell["raw"])} uncompressed) | ≤ 300 KB {ok(shell["gzip"] <= 300 * 1024)} |
| first load, page requests until ready (cold cache, no service worker yet) | {kb(r["first_load_page_bytes"])} in {ms(r["first_load_ms"])} | |
| baseline: empty page, same server (DOMContentLoaded) | {ms(r["bare_ms"])} | |
| reload online, signed in, home screen ready | {ms(r["online_reload_ms"])} | |
| **offline** from the service-worker cache, signed in, home ready (navigation start → `body[data-ready]`) | **{ms(r["offline_ms"])}** (max {ms(r["offline_max_ms"])}; from SW: {r["offline_from_sw"]}) | ≤ 1.5 s {ok(r["offline_max_ms"] <= 1500)} |
| input to paint, 150 items in 6 sections of 25: first paint after a tap on 符合/不符合 (median / p95 / max of {f6["clicks"]}) | **{ms(f6["first_median"])} / {ms(f6["first_p95"])} / {ms(f6["first_max"])}** | ≤ 100 ms {ok(f6["first_p95"] <= 100)} |
| same, settled (autosave written, 预评分 and progress redrawn) median / max | {ms(f6["settled_median"])} / {ms(f6["settled_max"])} | |
| input to paint, all 150 items in one section (worst case) median / p95 / max | {ms(f150["first_median"])} / {ms(f150["first_p95"])} / {ms(f150["first_max"])} (settled {ms(f150["settled_median"])}) | ≤ 100 ms {ok(f150["first_p95"] <= 100)} |
| Chromium Event Timing: longest interaction (entries ≥ 16 ms only), 6×25 / 1×150 | {ms(f6["event_timing_max"])} / {ms(f150["event_timing_max"])} | |
| IndexedDB volume: {v["full"]["inspections"]} inspections, {v["full"]["photos"]} photos ({v["full"]["estimate"]["usage"] / 1024 / 1024:.0f} MB used), written in {v["fill_s"]:.1f} s | | |
| app start online, empty → with that volume | {ms(v["empty_start_ms"])} → **{ms(v["full_start_ms"])}** (offline {ms(v["full_offline_start_ms"])}) | no slowdown {ok(v["full_start_ms"] <= max(1.5 * v["empty_start_ms"], v["empty_start_ms"] + 100))} |
| queries empty → full: unsynced list / queue status / home lists / one inspection with its 10 photos | {v["empty"]["unsynced"]:.1f} / {v["empty"]["queueStatus"]:.1f} / {v["empty"]["homeLists"]:.1f} / {v["empty"]["oneInspection"]:.1f} ms → {v["full"]["unsynced"]:.1f} / {v["full"]["queueStatus"]:.1f} / {v["full"]["homeLists"]:.1f} / {v["full"]["oneInspection"]:.1f} ms | |

Largest shell files (gzip): {biggest}.

How it is measured: the shell size sums the bytes on the wire for every URL in the service
worker's precache list (`/sw.js` says which) plus `sw.js`, requested with `Accept-Encoding: gzip`.
"Ready" is the moment app.js sets `document.body.dataset.ready = "1"` (recorded by a
MutationObserver, in ms since navigation start). Input to paint: a real mouse click (CDP input) on
a result button; from the `pointerdown` event's timestamp to the first frame after the DOM
changed (`requestAnimationFrame` + a message, i.e. after that frame was produced); "settled" is
the same after the last change (no change for 150 ms, not counted). The volume test writes random
200 KB blobs as photos of draft inspections (nothing for the sync engine to send).
"""


def write_section(section: str, heading: str = "PWA") -> Path:
    """Put ``section`` in docs/benchmarks.md in place of its ``## <heading>`` section (appended
    when there is none yet)."""
    path = REPO / "docs" / "benchmarks.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\b.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--json", action="store_true", help="also print the raw results")
    args = parser.parse_args()
    started = time.monotonic()
    results = asyncio.run(run(args.runs))
    section = report(results, args.runs)
    print(section)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    if args.write:
        print(f"written to {write_section(section)}")
    print(f"({time.monotonic() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
