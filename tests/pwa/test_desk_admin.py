"""系统管理 in real Chromium against a real server: the admin creates a user, imports institutions
(a file with a bad row shows every bad row and imports nothing; the corrected file imports),
uploads a checklist version (problems with their path first, then a valid file); screenshots of
every admin tab at 1280×800, 800×1280 and 390×844."""

from __future__ import annotations

from typing import Any

import pytest

from backend.settings import REPO_ROOT
from tests.pwa.conftest import PwaServer, login, screenshot, wait_ready

VIEWPORTS = [
    {"width": 1280, "height": 800},
    {"width": 800, "height": 1280},
    {"width": 390, "height": 844},
]
TABS = {
    "users": "#user-table",
    "institutions": "#inst-table",
    "regions": "#region-table",
    "checklists": "#checklist-table",
    "qr": "#qr-table",
    "audit": "#audit-table",
}
HEADER = "机构编码,机构名称,机构类型,等级,所属地区,地址"


async def open_desk(page: Any) -> None:
    await page.goto("/")
    await login(page, "admin")
    await page.wait_for_selector("nav.d-nav", timeout=20_000)
    await wait_ready(page)


async def open_tab(page: Any, tab: str, query: str = "") -> None:
    await page.evaluate("hash => { location.hash = hash; }", f"#/desk/admin/{tab}{query}")
    await page.wait_for_selector(TABS[tab], timeout=15_000)


def _csv(lines: list[str]) -> dict[str, Any]:
    text = "\ufeff" + "\r\n".join([HEADER, *lines]) + "\r\n"
    return {"name": "机构导入.csv", "mimeType": "text/csv", "buffer": text.encode("utf-8")}


async def test_admin_creates_a_user(page: Any, pwa_server: PwaServer) -> None:
    await open_desk(page)
    await page.click("a.d-nav-link[href='#/desk/admin']")
    await page.wait_for_selector("#user-table")
    assert await page.locator(".d-tab[aria-current='page']").inner_text() == "用户"
    await page.click("#user-new")
    await page.fill("#user-username", "zhang.jc")
    await page.fill("#user-display", "张检查")
    await page.fill("#user-password", "a-good-password")
    await page.select_option("#user-create select[name=role]", "inspector")
    await page.select_option("#user-create select[name=region_code]", "371002")
    await page.click("#user-create-submit")
    await page.wait_for_selector("#user-table tr[data-key='zhang.jc']")
    assert "已创建用户 zhang.jc" in await page.locator(".d-msg.ok").first.inner_text()
    rows = pwa_server.query(
        "SELECT u.role, r.code FROM app_user u JOIN region r ON r.id = u.region WHERE username = ?",
        "zhang.jc",
    )
    assert rows == [{"role": "inspector", "code": "371002"}]

    # A mistake is explained where it happened and creates nothing.
    await page.click("#user-new")
    await page.fill("#user-username", "li.jc")
    await page.fill("#user-password", "a-good-password")
    await page.select_option("#user-create select[name=role]", "manager")
    await page.fill("#user-create input[name=institution_code]", "NO-SUCH-CODE")
    await page.click("#user-create-submit")
    error = page.locator("#user-create .d-msg.error")
    await error.wait_for()
    assert "NO-SUCH-CODE" in await error.inner_text()
    assert pwa_server.query("SELECT 1 FROM app_user WHERE username = ?", "li.jc") == []

    # The new user's row opens its actions; disabling asks first.
    await page.click("#user-table tr[data-key='zhang.jc']")
    await page.wait_for_selector("#user-detail")
    await page.click("#user-disable")
    await page.click("#dialog-title >> xpath=ancestor::dialog//button[contains(., '停用')]")
    await page.wait_for_selector("#user-detail #user-enable")
    assert pwa_server.query("SELECT is_active FROM app_user WHERE username = ?", "zhang.jc") == [
        {"is_active": 0}
    ]


async def test_admin_imports_institutions(page: Any, pwa_server: PwaServer) -> None:
    await open_desk(page)
    await open_tab(page, "institutions")
    await page.click("#inst-import")
    bad = _csv([
        "P37100299101,浏览器测试药房,定点零售药店,,371002,测试路 1 号",
        "P37100299102,,卫生院,,999999,",
        "P37100299101,重复编码药房,pharmacy,,371002,",
    ])
    await page.set_input_files("#import-file", files=[bad])
    await page.click("#import-submit")
    await page.wait_for_selector("#import-errors")
    refused = await page.locator("#import-refused").inner_text()
    assert "2 行存在问题" in refused and "未导入" in refused
    rows = page.locator("#import-errors tbody tr")
    assert await rows.count() == 2
    third = await rows.nth(0).inner_text()
    assert "第 3 行" in third and "机构名称不能为空" in third and "999999" in third
    assert "第 4 行" in await rows.nth(1).inner_text() and "与第 2 行重复" in await rows.nth(1).inner_text()
    await screenshot(page, "desk-admin-import-errors")
    assert pwa_server.query(
        "SELECT code FROM institution WHERE code LIKE 'P371002991%'"
    ) == []

    good = _csv([
        "P37100299101,浏览器测试药房,定点零售药店,,371002,测试路 1 号",
        "H37100299102,浏览器测试诊所,诊所,未定级,371002,测试路 2 号",
    ])
    await page.set_input_files("#import-file", files=[good])
    await page.click("#import-submit")
    await page.wait_for_selector("#import-ok")
    assert await page.locator("#import-ok").inner_text() == "已导入 2 家机构。"
    stored = pwa_server.query(
        "SELECT code, type FROM institution WHERE code IN (?, ?) ORDER BY code",
        "H37100299102", "P37100299101",
    )
    assert stored == [
        {"code": "H37100299102", "type": "clinic"},
        {"code": "P37100299101", "type": "pharmacy"},
    ]
    # Searching the table finds them (the search stays in the URL).
    await page.fill("#inst-filters input[name=q]", "浏览器测试")
    await page.press("#inst-filters input[name=q]", "Enter")
    await page.wait_for_function("() => location.hash.includes('q=')")
    await page.wait_for_selector("#inst-table")
    await page.wait_for_function(
        "() => document.querySelectorAll('#inst-table tbody tr').length === 2"
    )


async def test_admin_is_told_a_short_name_is_taken(page: Any, pwa_server: PwaServer) -> None:
    """Two offices with one short name would number two notices alike: the edit is refused where
    it was made, saying which region has the name, and nothing changes."""
    await open_desk(page)
    await open_tab(page, "regions")
    await page.click("#region-table tr[data-key='371003']")
    await page.wait_for_selector("#region-edit")
    await page.fill("#region-edit input[name=office_short_name]", "环翠")
    await page.click("#region-edit button[type=submit]")
    error = page.locator("#region-edit .d-msg.error")
    await error.wait_for()
    assert "“环翠”已由环翠区（371002）使用" in await error.inner_text()
    for viewport in VIEWPORTS:
        await page.set_viewport_size(viewport)
        await screenshot(page, "desk-admin-region-short-name-taken")
    assert pwa_server.query("SELECT office_short_name FROM region WHERE code = ?", "371003") == [
        {"office_short_name": "文登"}
    ]


async def test_admin_uploads_a_checklist_version(page: Any, pwa_server: PwaServer) -> None:
    source = (REPO_ROOT / "checklists" / "pharmacy-routine.v1.yaml").read_text(encoding="utf-8")
    new = source.replace("id: pharmacy-routine\n", "id: pharmacy-special\n", 1).replace(
        "version: 1\n", "version: 3\n", 1
    )
    broken = new.replace("applies_to: [pharmacy]", "applies_to: [shop]", 1)
    await open_desk(page)
    await open_tab(page, "checklists")
    await page.set_input_files("#checklist-file", files=[
        {"name": "pharmacy-special.v3.yaml", "mimeType": "application/yaml", "buffer": broken.encode()}
    ])
    await page.click("#checklist-submit")
    await page.wait_for_selector("#checklist-problems")
    assert "未载入" in await page.locator("#checklist-refused").inner_text()
    assert "applies_to[0]" in await page.locator("#checklist-problems").inner_text()
    await screenshot(page, "desk-admin-checklist-problems")
    assert pwa_server.query(
        "SELECT 1 FROM checklist_version WHERE checklist_id = 'pharmacy-special'"
    ) == []

    await page.set_input_files("#checklist-file", files=[
        {"name": "pharmacy-special.v3.yaml", "mimeType": "application/yaml", "buffer": new.encode()}
    ])
    await page.click("#checklist-submit")
    await page.wait_for_selector("#checklist-ok")
    assert "pharmacy-special 第 3 版" in await page.locator("#checklist-ok").inner_text()
    await page.wait_for_selector("#checklist-table tbody tr:has-text('pharmacy-special')")
    assert pwa_server.query(
        "SELECT version FROM checklist_version WHERE checklist_id = 'pharmacy-special'"
    ) == [{"version": 3}]
    # Its content opens from the list.
    await page.click("#checklist-table tbody tr:has-text('pharmacy-special')")
    await page.wait_for_selector("#checklist-detail details.d-section")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v['width']}x{v['height']}")
async def test_screenshots_of_every_admin_tab(new_context: Any, viewport: dict[str, int]) -> None:
    context = await new_context(viewport=viewport)
    page = await context.new_page()
    await open_desk(page)
    for tab in TABS:
        await open_tab(page, tab)
        await page.wait_for_selector(".d-loading", state="detached")
        overflow = await page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 1, f"{tab} is wider than the screen by {overflow}px"
        await screenshot(page, f"desk-admin-{tab}")
    await open_tab(page, "users")
    await page.click("#user-table tr[data-key='inspector']")
    await page.wait_for_selector("#user-detail table")
    await screenshot(page, "desk-admin-user-detail")
