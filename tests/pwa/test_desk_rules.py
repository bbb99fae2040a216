"""The rules on the desk, in real Chromium against a real server: a clinic's inspection names two
physicians on a failed item; the supervisor reads the 机构档案 (their points and the 年度考核, and
the assessment export), opens the notice (the physicians' points and the 记分告知书) and records a
later paper service, after which the objection window is counted again; the admin records an
inspector's 执法证号. Screenshots at 1280×800, 800×1280 and 390×844."""

from __future__ import annotations

import io
import sqlite3
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from openpyxl import load_workbook

from backend.china_time import today_in_china
from tests.inspections.helpers import complete_inspection, push
from tests.pwa.conftest import PwaServer, login, screenshot, wait_ready

CLINIC = "环翠区海岸社区诊所"  # no other browser test inspects it
ITEM = "physicians.rx-signature"  # clinic checklist: 2 points per physician named
VIEWPORTS = [{"width": 1280, "height": 800}, {"width": 800, "height": 1280}, {"width": 390, "height": 844}]


async def _shots(page: Any, name: str, ready: str) -> None:
    for viewport in VIEWPORTS:
        await page.set_viewport_size(viewport)
        await page.wait_for_selector(ready)
        await page.evaluate("() => window.scrollTo(0, 0)")  # the sticky header stays on top
        await page.wait_for_timeout(250)
        await screenshot(page, name)
    await page.set_viewport_size(VIEWPORTS[0])


async def _inspect(server: PwaServer, institution_id: str, doctors: list[str]) -> str:
    users = [server.query("SELECT id FROM app_user WHERE username = ?", u)[0]["id"] for u in ("inspector", "inspector2")]
    planned = server.api("POST", "/api/assignments", username="supervisor", json={
        "institution_id": institution_id, "checklist_id": "clinic-routine",
        "window_start": str(today_in_china()), "window_end": str(today_in_china() + timedelta(days=3)),
        "inspector_ids": users})
    assert planned.status_code == 201, planned.text
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        inspector = {"Authorization": f"Bearer {server.token('inspector')}"}
        record = await complete_inspection(client, inspector, planned.json(), fail={ITEM: {"physician_ids": doctors}})
        pushed = await push(client, inspector, [record])
        assert pushed.json()["results"][0]["inspection_status"] == "submitted", pushed.text
    return record["id"]


def _backdate_issue(server: PwaServer, notice_id: str, days: int) -> None:
    """The notice was issued ``days`` ago (so that a paper service today is a later one)."""
    row = server.query("SELECT issued_at FROM rectification_notice WHERE id = ?", notice_id)[0]
    issued = datetime.fromisoformat(str(row["issued_at"])) - timedelta(days=days)
    shift = f"-{days} days"
    with sqlite3.connect(server.db_path, timeout=10) as con:
        con.execute("UPDATE rectification_notice SET issued_at = ?, served_on = ?,"
                    " objection_deadline = date(objection_deadline, ?) WHERE id = ?",
                    (issued.isoformat(sep=" "), str((issued + timedelta(hours=8)).date()), shift, notice_id))
        con.execute("UPDATE rectification_task SET deadline = date(deadline, ?) WHERE notice = ?",
                    (shift, notice_id))


async def test_archive_points_assessment_service_and_cert_no(
    pwa_server: PwaServer, page: Any, new_context: Any, tmp_path: Any
) -> None:
    institution_id = pwa_server.query("SELECT id FROM institution WHERE name = ?", CLINIC)[0]["id"]
    doctors = [r["id"] for r in pwa_server.query(
        "SELECT id FROM physician WHERE institution = ? ORDER BY name LIMIT 2", institution_id)]
    inspection_id = await _inspect(pwa_server, institution_id, doctors)
    notice_id = pwa_server.query("SELECT id FROM rectification_notice WHERE inspection = ?", inspection_id)[0]["id"]
    names = {r["id"]: r["name"] for r in pwa_server.query(
        "SELECT id, name FROM physician WHERE institution = ?", institution_id)}

    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(pwa_server.base_url + "/")
    await wait_ready(page)
    await login(page, "supervisor")
    await page.wait_for_selector("nav.d-nav", timeout=20_000)

    # 机构档案: the physicians' points this year and the 年度考核.
    await page.evaluate("id => { location.hash = `#/desk/archive/${id}`; }", institution_id)
    await page.wait_for_selector(".d-assessment")
    table = page.locator("#d-archive-physicians")
    for doctor in doctors:
        row = table.locator("tr", has_text=names[doctor])
        cells = await row.locator("td").all_inner_texts()
        assert "2" in cells and "10" in cells, cells  # 已扣分 2, 剩余分 10
    assessment = await page.locator(".d-assessment").inner_text()
    score = pwa_server.api("GET", f"/api/institutions/{institution_id}/assessment", username="supervisor").json()
    assert f"{score['score']} 分" in assessment and "计入检查" in assessment
    assert ("奖励" if not str(score["amount"]).startswith("-") else "扣罚") in assessment
    assert "信用等级评定" in assessment
    # Two of the clinic's physicians penalised (fewer than 100): excluded, with the reason shown.
    assert score["credit_rating_excluded"] is True and "不参加" in assessment
    assert "信用等级评定" in await page.locator(".d-reasons").inner_text()
    await _shots(page, "desk-archive-points", ".d-assessment")

    # The year is kept in the URL; another year shows no deductions.
    await page.select_option("#d-archive-year", str(today_in_china().year - 1))
    await page.wait_for_function("() => location.hash.includes('year=')")
    await page.wait_for_selector(f".d-assessment[data-year='{today_in_china().year - 1}']")
    assert "无考核得分" in await page.locator(".d-assessment").inner_text()
    await page.select_option("#d-archive-year", str(today_in_china().year))
    await page.wait_for_selector(f".d-assessment[data-year='{today_in_china().year}']")

    # The assessment export, downloaded and read back.
    async with page.expect_download() as info:
        await page.click(".d-assessment button[data-file='assessments.xlsx']")
    path = tmp_path / "assessments.xlsx"
    await (await info.value).save_as(path)
    rows = list(load_workbook(io.BytesIO(path.read_bytes())).worksheets[0].iter_rows(values_only=True))
    col = {name: n for n, name in enumerate(rows[0])}
    mine = next(r for r in rows[1:] if r[col["机构名称"]] == CLINIC)
    assert mine[col["考核得分"]] == float(score["score"]) and mine[col["受扣分处理医师数"]] == 2

    # The notice: the physicians' points with the 记分告知书, then a later paper service.
    _backdate_issue(pwa_server, notice_id, 5)
    await page.evaluate("id => { location.hash = `#/desk/notices/${id}`; }", notice_id)
    await page.wait_for_selector("#d-notice-points")
    points = await page.locator("#d-notice-points").inner_text()
    assert all(names[d] in points for d in doctors) and "10 分" in points
    async with page.expect_popup() as popup_info:
        await page.click("#d-points-document")
    popup = await popup_info.value
    await popup.wait_for_load_state()
    await popup.wait_for_selector("text=医保医师记分告知书")
    assert names[doctors[0]] in await popup.content()
    await popup.close()

    before = pwa_server.api("GET", f"/api/rectification/notices/{notice_id}", username="supervisor").json()
    await page.click("#d-service summary")
    await page.select_option("#d-service-method", "paper")
    await page.fill("#d-service-note", "签收人 王五")
    await _shots(page, "desk-notice-service", "#d-service-form")
    await page.click("#d-service-submit")
    await page.wait_for_selector(".d-msg.ok >> text=已登记送达")
    after = pwa_server.api("GET", f"/api/rectification/notices/{notice_id}", username="supervisor").json()
    assert after["service_method"] == "paper" and after["served_on"] == str(today_in_china())
    assert after["objection_deadline"] > before["objection_deadline"]  # counted again from today
    assert all(a["deadline"] > b["deadline"] for a, b in zip(after["tasks"], before["tasks"], strict=True)
               if b["deadline_days"])
    served = await page.locator("#d-notice-served").inner_text()
    assert "纸质送达" in served and f"{today_in_china().month}月{today_in_china().day}日" in served
    deadline = date.fromisoformat(after["objection_deadline"])
    assert f"{deadline.month}月{deadline.day}日" in await page.locator("#d-notice-objection").inner_text()
    # A task counted on the fallback calendar says 暂定 (none without such a task).
    provisional = any(t["deadline_provisional"] for t in after["tasks"])
    assert (await page.locator("#d-notice-tasks .d-pill", has_text="暂定").count() > 0) == provisional
    await _shots(page, "desk-notice-points", "#d-notice-points")

    # 系统管理 → 用户: the admin records an inspector's 执法证号.
    created = pwa_server.api("POST", "/api/admin/users", username="admin", json={
        "username": "cert.jc", "password": "a-good-password", "role": "inspector",
        "region_code": "371002", "display_name": "证号检查员"})
    assert created.status_code == 201, created.text
    admin = await (await new_context()).new_page()
    admin.on("pageerror", lambda e: errors.append(str(e)))
    await admin.goto(pwa_server.base_url + "/")
    await wait_ready(admin)
    await login(admin, "admin")
    await admin.evaluate("() => { location.hash = '#/desk/admin/users?role=inspector'; }")
    await admin.wait_for_selector("#user-table tr[data-key='cert.jc']")
    assert "未登记" in await admin.locator("#user-table tr[data-key='cert.jc']").inner_text()
    await admin.click("#user-table tr[data-key='cert.jc']")
    await admin.fill("#user-cert-form input[name=enforcement_cert_no]", "x!")
    await admin.click("#user-cert-form button[type=submit]")
    await admin.wait_for_selector("#user-detail .d-msg.error >> text=执法证号")
    await admin.fill("#user-cert-form input[name=enforcement_cert_no]", "37100220269001")
    await admin.click("#user-cert-form button[type=submit]")
    await admin.wait_for_selector("#user-table tr[data-key='cert.jc'] >> text=37100220269001")
    listed = pwa_server.api("GET", "/api/admin/users", username="admin").json()
    assert next(u for u in listed if u["username"] == "cert.jc")["enforcement_cert_no"] == "37100220269001"
    await _shots(admin, "desk-admin-user-cert", "#user-cert-form")
    assert errors == []
