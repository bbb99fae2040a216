"""Re-inspection (复查): planned from a notice; its findings accept or reopen the notice's tasks,
and new problems get a notice of their own."""

from __future__ import annotations

import httpx

from backend.rectification.tables import RectificationNotice, Reinspection
from tests.inspections.helpers import complete_inspection, push
from tests.rectification.helpers import make_tenant, notice_of, submit


async def test_reinspection_accepts_and_reopens(client: httpx.AsyncClient, login, notifier) -> None:
    tenant = await make_tenant(client, login)
    fails = {
        "signage.complaint": {},
        "price-posting.price-tags": {"occurrences": 2},
        "records.rx-retention": {"sampled": 20, "failed": 1},
    }
    result = await submit(client, login, tenant, fails=fails)
    supervisor = await login("supervisor")
    notice = await notice_of(client, supervisor, result["inspection_id"])
    tasks = {t["item_id"]: t["id"] for t in notice["tasks"]}
    # The records task was answered and accepted; it will be found failing again on site.
    await client.post(
        f"/api/rectification/tasks/{tasks['records.rx-retention']}/answer",
        json={"report": "已整改"},
        headers=tenant.manager,
    )
    await client.post(
        f"/api/rectification/tasks/{tasks['records.rx-retention']}/accept",
        json={},
        headers=supervisor,
    )
    # The price task is answered and waits for review.
    await client.post(
        f"/api/rectification/tasks/{tasks['price-posting.price-tags']}/answer",
        json={"report": "已标价"},
        headers=tenant.manager,
    )

    body = {
        "window_start": "2026-12-01",
        "window_end": "2026-12-10",
        "inspector_ids": tenant.inspectors,
        "note": "核实整改情况",
    }
    url = f"/api/rectification/notices/{notice['id']}/reinspection"
    assert (await client.post(url, json=body, headers=tenant.inspector)).status_code == 403
    bad = await client.post(url, json={**body, "window_end": "2026-11-01"}, headers=supervisor)
    assert bad.status_code == 422
    planned = await client.post(url, json=body, headers=supervisor)
    assert planned.status_code == 201, planned.text
    assignment = planned.json()
    assert assignment["kind"] == "reinspection" and assignment["kind_label"] == "复查"
    assert assignment["institution"]["id"] == tenant.institution_id
    assert notice["number"] in assignment["note"]
    again = await client.post(url, json=body, headers=supervisor)
    assert again.status_code == 409  # one open re-inspection at a time
    assert await Reinspection.count().where(Reinspection.notice == notice["id"]) == 1

    # On site: the complaint sign is now there (pass), prices still missing (fail), the records
    # problem is back (fail), and a new problem (designated sign).
    record = await complete_inspection(
        client,
        tenant.inspector,
        assignment,
        fail={
            "price-posting.price-tags": {"occurrences": 1},
            "records.rx-retention": {"sampled": 20, "failed": 3},
            "signage.designated-sign": {},
        },
    )
    response = await push(client, tenant.inspector, [record])
    assert response.status_code == 200, response.text

    after = (
        await client.get(f"/api/rectification/notices/{notice['id']}", headers=tenant.manager)
    ).json()
    status = {t["item_id"]: t["status"] for t in after["tasks"]}
    assert status == {
        "signage.complaint": "accepted",
        "price-posting.price-tags": "open",
        "records.rx-retention": "open",
    }
    assert after["status"] == "issued"
    assert after["reinspections"][0]["status"] == "done"
    complaint = (
        await client.get(
            f"/api/rectification/tasks/{tasks['signage.complaint']}", headers=tenant.manager
        )
    ).json()
    assert complaint["history"][-1]["kind"] == "reinspection_pass"

    # Only the new problem is on a new notice.
    new = (
        await RectificationNotice.select(RectificationNotice.id)
        .where(RectificationNotice.inspection == record["id"])
        .first()
    )
    assert new is not None
    new_notice = (
        await client.get(f"/api/rectification/notices/{new['id']}", headers=tenant.manager)
    ).json()
    assert [t["item_id"] for t in new_notice["tasks"]] == ["signage.designated-sign"]
    assert new_notice["inspection_kind"] == "复查"
    kinds = [e.kind for e in notifier.events]
    assert kinds.count("task.reopened") == 2 and "task.accepted" in kinds


async def test_reinspection_closes_a_notice(client: httpx.AsyncClient, login) -> None:
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant, fails={"signage.complaint": {}})
    supervisor = await login("supervisor")
    notice = await notice_of(client, supervisor, result["inspection_id"])
    planned = await client.post(
        f"/api/rectification/notices/{notice['id']}/reinspection",
        json={
            "window_start": "2026-12-01",
            "window_end": "2026-12-10",
            "inspector_ids": tenant.inspectors,
        },
        headers=supervisor,
    )
    assert planned.status_code == 201, planned.text
    record = await complete_inspection(client, tenant.inspector, planned.json(), fail={})
    assert (await push(client, tenant.inspector, [record])).status_code == 200
    closed = (
        await client.get(f"/api/rectification/notices/{notice['id']}", headers=tenant.manager)
    ).json()
    assert closed["status"] == "closed"
    assert (
        closed["tasks"][0]["status"] == "accepted"
        and "复查合格" in closed["tasks"][0]["review_comment"]
    )
    assert not await RectificationNotice.exists().where(
        RectificationNotice.inspection == record["id"]
    )
