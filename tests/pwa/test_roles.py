"""Every role in the one app, in real Chromium against a real server (issue 8).

Each role signs in and lands on its own home (检查人员: today's home; 机构医保负责人: the notices;
监管人员 and 系统管理员: the desk), is offered nothing the server refuses (no 开始检查, no sync strip
for those who don't inspect) and signs out from the header. Also what a walk through the app
found: the name in the header in full on a 390 px phone, the 预评分 bar clear of the section's last
button, signatures redrawn to scale after a resize, and, after sync, the inspector's inspection
with its photos and its 整改通知书. Screenshots of the login and each home at three sizes.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.pwa.conftest import PwaServer, login, screenshot, stored_session, wait_ready
from tests.pwa.test_inspection_flow import CLINIC, choose_from_list, institution, new_assignment
from tests.pwa.test_platform import (
    FILL_INSPECTION,
    fresh_assignment,
    module_call,
    open_app,
    wait_state,
)

VIEWPORTS = [
    {"width": 1280, "height": 800},
    {"width": 800, "height": 1280},
    {"width": 390, "height": 844},
]
ROLES = ["inspector", "manager", "supervisor", "admin"]


async def land(page: Any, username: str) -> None:
    """Sign in on the login screen and wait for the role's home."""
    await login(page, username)
    home = {
        "inspector": "#home-scan",
        "manager": "#m-notices-title",
        "supervisor": "nav.d-nav",
        "admin": "nav.d-nav",
    }[username]
    await page.wait_for_selector(home, timeout=20_000)
    await wait_ready(page)


async def header_name_in_full(page: Any) -> dict[str, Any]:
    """Whether the user's name in the header is shown whole and inside the viewport."""
    return await page.evaluate(
        """() => {
          const button = document.getElementById('header-user');
          const name = document.getElementById('header-user-name');
          const b = button.getBoundingClientRect();
          const n = name.getBoundingClientRect();
          return {
            text: name.textContent,
            clipped: name.scrollWidth > name.clientWidth + 1 || button.scrollWidth > button.clientWidth + 1,
            inside: n.left >= 0 && n.right <= window.innerWidth && b.right <= window.innerWidth,
            visible: b.width > 0 && n.width > 0,
          };
        }"""
    )


async def sign_out_from_header(page: Any) -> None:
    await page.click("#header-user")
    await page.click("#header-logout")
    await page.click("#confirm-logout-confirm")
    await page.wait_for_selector("#login-username")
    assert await stored_session(page) is None
    assert not await page.is_visible("#user-menu")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v['width']}x{v['height']}")
async def test_each_role_lands_on_its_home_and_signs_out_from_the_header(
    new_context: Any, pwa_server: PwaServer, viewport: dict[str, int]
) -> None:
    from backend.demo import USERS

    names = {u[0]: u[1] for u in USERS}
    for username in ROLES:
        context = await new_context(viewport=viewport)
        page = await context.new_page()
        await page.goto("/")
        await wait_ready(page)
        card = await page.text_content(".login-card")
        for role in ("检查人员", "监管人员", "机构医保负责人", "系统管理员"):
            assert role in card
        if username == "inspector":
            await screenshot(page, "roles-login")

        await land(page, username)
        url = page.url
        inspector = username == "inspector"
        if inspector:
            assert url.endswith("/#/") or url.endswith("/")
            assert await page.is_visible("#sync-now")
            assert await page.is_visible("#queue-status")
        else:
            # Nothing the server would refuse: no 开始检查, no sync strip, no 待同步.
            assert await page.locator("#home-scan").count() == 0
            assert await page.get_by_text("开始检查").count() == 0
            assert not await page.is_visible("#sync-now")
            assert not await page.is_visible("#queue-status")
            assert not await page.is_visible("#last-sync")
        if username == "manager":
            assert url.endswith("#/m")
        if username in ("supervisor", "admin"):
            assert "#/desk" in url
            assert await page.is_visible("nav.d-nav")

        name = await header_name_in_full(page)
        assert name["text"] == names[username]
        assert name["visible"] and name["inside"] and not name["clipped"], name
        await page.wait_for_timeout(300)  # counts and lists settle before the picture
        await screenshot(page, f"roles-home-{username}")

        await sign_out_from_header(page)
        # Signed out, the inspector-only items stay hidden.
        assert not await page.is_visible("#sync-now")
        await context.close()


async def test_header_logout_names_unsynced_work(page: Any, pwa_server: PwaServer) -> None:
    """The inspector's unsynced work is named before signing out from the header, and kept."""
    assignment = fresh_assignment(pwa_server)
    await open_app(page)
    await module_call(page, "/js/bundle.js", "refreshBundle")
    made = await page.evaluate(FILL_INSPECTION, {"assignmentId": assignment["id"]})
    await page.reload()
    await wait_ready(page)
    await page.click("#header-user")
    assert await page.is_visible("#user-menu-panel")
    await page.keyboard.press("Escape")
    assert not await page.is_visible("#user-menu-panel")
    await page.click("#header-user")
    await page.click("#header-logout")
    await page.wait_for_selector("#logout-dialog")
    text = await page.text_content("#logout-unsynced")
    assert "草稿" in text and "张照片" in text
    await page.click("#logout-keep")
    await page.wait_for_selector("#login-username")
    kept = await page.evaluate(
        "async (id) => !!(await (await import('/js/db.js')).db.inspections.get(id))", made["id"]
    )
    assert kept


async def _start_inspection(page: Any, server: PwaServer) -> str:
    assignment_id = new_assignment(server, CLINIC, "clinic-routine")
    inst = institution(server, CLINIC)
    await page.goto("/")
    await wait_ready(page)
    await land(page, "inspector")
    await page.wait_for_selector(f'.task-card[data-assignment="{assignment_id}"]', timeout=20_000)
    await choose_from_list(page, assignment_id, CLINIC, inst["code"])
    return page.url.split("#/inspect/")[1].split("/")[0]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v['width']}x{v['height']}")
async def test_score_bar_leaves_the_section_end_button_clear(
    new_context: Any, pwa_server: PwaServer, viewport: dict[str, int]
) -> None:
    context = await new_context(viewport=viewport)
    page = await context.new_page()
    await _start_inspection(page, pwa_server)
    # A failed 否决项 makes the bar taller (its warning line).
    critical = page.locator('.rail-item').last
    await critical.click()
    await page.wait_for_selector("#to-sign")
    cards = page.locator("article.item-card")
    await cards.first.locator(".result-fail").click()
    # The start's toast is passing; the bar is what stays.
    await page.wait_for_selector(".toast", state="detached", timeout=15_000)

    for how in ("scroll", "focus"):
        if how == "scroll":
            await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        else:
            await page.evaluate("window.scrollTo(0, 0)")
            await page.focus("#to-sign")
        await page.wait_for_timeout(150)
        boxes = await page.evaluate(
            """() => {
              const b = document.getElementById('to-sign').getBoundingClientRect();
              const bar = document.getElementById('score-bar').getBoundingClientRect();
              const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
              return { bottom: b.bottom, barTop: bar.top, onTop: !!hit && !!hit.closest('#to-sign'), hit: hit && (hit.id || hit.className),
                       padding: getComputedStyle(document.getElementById('view')).paddingBottom,
                       scrollY: window.scrollY, height: document.documentElement.scrollHeight, inner: window.innerHeight };
            }"""
        )
        assert boxes["bottom"] <= boxes["barTop"], (how, boxes)
        assert boxes["onTop"], (how, boxes)
    await screenshot(page, "roles-section-end")


async def test_signature_is_redrawn_to_scale_after_a_resize(
    new_context: Any, pwa_server: PwaServer
) -> None:
    context = await new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    inspection_id = await _start_inspection(page, pwa_server)
    await page.goto(f"/#/sign/{inspection_id}")
    canvas = page.locator("canvas.sig-canvas").first
    await canvas.wait_for()
    await canvas.scroll_into_view_if_needed()
    box = await canvas.bounding_box()
    # A stroke across 10 %–90 % of the pad, as a hand would draw it.
    y = box["y"] + box["height"] * 0.5
    await page.mouse.move(box["x"] + box["width"] * 0.1, y)
    await page.mouse.down()
    steps = 30
    for i in range(1, steps + 1):
        x = box["x"] + box["width"] * (0.1 + 0.8 * i / steps)
        await page.mouse.move(x, y + (8 if i % 2 else -8))
    await page.mouse.up()

    ink = """(id) => {
      const c = document.getElementById(id);
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let left = c.width, right = -1, count = 0;
      for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
        if (data[(y * c.width + x) * 4 + 3] > 60) { count++; if (x < left) left = x; if (x > right) right = x; }
      }
      return { width: c.width, cssWidth: c.getBoundingClientRect().width, left, right, count };
    }"""
    canvas_id = await canvas.get_attribute("id")
    before = await page.evaluate(ink, canvas_id)
    assert before["count"] > 0
    span_before = (before["right"] - before["left"]) / before["width"]
    assert span_before > 0.7

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.wait_for_timeout(400)
    after = await page.evaluate(ink, canvas_id)
    assert after["cssWidth"] < before["cssWidth"] * 0.7  # the pad did shrink
    assert after["count"] > 0
    # Scaled, not clipped: the stroke still spans most of the pad and ends inside it.
    assert after["right"] < after["width"] - 2, after
    assert (after["right"] - after["left"]) / after["width"] > 0.7 * span_before, (before, after)
    await screenshot(page, "roles-signature-resized")


async def test_after_sync_photos_and_the_notice_are_shown(page: Any, pwa_server: PwaServer) -> None:
    assignment = fresh_assignment(pwa_server)
    await open_app(page)
    await module_call(page, "/js/bundle.js", "refreshBundle")
    made = await page.evaluate(FILL_INSPECTION, {"assignmentId": assignment["id"]})
    assert made["failed"] and made["evidence"] >= 1
    await module_call(page, "/js/sync-queue.js", "enqueue", made["id"])
    await wait_state(page, made["id"], "synced", timeout=60)
    notice = pwa_server.query(
        "SELECT id, number FROM rectification_notice WHERE inspection = ?", made["id"]
    )
    assert len(notice) == 1 and notice[0]["number"]
    number = notice[0]["number"]

    # The home's synced card names the notice; the submitted inspection opens it.
    await page.reload()
    await wait_ready(page)
    card = page.locator(f'#group-synced [data-inspection="{made["id"]}"]')
    await card.wait_for()
    await card.locator(".notice-number").wait_for(timeout=15_000)
    assert number in await card.text_content()
    await screenshot(page, "roles-home-synced-notice")
    await card.click()
    await page.wait_for_selector("#submitted-state")
    link = page.locator("#submitted-notice a.notice-line")
    await link.wait_for()
    assert number in await link.text_content()
    await link.click()
    await page.wait_for_selector("#m-notice-number")
    assert (await page.text_content("#m-notice-number")).strip() == number
    assert "首页" in await page.text_content(".back-link")

    # Staff read the objection window as open, never "现已不能申诉".
    await page.click(".m-open-task")
    await page.wait_for_selector("#m-task-title")
    text = await page.text_content(".screen")
    assert "现已不能申诉" not in text
    assert "申诉期至" in text

    # The failed item's photos are pictures, kept on the tablet (no 已上传 placeholder)…
    await page.goto(f"/#/submit/{made['id']}")
    await page.click("#view-answers")
    failed_item = await page.evaluate(
        """async (id) => (await (await import('/js/db.js')).db.findings.where('inspection_id').equals(id)
             .filter((f) => f.photo_ids.length > 0).first()).item""",
        made["id"],
    )
    section = failed_item.split(".")[0]
    await page.goto(f"/#/inspect/{made['id']}/{section}/{failed_item}")
    thumb = page.locator(f'article[data-item="{failed_item}"] .thumb-img img').first
    await thumb.wait_for()
    await page.wait_for_function(
        "(item) => { const i = document.querySelector(`article[data-item='${item}'] .thumb-img img`); return i && i.complete && i.naturalWidth > 0; }",
        arg=failed_item,
    )
    assert "已上传" not in await page.text_content(f'article[data-item="{failed_item}"]')
    # …and, where none was kept, fetched from the server with the token.
    await page.evaluate(
        "async (id) => (await import('/js/db.js')).db.photos.where('inspection_id').equals(id).modify({ thumb: null })",
        made["id"],
    )
    await page.reload()
    await wait_ready(page)
    await page.wait_for_function(
        "(item) => { const i = document.querySelector(`article[data-item='${item}'] .thumb[data-source=server] img`); return i && i.complete && i.naturalWidth > 0; }",
        arg=failed_item,
        timeout=15_000,
    )


async def test_a_managers_own_actions_are_not_news(page: Any, pwa_server: PwaServer) -> None:
    from tests.pwa.test_manager_flow import MANAGER, _arrange_notice

    notice = await _arrange_notice(pwa_server)
    first, second = notice["tasks"][0], notice["tasks"][1]
    mine = pwa_server.api(
        "POST", f"/api/rectification/tasks/{first['id']}/comments", username=MANAGER,
        json={"text": "我方已安排整改"},
    )
    assert mine.status_code in (200, 201), mine.text
    theirs = pwa_server.api(
        "POST", f"/api/rectification/tasks/{second['id']}/comments", username="supervisor",
        json={"text": "请补充整改照片"},
    )
    assert theirs.status_code in (200, 201), theirs.text

    await page.goto("/")
    await wait_ready(page)
    await login(page, MANAGER)
    await page.wait_for_selector("#m-updates")
    feed = await page.text_content("#m-updates")
    assert "请补充整改照片" in feed
    assert "我方已安排整改" not in feed
