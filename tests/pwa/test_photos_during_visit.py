"""Photos leave during the visit, in real Chromium against a real server.

With the server reachable, the inspector answers a checklist with photos and signs: each photo and
signature goes to the server in the background while the draft is still being filled in (the sync
screen counts them), a photo deleted after it was sent is removed on the server too, and the
institution's manager gets 404 for a draft's photo while the region's supervisor sees it, a photo
taken offline waits and goes once the tablet is back online. Then
提交: what is sent after it is the record alone — no photo upload. 设置 turns 「联网时自动上传照片」
off and on. Screens: 同步 and 设置 at 1280×800, 800×1280 and 390×844.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from tests.pwa.conftest import PwaServer, screenshot, wait_ready
from tests.pwa.test_inspection_flow import (
    CLINIC,
    camera_jpeg,
    checklist,
    choose_from_list,
    clinic_plans,
    fill_checklist,
    institution,
    new_assignment,
    open_and_login,
    sign_all,
    submit,
)

SIZES = ((1280, 800), (800, 1280), (390, 844))
OPTIONAL_PHOTO_ITEM = "signage.policy-notice"  # a photo the checklist does not require


async def until(page: Any, check: Any, what: str, timeout: float = 45) -> Any:
    """Poll ``check()`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if hasattr(value, "__await__"):
            value = await value
        if value:
            return value
        await page.wait_for_timeout(200)
    raise AssertionError(f"timed out waiting for {what}")


async def local_counts(page: Any) -> dict[str, int]:
    return await page.evaluate(
        """async () => { const { db } = await import('/js/db.js');
             return { waiting: await db.photos.where('uploaded').equals(0).count(),
                      sent: await db.photos.where('uploaded').equals(1).count(),
                      removals: await db.photo_removals.count() }; }"""
    )


async def all_sent(page: Any) -> bool:
    counts = await local_counts(page)
    return counts["waiting"] == 0 and counts["removals"] == 0


async def shots(page: Any, name: str) -> None:
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        await page.wait_for_timeout(150)
        await screenshot(page, name)
    await page.set_viewport_size({"width": 1280, "height": 800})


async def test_photos_go_during_the_visit_and_the_push_after_submit_carries_none(
    context: Any, page: Any, pwa_server: PwaServer, tmp_path: Path
) -> None:
    inst = institution(pwa_server, CLINIC)
    assignment_id = new_assignment(pwa_server, CLINIC, "clinic-routine")
    content = checklist("clinic-routine")
    requests: list[tuple[str, str]] = []
    page.on("request", lambda r: requests.append((r.method, r.url)))

    await open_and_login(page)
    await choose_from_list(page, assignment_id, CLINIC, inst["code"])
    inspection_id = re.search(r"#/inspect/([0-9a-f-]{36})", page.url).group(1)
    photos = await fill_checklist(page, content, clinic_plans(), tmp_path)
    assert photos >= 2

    # Sent while the draft is open: every evidence photo is on the server before 提交.
    await until(page, lambda: all_sent(page), "the draft's photos to be sent")
    stored = pwa_server.query(
        "SELECT id, item_id FROM photo WHERE inspection_id = ? AND kind = 'evidence'", inspection_id
    )
    assert len(stored) == photos
    assert pwa_server.query("SELECT id FROM inspection WHERE id = ?", inspection_id) == []  # a draft

    # Before 提交: the institution's manager cannot see a draft's photo; the region's staff can.
    photo_id = stored[0]["id"]
    assert pwa_server.api("GET", f"/api/photos/{photo_id}", username="manager.clinic").status_code == 404
    assert pwa_server.api("GET", f"/api/photos/{photo_id}/thumbnail", username="manager.clinic").status_code == 404
    assert pwa_server.api("GET", f"/api/photos/{photo_id}", username="supervisor.huancui").status_code == 200

    # A photo deleted after it was sent is removed on the server too.
    card = page.locator(f'article.item-card[data-item="{OPTIONAL_PHOTO_ITEM}"]')
    section = next(s["id"] for s in content["sections"] if any(i["id"] == OPTIONAL_PHOTO_ITEM for i in s["items"]))
    await page.click(f'.rail-item[data-section="{section}"]')
    await card.scroll_into_view_if_needed()
    removed = await card.locator(".thumb[data-photo]").first.get_attribute("data-photo")
    assert pwa_server.query("SELECT id FROM photo WHERE id = ?", removed)
    await card.locator(".thumb .delete").first.click()
    await page.click("#confirm-delete-photo-confirm")
    await until(page, lambda: not pwa_server.query("SELECT id FROM photo WHERE id = ?", removed), "the removal")
    assert pwa_server.query(
        "SELECT action FROM audit_event WHERE entity_id = ? ORDER BY id", removed
    )[-1]["action"] == "photo.delete"

    # Offline, a new photo waits on the tablet; back online, it goes.
    await context.set_offline(True)
    await page.wait_for_selector('#conn-status[data-online="0"]')
    if not await card.locator("input.photo-input").count():
        await card.locator(".x-add-photo").click()
    before = await card.locator(".thumb-img").count()
    await card.locator("input.photo-input").set_input_files(str(camera_jpeg(tmp_path, 99)))
    await card.locator(".thumb-img").nth(before).wait_for()
    await page.wait_for_timeout(1500)
    assert (await local_counts(page))["waiting"] == 1
    offline_photo = await card.locator(".thumb[data-photo]").last.get_attribute("data-photo")
    assert not pwa_server.query("SELECT id FROM photo WHERE id = ?", offline_photo)
    await context.set_offline(False)
    await until(page, lambda: all_sent(page), "the photo taken offline to be sent")
    assert pwa_server.query("SELECT id FROM photo WHERE id = ?", offline_photo)

    # Signatures go too, once each pad has been left alone.
    await page.click(f'.rail-item[data-section="{content["sections"][-1]["id"]}"]')
    await page.click("#to-sign")
    await sign_all(page)
    await until(page, lambda: all_sent(page), "the signatures to be sent")
    signatures = pwa_server.query(
        "SELECT signer FROM photo WHERE inspection_id = ? AND kind = 'signature'", inspection_id
    )
    assert sorted(s["signer"] for s in signatures) == ["inspector", "inspector", "representative"]

    # 同步 shows, for the draft, the photos sent and waiting.
    await page.goto("/#/sync")
    await wait_ready(page)
    line = page.locator(f'[data-inspection="{inspection_id}"] .photo-progress')
    await line.wait_for()
    assert await line.get_attribute("data-waiting") == "0"
    assert await line.get_attribute("data-sent") == str(photos + 3)  # one deleted, one taken offline
    assert "已上传" in await line.text_content()
    await shots(page, "sync-photos-sent")

    # 提交: after it, the record alone goes — no photo upload.
    await page.goto(f"/#/submit/{inspection_id}")
    await wait_ready(page)
    mark = len(requests)
    await submit(page)
    synced = page.locator(f'#group-synced [data-inspection="{inspection_id}"][data-state="synced"]')
    await synced.wait_for(timeout=45_000)
    after = requests[mark:]
    assert [m for m, url in after if m == "POST" and url.endswith("/api/sync")] == ["POST"], after
    assert not [url for m, url in after if "/api/photos" in url and m != "GET"], after
    row = pwa_server.query("SELECT status FROM inspection WHERE id = ?", inspection_id)[0]
    assert row["status"] == "submitted"
    assert pwa_server.api("GET", f"/api/photos/{photo_id}", username="manager.clinic").status_code == 200


async def test_settings_turn_sending_photos_during_the_visit_off_and_on(page: Any) -> None:
    await open_and_login(page)
    await page.click("#header-user")
    await page.click("#user-menu-settings")
    await page.wait_for_selector("#auto-upload-photos")
    box = page.locator("#auto-upload-photos")
    assert await box.is_checked()  # on by default
    assert "联网时自动上传照片" in await page.text_content(".settings-panel")
    await shots(page, "settings")

    await box.uncheck()
    await until(page, lambda: page.evaluate(
        "async () => (await (await import('/js/db.js')).getMeta('auto_upload_photos')) === false"), "the setting")
    await page.reload()
    await wait_ready(page)
    await page.wait_for_selector("#auto-upload-photos")
    assert not await page.locator("#auto-upload-photos").is_checked()
    await page.locator("#auto-upload-photos").check()
    await until(page, lambda: page.evaluate(
        "async () => (await (await import('/js/db.js')).getMeta('auto_upload_photos')) === true"), "the setting")
