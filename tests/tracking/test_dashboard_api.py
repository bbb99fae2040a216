"""The 看板's API: numbers equal counts computed from the rows made here, scopes hold, filters are
checked, every number's list holds the rows it counts."""

from __future__ import annotations

from collections import Counter
from datetime import date

import httpx
import pytest

from backend.china_time import today_in_china
from backend.rectification.tables import RectificationNotice, RectificationTask
from tests.tracking.helpers import (
    BAD,
    CRITICAL,
    MILD,
    City,
    backdate_deadline,
    grades_of,
    inspect,
    make_city,
    tasks_of,
)

GRADES = ("优秀", "良好", "合格", "不合格")


@pytest.fixture(scope="module")
async def city(client: httpx.AsyncClient, login) -> City:
    world = await make_city(client, login)
    a, b = world.institutions["a"], world.institutions["b"]
    await inspect(client, world, "a", a[0], {})
    await inspect(client, world, "a", a[0], BAD)
    await inspect(client, world, "a", a[1], CRITICAL)
    await inspect(client, world, "b", b[0], MILD)
    # Time passes for some tasks: two deadlines behind us, one of them answered late.
    tasks = await tasks_of(world.inspections)
    assert len(tasks) >= 3
    await backdate_deadline(tasks[0]["id"], 5)
    await backdate_deadline(tasks[1]["id"], 2)
    return world


async def _get(client: httpx.AsyncClient, headers: dict[str, str], path: str, **params) -> httpx.Response:
    return await client.get(path, params={k: v for k, v in params.items() if v is not None}, headers=headers)


def _overdue(task: dict, today: date) -> bool:
    from backend.rectification.tasks import is_overdue

    return is_overdue(task, today)


async def _expected(world: City, inspection_ids: list[str], institutions: list[dict]) -> dict:
    grades = Counter(await grades_of(inspection_ids))
    tasks = await tasks_of(inspection_ids)
    today = today_in_china()
    notices = await RectificationNotice.select(RectificationNotice.status).where(
        RectificationNotice.inspection.is_in(inspection_ids)
    ) if inspection_ids else []
    from backend.inspections.tables import Inspection

    inspected = {
        str(r["institution"])
        for r in await Inspection.select(Inspection.institution).where(Inspection.id.is_in(inspection_ids))
    } if inspection_ids else set()
    return {
        "institutions": len(institutions),
        "inspected_institutions": len(inspected),
        "inspections": len(inspection_ids),
        "by_grade": {g: grades.get(g, 0) for g in GRADES},
        "tasks_open": sum(t["status"] not in ("accepted", "cancelled") for t in tasks),
        "tasks_overdue": sum(_overdue(t, today) for t in tasks),
        "notices_open": sum(n["status"] != "closed" for n in notices),
    }


async def test_city_summary_equals_counts_of_the_rows_made(client: httpx.AsyncClient, city: City) -> None:
    response = await _get(client, city.headers["city"], "/api/dashboard/summary")
    assert response.status_code == 200, response.text
    body = response.json()
    expected = await _expected(city, city.inspections, city.all_institutions())
    assert {k: body[k] for k in expected} == expected
    assert expected["tasks_overdue"] >= 1 and expected["inspections"] == 4
    assert body["filters"]["region"] == city.city
    year = today_in_china().year
    assert body["filters"]["from"] == f"{year}-01-01" and body["filters"]["to"] == f"{year}-12-31"
    assert sum(body["by_grade"].values()) == body["inspections"]


async def test_county_supervisor_sees_only_their_county(client: httpx.AsyncClient, city: City) -> None:
    a_ids = city.inspections[:3]
    body = (await _get(client, city.headers["a"], "/api/dashboard/summary")).json()
    assert {k: body[k] for k in ("institutions", "inspections", "by_grade")} == {
        k: v for k, v in (await _expected(city, a_ids, city.institutions["a"])).items()
        if k in ("institutions", "inspections", "by_grade")
    }
    # The other county, asked for by name, is outside the scope: 404 with a message.
    refused = await _get(client, city.headers["a"], "/api/dashboard/summary", region=city.counties["b"])
    assert refused.status_code == 404 and "管辖范围" in refused.json()["detail"]
    assert (await _get(client, city.headers["a"], "/api/dashboard/summary", region=city.city)).status_code == 404
    assert (await _get(client, city.headers["a"], "/api/dashboard/list/inspections",
                       region=city.counties["b"])).status_code == 404
    # And the demo city's supervisor sees nothing of this city.
    assert (await _get(client, city.headers["b"], "/api/dashboard/summary", region="371000")).status_code == 404
    # The city supervisor narrows to one county.
    b = (await _get(client, city.headers["city"], "/api/dashboard/summary", region=city.counties["b"])).json()
    assert b["inspections"] == 1 and b["institutions"] == 2 and b["inspected_institutions"] == 1


async def test_filters_by_type_and_period(client: httpx.AsyncClient, city: City) -> None:
    hospitals = (await _get(client, city.headers["city"], "/api/dashboard/summary", type="hospital")).json()
    assert hospitals["institutions"] == 1 and hospitals["inspections"] == 0
    pharmacies = (await _get(client, city.headers["city"], "/api/dashboard/summary", type="pharmacy")).json()
    assert pharmacies["institutions"] == 5 and pharmacies["inspections"] == 4
    past = (await _get(client, city.headers["city"], "/api/dashboard/summary", **{"from": "2001-01-01", "to": "2001-12-31"})).json()
    assert past["inspections"] == 0 and past["tasks_open"] == 0 and past["institutions"] == 6
    assert past["notices_open"] == 0
    today = today_in_china().isoformat()
    one_day = (await _get(client, city.headers["city"], "/api/dashboard/summary", **{"from": today, "to": today})).json()
    assert one_day["inspections"] == 4


@pytest.mark.parametrize(
    ("params", "status", "word"),
    [
        ({"type": "spaceship"}, 422, "机构类型"),
        ({"from": "2026-13-01"}, 422, "日期"),
        ({"to": "yesterday"}, 422, "日期"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, 422, "结束日期"),
        ({"region": "000000"}, 404, "地区"),
    ],
)
async def test_bad_filters_are_refused_in_chinese(client: httpx.AsyncClient, city: City, params, status, word) -> None:
    for path in ("/api/dashboard/summary", "/api/dashboard/details", "/api/dashboard/list/inspections",
                 "/api/exports/inspections.csv"):
        response = await _get(client, city.headers["city"], path, **params)
        assert response.status_code == status, (path, response.text)
        assert word in response.json()["detail"]


async def test_inspectors_and_managers_get_403(client: httpx.AsyncClient, city: City, login) -> None:
    for user in ("inspector", "manager.pharmacy"):
        for path in ("/api/dashboard/summary", "/api/dashboard/details", "/api/dashboard/list/tasks",
                     "/api/exports/inspections.xlsx"):
            response = await _get(client, await login(user), path)
            assert response.status_code == 403, (user, path)
            assert "仅限" in response.json()["detail"]


async def test_details_match_the_summary(client: httpx.AsyncClient, city: City) -> None:
    summary = (await _get(client, city.headers["city"], "/api/dashboard/summary")).json()
    details = (await _get(client, city.headers["city"], "/api/dashboard/details")).json()
    by_region = {r["region"]: r for r in details["coverage"]["by_region"]}
    assert by_region[city.counties["a"]] | {} == {
        "region": city.counties["a"], "region_name": "测试A区", "institutions": 4, "inspected": 2}
    assert by_region[city.counties["b"]]["inspected"] == 1
    by_type = {r["type"]: r for r in details["coverage"]["by_type"]}
    assert by_type["hospital"] == {"type": "hospital", "type_label": "定点医院", "institutions": 1, "inspected": 0}
    assert len(details["trend"]) == 12
    month = today_in_china().strftime("%Y-%m")
    point = next(p for p in details["trend"] if p["month"] == month)
    assert point["inspections"] == 4 and point["by_grade"] == summary["by_grade"]
    assert sum(b["inspections"] for b in details["scores"]) == 4
    items = {i["item"]: i for i in details["failed_items"]}
    assert items["pharmacy-routine:signage.complaint"]["failed"] == 3
    assert items["pharmacy-routine:signage.complaint"]["answered"] == 4
    assert items["pharmacy-routine:signage.complaint"]["item_text"]
    assert sum(t["tasks"] for t in details["tasks"]) == summary["tasks"]
    assert sum(t["overdue"] for t in details["tasks"]) == summary["tasks_overdue"]
    assert {a["status"]: a["institutions"] for a in details["agreement"]} == summary["agreement"]


async def test_every_number_opens_its_list(client: httpx.AsyncClient, city: City) -> None:
    h = city.headers["city"]
    summary = (await _get(client, h, "/api/dashboard/summary")).json()

    async def total(what: str, **params) -> int:
        response = await _get(client, h, f"/api/dashboard/list/{what}", **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) == min(body["total"], body["limit"])
        return body["total"]

    assert await total("institutions") == summary["institutions"]
    assert await total("institutions", inspected="yes") == summary["inspected_institutions"]
    assert await total("institutions", inspected="no") == summary["institutions"] - summary["inspected_institutions"]
    assert await total("inspections") == summary["inspections"]
    for grade, n in summary["by_grade"].items():
        assert await total("inspections", grade=grade) == n
    assert await total("tasks", state="open") == summary["tasks_open"]
    assert await total("tasks", state="overdue") == summary["tasks_overdue"]
    assert await total("notices", state="open") == summary["notices_open"]
    assert await total("inspections", item="pharmacy-routine:signage.complaint") == 3
    assert await total("tasks", item="pharmacy-routine:signage.complaint") == 3
    month = today_in_china().strftime("%Y-%m")
    assert await total("inspections", month=month) == 4
    details = (await _get(client, h, "/api/dashboard/details")).json()
    for band in details["scores"]:
        assert await total("inspections", band=band["band"]) == band["inspections"]
    rows = (await _get(client, h, "/api/dashboard/list/inspections")).json()["items"]
    assert {r["id"] for r in rows} == set(city.inspections)
    assert all(r["institution_code"].startswith("Z") and r["date"] for r in rows)
    bad = await _get(client, h, "/api/dashboard/list/spaceships")
    assert bad.status_code == 422 and "列表" in bad.json()["detail"]
    bad = await _get(client, h, "/api/dashboard/list/inspections", grade="极好")
    assert bad.status_code == 422 and "等级" in bad.json()["detail"]


async def test_escalations_and_agreement_statuses(client: httpx.AsyncClient, city: City) -> None:
    h = city.headers["city"]
    inspection = city.inspections[1]
    notice = await RectificationNotice.select(RectificationNotice.id).where(
        RectificationNotice.inspection == inspection).first()
    for step in ("interview", "suspend_agreement"):
        response = await client.post(f"/api/rectification/notices/{notice['id']}/escalations",
                                     json={"step": step, "note": "测试"}, headers=h)
        assert response.status_code in (200, 201), response.text
    summary = (await _get(client, h, "/api/dashboard/summary")).json()
    assert summary["escalations"] == 2 and summary["escalated_institutions"] == 1
    assert summary["agreement"]["suspended"] == 1 and summary["agreement"]["normal"] == 5
    details = (await _get(client, h, "/api/dashboard/details")).json()
    steps = {e["step"]: e["escalations"] for e in details["escalations"]}
    assert steps["interview"] == 1 and steps["suspend_agreement"] == 1 and steps["terminate_agreement"] == 0
    listed = (await _get(client, h, "/api/dashboard/list/escalations", step="interview")).json()
    assert listed["total"] == 1 and listed["items"][0]["step_label"] == "约谈"
    suspended = (await _get(client, h, "/api/dashboard/list/institutions", agreement_status="suspended")).json()
    assert [i["code"] for i in suspended["items"]] == [city.institutions["a"][0]["code"]]


async def test_accepting_a_task_closes_it_in_the_numbers(client: httpx.AsyncClient, city: City, login) -> None:
    h = city.headers["city"]
    before = (await _get(client, h, "/api/dashboard/summary")).json()
    # The manager of the county-B pharmacy answers its task; the supervisor accepts it.
    inst = city.institutions["b"][0]
    admin = await login("admin")
    import uuid as _uuid

    username = f"mgr{_uuid.uuid4().hex[:8]}"
    created = await client.post("/api/admin/users", json={"username": username, "password": "a-good-password",
                                                           "role": "manager", "institution_code": inst["code"]},
                                headers=admin)
    assert created.status_code == 201, created.text
    manager = await login(username, "a-good-password")
    tasks = await tasks_of([city.inspections[3]])
    task = next(t for t in tasks if t["status"] == "open")
    answered = await client.post(f"/api/rectification/tasks/{task['id']}/answer", json={"report": "已整改"},
                                 headers=manager)
    assert answered.status_code == 200, answered.text
    accepted = await client.post(f"/api/rectification/tasks/{task['id']}/accept", json={}, headers=h)
    assert accepted.status_code == 200, accepted.text
    after = (await _get(client, h, "/api/dashboard/summary")).json()
    assert after["tasks_open"] == before["tasks_open"] - 1
    assert after["tasks"] == before["tasks"]
    assert after == {**after, **(await _expected(city, city.inspections, city.all_institutions()))}
    row = await RectificationTask.select(RectificationTask.status).where(RectificationTask.id == task["id"]).first()
    assert row["status"] == "accepted"


async def test_admin_sees_every_region(client: httpx.AsyncClient, city: City, login) -> None:
    admin = await login("admin")
    everything = (await _get(client, admin, "/api/dashboard/summary")).json()
    mine = (await _get(client, admin, "/api/dashboard/summary", region=city.city)).json()
    assert everything["filters"]["region"] is None and everything["filters"]["region_name"] == "全部地区"
    assert everything["institutions"] > mine["institutions"] == 6
    assert everything["inspections"] >= mine["inspections"] == 4
