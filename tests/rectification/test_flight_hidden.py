"""A 飞行检查 is unannounced: the institution's manager learns nothing of it (inspection,
photos, notice, tasks, documents, updates) until its window starts, in China's time."""

from __future__ import annotations

from datetime import timedelta

import httpx

from backend.china_time import today_in_china
from backend.inspections.tables import Assignment
from tests.inspections.helpers import complete_inspection, push
from tests.rectification.helpers import make_tenant, notice_of


async def _manager_reads(client: httpx.AsyncClient, manager: dict[str, str], ids: dict[str, str]) -> dict[str, object]:
    """What the manager can reach of the flight's records."""
    notices = (await client.get("/api/rectification/notices", headers=manager)).json()
    inspections = (await client.get("/api/inspections", headers=manager)).json()
    updates = (await client.get("/api/rectification/updates", params={"since": "2000-01-01T00:00:00Z"}, headers=manager)).json()
    return {
        "notice_listed": ids["notice"] in {n["id"] for n in notices["items"]},
        "notice_total": notices["total"],
        "inspection_listed": ids["inspection"] in {i["id"] for i in inspections},
        "updates": [e for e in updates["events"] if e["notice_id"] == ids["notice"]],
        "inspection": (await client.get(f"/api/inspections/{ids['inspection']}", headers=manager)).status_code,
        "photo": (await client.get(f"/api/photos/{ids['photo']}", headers=manager)).status_code,
        "notice": (await client.get(f"/api/rectification/notices/{ids['notice']}", headers=manager)).status_code,
        "document": (await client.get(f"/api/rectification/notices/{ids['notice']}/document", headers=manager)).status_code,
        "task": (await client.get(f"/api/rectification/tasks/{ids['task']}", headers=manager)).status_code,
        "answer": (await client.post(f"/api/rectification/tasks/{ids['task']}/answer", json={"report": "x"}, headers=manager)).status_code,
    }


async def test_manager_learns_nothing_of_a_flight_before_its_window(client: httpx.AsyncClient, login) -> None:
    tenant = await make_tenant(client, login)
    supervisor = await login("supervisor.huancui")
    start = today_in_china() + timedelta(days=3)
    planned = await client.post(
        "/api/assignments",
        json={
            "institution_id": tenant.institution_id,
            "checklist_id": "pharmacy-routine",
            "window_start": str(start),
            "window_end": str(start + timedelta(days=2)),
            "inspector_ids": tenant.inspectors,
            "kind": "flight",
        },
        headers=supervisor,
    )
    assert planned.status_code == 201, planned.text
    assignment = planned.json()
    record = await complete_inspection(client, tenant.inspector, assignment, fail={"signage.complaint": {}})
    pushed = await push(client, tenant.inspector, [record])
    assert pushed.status_code == 200, pushed.text
    notice = await notice_of(client, supervisor, record["id"])
    ids = {
        "inspection": record["id"],
        "photo": record["signatures"][0]["photo_id"],
        "notice": notice["id"],
        "task": notice["tasks"][0]["id"],
    }
    assert notice["inspection_kind"] == "飞行检查" and notice["status"] == "issued"

    hidden = await _manager_reads(client, tenant.manager, ids)
    assert hidden == {
        "notice_listed": False,
        "notice_total": 0,
        "inspection_listed": False,
        "updates": [],
        "inspection": 404,
        "photo": 404,
        "notice": 404,
        "document": 404,
        "task": 404,
        "answer": 404,
    }
    # Planned assignments are never the manager's to read, flight or not.
    assert (await client.get(f"/api/assignments/{assignment['id']}", headers=tenant.manager)).status_code == 403
    # The bureau sees everything as usual.
    assert (await client.get(f"/api/inspections/{ids['inspection']}", headers=supervisor)).status_code == 200

    # The window starts (today in China): now the manager sees it all.
    await Assignment.update({Assignment.window_start: today_in_china()}).where(Assignment.id == assignment["id"])
    shown = await _manager_reads(client, tenant.manager, ids)
    assert shown["notice_listed"] and shown["inspection_listed"] and shown["notice_total"] == 1
    assert [e["kind"] for e in shown["updates"]] == ["issued"]
    assert shown["inspection"] == shown["photo"] == shown["notice"] == shown["document"] == shown["task"] == 200
    assert shown["answer"] == 200
