"""The supervisor's 待办 and 逾期整改 in real Chromium against a real server.

Arranged through the API (a pharmacy's inspection with three failed items; its manager answers
two tasks and objects to the third), then driven as ``supervisor``: one answer accepted, one sent
back (a comment is required), the objection decided, the re-sent answer accepted with the
keyboard — until the notice closes; an escalation step recorded on the demo's overdue notice.
A manager's screens show nothing of a 飞行检查 whose window has not started. Screenshots of each
screen at 1280×800, 800×1280 and 390×844.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from tests.inspections.helpers import complete_inspection, push
from tests.pwa.conftest import PwaServer, login, screenshot, wait_ready
from tests.rectification.helpers import FAILS

PHARMACY = "P37100200005"  # 威海惠康大药房文化路店 (no other browser test uses it)
VIEWPORTS = [{"width": 1280, "height": 800}, {"width": 800, "height": 1280}, {"width": 390, "height": 844}]


def _headers(server: PwaServer, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token(username)}"}


def _id(server: PwaServer, sql: str, *params: Any) -> str:
    return server.query(sql, *params)[0]["id"]


async def _inspected_notice(server: PwaServer, code: str, *, kind: str = "routine", start: date | None = None) -> dict[str, Any]:
    """Plan (as supervisor), inspect and submit with FAILS; the notice as the supervisor reads it."""
    start = start or date.today()
    body = {
        "institution_id": _id(server, "SELECT id FROM institution WHERE code = ?", code),
        "checklist_id": "pharmacy-routine",
        "window_start": str(start),
        "window_end": str(start + timedelta(days=3)),
        "inspector_ids": [_id(server, "SELECT id FROM app_user WHERE username = ?", u) for u in ("inspector", "inspector2")],
        "kind": kind,
    }
    planned = server.api("POST", "/api/assignments", username="supervisor", json=body)
    assert planned.status_code == 201, planned.text
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        inspector = _headers(server, "inspector")
        record = await complete_inspection(client, inspector, planned.json(), fail=FAILS)
        pushed = await push(client, inspector, [record])
        assert pushed.status_code == 200, pushed.text
    notice_id = _id(server, "SELECT id FROM rectification_notice WHERE inspection = ?", record["id"])
    detail = server.api("GET", f"/api/rectification/notices/{notice_id}", username="supervisor")
    assert detail.status_code == 200, detail.text
    return detail.json()


def _manager_for(server: PwaServer, code: str) -> str:
    username = f"mgr.{uuid.uuid4().hex[:8]}"
    from backend.demo import demo_password

    made = server.api("POST", "/api/admin/users", json={
        "username": username, "password": demo_password(), "role": "manager",
        "institution_code": code, "display_name": "惠康负责人",
    })
    assert made.status_code == 201, made.text
    return username


async def _open(page: Any, hash_: str, selector: str) -> None:
    """Go to a desk view and wait for ITS content (not the previous view's, still on screen)."""
    await page.evaluate(
        "h => { document.querySelectorAll('.d-content').forEach(e => e.dataset.stale = '1'); location.hash = h; }",
        hash_,
    )
    await page.wait_for_selector(
        ", ".join(f".d-content:not([data-stale]) {s.strip()}" for s in selector.split(",")), timeout=15_000
    )


async def _decision_for(page: Any, task_id: str) -> None:
    await page.click(f'.d-queue-item[data-key="{task_id}"]')
    await page.wait_for_selector(f'.d-queue-item[data-key="{task_id}"][aria-current="true"]')
    await page.wait_for_selector(f'.d-evidence[data-task="{task_id}"]')


async def test_supervisor_works_through_todo_until_a_notice_closes(page: Any, pwa_server: PwaServer) -> None:
    server = pwa_server
    notice = await _inspected_notice(server, PHARMACY)
    manager = _manager_for(server, PHARMACY)
    t1, t2, t3 = (t["id"] for t in notice["tasks"])
    for task in (t1, t2):
        answered = server.api("POST", f"/api/rectification/tasks/{task}/answer", username=manager, json={"report": f"第{task[:4]}项已整改"})
        assert answered.status_code == 200, answered.text
    objected = server.api("POST", f"/api/rectification/tasks/{t3}/objection", username=manager, json={"reason": "检查当日已公示举报电话"})
    assert objected.status_code == 201, objected.text
    counts = server.api("GET", "/api/desk/counts", username="supervisor").json()

    await page.goto("/")
    await login(page, "supervisor")
    await page.wait_for_selector("nav.d-nav", timeout=20_000)
    await wait_ready(page)
    badge = page.locator('[data-module="todo"] .d-nav-count')
    await badge.wait_for()
    assert await badge.inner_text() == str(counts["answers"] + counts["objections"] + counts["draft_notices"])
    await _open(page, "#/desk/todo?tab=answers", ".d-queue-item")
    tab = page.locator(".d-tab[aria-current='page']")
    assert (await tab.inner_text()).split() == ["待验收", str(counts["answers"])]

    # 验收通过 on the first answer: its evidence is beside the decision.
    await _decision_for(page, t1)
    evidence = page.locator(".d-evidence")
    assert notice["number"] in await evidence.inner_text()
    assert "第" in await page.locator(".d-report").inner_text()
    assert await page.locator(".d-finding .d-thumb").count() >= 1  # the inspection's photos
    await page.locator(".d-finding .d-thumb").first.click()
    await page.wait_for_selector(".d-lightbox-img[src^='blob:']")
    await page.keyboard.press("Escape")
    await page.wait_for_selector(".d-lightbox", state="detached")
    await page.click("button:has-text('验收通过')")
    await page.wait_for_selector(f'.d-queue-item[data-key="{t1}"]', state="detached")
    assert "已验收通过" in await page.locator("#d-todo-status").inner_text()
    expected = str(counts["answers"] + counts["objections"] + counts["draft_notices"] - 1)
    await page.wait_for_function(
        "n => document.querySelector('[data-module=\"todo\"] .d-nav-count').textContent === n", arg=expected
    )

    # 退回 needs a comment: refused in place, then sent with one.
    await _decision_for(page, t2)
    await page.click("button:has-text('退回')")
    assert "退回意见" in await page.locator(".d-decide .d-msg.error").inner_text()
    assert await page.evaluate("document.activeElement.id") == "d-review-comment"
    await page.fill("#d-review-comment", "价签照片看不清，请重新拍摄")
    await screenshot(page, "desk-todo-answers")
    await page.click("button:has-text('退回')")
    await page.wait_for_selector(f'.d-queue-item[data-key="{t2}"]', state="detached")
    assert server.query("SELECT status, review_comment FROM rectification_task WHERE id = ?", t2) == [
        {"status": "open", "review_comment": "价签照片看不清，请重新拍摄"}
    ]

    # The objection: 撤销 with a reason withdraws the task.
    await page.click(".d-tab[data-tab='objections']")
    await _decision_for(page, t3)
    assert "检查当日已公示举报电话" in await page.locator(".d-objection").inner_text()
    await page.click("#d-objection-withdraw")
    assert "处理理由" in await page.locator(".d-decide .d-msg.error").inner_text()
    await page.fill("#d-objection-reason", "现场照片显示已公示，申诉成立")
    await screenshot(page, "desk-todo-objections")
    await page.click("#d-objection-withdraw")
    await page.wait_for_selector(f'.d-queue-item[data-key="{t3}"]', state="detached")
    assert server.query("SELECT status FROM rectification_task WHERE id = ?", t3) == [{"status": "cancelled"}]

    # The manager answers again; the supervisor moves with the keyboard and accepts with "a".
    again = server.api("POST", f"/api/rectification/tasks/{t2}/answer", username=manager, json={"report": "已重新拍摄价签"})
    assert again.status_code == 200, again.text
    await _open(page, "#/desk/todo?tab=answers", ".d-queue-item")
    await page.wait_for_selector(".d-decide")
    keys = await page.locator(".d-queue-item").evaluate_all("els => els.map(e => e.dataset.key)")
    position = keys.index(t2)
    for _ in range(position):
        await page.keyboard.press("j")
    await page.wait_for_selector(f'.d-queue-item[data-key="{t2}"][aria-current="true"]')
    await page.wait_for_selector(f'.d-evidence[data-task="{t2}"]')
    await page.keyboard.press("a")
    await page.wait_for_selector(f'.d-queue-item[data-key="{t2}"]', state="detached")
    closed = server.api("GET", f"/api/rectification/notices/{notice['id']}", username="supervisor").json()
    assert closed["status"] == "closed" and closed["status_label"] == "已办结"

    # The notice's page says so.
    await _open(page, f"#/desk/notices/{notice['id']}", "#d-notice-tasks")
    assert "已办结" in await page.locator(".d-content").inner_text()
    await _open(page, "#/desk/todo?tab=drafts", ".d-queue-list")


async def test_supervisor_records_an_escalation_step(page: Any, pwa_server: PwaServer) -> None:
    server = pwa_server
    overdue = server.api("GET", "/api/rectification/overdue", username="supervisor").json()
    assert overdue, "the demo data has an overdue notice"
    notice_id = overdue[0]["notice_id"]
    await page.goto("/")
    await login(page, "supervisor")
    await page.wait_for_selector("nav.d-nav", timeout=20_000)
    await _open(page, "#/desk/overdue", "#d-overdue-table")
    days = await page.locator("#d-overdue-table tbody tr td:first-child").all_inner_texts()
    values = [int(d.split()[0]) for d in days]
    assert values == sorted(values, reverse=True)
    await page.click(f"#d-overdue-table tr[data-key='{overdue[0]['task_id']}']")
    await page.wait_for_selector("#d-step-form")
    assert "第三十八条" in await page.locator("#d-ladder").inner_text() or "第三十五条" in await page.locator("#d-ladder").inner_text()
    await page.select_option("#d-step", "interview")
    await page.click("#d-step-submit")
    assert "文书编号" in await page.locator("#d-step-form .d-msg.error").inner_text()
    await page.fill("#d-step-document", "威医保约〔2026〕8号")
    await page.fill("#d-step-note", "约谈医保办负责人，限期三日内完成整改")
    await page.click("#d-step-submit")
    await page.wait_for_selector("#d-ladder li[data-step='interview'].taken")
    assert "威医保约〔2026〕8号" in await page.locator("#d-ladder li[data-step='interview']").inner_text()
    steps = server.api("GET", f"/api/rectification/notices/{notice_id}", username="supervisor").json()["escalations"]
    assert [(s["step"], s["document_no"]) for s in steps][-1] == ("interview", "威医保约〔2026〕8号")
    await page.wait_for_selector("#d-re-inspectors input")
    await screenshot(page, "desk-overdue")


async def test_desk_screens_at_three_sizes(new_context: Any, pwa_server: PwaServer) -> None:
    overdue = pwa_server.api("GET", "/api/rectification/overdue", username="supervisor").json()
    notices = pwa_server.api("GET", "/api/rectification/notices", username="supervisor").json()["items"]
    screens = [
        ("desk-todo", "#/desk/todo?tab=answers", ".d-decide, .d-done"),
        ("desk-todo-objections-tab", "#/desk/todo?tab=objections", ".d-decide, .d-done"),
        ("desk-overdue-panel", f"#/desk/overdue?notice={overdue[0]['notice_id']}", "#d-step-form"),
        ("desk-notices", "#/desk/notices?status=issued", "#d-notice-table"),
        ("desk-notice-detail", f"#/desk/notices/{notices[0]['id']}", "#d-notice-tasks"),
    ]
    for viewport in VIEWPORTS:
        context = await new_context(viewport=viewport)
        page = await context.new_page()
        await page.goto("/")
        await login(page, "supervisor")
        await page.wait_for_selector("nav.d-nav", timeout=20_000)
        for name, hash_, selector in screens:
            await _open(page, hash_, selector)
            await page.wait_for_timeout(300)  # thumbnails
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], (name, viewport, width)
            await screenshot(page, name)


async def test_manager_sees_no_flight_inspection_before_its_window(new_context: Any, pwa_server: PwaServer) -> None:
    server = pwa_server
    code = "P37100200001"  # manager.pharmacy's pharmacy
    flight = await _inspected_notice(server, code, kind="flight", start=date.today() + timedelta(days=4))
    listing = server.api("GET", "/api/rectification/notices", username="manager.pharmacy").json()
    assert flight["id"] not in {n["id"] for n in listing["items"]}
    context = await new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    await page.goto("/")
    await login(page, "manager.pharmacy")
    await wait_ready(page)
    await page.wait_for_function("() => location.hash.startsWith('#/m')")
    await page.wait_for_load_state("networkidle")
    text = await page.locator("main, body").first.inner_text()
    assert flight["number"] not in text
    await page.evaluate("h => { location.hash = h; }", f"#/m/notice/{flight['id']}")
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(500)
    text = await page.locator("body").inner_text()
    assert flight["number"] not in text and "飞行检查" not in text
