"""检查计划 and 双随机抽取 in real Chromium against a real server: the supervisor plans an
assignment (a related inspector shown as 回避 and not selectable), previews and creates a bulk
routine plan, previews and saves a 双随机 draw and opens its public page; screenshots of every
planning screen at 1280×800, 800×1280 and 390×844."""

from __future__ import annotations

from typing import Any

from tests.pwa.conftest import PwaServer, login, screenshot, wait_ready

VIEWPORTS = [
    {"width": 1280, "height": 800},
    {"width": 800, "height": 1280},
    {"width": 390, "height": 844},
]


async def open_desk(page: Any, username: str = "supervisor") -> None:
    await page.goto("/")
    await login(page, username)
    await page.wait_for_selector("nav.d-nav", timeout=20_000)
    await wait_ready(page)


async def go(page: Any, hash_: str, selector: str) -> None:
    await page.evaluate("hash => { location.hash = hash; }", hash_)
    await page.wait_for_selector(selector, timeout=15_000)


async def test_supervisor_plans_an_assignment(page: Any, pwa_server: PwaServer) -> None:
    await open_desk(page)
    await page.click("a.d-nav-link[href='#/desk/plan']")
    await page.wait_for_selector("#plan-table")
    await page.click(".d-tab[href='#/desk/plan/new']")
    await page.fill("#plan-inst-q", "康宁骨科")
    await page.click("#plan-inst-results button.d-result")
    await page.wait_for_selector("#plan-team input[type=checkbox]")
    # The demo's recorded relation: 马晓东 must 回避 this hospital and cannot be chosen.
    avoid = page.locator("#plan-team label.d-avoid")
    assert "马晓东" in await avoid.inner_text() and "回避" in await avoid.inner_text()
    assert await avoid.locator("input").is_disabled()
    await page.select_option("#plan-kind", "special")
    await page.fill("#plan-start", "2027-03-01")
    await page.fill("#plan-end", "2027-03-10")
    # One inspector only: refused in words, nothing created.
    await page.check("#plan-team label:has-text('张伟') input")
    await page.click("#plan-new-submit")
    await page.wait_for_selector("#plan-new-form .d-msg.error:not([hidden])")
    assert "不得少于两人" in await page.locator("#plan-new-form .d-msg.error").inner_text()
    await page.check("#plan-team label:has-text('郑海燕') input")
    await page.click("#plan-new-submit")
    done = page.locator("#plan-new-form .d-msg.ok")
    await done.wait_for()
    assert "已创建" in await done.inner_text() and "专项检查" in await done.inner_text()
    rows = pwa_server.query(
        "SELECT a.kind, a.window_start FROM assignment a JOIN institution i ON i.id = a.institution"
        " WHERE i.name = ? AND a.kind = 'special'",
        "环翠区康宁骨科医院",
    )
    assert len(rows) == 1 and str(rows[0]["window_start"]).startswith("2027-03-01")
    await done.locator("a").click()
    await page.wait_for_selector("#plan-table")
    assert "环翠区康宁骨科医院" in await page.locator("#plan-table").inner_text()

    # The calendar of that month shows it on its first day.
    await go(page, "#/desk/plan/calendar?month=2027-03", "#plan-calendar")
    day = page.locator(".d-cal-day[data-date='2027-03-01']")
    assert "环翠区康宁骨科医院" in await day.inner_text()
    # A day opens the list of that day, filters in the URL.
    await day.click()
    await page.wait_for_selector("#plan-table")
    assert "from=2027-03-01" in page.url and "to=2027-03-01" in page.url
    assert "环翠区康宁骨科医院" in await page.locator("#plan-table").inner_text()


async def test_supervisor_makes_a_bulk_routine_plan(page: Any, pwa_server: PwaServer) -> None:
    await open_desk(page)
    await go(page, "#/desk/plan/bulk", "#bulk-form")
    await page.select_option("#bulk-form select[name=region]", "371003")
    await page.fill("#bulk-start", "2027-05-01")
    await page.fill("#bulk-end", "2027-05-31")
    await page.fill("#bulk-seed", "文登五月")
    await page.click("#bulk-preview")
    await page.wait_for_selector("#bulk-table")
    rows = await page.locator("#bulk-table tbody tr").count()
    assert rows == 4  # 文登区's four pharmacies
    before = pwa_server.query("SELECT count(*) AS n FROM assignment WHERE kind = 'routine'")[0]["n"]
    await page.click("#bulk-confirm")
    await page.wait_for_selector("#bulk-done")
    after = pwa_server.query("SELECT count(*) AS n FROM assignment WHERE kind = 'routine'")[0]["n"]
    assert after == before + 4


async def test_supervisor_draws_saves_and_opens_the_public_page(page: Any, pwa_server: PwaServer) -> None:
    await open_desk(page)
    await page.click("a.d-nav-link[href='#/desk/draws']")
    await page.wait_for_selector("#draw-form")
    await page.fill("#draw-title", "2027年第一季度环翠区定点零售药店双随机抽查")
    await page.select_option("#draw-region", "371002")
    await page.fill("#draw-amount", "3")
    await page.fill("#draw-seed", "环翠2027Q1")
    await page.fill("#draw-start", "2027-02-01")
    await page.fill("#draw-end", "2027-02-28")
    await page.click("#draw-preview")
    await page.wait_for_selector("#draw-table")
    assert await page.locator("#draw-seed-used").inner_text() == "环翠2027Q1"
    previewed = await page.locator("#draw-table tbody").inner_text()
    assert pwa_server.query("SELECT count(*) AS n FROM draw")[0]["n"] == 0  # a preview stores nothing

    # A mistake is shown in words: a proportion above 1.
    await page.check("#draw-form input[name=mode][value=proportion]")
    await page.fill("#draw-amount", "1.5")
    await page.click("#draw-preview")
    await page.wait_for_selector("#draw-msg.error:not([hidden])")
    assert "比例" in await page.locator("#draw-msg").inner_text()
    await page.check("#draw-form input[name=mode][value=count]")
    await page.fill("#draw-amount", "3")
    await page.click("#draw-preview")
    await page.wait_for_selector("#draw-table")
    assert await page.locator("#draw-table tbody").inner_text() == previewed  # same seed, same draw

    await page.click("#draw-confirm")
    await page.wait_for_selector("#draw-detail")
    assert await page.locator("#draw-picks tbody tr").count() == 3
    rows = pwa_server.query("SELECT count(*) AS n FROM assignment WHERE kind = 'random' AND window_start = ?", "2027-02-01")
    assert rows[0]["n"] == 3

    async with page.context.expect_page() as opened:
        await page.click("#draw-public")
    public = await opened.value
    await public.wait_for_load_state()
    text = await public.locator("body").inner_text()
    assert "双随机抽查结果公示" in text and "环翠2027Q1" in text
    assert "2027年第一季度环翠区定点零售药店双随机抽查" in text
    assert "0631-" not in text and "inspector" not in text  # no phone numbers, no accounts
    await screenshot(public, "public-draw")
    await public.close()

    await go(page, "#/desk/draws/history", "#draw-history")
    assert "环翠2027Q1" in await page.locator("#draw-history").inner_text()


async def test_planning_screens_at_three_sizes(new_context: Any, pwa_server: PwaServer) -> None:
    screens = {
        "plan-list": ("#/desk/plan/list", "#plan-table"),
        "plan-calendar": ("#/desk/plan/calendar", "#plan-calendar"),
        "plan-new": ("#/desk/plan/new", "#plan-new-form"),
        "plan-bulk": ("#/desk/plan/bulk", "#bulk-form"),
        "plan-relations": ("#/desk/plan/relations", "#rel-table"),
        "draws-new": ("#/desk/draws/new", "#draw-form"),
        "draws-history": ("#/desk/draws/history", "#draw-history"),
    }
    for viewport in VIEWPORTS:
        context = await new_context(viewport=viewport)
        page = await context.new_page()
        await open_desk(page)
        for name, (hash_, selector) in screens.items():
            await go(page, hash_, selector)
            if name == "plan-new":
                await page.fill("#plan-inst-q", "康宁骨科")
                await page.click("#plan-inst-results button.d-result")
                await page.wait_for_selector("#plan-team input[type=checkbox]")
            if name == "draws-new":
                await page.fill("#draw-title", "截图用抽取")
                await page.select_option("#draw-region", "371000")
                await page.fill("#draw-amount", "6")
                await page.fill("#draw-seed", "截图")
                await page.click("#draw-preview")
                await page.wait_for_selector("#draw-table")
            if name == "plan-bulk":
                await page.click("#bulk-preview")
                await page.wait_for_selector("#bulk-table")
            if name == "draws-history" and await page.locator("#draw-history tr.d-clickable").count():
                await page.click("#draw-history tbody tr.d-clickable")
                await page.wait_for_selector("#draw-detail")
                await screenshot(page, "desk-draws-detail")
            # Nothing wider than the window (the page never scrolls sideways).
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, (name, viewport, overflow)
            await screenshot(page, f"desk-{name}")
        await context.close()
