"""The desk shows a notice's sealed record: its short digest and the evidence ZIP, in real
Chromium against a real server (screenshots at 1280×800 and 390×844)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from tests.pwa.conftest import login, screenshot, wait_ready
from tests.pwa.test_desk_review import _inspected_notice, _open

PHARMACY = "P37100200002"  # no other browser test uses it


async def test_notice_shows_the_record_digest_and_downloads_the_evidence(pwa_server, page, new_context) -> None:
    notice = await _inspected_notice(pwa_server, PHARMACY)
    seal = pwa_server.api("GET", f"/api/inspections/{notice['inspection_id']}", username="supervisor").json()["seal"]
    assert seal and len(seal["digest"]) == 64

    await page.goto("/")
    await login(page, "supervisor")
    await page.wait_for_selector("nav.d-nav", timeout=20_000)
    await wait_ready(page)
    await _open(page, f"#/desk/notices/{notice['id']}", "#d-record-digest")
    shown = await page.locator("#d-record-digest").inner_text()
    assert shown == seal["digest"][:16]
    await screenshot(page, "desk-notice-record-digest")

    async with page.expect_download() as info:
        await page.click("#d-evidence-zip")
    download = await info.value
    data = Path(await download.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert hashlib.sha256(z.read("record.json")).hexdigest() == seal["digest"]
        assert json.loads(z.read("signature.json"))["digest"] == seal["digest"]

    small = await new_context(viewport={"width": 390, "height": 844})
    phone = await small.new_page()
    await phone.goto("/")
    await login(phone, "supervisor")
    await phone.wait_for_selector("nav.d-nav", timeout=20_000)
    await wait_ready(phone)
    await _open(phone, f"#/desk/notices/{notice['id']}", "#d-record-digest")
    await screenshot(phone, "desk-notice-record-digest-390")
