"""The desk's 待办: what waits for review, in whose region, and the decisions it leads to."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from backend.china_time import today_in_china
from backend.rectification.tables import RectificationTask
from tests.rectification.helpers import make_tenant, notice_of, submit


async def _queue(client: httpx.AsyncClient, headers: dict[str, str], kind: str) -> list[dict]:
    response = await client.get("/api/rectification/queue", params={"kind": kind}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def _counts(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, int]:
    response = await client.get("/api/desk/counts", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_queue_walks_a_notice_to_its_close(client: httpx.AsyncClient, login) -> None:
    supervisor = await login("supervisor.huancui")
    before = await _counts(client, supervisor)
    assert set(before) == {"answers", "objections", "draft_notices", "overdue"}
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant)
    notice = await notice_of(client, tenant.manager, result["inspection_id"])
    t1, t2, t3 = (t["id"] for t in notice["tasks"])
    for task in (t2, t1):  # t2 answered first: it has waited longest
        answered = await client.post(
            f"/api/rectification/tasks/{task}/answer", json={"report": "已整改"}, headers=tenant.manager
        )
        assert answered.status_code == 200, answered.text
    objected = await client.post(
        f"/api/rectification/tasks/{t3}/objection", json={"reason": "已有公示"}, headers=tenant.manager
    )
    assert objected.status_code == 201, objected.text

    answers = [i for i in await _queue(client, supervisor, "answers") if i["notice_id"] == notice["id"]]
    assert [i["task_id"] for i in answers] == [t2, t1]
    first = answers[0]
    assert first["notice_number"] == notice["number"] and first["institution"]["name"] == tenant.name
    assert first["item_text"] and first["text"] == "已整改" and first["days_waiting"] == 0
    objections = [i for i in await _queue(client, supervisor, "objections") if i["notice_id"] == notice["id"]]
    assert [(i["task_id"], i["text"]) for i in objections] == [(t3, "已有公示")]
    after = await _counts(client, supervisor)
    assert after["answers"] - before["answers"] == 2
    assert after["objections"] - before["objections"] == 1

    # 退回 needs a comment: a clear refusal, and nothing changes.
    for body in ({}, {"comment": "   "}):
        refused = await client.post(f"/api/rectification/tasks/{t1}/reject", json=body, headers=supervisor)
        assert refused.status_code == 422 and refused.json()["detail"] == "请填写退回意见"
    # The objection's decision needs a reason too.
    no_reason = await client.post(
        f"/api/rectification/tasks/{t3}/objection/decision", json={"decision": "upheld"}, headers=supervisor
    )
    assert no_reason.status_code == 400 and no_reason.json()["detail"] == "请求数据格式不正确"
    blank = await client.post(
        f"/api/rectification/tasks/{t3}/objection/decision",
        json={"decision": "upheld", "comment": "  "},
        headers=supervisor,
    )
    assert blank.status_code == 422 and blank.json()["detail"] == "请填写处理意见"
    assert (await _counts(client, supervisor)) == after

    accepted = await client.post(f"/api/rectification/tasks/{t1}/accept", json={}, headers=supervisor)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    rejected = await client.post(
        f"/api/rectification/tasks/{t2}/reject", json={"comment": "照片看不清"}, headers=supervisor
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "open"
    decided = await client.post(
        f"/api/rectification/tasks/{t3}/objection/decision",
        json={"decision": "upheld", "comment": "公示已核实"},
        headers=supervisor,
    )
    assert decided.status_code == 200, decided.text
    left = [i for i in await _queue(client, supervisor, "answers") if i["notice_id"] == notice["id"]]
    assert left == []
    assert (await _counts(client, supervisor))["answers"] == before["answers"]

    again = await client.post(
        f"/api/rectification/tasks/{t2}/answer", json={"report": "重新拍照"}, headers=tenant.manager
    )
    assert again.status_code == 200
    await client.post(f"/api/rectification/tasks/{t2}/accept", json={}, headers=supervisor)
    closed = await notice_of(client, supervisor, result["inspection_id"])
    assert closed["status"] == "closed" and closed["status_label"] == "已办结"


async def test_queue_is_the_region_s_and_refused_to_others(client: httpx.AsyncClient, login) -> None:
    foreign = await make_tenant(client, login, county="371003")
    result = await submit(client, login, foreign, fails={"signage.complaint": {}})
    notice = await notice_of(client, foreign.manager, result["inspection_id"])
    task = notice["tasks"][0]["id"]
    await client.post(f"/api/rectification/tasks/{task}/answer", json={"report": "好"}, headers=foreign.manager)
    huancui = await _queue(client, await login("supervisor.huancui"), "answers")
    assert task not in {i["task_id"] for i in huancui}
    city = await _queue(client, await login("supervisor"), "answers")
    assert task in {i["task_id"] for i in city}
    assert task in {i["task_id"] for i in await _queue(client, await login("admin"), "answers")}
    for username in ("inspector", "manager.pharmacy"):
        for path in ("/api/rectification/queue", "/api/desk/counts"):
            response = await client.get(path, headers=await login(username))
            assert response.status_code == 403, (username, path)
    bad = await client.get("/api/rectification/queue", params={"kind": "all"}, headers=await login("admin"))
    assert bad.status_code == 422 and "kind" in bad.json()["detail"]


async def test_draft_notices_wait_to_be_confirmed(
    client: httpx.AsyncClient, login, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YIBAO_NOTICE_MODE", "draft")
    supervisor = await login("supervisor.huancui")
    before = (await _counts(client, supervisor))["draft_notices"]
    tenant = await make_tenant(client, login)
    await submit(client, login, tenant, fails={"signage.complaint": {}})
    drafts = [i for i in await _queue(client, supervisor, "drafts") if i["institution"]["code"] == tenant.code]
    assert len(drafts) == 1 and drafts[0]["task_count"] == 1 and drafts[0]["notice_number"] is None
    assert (await _counts(client, supervisor))["draft_notices"] == before + 1
    confirmed = await client.post(
        f"/api/rectification/notices/{drafts[0]['notice_id']}/confirm", headers=supervisor
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "issued"
    assert (await _counts(client, supervisor))["draft_notices"] == before


async def test_overdue_count_and_list_by_days(client: httpx.AsyncClient, login) -> None:
    supervisor = await login("supervisor.huancui")
    before = (await _counts(client, supervisor))["overdue"]
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant)
    notice = await notice_of(client, supervisor, result["inspection_id"])
    for task, days in zip(notice["tasks"][:2], (3, 40), strict=True):
        await RectificationTask.update(
            {RectificationTask.deadline: today_in_china() - timedelta(days=days)}
        ).where(RectificationTask.id == task["id"])
    assert (await _counts(client, supervisor))["overdue"] == before + 2
    listing = (await client.get("/api/rectification/overdue", headers=supervisor)).json()
    days = [o["days_overdue"] for o in listing]
    assert days == sorted(days, reverse=True)
    mine = [(o["seq"], o["days_overdue"]) for o in listing if o["notice_id"] == notice["id"]]
    assert mine == [(2, 40), (1, 3)]


async def test_escalation_records_date_and_document(client: httpx.AsyncClient, login) -> None:
    supervisor = await login("supervisor.huancui")
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant, fails={"signage.complaint": {}})
    notice = await notice_of(client, supervisor, result["inspection_id"])
    url = f"/api/rectification/notices/{notice['id']}/escalations"
    future = str(today_in_china() + timedelta(days=2))
    refused = await client.post(url, json={"step": "interview", "decided_on": future}, headers=supervisor)
    assert refused.status_code == 422 and refused.json()["detail"] == "决定日期不能晚于今天"
    day = str(today_in_china() - timedelta(days=1))
    body = {"step": "interview", "decided_on": day, "document_no": "环医保约〔2026〕3号", "note": "约谈负责人"}
    done = await client.post(url, json=body, headers=supervisor)
    assert done.status_code == 201, done.text
    step = done.json()
    assert (step["decided_on"], step["document_no"], step["note"]) == (day, body["document_no"], "约谈负责人")
    assert "零售药店" in step["rule_reference"]
    detail = await notice_of(client, supervisor, result["inspection_id"])
    assert [e["document_no"] for e in detail["escalations"]] == [body["document_no"]]
    assert "环医保约〔2026〕3号" in detail["history"][-1]["text"]
    suspend = await client.post(
        url, json={"step": "suspend_agreement", "document_no": "环医保〔2026〕9号"}, headers=supervisor
    )
    assert suspend.status_code == 201 and suspend.json()["agreement_after"] == "suspended"
    assert suspend.json()["decided_on"] == str(today_in_china())


async def test_reinspection_team_by_username(client: httpx.AsyncClient, login) -> None:
    supervisor = await login("supervisor.huancui")
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant, fails={"signage.complaint": {}})
    notice = await notice_of(client, supervisor, result["inspection_id"])
    url = f"/api/rectification/notices/{notice['id']}/reinspection"
    window = {"window_start": str(today_in_china()), "window_end": str(today_in_china() + timedelta(days=3))}
    for team, message in ((["inspector"], "执法检查人员不得少于两人"), (["inspector", "nobody"], "不是检查人员：nobody")):
        refused = await client.post(url, json={**window, "inspectors": team}, headers=supervisor)
        assert refused.status_code == 422 and refused.json()["detail"] == message
    planned = await client.post(url, json={**window, "inspectors": ["inspector", "inspector2"]}, headers=supervisor)
    assert planned.status_code == 201, planned.text
    assert planned.json()["kind"] == "reinspection"
    assert sorted(p["username"] for p in planned.json()["inspectors"]) == ["inspector", "inspector2"]
