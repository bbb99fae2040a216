"""The institution manager's (机构医保负责人) screens: 整改通知书 list with what is new, notice
detail, and a task answered with a report and a photo, objected to, and sent back by a reviewer.

Arranged through the API (a submitted inspection with failed items at 威海百草大药房环翠店), then
driven in Chromium as ``manager.pharmacy`` at 1280×800 and 390×844.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import httpx
from PIL import Image, ImageDraw

from tests.inspections.helpers import complete_inspection, push
from tests.pwa.conftest import PwaServer, login, wait_ready
from tests.pwa.conftest import screenshot as save_screenshot
from tests.rectification.helpers import FAILS

PHARMACY_CODE = "P37100200001"
MANAGER = "manager.pharmacy"
PHONE = {"width": 390, "height": 844}


def _headers(server: PwaServer, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token(username)}"}


def _user_id(server: PwaServer, username: str) -> str:
    return server.query("SELECT id FROM app_user WHERE username = ?", username)[0]["id"]


async def _arrange_notice(server: PwaServer) -> dict[str, Any]:
    """Plan, inspect (three failed items, photos, signatures) and submit; return the notice."""
    inst = server.query("SELECT id FROM institution WHERE code = ?", PHARMACY_CODE)[0]
    response = server.api(
        "POST", "/api/assignments", username="supervisor",
        json={
            "institution_id": inst["id"],
            "checklist_id": "pharmacy-routine",
            "window_start": str(date.today()),
            "window_end": str(date.today() + timedelta(days=5)),
            "inspector_ids": [_user_id(server, "inspector"), _user_id(server, "inspector2")],
        },
    )
    assert response.status_code == 201, response.text
    assignment = response.json()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        inspector = _headers(server, "inspector")
        record = await complete_inspection(client, inspector, assignment, fail=FAILS)
        pushed = await push(client, inspector, [record])
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["results"][0]["status"] in ("accepted", "ok", "synced", "stored", "submitted"), pushed.text
    listing = server.api("GET", "/api/rectification/notices", username=MANAGER)
    assert listing.status_code == 200, listing.text
    mine = [n for n in listing.json()["items"] if n["inspection_id"] == record["id"]]
    assert mine, f"no notice for the inspection: {listing.text}"
    detail = server.api("GET", f"/api/rectification/notices/{mine[0]['id']}", username=MANAGER)
    assert detail.status_code == 200, detail.text
    notice = detail.json()
    assert notice["number"] and "医保整改" in notice["number"]
    assert len(notice["tasks"]) == len(FAILS)
    return notice


async def screenshot(page: Any, name: str) -> None:
    """Top of the page, no passing toasts, then the full-page screenshot."""
    await page.evaluate("() => { window.scrollTo(0, 0); document.getElementById('toasts').replaceChildren(); }")
    await save_screenshot(page, name)


def _jpeg(seed: int = 3) -> bytes:
    image = Image.new("RGB", (1200, 900), (230, 236, 242))
    draw = ImageDraw.Draw(image)
    draw.rectangle((100 + seed * 10, 150, 1100, 750), fill=(40, 110, 70))
    draw.rectangle((300, 300, 900, 600), fill=(250, 250, 250))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


async def _no_horizontal_scroll(page: Any) -> None:
    widths = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"horizontal scroll: {widths}"


async def _small_targets(page: Any) -> list[str]:
    """Visible buttons and links smaller than 44 px high (touch targets)."""
    return await page.evaluate(
        """() => Array.from(document.querySelectorAll('#view button, #view a.btn, #view a.card, #view summary, #view label.btn'))
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el, el.getBoundingClientRect()])
            .filter(([el, r]) => r.height < 43.5 && !el.classList.contains('m-thumb'))
            .map(([el, r]) => `${el.tagName}.${el.className} ${Math.round(r.height)}px: ${el.textContent.trim().slice(0, 20)}`)"""
    )


async def test_manager_answers_objects_and_reads_rejection(
    pwa_server: PwaServer, page: Any, new_context: Any
) -> None:
    notice = await _arrange_notice(pwa_server)
    number = notice["number"]
    task1, task2 = notice["tasks"][0], notice["tasks"][1]

    # --- desktop: list → notice → task ------------------------------------------------------
    await page.goto("/")
    await wait_ready(page)
    await login(page, MANAGER)
    await page.wait_for_function("() => location.hash === '#/m'")
    card = page.locator(f'.m-notice-card[data-notice="{notice["id"]}"]')
    await card.wait_for()
    assert number in await card.inner_text()
    # The state in the API's word (the same on the document and the verification page).
    assert notice["status_label"] in await card.inner_text()
    assert "剩余" in await card.inner_text() or "逾期" in await card.inner_text()
    assert f"0/{len(FAILS)}" in await card.inner_text()
    await page.locator("#m-updates").wait_for()
    await screenshot(page, "m-notices")

    # Inspector screens are not for managers.
    await page.goto("/#/start")
    await page.wait_for_function("() => location.hash === '#/m'")

    await card.click()
    await page.wait_for_function(f"() => location.hash === '#/m/notice/{notice['id']}'")
    head = page.locator("#m-notice-number")
    await head.wait_for()
    assert await head.inner_text() == number
    body = await page.locator("#view").inner_text()
    assert "威海百草大药房环翠店" in body and "申诉期至" in body and "查看/打印通知书" in body
    assert await page.locator(".m-task-card").count() == len(FAILS)
    await page.wait_for_timeout(300)  # thumbnails
    await screenshot(page, "m-notice")

    await page.locator(f'.m-task-card[data-task="{task1["id"]}"] .m-open-task').click()
    await page.wait_for_function(f"() => location.hash === '#/m/task/{task1['id']}'")
    await page.locator("#m-task-title").wait_for()
    assert await page.locator("#m-task-title").inner_text() == task1["item_text"]
    report = "已对全部药品补充标价签，并建立每日价格巡查制度。"
    await page.fill("#m-report", report)
    await page.set_input_files(
        "#m-photo-input", files=[{"name": "fix.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    await page.locator('.m-photo[data-state="done"]').wait_for(timeout=30_000)
    # Kept in the page while typed: a failed send loses nothing.
    kept = await page.evaluate(f"() => sessionStorage.getItem('yibao-m:report:{task1['id']}')")
    assert kept == report
    await page.click("#m-answer-submit")
    await page.locator("#m-answer-shown").wait_for()
    status = await page.locator(".m-task-head .m-status").inner_text()
    assert "已提交" in status and "待验收" in status
    assert await page.locator("#m-answer-form").count() == 0
    await page.wait_for_timeout(300)
    await screenshot(page, "m-task-answered")

    # --- objection on another task -----------------------------------------------------------
    await page.goto(f"/#/m/task/{task2['id']}")
    await page.locator(f'.m-task-head[data-task="{task2["id"]}"]').wait_for()
    await page.locator("#m-objection-form").wait_for()
    await page.click("#m-objection-form summary")
    reason = "该处方留存不全系系统故障所致，已有故障报修记录为证。"
    await page.fill("#m-objection-reason", reason)
    await page.click("#m-objection-submit")
    await page.click("#m-objection-dialog-confirm")
    await page.locator("#m-objection-shown").or_(page.locator("#m-objection-error:visible")).wait_for()
    assert await page.locator("#m-objection-error:visible").count() == 0, await page.locator("#m-objection-error").inner_text()
    assert reason in await page.locator("#m-objection-shown").inner_text()

    # --- what arrived on the server ---------------------------------------------------------------
    t1 = pwa_server.api("GET", f"/api/rectification/tasks/{task1['id']}", username="supervisor").json()
    assert t1["status"] == "answered", t1
    assert t1["answer"] == report
    assert len(t1["answer_photos"]) == 1
    photo = pwa_server.api("GET", t1["answer_photos"][0]["url"], username="supervisor")
    assert photo.status_code == 200 and photo.content[:2] == b"\xff\xd8"
    t2 = pwa_server.api("GET", f"/api/rectification/tasks/{task2['id']}", username="supervisor").json()
    assert t2["objection"] and t2["objection"]["reason"] == reason

    # --- a reviewer sends the answer back; the manager reads it -----------------------------------
    comment = "照片看不清标价签内容，请补拍货架全景及近景照片后重新提交。"
    rejected = pwa_server.api(
        "POST", f"/api/rectification/tasks/{task1['id']}/reject", username="supervisor",
        json={"comment": comment},
    )
    assert rejected.status_code == 200, rejected.text
    await page.goto(f"/#/m/task/{task1['id']}")
    await page.locator(f'.m-task-head[data-task="{task1["id"]}"]').wait_for()
    await page.locator("#m-review-comment").wait_for()
    assert comment in await page.locator("#m-review-comment").inner_text()
    assert comment in await page.locator("#m-history").inner_text()
    assert await page.locator("#m-answer-form").count() == 1  # open again: may answer anew
    await screenshot(page, "m-task")

    # What is new since the last visit: the rejection, at the top of the list.
    await page.goto("/#/m")
    await page.locator('.m-feed-item[data-kind="reject"]').first.wait_for()
    assert comment in await page.locator("#m-updates").inner_text()

    # --- phone -------------------------------------------------------------------------------------
    phone_ctx = await new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = await phone_ctx.new_page()
    await phone.goto("/")
    await wait_ready(phone)
    await login(phone, MANAGER)
    await phone.locator(f'.m-notice-card[data-notice="{notice["id"]}"]').wait_for()
    await _no_horizontal_scroll(phone)
    assert await _small_targets(phone) == []
    await screenshot(phone, "m-notices")
    await phone.goto(f"/#/m/notice/{notice['id']}")
    await phone.locator("#m-notice-number").wait_for()
    await phone.wait_for_timeout(300)
    await _no_horizontal_scroll(phone)
    assert await _small_targets(phone) == []
    await screenshot(phone, "m-notice")
    await phone.goto(f"/#/m/task/{task1['id']}")
    await phone.locator("#m-review-comment").wait_for()
    await phone.wait_for_timeout(300)
    await _no_horizontal_scroll(phone)
    assert await _small_targets(phone) == []
    await screenshot(phone, "m-task")
