"""The app under its Content-Security-Policy, in real Chromium against a real server: walking the
inspector's screens (home, the checklist form), the desk's modules as a supervisor and an admin,
a printable notice and the API page fires no ``securitypolicyviolation`` at all."""

from __future__ import annotations

from typing import Any

import pytest

from tests.pwa.conftest import _MISSING_MESSAGE, _missing, login, wait_ready
from tests.pwa.test_inspection_flow import (
    CLINIC,
    choose_from_list,
    institution,
    new_assignment,
)

# Without Chromium or Playwright: skipped like tests/pwa/ (and a usage error under CI=true).
pytestmark = pytest.mark.skipif(bool(_missing), reason=_MISSING_MESSAGE)

# Runs in every document before its own scripts (Playwright injects it outside the page's CSP).
RECORD = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(
  {directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile,
   line: e.lineNumber}));
"""
DESK_MODULES = ["todo", "overdue", "notices", "plan", "draws", "dashboard", "archive", "exports"]


async def violations(page: Any) -> list[dict[str, Any]]:
    return await page.evaluate("() => window.__csp || []")


async def test_the_inspectors_screens_run_under_the_policy(pwa_server, context, page) -> None:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if "Content Security Policy" in m.text else None)
    await context.add_init_script(RECORD)
    assignment_id = new_assignment(pwa_server, CLINIC, "clinic-routine")
    await page.goto("/")
    await wait_ready(page)
    assert "script-src 'self'" in (await page.evaluate(
        "async () => (await fetch('/')).headers.get('content-security-policy')"
    ))
    await login(page, "inspector")
    await page.wait_for_selector(".task-card", timeout=20_000)
    assert await violations(page) == []
    await choose_from_list(page, assignment_id, CLINIC, institution(pwa_server, CLINIC)["code"])
    await page.locator(".item-card").first.wait_for()
    assert await violations(page) == [], await violations(page)
    assert messages == []
    # The listener hears, and the policy blocks, what an injected inline script would try.
    await page.evaluate(
        """() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                   document.head.append(s); }"""
    )
    await page.wait_for_function("() => window.__csp.length > 0")
    assert await page.evaluate("() => window.__ran") is None
    assert (await violations(page))[0]["directive"].startswith("script-src")


async def test_the_desk_runs_under_the_policy(pwa_server, new_context) -> None:
    for username, modules in (("supervisor", DESK_MODULES), ("admin", [*DESK_MODULES, "admin"])):
        context = await new_context(viewport={"width": 1280, "height": 800})
        await context.add_init_script(RECORD)
        page = await context.new_page()
        messages: list[str] = []
        page.on("console", lambda m, out=messages: out.append(m.text) if "Content Security Policy" in m.text else None)
        await page.goto("/")
        await wait_ready(page)
        await login(page, username)
        await page.wait_for_selector("nav.d-nav", timeout=20_000)
        for module in modules:
            await page.evaluate(f"() => {{ location.hash = '#/desk/{module}'; }}")
            await page.wait_for_selector("nav.d-nav [aria-current], nav.d-nav .active", timeout=10_000)
            await page.wait_for_timeout(400)  # charts, tables and counts drawn
            assert await violations(page) == [], (username, module, await violations(page))
        assert messages == [], messages
        await context.close()


async def test_a_notice_document_and_the_api_page_run_under_their_policies(pwa_server, new_context) -> None:
    context = await new_context()
    await context.add_init_script(RECORD)
    page = await context.new_page()
    # The API page: its scripts are files, its start-up too.
    await page.goto("/schema")
    await page.wait_for_selector(".opblock", timeout=20_000)
    assert await violations(page) == [], await violations(page)
    # A public verification page and a public draw page (whatever they answer).
    for path in ("/verify/not-a-token", "/public/draws/not-a-draw"):
        await page.goto(path)
        assert await violations(page) == [], (path, await violations(page))
    # A printable notice, served with the headers the API gives it: its styles show and its
    # 打印 button (the one inline handler, allowed by its hash) runs.
    notices = pwa_server.api("GET", "/api/rectification/notices", username="supervisor").json()
    items = notices["items"] if isinstance(notices, dict) else notices
    assert items, notices
    document = pwa_server.api(
        "GET", f"/api/rectification/notices/{items[0]['id']}/document", username="supervisor"
    )
    assert document.status_code == 200
    headers = {k: v for k, v in document.headers.items()
               if k.lower() in {"content-type", "content-security-policy"}}
    assert "content-security-policy" in headers
    await context.add_init_script("window.print = () => { window.__printed = true; };")
    await page.route("**/document-under-test", lambda route: route.fulfill(
        status=200, body=document.text, headers=headers))
    await page.goto(f"{pwa_server.base_url}/document-under-test")
    button = page.get_by_role("button", name="打印")
    await button.click()
    assert await page.evaluate("() => window.__printed === true")
    assert await violations(page) == [], await violations(page)
    await context.close()
