"""The 看板, its lists, the 机构档案 and 导出 in real Chromium against a real server.

Arranged through the API (a pharmacy's inspection with three failed items, submitted today),
then driven as ``supervisor``: the board with its ECharts charts and filters kept in the URL, a
click on a number to the list behind it, an institution's page with its score trend, the search,
and an export downloaded and read back with openpyxl. Screenshots of each screen at 1280×800,
800×1280 and 390×844.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from openpyxl import load_workbook

from tests.inspections.helpers import complete_inspection, push
from tests.pwa.conftest import PwaServer, login, screenshot, wait_ready
from tests.rectification.helpers import FAILS

PHARMACY = "P37100200004"  # 环翠区德仁堂药店 (no other browser test inspects it)
VIEWPORTS = [{"width": 1280, "height": 800}, {"width": 800, "height": 1280}, {"width": 390, "height": 844}]


def _id(server: PwaServer, sql: str, *params: Any) -> str:
    return server.query(sql, *params)[0]["id"]


async def _inspect(server: PwaServer, code: str) -> str:
    """Plan (as supervisor), inspect and submit with FAILS; returns the inspection id."""
    body = {
        "institution_id": _id(server, "SELECT id FROM institution WHERE code = ?", code),
        "checklist_id": "pharmacy-routine",
        "window_start": str(date.today()),
        "window_end": str(date.today() + timedelta(days=3)),
        "inspector_ids": [_id(server, "SELECT id FROM app_user WHERE username = ?", u) for u in ("inspector", "inspector2")],
    }
    planned = server.api("POST", "/api/assignments", username="supervisor", json=body)
    assert planned.status_code == 201, planned.text
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        inspector = {"Authorization": f"Bearer {server.token('inspector')}"}
        record = await complete_inspection(client, inspector, planned.json(), fail=FAILS)
        pushed = await push(client, inspector, [record])
        assert pushed.status_code == 200, pushed.text
    return record["id"]


async def _shots(page: Any, name: str, ready: str) -> None:
    for viewport in VIEWPORTS:
        await page.set_viewport_size(viewport)
        await page.wait_for_selector(ready)
        await page.wait_for_timeout(300)  # charts follow their box's new size
        await screenshot(page, name)
    await page.set_viewport_size(VIEWPORTS[0])


def _query(page: Any) -> dict[str, str]:
    fragment = urlsplit(page.url).fragment
    return {k: v[0] for k, v in parse_qs(fragment.split("?", 1)[1] if "?" in fragment else "").items()}


async def test_supervisor_reads_the_board_opens_a_list_an_archive_and_exports(pwa_server: PwaServer, page: Any) -> None:
    inspection_id = await _inspect(pwa_server, PHARMACY)
    institution_id = _id(pwa_server, "SELECT id FROM institution WHERE code = ?", PHARMACY)
    summary = pwa_server.api("GET", "/api/dashboard/summary", username="supervisor").json()
    assert summary["inspections"] >= 1

    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(pwa_server.base_url + "/")
    await wait_ready(page)
    await login(page, "supervisor")
    await page.evaluate("() => { location.hash = '#/desk/dashboard'; }")
    await page.wait_for_selector(".d-kpi")
    await page.wait_for_selector(".d-chart canvas")  # ECharts drew (the vendored library loaded)
    assert await page.locator(".d-chart canvas").count() >= 8
    inspections_tile = page.locator('.d-kpi[data-kpi="检查次数"] .d-kpi-value')
    assert await inspections_tile.inner_text() == str(summary["inspections"])
    assert "#/desk/dashboard" in page.url
    await _shots(page, "desk-dashboard", ".d-chart canvas")

    # A filter goes into the URL and the numbers follow it.
    await page.select_option('.d-track-filters select[name="type"]', "hospital")
    await page.wait_for_function("() => location.hash.includes('type=hospital')")
    hospitals = pwa_server.api("GET", "/api/dashboard/summary?type=hospital", username="supervisor").json()
    await page.wait_for_function(
        "n => document.querySelector('.d-kpi[data-kpi=\"定点医药机构\"] .d-kpi-value')?.textContent === String(n)",
        arg=hospitals["institutions"],
    )
    await page.select_option('.d-track-filters select[name="type"]', "")
    await page.wait_for_function("() => !location.hash.includes('type=')")
    await page.wait_for_function(
        "n => document.querySelector('.d-kpi[data-kpi=\"定点医药机构\"] .d-kpi-value')?.textContent === String(n)",
        arg=summary["institutions"],
    )

    # A number opens its list: the open tasks.
    await page.click('.d-kpi[data-kpi="未完成整改事项"]')
    await page.wait_for_selector("#d-track-list tbody tr")
    query = _query(page)
    assert "type" not in query
    assert query["what"] == "tasks" and query["state"] == "open"
    listed = pwa_server.api("GET", "/api/dashboard/list/tasks?state=open&limit=500", username="supervisor").json()
    assert listed["total"] == summary["tasks_open"]
    assert await page.locator("#d-track-list tbody tr").count() == min(listed["total"], 50)
    assert f"（{listed['total']}）" in await page.locator(".d-head h1").inner_text()
    await _shots(page, "desk-dashboard-list", "#d-track-list tbody tr")

    # The inspections list, then a row to its institution's archive.
    await page.evaluate("() => { location.hash = '#/desk/dashboard'; }")
    await page.wait_for_selector('.d-kpi[data-kpi="检查次数"]')
    await page.click('.d-kpi[data-kpi="检查次数"]')
    await page.wait_for_selector("#d-track-list tbody tr")
    row = page.locator("#d-track-list tbody tr", has_text=PHARMACY).first
    await row.click()
    await page.wait_for_selector(".d-track-facts")
    assert f"#/desk/archive/{institution_id}" in page.url
    await page.wait_for_selector(".d-chart-trend canvas")
    archive = pwa_server.api("GET", f"/api/institutions/{institution_id}/archive", username="supervisor").json()
    assert inspection_id in [x["id"] for x in archive["inspections"]]
    notice = archive["notices"][0]
    assert await page.locator(".d-archive-notice-head a", has_text=notice["number"]).count() == 1
    await _shots(page, "desk-archive", ".d-chart-trend canvas")

    # Search by national code.
    await page.evaluate("() => { location.hash = '#/desk/archive'; }")
    await page.fill("#d-archive-q", PHARMACY)
    await page.press("#d-archive-q", "Enter")
    await page.wait_for_function("() => location.hash.includes('q=')")
    await page.wait_for_function("() => document.querySelectorAll('.d-table tbody tr').length === 1")
    assert PHARMACY in await page.locator(".d-table tbody tr").inner_text()
    await _shots(page, "desk-archive-search", ".d-table tbody tr")

    # 导出: the inspections of the period as XLSX, read back.
    await page.evaluate("() => { location.hash = '#/desk/exports'; }")
    await page.wait_for_selector('[data-file="inspections.xlsx"]')
    await _shots(page, "desk-exports", '[data-file="inspections.xlsx"]')
    async with page.expect_download() as info:
        await page.click('[data-file="inspections.xlsx"]')
    download = await info.value
    assert download.suggested_filename.endswith(".xlsx") and download.suggested_filename.startswith("检查记录")
    path = await download.path()
    sheet = load_workbook(io.BytesIO(Path(path).read_bytes())).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("机构编码", "机构名称")
    assert len(rows) - 1 == summary["inspections"]
    assert PHARMACY in {r[0] for r in rows[1:]}
    await page.wait_for_selector(".d-msg.ok")
    assert errors == []
