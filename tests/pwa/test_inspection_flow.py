"""A whole inspection through the screens, in real Chromium against a real server (issue 4).

Log in, go offline, reload (the app still opens), confirm the institution (from the list, or by
scanning its QR code — a code of another institution is refused), answer every item of the
checklist (fails with counts and samples, N/A, photos through the file chooser, a physician
named), sign on the pads with the mouse, submit offline (待同步), close and reopen (still
waiting), go online (synced exactly once), then check the server's database: one inspection,
every finding, the photos, the signatures, and the score the browser showed. Also: a rejection
from the server is shown where it happened, in words.

The helpers here drive the screens; ``test_screens.py`` reuses them.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from PIL import Image, ImageDraw

from tests.pwa.conftest import PwaServer, login, wait_for_sw, wait_ready

REPO = Path(__file__).resolve().parents[2]
CLINIC = "环翠区仁和诊所"
PHARMACY = "威海百草大药房环翠店"
OTHER_PHARMACY = "环翠区安和药店"
HOSPITAL = "威海海滨人民医院"

# --- server-side helpers -------------------------------------------------------------------------


def _one(server: PwaServer, sql: str, *params: Any) -> dict[str, Any]:
    rows = server.query(sql, *params)
    assert rows, (sql, params)
    return rows[0]


def institution(server: PwaServer, name: str) -> dict[str, Any]:
    """The institution row (id, code, qr_token, …) of a demo institution."""
    return _one(server, "SELECT * FROM institution WHERE name = ?", name)


def new_assignment(server: PwaServer, name: str, checklist_id: str, *, start: int = 0) -> str:
    """A fresh assignment for inspector + inspector2 (each test its own: one inspection each)."""
    users = {u: _one(server, "SELECT id FROM app_user WHERE username = ?", u)["id"] for u in ("inspector", "inspector2")}
    response = server.api(
        "POST", "/api/assignments", username="supervisor.huancui",
        json={
            "institution_id": institution(server, name)["id"],
            "checklist_id": checklist_id,
            "window_start": str(date.today() + timedelta(days=start)),
            "window_end": str(date.today() + timedelta(days=start + 4)),
            "inspector_ids": [users["inspector"], users["inspector2"]],
            "kind": "routine",
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def checklist(checklist_id: str) -> dict[str, Any]:
    """The checklist new assignments use: the highest version of the files the server loaded."""
    versions = [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in (REPO / "checklists").glob(f"{checklist_id}.v*.yaml")
    ]
    return max(versions, key=lambda content: content["version"])


def sample_size(item: dict[str, Any], plan: dict[str, Any]) -> int:
    """The records a plan samples: as it says, else the item's minimum sample (10 without one)."""
    return int(plan.get("sampled", item.get("min_sampled") or 10))


def qr_png_file(tmp_path: Path, token: str, name: str, base_url: str | None = None) -> Path:
    """The institution's QR code as a PNG file (what a photo of the poster would give)."""
    from backend.institutions.qr import qr_payload, qr_png

    path = tmp_path / f"qr-{name}.png"
    path.write_bytes(qr_png(qr_payload(token, base_url)))
    return path


def camera_jpeg(tmp_path: Path, n: int) -> Path:
    """A camera-like JPEG (3000×2000, some shapes) generated with Pillow."""
    path = tmp_path / f"photo-{n}.jpg"
    image = Image.new("RGB", (3000, 2000), ((n * 53) % 256, (n * 97) % 256, 180))
    draw = ImageDraw.Draw(image)
    draw.rectangle((300 + (n % 40) * 20, 300, 1500, 1400), fill=(250, 250, 245))
    draw.ellipse((1800, 600, 2600, 1400), outline=(20, 20, 20), width=30)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    path.write_bytes(buffer.getvalue())
    return path


# --- driving the screens ---------------------------------------------------------------------------


async def open_and_login(page: Any, username: str = "inspector") -> None:
    """Open the app, log in, wait for the service worker and the offline bundle."""
    await page.goto("/")
    await wait_ready(page)
    await login(page, username)
    await page.wait_for_selector(".task-card", timeout=20_000)
    await wait_for_sw(page)


async def choose_from_list(page: Any, assignment_id: str, name: str, code: str) -> None:
    """On the home screen: tap the assignment, 从列表选择, check the confirmation, start."""
    await page.click(f'.task-card[data-assignment="{assignment_id}"]')
    await page.click("#tab-list")
    await page.click(f'.list-choice[data-assignment="{assignment_id}"]')
    await page.wait_for_selector("#confirm-institution")
    assert await page.text_content("#confirm-name") == name
    assert await page.text_content("#confirm-code") == code
    assert (await page.text_content("#confirm-address")).startswith("山东省威海市")
    await page.click("#start-confirm")
    await page.wait_for_selector(".item-card")


async def answer(page: Any, item: dict[str, Any], plan: dict[str, Any], photo: Path | None) -> None:
    """Answer one item card as the plan says: result, counts, note, physician, photo."""
    card = page.locator(f'article.item-card[data-item="{item["id"]}"]')
    await card.scroll_into_view_if_needed()
    result = plan.get("result", "pass")
    if item["mode"] == "sample" and result != "na":
        # Tap a result, then the counts: the result follows them (failed > 0 ⇒ 不符合).
        await card.locator(f".result-{result}").click()
        await card.locator(".sample-sampled").fill(str(sample_size(item, plan)))
        await card.locator(".sample-failed").fill(str(plan.get("failed", 0)))
        if plan.get("population") is not None:
            await card.locator(".sample-population").fill(str(plan["population"]))
    else:
        await card.locator(f".result-{result}").click()
    if item["mode"] == "deduct" and result == "fail":
        for _ in range(plan.get("occurrences", 1) - 1):
            await card.get_by_role("button", name="发现处数加一").click()
    if plan.get("note"):
        if not await card.locator(".note-input").count():
            await card.locator(".x-add-note").click()
        await card.locator(".note-input").fill(plan["note"])
    if plan.get("physician"):
        await card.locator(".physician-list input[type=checkbox]").first.check()
    failing = result == "fail" or (item["mode"] == "sample" and plan.get("failed", 0) > 0)
    if item.get("monetary") and failing:
        # A failed monetary item carries its 违规金额 (the app asks for it before 提交).
        await card.locator(".amount-input").fill(plan.get("amount", "100"))
    if photo is not None:
        if not await card.locator("input.photo-input").count():
            await card.locator(".x-add-photo").click()
        before = await card.locator(".thumb-img").count()
        await card.locator("input.photo-input").set_input_files(str(photo))
        await card.locator(".thumb-img").nth(before).wait_for()
    expected = "fail" if item["mode"] == "sample" and plan.get("failed", 0) > 0 else result
    assert await card.get_attribute("data-result") == expected, item["id"]
    assert await card.get_attribute("data-status") == "done", item["id"]


def needs_photo(item: dict[str, Any], plan: dict[str, Any]) -> bool:
    result = "fail" if item["mode"] == "sample" and plan.get("failed", 0) > 0 else plan.get("result", "pass")
    evidence = item.get("evidence", "none")
    return result != "na" and (evidence == "photo_always" or (evidence == "photo_on_fail" and result == "fail"))


async def fill_checklist(page: Any, content: dict[str, Any], plans: dict[str, dict[str, Any]], tmp_path: Path) -> int:
    """Answer every item, section by section through the stepper. Returns the photos taken."""
    photos = 0
    for section in content["sections"]:
        await page.click(f'.rail-item[data-section="{section["id"]}"]')
        await page.wait_for_selector(f'.rail-item[data-section="{section["id"]}"][aria-current]')
        await page.locator(f'article.item-card[data-item="{section["items"][0]["id"]}"]').wait_for()
        for item in section["items"]:
            plan = plans.get(item["id"], {})
            photo = None
            if needs_photo(item, plan) or plan.get("photo"):
                photos += 1
                photo = camera_jpeg(tmp_path, photos)
            await answer(page, item, plan, photo)
        done = page.locator(f'.rail-item[data-section="{section["id"]}"][data-done="1"]')
        await done.wait_for()
    return photos


async def draw(page: Any, selector: str, seed: int = 0) -> None:
    """Sign on a pad with the mouse: a few strokes across the canvas."""
    canvas = page.locator(selector)
    await canvas.scroll_into_view_if_needed()
    box = await canvas.bounding_box()
    assert box, selector
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    for stroke in range(3):
        await page.mouse.move(x0 + w * (0.15 + 0.25 * stroke), y0 + h * 0.6)
        await page.mouse.down()
        for step in range(1, 12):
            await page.mouse.move(
                x0 + w * (0.15 + 0.25 * stroke + 0.018 * step),
                y0 + h * (0.6 - 0.25 * ((step + seed) % 3 - 1)),
                steps=2,
            )
        await page.mouse.up()


async def sign_all(page: Any, representative: str = "王主任") -> None:
    """签字确认: the representative's name and signature, then each inspector's."""
    await page.fill("#rep-name", representative)
    await draw(page, "#sig-representative", 0)
    await page.wait_for_selector("#sig-status-representative.ok")
    for n, key in enumerate(("inspector-inspector", "inspector-inspector2"), start=1):
        await draw(page, f"#sig-{key}", n)
        await page.wait_for_selector(f"#sig-status-{key}.ok")


async def read_prelim(page: Any) -> tuple[str, str]:
    """The 预评分 and 预计等级 the score bar shows."""
    await page.wait_for_selector("#score-bar:not([data-pending]) #prelim-score")
    await page.wait_for_function("document.querySelector('#prelim-score').textContent !== '—'")
    return (await page.text_content("#prelim-score")).strip(), (await page.text_content("#prelim-grade")).strip()


async def submit(page: Any) -> None:
    """提交 with nothing missing: confirm; the app goes home."""
    await page.wait_for_selector("#ready-panel")
    assert await page.locator("#missing-list").count() == 0
    await page.click("#submit-inspection")
    await page.click("#confirm-submit-confirm")
    await page.wait_for_selector(".screen-home")


def clinic_plans() -> dict[str, dict[str, Any]]:
    """Some 不符合 with counts and samples, N/A, notes and a named physician."""
    plans: dict[str, dict[str, Any]] = {
        "management.staff-rules": {"result": "fail", "occurrences": 2, "note": "缺少信息安全和自费告知制度"},
        "physicians.rx-signature": {"result": "fail", "sampled": 20, "failed": 2, "physician": True, "note": "2 张处方代签"},
        "physicians.tcm-scope": {"result": "na"},
        "price-posting.same-price": {"result": "pass", "sampled": 10, "failed": 0},
        "records.outpatient-log": {"result": "fail", "note": "10 月门诊日志中断 3 天"},
        "billing.duplicate-split": {"result": "fail", "occurrences": 3, "amount": "356.5"},
    }
    sections = {section["id"]: section for section in checklist("clinic-routine")["sections"]}
    for item in sections["tcm-herbs"]["items"]:  # 中药饮片管理: no TCM service
        plans[item["id"]] = {"result": "na"}
    plans["records.tcm-prescription"] = {"result": "na"}
    plans["billing.therapy-records"] = {"result": "na"}
    plans["signage.policy-notice"] = {"result": "pass", "photo": True, "note": "候诊区已张贴"}
    return plans


def _number(text: str) -> float:
    return float(re.sub(r"[^0-9.]", "", text))


# --- the tests -----------------------------------------------------------------------------------


async def test_whole_inspection_offline_then_synced_once(
    context: Any, page: Any, pwa_server: PwaServer, tmp_path: Path
) -> None:
    inst = institution(pwa_server, CLINIC)
    assignment_id = new_assignment(pwa_server, CLINIC, "clinic-routine")
    content = checklist("clinic-routine")
    items = [item for section in content["sections"] for item in section["items"]]
    plans = clinic_plans()

    await open_and_login(page)
    assert await page.locator(f'.task-card[data-assignment="{assignment_id}"]').count() == 1

    # Offline from here on: the app still opens from the service worker's cache.
    await context.set_offline(True)
    await page.reload()
    await wait_ready(page)
    await page.wait_for_selector('#conn-status[data-online="0"]')
    assert "离线" in await page.text_content("#conn-status")

    await choose_from_list(page, assignment_id, CLINIC, inst["code"])
    photos = await fill_checklist(page, content, plans, tmp_path)
    score_text, grade = await read_prelim(page)
    assert await page.text_content(".form-overall") and f"{len(items)}/{len(items)}" in await page.text_content(".form-overall")

    # A reload loses nothing (autosave).
    await page.reload()
    await wait_ready(page)
    await page.wait_for_selector(".item-card")
    assert (await read_prelim(page)) == (score_text, grade)

    inspection_id = re.search(r"#/inspect/([0-9a-f-]{36})", page.url).group(1)
    await page.click(f'.rail-item[data-section="{content["sections"][-1]["id"]}"]')
    await page.click("#to-sign")
    await page.wait_for_selector("#sign-score")
    assert (await page.text_content("#sign-score")).strip() == score_text
    failing = [i for i in items if (plans.get(i["id"], {}).get("result") == "fail")]
    assert await page.locator("#fail-list li").count() == len(failing)
    await sign_all(page)
    await page.click("#to-submit")
    await page.wait_for_selector(".submit-page")
    assert (await page.text_content("#submit-score")).strip() == score_text
    await submit(page)

    # Waiting, locked, kept on the device.
    card = page.locator(f'#group-waiting [data-inspection="{inspection_id}"]')
    await card.wait_for()
    assert "待同步" in await card.text_content()
    assert (await page.text_content("#queue-count")).strip() == "1"
    assert pwa_server.query("SELECT id FROM inspection WHERE assignment = ?", assignment_id) == []

    # Close the page, open a new one (still offline): still waiting.
    await page.close()
    page = await context.new_page()
    pushes: list[str] = []
    page.on("request", lambda r: pushes.append(r.url) if r.method == "POST" and r.url.endswith("/api/sync") else None)
    await page.goto("/")
    await wait_ready(page)
    card = page.locator(f'#group-waiting [data-inspection="{inspection_id}"]')
    await card.wait_for()
    assert "待同步" in await card.text_content()
    await page.goto(f"/#/inspect/{inspection_id}")
    await page.wait_for_selector("#form-locked")
    assert await page.locator(".result-btn:not([disabled])").count() == 0

    # Online: it syncs, exactly once.
    await page.goto("/")
    await wait_ready(page)
    await context.set_offline(False)
    synced = page.locator(f'#group-synced [data-inspection="{inspection_id}"][data-state="synced"]')
    await synced.wait_for(timeout=45_000)
    await page.wait_for_timeout(1500)  # room for a duplicate push, if there were one
    assert len(pushes) == 1, pushes
    assert (await page.text_content("#queue-count")).strip() == "0"

    # The server holds everything, with the score the browser showed.
    rows = pwa_server.query("SELECT * FROM inspection WHERE assignment = ?", assignment_id)
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == inspection_id and row["status"] == "submitted"
    assert float(row["score_total"]) == float(score_text) and row["grade"] == grade
    assert _number(await synced.locator(".score-value").text_content()) == float(score_text)
    assert row["representative_name"] == "王主任"
    submits = pwa_server.query(
        "SELECT id FROM audit_event WHERE action = 'inspection.submit' AND entity_id = ?", inspection_id)
    assert len(submits) == 1
    findings = pwa_server.query("SELECT * FROM finding WHERE inspection = ?", inspection_id)
    assert {f["item_id"] for f in findings} == {i["id"] for i in items}
    by_item = {f["item_id"]: f for f in findings}
    assert by_item["management.staff-rules"]["result"] == "fail" and by_item["management.staff-rules"]["occurrences"] == 2
    assert by_item["management.staff-rules"]["note"] == "缺少信息安全和自费告知制度"
    rx = by_item["physicians.rx-signature"]
    assert (rx["result"], rx["sampled"], rx["failed"]) == ("fail", 20, 2) and rx["physician"]
    assert by_item["price-posting.same-price"]["result"] == "pass" and by_item["price-posting.same-price"]["sampled"] == 10
    assert by_item["billing.duplicate-split"]["occurrences"] == 3
    assert by_item["billing.duplicate-split"]["amount"] == "356.50"  # as typed, to two decimals
    assert by_item["physicians.tcm-scope"]["result"] == "na"
    evidence = pwa_server.query("SELECT * FROM photo WHERE inspection_id = ? AND kind = 'evidence'", inspection_id)
    assert len(evidence) == photos
    assert all(p["width"] <= 2048 and p["height"] <= 2048 for p in evidence)
    signatures = pwa_server.query("SELECT * FROM photo WHERE inspection_id = ? AND kind = 'signature'", inspection_id)
    assert sorted(s["signer"] for s in signatures) == ["inspector", "inspector", "representative"]
    detail = pwa_server.api("GET", f"/api/inspections/{inspection_id}", username="inspector")
    assert detail.status_code == 200, detail.text
    assert len(detail.json()["signatures"]) == 3


async def test_scanning_refuses_another_institution_and_opens_the_right_one(
    page: Any, pwa_server: PwaServer, tmp_path: Path
) -> None:
    inst = institution(pwa_server, PHARMACY)
    other = institution(pwa_server, OTHER_PHARMACY)
    assignment_id = new_assignment(pwa_server, PHARMACY, "pharmacy-routine")
    await open_and_login(page)

    await page.click(f'.task-card[data-assignment="{assignment_id}"]')
    await page.wait_for_selector("#scan-file", state="attached")
    # Another institution's code (the private scheme): refused, naming both.
    await page.set_input_files("#scan-file", str(qr_png_file(tmp_path, other["qr_token"], "other")))
    mismatch = page.locator("#scan-mismatch")
    await mismatch.wait_for()
    text = await mismatch.text_content()
    assert OTHER_PHARMACY in text and PHARMACY in text and "不符" in text
    assert await page.locator("#start-confirm").count() == 0
    # Something that is not ours at all.
    junk = tmp_path / "junk.png"
    from backend.institutions.qr import qr_png
    junk.write_bytes(qr_png("https://example.com/pay?id=123"))
    await page.set_input_files("#scan-file", str(junk))
    await page.wait_for_selector("#scan-error")
    assert "不是" in await page.text_content("#scan-error")
    # The right one (the poster's URL form): confirmed and opened.
    await page.set_input_files("#scan-file", str(qr_png_file(tmp_path, inst["qr_token"], "right", pwa_server.base_url)))
    await page.wait_for_selector("#confirm-institution")
    assert "二维码核验通过" in await page.text_content("#confirm-institution")
    assert await page.text_content("#confirm-code") == inst["code"]
    await page.click("#start-confirm")
    await page.wait_for_selector(".item-card")

    # A failed 否决项 shows the veto in the bar; the whole checklist, signed and submitted online.
    content = checklist("pharmacy-routine")
    critical = next(i for s in content["sections"] for i in s["items"] if i.get("critical"))
    plans = {critical["id"]: {"result": "fail", "note": "现场发现"}}
    photos = await fill_checklist(page, content, plans, tmp_path)
    await page.wait_for_selector("#veto-warning")
    score_text, grade = await read_prelim(page)
    lowest = content["grade_bands"][-1]["grade"]  # a 否决项 failure gives the lowest band
    assert grade == lowest and lowest in await page.text_content("#veto-warning")
    inspection_id = re.search(r"#/inspect/([0-9a-f-]{36})", page.url).group(1)
    await page.click(f'.rail-item[data-section="{content["sections"][-1]["id"]}"]')
    await page.click("#to-sign")
    await sign_all(page, "李店长")
    await page.click("#to-submit")
    await submit(page)
    synced = page.locator(f'#group-synced [data-inspection="{inspection_id}"][data-state="synced"]')
    await synced.wait_for(timeout=45_000)
    row = _one(pwa_server, "SELECT * FROM inspection WHERE id = ?", inspection_id)
    assert (float(row["score_total"]), row["grade"]) == (float(score_text), lowest)
    assert len(pwa_server.query("SELECT id FROM photo WHERE inspection_id = ? AND kind = 'evidence'", inspection_id)) == photos


async def test_poster_link_opens_the_assignment(page: Any, pwa_server: PwaServer) -> None:
    hospital = institution(pwa_server, HOSPITAL)
    await open_and_login(page)
    await page.goto(f"/s/{hospital['qr_token']}")
    await wait_ready(page)
    await page.wait_for_selector("#confirm-institution")
    assert await page.text_content("#confirm-name") == HOSPITAL
    assert "#/start" in page.url


async def test_rejection_is_shown_plainly(context: Any, page: Any, pwa_server: PwaServer, tmp_path: Path) -> None:
    inst = institution(pwa_server, OTHER_PHARMACY)
    assignment_id = new_assignment(pwa_server, OTHER_PHARMACY, "pharmacy-routine", start=1)
    await open_and_login(page)
    await context.set_offline(True)
    await choose_from_list(page, assignment_id, OTHER_PHARMACY, inst["code"])
    content = checklist("pharmacy-routine")
    await fill_checklist(page, content, {}, tmp_path)
    inspection_id = re.search(r"#/inspect/([0-9a-f-]{36})", page.url).group(1)
    await page.goto(f"/#/sign/{inspection_id}")
    await page.wait_for_selector("#rep-name")
    # The representative refuses to sign: recorded with a reason instead.
    await page.check("#rep-refused")
    await page.fill("#refuse-reason", "负责人外出，店员拒绝代签")
    for n, key in enumerate(("inspector-inspector", "inspector-inspector2"), start=1):
        await draw(page, f"#sig-{key}", n)
        await page.wait_for_selector(f"#sig-status-{key}.ok")
    await page.click("#to-submit")
    await submit(page)

    # While the tablet is offline, the bureau cancels the assignment.
    response = pwa_server.api("POST", f"/api/assignments/{assignment_id}/cancel", username="supervisor.huancui",
                              json={"reason": "机构已停业"})
    assert response.status_code in (200, 201), response.text
    await context.set_offline(False)

    card = page.locator(f'#group-rejected [data-inspection="{inspection_id}"]')
    await card.wait_for(timeout=45_000)
    message = await card.locator(".reject-message").text_content()
    assert "取消" in message
    await page.click("#queue-status")
    record = page.locator(f'#sync-list [data-inspection="{inspection_id}"]')
    await record.wait_for()
    assert "被退回" in await record.text_content()
    assert "取消" in await record.locator(".rejection").text_content()
    assert pwa_server.query("SELECT id FROM inspection WHERE id = ?", inspection_id) == []
    # Nothing is discarded: the record stays on the device until the inspector deletes it.
    kept = await page.evaluate(
        "async (id) => !!(await (await import('/js/db.js')).db.inspections.get(id))", inspection_id)
    assert kept


async def test_expired_session_asks_to_log_in_then_returns(page: Any, pwa_server: PwaServer) -> None:
    await open_and_login(page)
    await page.click("#queue-status")
    await page.wait_for_selector(".screen-sync")
    session = await page.evaluate("async () => (await import('/js/db.js')).getMeta('session')")
    response = pwa_server.api("POST", f"/api/admin/sessions/{session['session_id']}/revoke", username="admin")
    assert response.status_code == 200, response.text

    # The next contact with the server (the bundle refresh at start) finds the session revoked.
    await page.reload()
    await page.wait_for_selector("#login-reason", timeout=20_000)
    reason = await page.text_content("#login-reason")
    assert "重新登录" in reason
    assert await page.input_value("#login-username") == "inspector"
    await login(page, "inspector")
    await page.wait_for_selector(".screen-sync")
    assert page.url.endswith("#/sync")


async def test_new_version_banner_updates_the_app(start_server: Any, new_context: Any, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "pwa"
    shutil.copytree(REPO / "pwa", copy)
    server = start_server(pwa_dir=copy)
    context = await new_context(base_url=server.base_url)
    page = await context.new_page()
    await open_and_login(page)
    banner = page.locator("#update-banner")
    assert await banner.is_hidden()

    css = copy / "css" / "app.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n/* release 2 */\n", encoding="utf-8")
    await page.evaluate("async () => (await import('/js/sw-register.js')).checkForUpdate()")
    await banner.wait_for(state="visible")
    assert "新版本已就绪" in await banner.text_content()
    async with page.expect_navigation():
        await page.click("#update-apply")
    await wait_ready(page)
    await page.wait_for_selector(".task-card")
    served = await page.evaluate("async () => (await fetch('/css/app.css')).text()")
    assert "release 2" in served


async def test_destructive_actions_confirm_and_name_what_is_lost(
    page: Any, pwa_server: PwaServer, tmp_path: Path
) -> None:
    inst = institution(pwa_server, PHARMACY)
    assignment_id = new_assignment(pwa_server, PHARMACY, "pharmacy-routine")
    content = checklist("pharmacy-routine")
    await open_and_login(page)
    await choose_from_list(page, assignment_id, PHARMACY, inst["code"])
    inspection_id = re.search(r"#/inspect/([0-9a-f-]{36})", page.url).group(1)
    first = content["sections"][0]["items"][0]
    await answer(page, first, {"result": "fail"}, camera_jpeg(tmp_path, 1))
    card = page.locator(f'article.item-card[data-item="{first["id"]}"]')

    # Retake replaces the photo in place (the camera opens through the same file chooser).
    before = await card.locator(".thumb").first.get_attribute("data-photo")
    async with page.expect_file_chooser() as chooser_info:
        await card.locator(".thumb .retake").click()
    chooser = await chooser_info.value
    await chooser.set_files(str(camera_jpeg(tmp_path, 2)))
    await page.wait_for_function(
        "([item, old]) => { const t = document.querySelector(`article[data-item='${item}'] .thumb[data-photo]`);"
        " return t && t.dataset.photo !== old; }", arg=[first["id"], before])
    assert await card.locator(".thumb-img").count() == 1
    kinds = await page.evaluate(
        "async (id) => (await (await import('/js/db.js')).db.photos.where('inspection_id').equals(id).toArray()).length",
        inspection_id)
    assert kinds == 1

    # Deleting a photo asks first; 取消 keeps it.
    await card.locator(".thumb .delete").click()
    await page.wait_for_selector("#confirm-delete-photo")
    assert "无法恢复" in await page.text_content("#confirm-delete-photo")
    await page.click("#confirm-delete-photo-cancel")
    assert await card.locator(".thumb-img").count() == 1
    await card.locator(".thumb .delete").click()
    await page.click("#confirm-delete-photo-confirm")
    await card.locator(".photo-needed").wait_for()
    assert await card.locator(".thumb-img").count() == 0

    # Discarding the draft names what would be lost; 保留 keeps it.
    await page.goto(f"/#/submit/{inspection_id}")
    await page.click("#discard-draft")
    await page.wait_for_selector("#confirm-discard")
    text = await page.text_content("#confirm-discard")
    assert PHARMACY in text and "1 项检查结果" in text and "0 张佐证照片" in text
    await page.click("#confirm-discard-cancel")
    assert await page.evaluate(
        "async (id) => !!(await (await import('/js/db.js')).db.inspections.get(id))", inspection_id)
    await page.click("#discard-draft")
    await page.click("#confirm-discard-confirm")
    await page.wait_for_selector(".screen-home")
    assert not await page.evaluate(
        "async (id) => !!(await (await import('/js/db.js')).db.inspections.get(id))", inspection_id)
    assert await page.locator(f'.task-card[data-assignment="{assignment_id}"]').count() == 1


async def test_sample_below_the_minimum_needs_the_whole_population(page: Any, pwa_server: PwaServer) -> None:
    """Checklists v2: a sample under the item's min_sampled counts only when the institution had
    fewer records (总数不足) and every one was checked; the push carries ``population``."""
    from tests.pwa.test_screens import LAYOUT, SIZES, viewport_shot

    inst = institution(pwa_server, PHARMACY)
    assignment_id = new_assignment(pwa_server, PHARMACY, "pharmacy-routine", start=2)
    content = checklist("pharmacy-routine")
    section, item = next((s, i) for s in content["sections"] for i in s["items"]
                         if i["mode"] == "sample" and (i.get("min_sampled") or 0) >= 20)
    minimum = item["min_sampled"]
    await open_and_login(page)
    await choose_from_list(page, assignment_id, PHARMACY, inst["code"])
    inspection_id = re.search(r"#/inspect/([0-9a-f-]{36})", page.url).group(1)
    await page.click(f'.rail-item[data-section="{section["id"]}"]')
    card = page.locator(f'article.item-card[data-item="{item["id"]}"]')
    await card.wait_for()
    await card.scroll_into_view_if_needed()

    # The minimum is shown; a full sample needs no 总份数.
    await card.locator(".result-pass").click()
    assert f"不少于 {minimum} 份" in await card.locator(".sample-fields").text_content()
    population = card.locator(".population-field")
    assert await population.is_hidden()

    # Fewer than the minimum: the 总数不足 field appears, and the item is not complete.
    await card.locator(".sample-sampled").fill("8")
    await card.locator(".sample-failed").fill("0")
    await population.wait_for(state="visible")
    assert "抽查数应等于总份数" in await population.text_content()
    assert await card.get_attribute("data-status") == "incomplete"
    reason = await card.locator(".item-status").text_content()
    assert f"最低抽查数 {minimum} 份" in reason and "总份数" in reason

    # A population larger than the sample: still incomplete, the reason says why.
    await card.locator(".sample-population").fill("12")
    await page.wait_for_function(
        "(id) => document.querySelector(`article[data-item='${id}'] .item-status`).textContent.includes('12')", arg=item["id"])
    assert "抽查数应等于总份数" in await card.locator(".item-status").text_content()
    assert await card.get_attribute("data-status") == "incomplete"
    # The screenshots of the item with its 总份数 field and the reason, at the three sizes, the
    # layout checked.
    for _, size in SIZES:
        await page.set_viewport_size(size)
        await page.evaluate("() => document.getElementById('toasts').replaceChildren()")
        await card.evaluate("(el) => el.scrollIntoView({ block: 'center' })")
        await page.wait_for_timeout(250)
        problems = await page.evaluate(LAYOUT, size["width"] >= 768)
        assert not problems, (size, problems)
        await viewport_shot(page, "10-form-population")
    await page.set_viewport_size(SIZES[0][1])

    # ... and 提交 lists it, with the reason and a link to the item.
    await page.goto(f"/#/submit/{inspection_id}")
    missing = page.locator(f'#missing-list .missing-link[data-kind="incomplete"][data-item="{item["id"]}"]')
    await missing.wait_for()
    assert "总份数 12 份只抽查了 8 份" in await missing.text_content()
    await missing.click()
    await page.wait_for_selector(f'article.item-card[data-item="{item["id"]}"].flash')

    # Every record checked (population = sampled): complete, and the preliminary score counts it.
    await card.locator(".sample-population").fill("8")
    await page.wait_for_selector(f'article.item-card[data-item="{item["id"]}"][data-status="done"]')
    assert await card.locator(".item-status").text_content() == ""
    assert (await read_prelim(page))[0] == "100.0"
    assert "按已作答的 1 项计算" in await page.text_content("#score-bar")

    # The push carries population, and the server keeps it (a draft push, as the queue builds it).
    draft = await page.evaluate(
        "async (id) => (await import('/js/sync-queue.js')).buildPush(id, { submit: false })", inspection_id)
    pushed = next(f for f in draft["findings"] if f["item"] == item["id"])
    assert (pushed["sampled"], pushed["failed"], pushed["population"]) == (8, 0, 8)
    response = pwa_server.api("POST", "/api/sync", username="inspector",
                              json={"device_id": "population-test", "inspections": [draft]})
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["status"] == "accepted", response.text
    stored = _one(pwa_server, "SELECT * FROM finding WHERE inspection = ? AND item_id = ?", inspection_id, item["id"])
    assert (stored["result"], stored["sampled"], stored["failed"], stored["population"]) == ("pass", 8, 0, 8)
