"""Overdue tasks, listed by days overdue, announced once; escalation steps along the ladder and
the agreement status that follows them into the inspectors' bundle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from backend.audit.tables import AuditEvent
from backend.china_time import today_in_china
from backend.institutions.tables import Institution
from backend.rectification.tables import RectificationTask, TaskEvent
from tests.inspections.helpers import new_assignment
from tests.rectification.helpers import make_tenant, notice_of, submit


async def _overdue(task_id: str, days: int) -> None:
    await RectificationTask.update(
        {RectificationTask.deadline: today_in_china() - timedelta(days=days)}
    ).where(RectificationTask.id == task_id)


async def test_overdue_listing_and_escalation_ladder(
    client: httpx.AsyncClient, login, notifier
) -> None:
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant)
    supervisor = await login("supervisor")
    notice = await notice_of(client, supervisor, result["inspection_id"])
    t1, t2, t3 = (t["id"] for t in notice["tasks"])
    await _overdue(t1, 3)
    await _overdue(t2, 12)
    # t3: answered in time, waiting for review: not overdue even once its deadline has passed.
    await client.post(
        f"/api/rectification/tasks/{t3}/answer", json={"report": "已整改"}, headers=tenant.manager
    )
    await _overdue(t3, 1)
    await RectificationTask.update(
        {RectificationTask.answered_at: datetime.now(UTC) - timedelta(days=3)}
    ).where(RectificationTask.id == t3)

    listed = await client.get("/api/rectification/overdue", headers=supervisor)
    assert listed.status_code == 200
    mine = [o for o in listed.json() if o["notice_id"] == notice["id"]]
    assert [(o["task_id"], o["days_overdue"]) for o in mine] == [(t2, 12), (t1, 3)]
    days = [o["days_overdue"] for o in listed.json()]
    assert days == sorted(days, reverse=True)
    # Announced once: a second listing adds nothing.
    await client.get("/api/rectification/overdue", headers=supervisor)
    await client.get(f"/api/rectification/notices/{notice['id']}", headers=tenant.manager)
    overdue_events = await TaskEvent.count().where(
        (TaskEvent.notice == notice["id"]) & (TaskEvent.kind == "overdue")
    )
    assert overdue_events == 2
    assert sorted(str(e.task_id) for e in notifier.events if e.kind == "task.overdue") == sorted(
        [t1, t2]
    )
    detail = (
        await client.get(f"/api/rectification/notices/{notice['id']}", headers=tenant.manager)
    ).json()
    assert detail["overdue_count"] == 2 and detail["days_left"] == -12

    # The ladder.
    ladder = (
        await client.get("/api/rectification/escalation-ladder", headers=tenant.manager)
    ).json()
    assert [s["label"] for s in ladder] == [
        "约谈",
        "暂停结算",
        "追回费用",
        "支付违约金",
        "中止协议",
        "解除协议",
    ]
    url = f"/api/rectification/notices/{notice['id']}/escalations"
    assert (
        await client.post(url, json={"step": "interview"}, headers=tenant.inspector)
    ).status_code == 403
    assert (
        await client.post(url, json={"step": "reprimand"}, headers=supervisor)
    ).status_code == 422
    assert (
        await client.post(url, json={"step": "interview", "amount": "10.00"}, headers=supervisor)
    ).status_code == 422
    interview = await client.post(
        url, json={"step": "interview", "note": "约谈法定代表人"}, headers=supervisor
    )
    assert interview.status_code == 201, interview.text
    step = interview.json()
    assert step["label"] == "约谈" and "第三十五条第（一）项" in step["rule_reference"]
    assert step["overdue_tasks"] == 2 and step["max_days_overdue"] == 12
    recover = await client.post(
        url, json={"step": "recover_funds", "amount": "1280.50"}, headers=supervisor
    )
    assert recover.status_code == 201 and recover.json()["amount"] == "1280.50"

    # 中止协议: the institution is suspended, and the inspectors' bundle brings it.
    inspector = tenant.inspector
    await new_assignment(client, supervisor, tenant.code, tenant.inspectors)
    before = (await client.get("/api/sync/bundle", headers=inspector)).json()
    suspend = await client.post(
        url, json={"step": "suspend_agreement", "note": "逾期未整改"}, headers=supervisor
    )
    assert suspend.status_code == 201, suspend.text
    assert (suspend.json()["agreement_before"], suspend.json()["agreement_after"]) == (
        "normal",
        "suspended",
    )
    status = (
        await Institution.select(Institution.agreement_status)
        .where(Institution.id == tenant.institution_id)
        .first()
    )
    assert status["agreement_status"] == "suspended"
    delta = (
        await client.get("/api/sync/bundle", params={"since": before["cursor"]}, headers=inspector)
    ).json()
    changed = {i["code"]: i for i in delta["institutions"]}
    assert changed[tenant.code]["agreement_status"] == "suspended"
    assert changed[tenant.code]["agreement_status_label"] == "中止"
    manager_view = (
        await client.get(f"/api/rectification/notices/{notice['id']}", headers=tenant.manager)
    ).json()
    assert [e["label"] for e in manager_view["escalations"]] == ["约谈", "追回费用", "中止协议"]
    assert manager_view["institution"]["agreement_status"] == "suspended"

    terminate = await client.post(url, json={"step": "terminate_agreement"}, headers=supervisor)
    assert terminate.status_code == 201
    assert terminate.json()["agreement_after"] == "terminated"
    after = await client.post(url, json={"step": "interview"}, headers=supervisor)
    assert after.status_code == 409 and "解除" in after.json()["detail"]

    audit = await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.entity_id == tenant.institution_id
    )
    assert [a["action"] for a in audit].count("institution.set_agreement_status") == 2
    escalations = await AuditEvent.count().where(
        (AuditEvent.entity_id == notice["id"])
        & (AuditEvent.action == "rectification_notice.escalate")
    )
    assert escalations == 4


async def test_no_escalation_on_a_closed_notice(client: httpx.AsyncClient, login) -> None:
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant, fails={"signage.complaint": {}})
    supervisor = await login("supervisor")
    notice = await notice_of(client, supervisor, result["inspection_id"])
    task = notice["tasks"][0]["id"]
    await client.post(
        f"/api/rectification/tasks/{task}/answer", json={"report": "已整改"}, headers=tenant.manager
    )
    await client.post(f"/api/rectification/tasks/{task}/accept", json={}, headers=supervisor)
    refused = await client.post(
        f"/api/rectification/notices/{notice['id']}/escalations",
        json={"step": "interview"},
        headers=supervisor,
    )
    assert refused.status_code == 409
    # Another region's supervisor: 404.
    other = await client.post(
        f"/api/rectification/notices/{notice['id']}/escalations",
        json={"step": "interview"},
        headers=await _wendeng_supervisor(client, login),
    )
    assert other.status_code == 404


async def _wendeng_supervisor(client: httpx.AsyncClient, login) -> dict[str, str]:
    import uuid

    username = f"sup{uuid.uuid4().hex[:8]}"
    created = await client.post(
        "/api/admin/users",
        json={
            "username": username,
            "password": "a-good-password",
            "role": "supervisor",
            "region_code": "371003",
        },
        headers=await login("admin"),
    )
    assert created.status_code == 201, created.text
    return await login(username, "a-good-password")
