"""Screenshots of the main screens at 1280×800, 800×1280 and 390×844 (artifacts/screenshots/), with
basic layout checks at each size: no horizontal scrolling, no control smaller than a finger
(符合 / 不符合 / 不适用 ≥ 48 px on tablets, every button ≥ 44 px), no text cut off sideways.

One browser context prepares realistic data once (a rejected, a waiting and a draft inspection,
the rest of the demo assignments), then every screen is shot at the three sizes. The screens
run against a server of their own, so the pictures show the demo data and nothing the other
tests created.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.pwa.conftest import ARTIFACTS, PwaServer, screenshot, wait_for_sw, wait_ready
from tests.pwa.conftest import login as screen_login
from tests.pwa.test_inspection_flow import (
    CLINIC,
    OTHER_PHARMACY,
    PHARMACY,
    answer,
    camera_jpeg,
    checklist,
    draw,
    fill_checklist,
    institution,
    sign_all,
    submit,
)

SIZES = [
    ("tablet-landscape", {"width": 1280, "height": 800}),
    ("tablet-portrait", {"width": 800, "height": 1280}),
    ("phone", {"width": 390, "height": 844}),
]

LAYOUT = """(tablet) => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) problems.push(`horizontal scroll: ${doc.scrollWidth} > ${window.innerWidth}`);
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !el.closest('[hidden]');
  };
  // Inside a box that scrolls sideways on purpose (the section tabs), off screen is fine.
  const scroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  const name = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${[...el.classList].join('.')} "${(el.textContent || '').trim().slice(0, 12)}"`;
  for (const el of document.querySelectorAll('button, a.btn, label.btn, .add-photo, input, select, .tab, .rail-item, .list-choice, .status-item.queue')) {
    if (!visible(el) || el.type === 'file' || el.type === 'checkbox' || el.closest('.sig-pad')) continue;
    const r = el.getBoundingClientRect();
    if (r.height < 44 - 0.5) problems.push(`too small (${Math.round(r.width)}×${Math.round(r.height)}): ${name(el)}`);
    if (r.right > window.innerWidth + 1 && !scroller(el)) problems.push(`off screen to the right: ${name(el)}`);
  }
  for (const el of document.querySelectorAll('.result-btn')) {
    if (!visible(el)) continue;
    const h = el.getBoundingClientRect().height;
    if (h < (tablet ? 48 : 44)) problems.push(`result button ${Math.round(h)} px tall: ${name(el)}`);
  }
  // Chinese text cut off sideways (an overflowing box that does not mean to ellipsize).
  for (const el of document.querySelectorAll('h1, h2, h3, .card-title, .item-text, .btn, .chip, .facts dd, .rail-title')) {
    if (!visible(el)) continue;
    const s = getComputedStyle(el);
    if (s.textOverflow === 'ellipsis' || el.closest('.rail-list, .section-nav')) continue;
    if (el.scrollWidth > el.clientWidth + 2 && s.overflowX !== 'visible') problems.push(`text cut off: ${name(el)}`);
    const r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 1 && !scroller(el)) problems.push(`text off screen: ${name(el)}`);
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def screens_server(start_server: Any) -> PwaServer:
    """A server of its own: the screenshots show the demo data only."""
    return start_server()


async def viewport_shot(page: Any, name: str) -> Path:
    """What the user sees without scrolling (fixed bars and dialogs where they really are)."""
    size = page.viewport_size
    path = ARTIFACTS / "screenshots" / f"{name}-{size['width']}x{size['height']}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path), full_page=False)
    return path


async def shoot(page: Any, name: str, ready: str | None = None, *, scroll_top: bool = True, full: bool = True,
                viewport: bool = False) -> None:
    """Screenshot a screen at the three sizes (full page and/or the first screenful), checking
    the layout at each."""
    for _, size in SIZES:
        await page.set_viewport_size(size)
        await page.evaluate("() => document.getElementById('toasts').replaceChildren()")
        if scroll_top:
            await page.evaluate("window.scrollTo(0, 0)")
        await page.wait_for_timeout(250)  # layout, ResizeObserver, fonts
        if ready:
            await page.wait_for_selector(ready)
        problems = await page.evaluate(LAYOUT, size["width"] >= 768)
        assert not problems, f"{name} at {size['width']}×{size['height']}: {problems}"
        if full:
            await screenshot(page, name)
        if viewport:
            await viewport_shot(page, f"{name}-screen" if full else name)
    await page.set_viewport_size(SIZES[0][1])


async def go(page: Any, hash_: str, ready: str) -> None:
    await page.evaluate("(h) => { location.hash = h; }", hash_)
    await page.wait_for_selector(ready)
    await page.wait_for_timeout(150)


def _assignment(server: PwaServer, name: str) -> str:
    rows = server.query(
        "SELECT a.id FROM assignment a JOIN institution i ON i.id = a.institution "
        "WHERE i.name = ? AND a.status != 'cancelled' "
        # The demo data inspects some assignments itself (work for the desk): not those.
        "AND NOT EXISTS (SELECT 1 FROM inspection x WHERE x.assignment = a.id) "
        "ORDER BY a.window_start", name)
    assert rows, name
    return str(rows[0]["id"])


async def complete_and_submit(page: Any, server: PwaServer, name: str, tmp_path: Path, plans: dict) -> str:
    inst = institution(server, name)
    assignment_id = _assignment(server, name)
    await go(page, f"#/start/{assignment_id}", "#tab-list")
    await page.click("#tab-list")
    await page.click(f'.list-choice[data-assignment="{assignment_id}"]')
    assert await page.text_content("#confirm-code") == inst["code"]
    await page.click("#start-confirm")
    await page.wait_for_selector(".item-card")
    await fill_checklist(page, checklist("pharmacy-routine"), plans, tmp_path)
    inspection_id = re.search(r"#/inspect/([0-9a-f-]{36})", page.url).group(1)
    await go(page, f"#/sign/{inspection_id}", "#rep-name")
    await sign_all(page, "王店长")
    await page.click("#to-submit")
    await submit(page)
    return inspection_id


async def test_main_screens(new_context: Any, screens_server: PwaServer, tmp_path: Path) -> None:
    context = await new_context(base_url=screens_server.base_url)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # 登录
    await page.goto("/")
    await wait_ready(page)
    await shoot(page, "01-login", "#login-submit")

    await screen_login(page, "inspector")
    await page.wait_for_selector(".task-card", timeout=20_000)
    await wait_for_sw(page)

    # A rejected inspection: submitted offline, then the bureau cancels its assignment.
    await context.set_offline(True)
    other = _assignment(screens_server, OTHER_PHARMACY)
    rejected_id = await complete_and_submit(page, screens_server, OTHER_PHARMACY, tmp_path, {})
    response = screens_server.api("POST", f"/api/assignments/{other}/cancel", username="supervisor.huancui",
                                  json={"reason": "机构已停业"})
    assert response.status_code in (200, 201), response.text
    await context.set_offline(False)
    await page.wait_for_selector(f'#group-rejected [data-inspection="{rejected_id}"]', timeout=45_000)

    # Offline from here: a submitted inspection waits (待同步), a draft is half done.
    await context.set_offline(True)
    await page.wait_for_selector('#conn-status[data-online="0"]', timeout=10_000)
    content = checklist("pharmacy-routine")
    deduct = next(i for s in content["sections"] for i in s["items"] if i["mode"] == "deduct" and not i.get("critical"))
    sample = next(i for s in content["sections"] for i in s["items"] if i["mode"] == "sample")
    waiting_id = await complete_and_submit(page, screens_server, PHARMACY, tmp_path, {
        deduct["id"]: {"result": "fail", "occurrences": 2, "note": "2 种药品未标价"},
        sample["id"]: {"result": "fail", "sampled": 20, "failed": 3},
    })
    assert waiting_id

    clinic = _assignment(screens_server, CLINIC)
    await go(page, f"#/start/{clinic}", "#tab-list")
    # 开始检查 (scan; then chosen from the list with the confirmation)
    await shoot(page, "03-start-scan", "#scan-status")
    await page.click("#tab-list")
    await page.click(f'.list-choice[data-assignment="{clinic}"]')
    await shoot(page, "04-start-confirm", "#confirm-institution")
    await page.click("#start-confirm")
    await page.wait_for_selector(".item-card")
    inspection_id = re.search(r"#/inspect/([0-9a-f-]{36})", page.url).group(1)

    # 检查表单: the 医保医师 section with every kind of answer.
    clinic_content = checklist("clinic-routine")
    section = next(s for s in clinic_content["sections"] if s["id"] == "physicians")
    await page.click(f'.rail-item[data-section="{section["id"]}"]')
    await page.wait_for_selector(f'article.item-card[data-item="{section["items"][0]["id"]}"]')
    plans = {
        "physicians.registered": {"result": "pass"},
        "physicians.unqualified": {"result": "fail", "physician": True, "note": "发现 1 名未注册人员接诊"},
        "physicians.rx-signature": {"result": "fail", "sampled": 20, "failed": 2, "physician": True},
        "physicians.tcm-scope": {"result": "na"},
    }
    n = 0
    for item in section["items"]:
        if item["id"] not in plans:
            continue
        plan = plans[item["id"]]
        n += 1
        evidence = item.get("evidence", "none")
        failing = plan["result"] == "fail"
        photo = camera_jpeg(tmp_path, 100 + n) if evidence == "photo_always" or (evidence == "photo_on_fail" and failing) else None
        await answer(page, item, plan, photo)
    card = page.locator('article.item-card[data-item="physicians.unqualified"]')
    await card.locator(".disclosure").first.click()
    await page.wait_for_selector("#veto-warning")
    await shoot(page, "05-form", ".item-card", viewport=True)

    # Result buttons are big on every size (the brief's explicit numbers).
    for _, size in SIZES:
        await page.set_viewport_size(size)
        heights = await page.eval_on_selector_all(".result-btn", "els => els.map((e) => e.getBoundingClientRect().height)")
        assert heights and min(heights) >= (48 if size["width"] >= 768 else 44), (size, min(heights))
    await page.set_viewport_size(SIZES[0][1])

    # 签字确认, half signed.
    await go(page, f"#/sign/{inspection_id}", "#rep-name")
    await page.fill("#rep-name", "吴强")
    await draw(page, "#sig-representative")
    await page.wait_for_selector("#sig-status-representative.ok")
    await shoot(page, "06-sign", "#sign-score")

    # 提交: what is still missing, with links.
    await go(page, f"#/submit/{inspection_id}", "#missing-list")
    await shoot(page, "07-submit", "#missing-list")
    link = page.locator('#missing-list .missing-link[data-kind="unanswered"]').first
    item_id = await link.get_attribute("data-item")
    await link.click()
    await page.wait_for_selector(f'article.item-card[data-item="{item_id}"].flash')

    # 首页 with every group, then 同步.
    await go(page, "#/", ".screen-home")
    await page.wait_for_selector("#group-waiting")
    for group in ("#group-rejected", "#group-drafts", "#group-today", "#group-overdue", "#group-upcoming", "#group-waiting"):
        assert await page.locator(group).count() == 1, group
    await shoot(page, "02-home", "#group-today")

    await go(page, "#/sync", "#sync-list")
    assert await page.locator("#sync-list .record").count() == 3
    await page.wait_for_selector("#persist-state")
    await shoot(page, "08-sync", "#sync-list")

    # 退出登录 warns first and names what would be lost.
    await page.click("#logout")
    await page.wait_for_selector("#logout-dialog")
    text = await page.text_content("#logout-unsynced")
    assert CLINIC in text and PHARMACY in text and OTHER_PHARMACY in text
    await shoot(page, "09-logout-warning", "#logout-dialog", full=False, viewport=True, scroll_top=False)
    await page.click("#logout-cancel")
    assert await page.locator("#logout-dialog").count() == 0

    assert not errors, errors
