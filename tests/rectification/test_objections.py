"""Objections (申诉): once per task, within the window; upheld withdraws the task, dismissed
leaves it; the supervisor decides."""

from __future__ import annotations

from datetime import timedelta

import httpx

from backend.china_time import today_in_china
from backend.rectification.tables import RectificationNotice
from tests.rectification.helpers import make_tenant, notice_of, submit


async def test_objection_upheld_and_dismissed(client: httpx.AsyncClient, login, notifier) -> None:
    tenant = await make_tenant(client, login)
    result = await submit(
        client,
        login,
        tenant,
        fails={"signage.complaint": {}, "price-posting.price-tags": {"occurrences": 1}},
    )
    supervisor = await login("supervisor")
    notice = await notice_of(client, supervisor, result["inspection_id"])
    first, second = (t["id"] for t in notice["tasks"])

    task = (await client.get(f"/api/rectification/tasks/{first}", headers=tenant.manager)).json()
    assert "object" in task["actions"] and "answer" in task["actions"]
    empty = await client.post(
        f"/api/rectification/tasks/{first}/objection", json={"reason": "  "}, headers=tenant.manager
    )
    assert empty.status_code == 422
    filed = await client.post(
        f"/api/rectification/tasks/{first}/objection",
        json={"reason": "举报电话已在收银台公示，检查时被遮挡"},
        headers=tenant.manager,
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["status"] == "pending"
    twice = await client.post(
        f"/api/rectification/tasks/{first}/objection",
        json={"reason": "再次申诉"},
        headers=tenant.manager,
    )
    assert twice.status_code == 409

    # An inspector can't decide (403); the supervisor upholds it: the task is withdrawn.
    decision = {"decision": "upheld", "comment": "经核实，举报电话已公示"}
    assert (
        await client.post(
            f"/api/rectification/tasks/{first}/objection/decision",
            json=decision,
            headers=tenant.inspector,
        )
    ).status_code == 403
    decided = await client.post(
        f"/api/rectification/tasks/{first}/objection/decision", json=decision, headers=supervisor
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "upheld"
    again = await client.post(
        f"/api/rectification/tasks/{first}/objection/decision", json=decision, headers=supervisor
    )
    assert again.status_code == 409
    withdrawn = (
        await client.get(f"/api/rectification/tasks/{first}", headers=tenant.manager)
    ).json()
    assert (
        withdrawn["status"] == "cancelled" and withdrawn["objection"]["status_label"] == "申诉成立"
    )
    assert (
        await client.post(
            f"/api/rectification/tasks/{first}/answer", json={"report": "x"}, headers=tenant.manager
        )
    ).status_code == 409

    # The other: dismissed, it goes on; accepted, the notice closes (a withdrawn task counts
    # as finished).
    await client.post(
        f"/api/rectification/tasks/{second}/objection",
        json={"reason": "不认可"},
        headers=tenant.manager,
    )
    dismissed = await client.post(
        f"/api/rectification/tasks/{second}/objection/decision",
        json={"decision": "dismissed", "comment": "现场照片显示未标价"},
        headers=supervisor,
    )
    assert dismissed.json()["status"] == "dismissed"
    task = (await client.get(f"/api/rectification/tasks/{second}", headers=tenant.manager)).json()
    assert task["status"] == "open" and "object" not in task["actions"]
    await client.post(
        f"/api/rectification/tasks/{second}/answer",
        json={"report": "已补齐标价"},
        headers=tenant.manager,
    )
    await client.post(f"/api/rectification/tasks/{second}/accept", json={}, headers=supervisor)
    closed = (
        await client.get(f"/api/rectification/notices/{notice['id']}", headers=supervisor)
    ).json()
    assert closed["status"] == "closed"
    kinds = [e.kind for e in notifier.events]
    assert kinds.count("objection.decided") == 2 and kinds.count("task.objected") == 2


async def test_no_objection_after_the_window(client: httpx.AsyncClient, login) -> None:
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant, fails={"signage.complaint": {}})
    notice = await notice_of(client, await login("supervisor"), result["inspection_id"])
    # The window is 10 working days after issue: pretend that was long ago.
    await RectificationNotice.update(
        {RectificationNotice.objection_deadline: today_in_china() - timedelta(days=1)}
    ).where(RectificationNotice.id == notice["id"])
    task = notice["tasks"][0]["id"]
    late = await client.post(
        f"/api/rectification/tasks/{task}/objection",
        json={"reason": "迟到的申诉"},
        headers=tenant.manager,
    )
    assert late.status_code == 409 and "申诉期已过" in late.json()["detail"]
    detail = (await client.get(f"/api/rectification/tasks/{task}", headers=tenant.manager)).json()
    assert "object" not in detail["actions"] and detail["objection"] is None
