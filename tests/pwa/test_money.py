"""违规金额 on the inspector's tablet, in real Chromium against a real server (issue 10, money).

A failed item marked ``monetary: true`` asks for the fund money involved (yuan, two decimals).
A bad amount shows the hint and keeps the inspection from 提交 (listed, with a link); a good one
is stored as typed, normalised to two decimals by string operations; it goes away when the result
changes from 不符合 and comes back with it; 签字确认 shows each amount and the exact total; the
push carries it and the server stores the exact string.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.pwa.conftest import PwaServer, screenshot
from tests.pwa.test_inspection_flow import PHARMACY, camera_jpeg, new_assignment, open_and_login
from tests.pwa.test_platform import FILL_INSPECTION

COOPERATION = "management.cooperation"  # 否决项, monetary, no photo needed
CARD_RETENTION = "identity.card-retention"  # monetary, a photo on 不符合
FINDING = """async ([id, item]) => {
  const { db } = await import('/js/db.js');
  return (await db.findings.where('[inspection_id+item]').equals([id, item]).first()) || null;
}"""


async def stored_amount(page: Any, inspection_id: str, item: str) -> Any:
    """The amount the tablet stored for an item (after the autosave settled)."""
    await page.wait_for_timeout(300)
    finding = await page.evaluate(FINDING, [inspection_id, item])
    return finding.get("amount") if finding else None


async def test_amount_is_asked_checked_summed_and_pushed_exactly(
    page: Any, pwa_server: PwaServer, tmp_path: Path
) -> None:
    assignment_id = new_assignment(pwa_server, PHARMACY, "pharmacy-routine")
    await open_and_login(page)
    # Everything answered and signed (as the screens would store it); the money through the screens.
    made = await page.evaluate(FILL_INSPECTION, {"assignmentId": assignment_id})
    inspection_id = made["id"]

    await page.goto(f"/#/inspect/{inspection_id}/management/{COOPERATION}")
    card = page.locator(f'article.item-card[data-item="{COOPERATION}"]')
    await card.wait_for()
    assert await card.locator(".amount-input").count() == 0  # 符合: no amount
    await card.locator(".result-fail").click()
    amount = card.locator(".amount-input")
    assert await amount.get_attribute("inputmode") == "decimal"
    assert "违规金额（元）" in await card.locator(".amount-field label").text_content()

    # A bad amount: the hint, and 提交 lists it with a link to the card.
    await amount.fill("12.345")
    await card.locator(".amount-field.invalid").wait_for()
    assert "最多两位小数" in await card.locator(".amount-hint").text_content()
    assert await amount.get_attribute("aria-invalid") == "true"
    await page.goto(f"/#/submit/{inspection_id}")
    link = page.locator(f'#missing-list .missing-group[data-kind="amount"] a[data-item="{COOPERATION}"]')
    await link.wait_for()
    assert "最多两位小数" in await link.text_content()
    assert await page.locator("#ready-panel").count() == 0
    await link.click()
    await card.wait_for()
    assert await card.locator(".amount-input").input_value() == "12.345"  # kept as typed

    # A good one: normalised to two decimals when the field is left, stored the same.
    await amount.fill("1234.5")
    await amount.press("Tab")
    assert await amount.input_value() == "1234.50"
    assert await card.locator(".amount-field.invalid").count() == 0
    assert await stored_amount(page, inspection_id, COOPERATION) == "1234.50"

    # Away from 不符合 the amount goes (the server takes it on a failed finding only); back, it returns.
    await card.locator(".result-pass").click()
    assert await card.locator(".amount-input").count() == 0
    assert await stored_amount(page, inspection_id, COOPERATION) is None
    await card.locator(".result-fail").click()
    assert await card.locator(".amount-input").input_value() == "1234.50"
    assert await stored_amount(page, inspection_id, COOPERATION) == "1234.50"
    await card.locator(".note-input").fill("拒不提供进销存台账，涉及基金 1234.50 元")
    for size in ({"width": 1280, "height": 800}, {"width": 800, "height": 1280}, {"width": 390, "height": 844}):
        await page.set_viewport_size(size)
        await card.scroll_into_view_if_needed()
        await screenshot(page, "money-card")
    await page.set_viewport_size({"width": 1280, "height": 800})

    # A second one: 0.1 (typed on a Chinese keyboard as ０。1), with its photo.
    await page.goto(f"/#/inspect/{inspection_id}/identity/{CARD_RETENTION}")
    other = page.locator(f'article.item-card[data-item="{CARD_RETENTION}"]')
    await other.wait_for()
    await other.locator(".result-fail").click()
    await other.locator(".amount-input").fill("０。1")
    await other.locator(".amount-input").press("Tab")
    assert await other.locator(".amount-input").input_value() == "0.10"
    await other.locator("input.photo-input").set_input_files(str(camera_jpeg(tmp_path, 1)))
    await other.locator(".thumb-img").first.wait_for()
    assert await stored_amount(page, inspection_id, CARD_RETENTION) == "0.10"

    # 签字确认: each amount and the total, in fen (1234.50 + 0.10, never 1234.6000000000001).
    await page.goto(f"/#/sign/{inspection_id}")
    await page.locator("#fail-list").wait_for()
    assert await page.locator(".fail-amount").evaluate_all("els => els.map((e) => e.dataset.amount)") == [
        "1234.50", "0.10"]
    assert "1,234.50 元" in await page.locator(f'#fail-list a[href$="{COOPERATION}"]').text_content()
    total = page.locator("#amount-total")
    assert await total.get_attribute("data-total") == "1234.60"
    assert "1,234.60 元" in await total.text_content()
    await page.locator("#amount-total").scroll_into_view_if_needed()
    await screenshot(page, "money-sign")

    # 提交: nothing missing now; the push carries the amounts and the server keeps them exactly.
    await page.goto(f"/#/submit/{inspection_id}")
    await page.wait_for_selector("#ready-panel")
    await page.click("#submit-inspection")
    await page.click("#confirm-submit-confirm")
    await page.wait_for_selector(".screen-home")
    rows: list[dict[str, Any]] = []
    for _ in range(120):
        rows = pwa_server.query("SELECT item_id, result, amount FROM finding WHERE inspection = ?", inspection_id)
        if rows:
            break
        await asyncio.sleep(0.25)
    by_item = {r["item_id"]: r for r in rows}
    assert (by_item[COOPERATION]["result"], by_item[COOPERATION]["amount"]) == ("fail", "1234.50")
    assert (by_item[CARD_RETENTION]["result"], by_item[CARD_RETENTION]["amount"]) == ("fail", "0.10")
    assert [r["item_id"] for r in rows if r["amount"] is not None] == sorted(
        [COOPERATION, CARD_RETENTION], key=[r["item_id"] for r in rows].index)
    inspection = pwa_server.query("SELECT status FROM inspection WHERE id = ?", inspection_id)
    assert inspection[0]["status"] == "submitted"
