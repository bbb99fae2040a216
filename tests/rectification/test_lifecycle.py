"""The whole life of a notice through the API: issued on submission, answered with photos,
sent back, answered again, accepted, closed; its history and audit trail."""

from __future__ import annotations

import re
from typing import Any

import httpx

from backend.audit.tables import AuditEvent
from backend.rectification.tables import NoticeCounter, RectificationNotice
from tests.inspections.helpers import complete_inspection, new_assignment, push
from tests.rectification.helpers import (
    FAILS,
    Tenant,
    make_tenant,
    notice_of,
    submit,
    upload_photo,
)

NUMBER_RE = re.compile(r"^威医保整改〔(\d{4})〕(\d+)号$")


async def test_full_lifecycle(client: httpx.AsyncClient, login, notifier) -> None:
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant)
    assert result["inspection_status"] == "submitted"
    supervisor = await login("supervisor")

    # Issued at once (YIBAO_NOTICE_MODE=auto), numbered for the city office, one task per fail.
    notice = await notice_of(client, supervisor, result["inspection_id"])
    assert notice["status"] == "issued"
    match = NUMBER_RE.match(notice["number"])
    assert match, notice["number"]
    assert notice["institution"]["name"] == tenant.name
    assert notice["bureau"] == "威海市医疗保障局"
    assert notice["task_count"] == len(FAILS) == len(notice["tasks"])
    assert {t["item_id"] for t in notice["tasks"]} == set(FAILS)
    assert [t["seq"] for t in notice["tasks"]] == [1, 2, 3]
    assert notice["objection_open"] is True
    assert notice["verify_url"].startswith("http://testserver/verify/")
    price = next(t for t in notice["tasks"] if t["item_id"] == "price-posting.price-tags")
    assert price["found"]["occurrences"] == 3 and "未标价" in price["found"]["note"]
    assert price["basis"] and price["required_action"] and price["item_text"]
    assert price["days_left"] > 0 and price["overdue"] is False and price["status"] == "open"
    assert [e.kind for e in notifier.events] == ["notice.issued"]

    # The manager sees it in their list with its deadline and days left.
    listed = (await client.get("/api/rectification/notices", headers=tenant.manager)).json()
    assert [n["id"] for n in listed["items"]] == [notice["id"]]
    assert listed["items"][0]["next_deadline"] and listed["items"][0]["days_left"] is not None

    # Answer with a photo.
    task = price["id"]
    photo = await upload_photo(client, tenant.manager, task)
    assert photo.status_code == 201, photo.text
    answered = await client.post(
        f"/api/rectification/tasks/{task}/answer",
        json={"report": "已对全部药品补充标价签", "photo_ids": [photo.json()["id"]]},
        headers=tenant.manager,
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"
    assert answered.json()["answer_photos"][0]["id"] == photo.json()["id"]
    image = await client.get(photo.json()["url"], headers=tenant.manager)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"

    # The inspector sends it back; the manager answers again; the supervisor accepts.
    inspector = tenant.inspector
    rejected = await client.post(
        f"/api/rectification/tasks/{task}/reject",
        json={"comment": "照片看不清标价"},
        headers=inspector,
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "open"
    again = await client.post(
        f"/api/rectification/tasks/{task}/answer",
        json={"report": "重新拍摄标价签照片"},
        headers=tenant.manager,
    )
    assert again.status_code == 200, again.text
    comment = await client.post(
        f"/api/rectification/tasks/{task}/comments",
        json={"text": "请尽快验收"},
        headers=tenant.manager,
    )
    assert comment.status_code == 201, comment.text
    accepted = await client.post(
        f"/api/rectification/tasks/{task}/accept", json={"comment": "整改到位"}, headers=supervisor
    )
    assert accepted.status_code == 200, accepted.text
    detail = accepted.json()
    assert detail["status"] == "accepted"
    assert [e["kind"] for e in detail["history"]] == [
        "answer",
        "reject",
        "answer",
        "comment",
        "accept",
    ]
    assert detail["history"][1]["text"] == "照片看不清标价"
    assert detail["actions"] == ["comment"]

    # The other tasks: answered and accepted; the notice closes with the last one.
    for other in notice["tasks"]:
        if other["id"] == task:
            continue
        r = await client.post(
            f"/api/rectification/tasks/{other['id']}/answer",
            json={"report": "已整改"},
            headers=tenant.manager,
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"/api/rectification/tasks/{other['id']}/accept", json={}, headers=inspector
        )
        assert r.status_code == 200, r.text
    closed = (
        await client.get(f"/api/rectification/notices/{notice['id']}", headers=tenant.manager)
    ).json()
    assert closed["status"] == "closed" and closed["open_count"] == 0
    assert closed["closed_at"] is not None
    assert [e["kind"] for e in closed["history"]][:2] == ["drafted", "issued"]
    assert closed["history"][-1]["kind"] == "closed"
    assert [e.kind for e in notifier.events].count("task.accepted") == 3

    # Every step is in the audit log.
    actions = {
        r["action"]
        for r in await AuditEvent.select(AuditEvent.action).where(
            AuditEvent.entity_id.is_in([notice["id"], *[t["id"] for t in notice["tasks"]]])
        )
    }
    assert {
        "rectification_notice.create",
        "rectification_notice.issue",
        "rectification_notice.close",
        "rectification_task.answer",
        "rectification_task.reject",
        "rectification_task.accept",
        "rectification_task.comment",
        "rectification_task.upload_photo",
    } <= actions


async def test_no_failed_items_no_notice(client: httpx.AsyncClient, login) -> None:
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant, fails={})
    assert result["inspection_status"] == "submitted"
    assert not await RectificationNotice.exists().where(
        RectificationNotice.inspection == result["inspection_id"]
    )


async def test_numbers_follow_each_other_per_office_and_year(
    client: httpx.AsyncClient, login
) -> None:
    tenant = await make_tenant(client, login)
    other = await make_tenant(client, login, county="371003")  # 文登区: the same city office
    first = await notice_of(
        client, await login("supervisor"), (await submit(client, login, tenant))["inspection_id"]
    )
    second = await notice_of(
        client, await login("supervisor"), (await submit(client, login, other))["inspection_id"]
    )
    (year1, n1), (year2, n2) = (NUMBER_RE.match(n["number"]).groups() for n in (first, second))
    assert year1 == year2 and int(n2) == int(n1) + 1
    office = (
        await RectificationNotice.select(RectificationNotice.office)
        .where(RectificationNotice.id == second["id"])
        .first()
    )["office"]
    counter = (
        await NoticeCounter.select(NoticeCounter.last)
        .where((NoticeCounter.year == int(year1)) & (NoticeCounter.office == office))
        .first()
    )
    assert counter["last"] >= int(n2)


async def _county_submission(
    client: httpx.AsyncClient, login: Any
) -> tuple[Tenant, dict[str, Any], httpx.Response]:
    """A 环翠 institution of its own, inspected on the 环翠 supervisor's plan and submitted with
    one failed item: its tenant, assignment and the push's response."""
    tenant = await make_tenant(client, login)
    assignment = await new_assignment(
        client, await login("supervisor.huancui"), tenant.code, tenant.inspectors
    )
    record = await complete_inspection(
        client, tenant.inspector, assignment, fail={"signage.complaint": {}}
    )
    return tenant, assignment, await push(client, tenant.inspector, [record])


async def test_county_offices_number_their_own(
    client: httpx.AsyncClient, login, monkeypatch
) -> None:
    # The bureau that organised the inspection issues the notice: a county supervisor's plan.
    monkeypatch.setenv("YIBAO_DEADLINE_DAYS", "calendar")
    tenant, _, response = await _county_submission(client, login)
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    notice = await notice_of(client, tenant.manager, result["inspection_id"])
    assert re.match(r"^环翠医保整改〔\d{4}〕\d+号$", notice["number"]), notice["number"]
    assert notice["bureau"] == "环翠区医疗保障局" and notice["deadline_basis"] == "calendar"


async def test_a_number_another_office_has_refuses_the_submission_not_the_server(
    client: httpx.AsyncClient, login
) -> None:
    """Two regions with one short name (older data: the admin API now refuses it) would give two
    notices one number. The second submission is refused with a 409 naming the short name, and
    nothing of it stays: no notice, the counter untouched, the inspection still a draft."""
    from backend.inspections.tables import Inspection
    from backend.institutions.tables import Region

    city_submission = await submit(client, login, await make_tenant(client, login))
    first = await RectificationNotice.select(
        RectificationNotice.number, RectificationNotice.seq, RectificationNotice.year
    ).where(RectificationNotice.inspection == city_submission["inspection_id"]).first()
    assert first["number"].startswith("威医保整改")
    county = await Region.select(Region.id, Region.office_short_name).where(
        Region.code == "371002"
    ).first()
    counter = NoticeCounter.office == county["id"]
    counter &= NoticeCounter.year == first["year"]
    kept = await NoticeCounter.select(NoticeCounter.last).where(counter).first()
    # 环翠 made 威 as older data could have it, its counter one short of the city's number.
    await Region.update({Region.office_short_name: "威"}).where(Region.id == county["id"])
    if kept is None:
        await NoticeCounter.insert(
            NoticeCounter(office=county["id"], year=first["year"], last=first["seq"] - 1)
        )
    else:
        await NoticeCounter.update({NoticeCounter.last: first["seq"] - 1}).where(counter)
    try:
        _, assignment, response = await _county_submission(client, login)
        assert response.status_code == 409, response.text  # a push of one: its record's status
        result = response.json()["results"][0]
        assert result["status"] == "rejected" and result["http_status"] == 409, result
        assert result["code"] == "conflict"
        assert f"“{first['number']}”已被另一签发机关使用" in result["message"]
        assert "签发机关简称都是“威”" in result["message"]
        assert await RectificationNotice.count().where(
            RectificationNotice.number == first["number"]
        ) == 1
        assert (await NoticeCounter.select(NoticeCounter.last).where(counter).first())[
            "last"
        ] == first["seq"] - 1
        stored = await Inspection.select(Inspection.status).where(
            Inspection.assignment == assignment["id"]
        )
        assert [s["status"] for s in stored] in ([], ["draft"])
    finally:
        await Region.update({Region.office_short_name: county["office_short_name"]}).where(
            Region.id == county["id"]
        )
        if kept is None:
            await NoticeCounter.delete().where(counter)
        else:
            await NoticeCounter.update({NoticeCounter.last: kept["last"]}).where(counter)
