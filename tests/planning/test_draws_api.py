"""双随机 draws over HTTP: the contract's shapes, determinism, 回避, refusals and tenancy."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import httpx
import pytest

from backend.audit.tables import AuditEvent
from backend.inspections.tables import Assignment
from backend.planning.tables import Draw, DrawItem
from tests.planning.conftest import DrawWorld, body

CJK = re.compile(r"[\u4e00-\u9fff]")


async def _counts() -> tuple[int, int, int]:
    return await Draw.count(), await DrawItem.count(), await Assignment.count()


def _picks(answer: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(p["institution_code"], p["inspectors"]) for p in answer["picks"]]


async def test_preview_answers_the_contract_and_stores_nothing(
    client: httpx.AsyncClient, login, world: DrawWorld
) -> None:
    before = await _counts()
    response = await client.post("/api/draws/preview", json=body(), headers=await login("sup.draw"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert "id" not in answer
    assert answer["seed"] == "2026-Q3-甲县"
    assert answer["pool_size"] == 6 and answer["drawn"] == 3
    assert len(answer["picks"]) == 3 and answer["unassigned"] == []
    covering = {"dr.a1", "dr.a2", "dr.c1", "dr.c2"}  # 甲县's and the city's active inspectors
    for pick in answer["picks"]:
        assert set(pick) >= {"institution_id", "institution_code", "inspectors"}
        assert pick["institution_code"] in world.codes("Q379801000")
        assert len(set(pick["inspectors"])) == 2 and set(pick["inspectors"]) <= covering
        assert pick["checklist_id"] == "pharmacy-routine"
    assert len({p["institution_code"] for p in answer["picks"]}) == 3
    assert await _counts() == before


async def test_same_seed_same_draw_in_preview_and_on_save(
    client: httpx.AsyncClient, login, world: DrawWorld
) -> None:
    headers = await login("sup.draw")
    first = (await client.post("/api/draws/preview", json=body(), headers=headers)).json()
    again = (await client.post("/api/draws/preview", json=body(), headers=headers)).json()
    assert _picks(first) == _picks(again)
    other = (
        await client.post("/api/draws/preview", json=body(seed="另一个种子"), headers=headers)
    ).json()
    assert other["seed"] == "另一个种子"

    saved = await client.post("/api/draws", json=body(), headers=headers)
    assert saved.status_code == 201, saved.text
    draw = saved.json()
    assert draw["id"] and draw["seed"] == first["seed"]
    assert _picks(draw) == _picks(first)
    assert draw["public_url"] == f"/public/draws/{draw['id']}"

    read = await client.get(f"/api/draws/{draw['id']}", headers=headers)
    assert read.status_code == 200 and _picks(read.json()) == _picks(first)
    assert read.json()["criteria"]["institution_types"] == ["pharmacy"]
    assert read.json()["pool"] == world.codes("Q379801000")[:6]
    assert {"username": "dr.c1", "region": "379800"} in read.json()["roster"]
    assert {r["username"] for r in read.json()["roster"]} == {"dr.a1", "dr.a2", "dr.c1", "dr.c2"}

    # One assignment of kind random per pick, with the window and the drawn pair.
    for pick in draw["picks"]:
        a = await client.get(f"/api/assignments/{pick['assignment_id']}", headers=headers)
        assert a.status_code == 200, a.text
        a = a.json()
        assert a["kind"] == "random" and a["institution"]["code"] == pick["institution_code"]
        assert (a["window_start"], a["window_end"]) == ("2027-07-01", "2027-07-31")
        assert sorted(p["username"] for p in a["inspectors"]) == pick["inspectors"]
    events = await AuditEvent.select(AuditEvent.action).where(AuditEvent.entity_id == draw["id"])
    assert [e["action"] for e in events] == ["draw.create"]

    listed = (await client.get("/api/draws", headers=headers)).json()
    mine = next(d for d in listed if d["id"] == draw["id"])
    assert mine["picks"] == 3 and mine["unassigned"] == 0 and mine["title"] == body()["title"]


async def test_a_seed_is_generated_when_none_is_given(
    client: httpx.AsyncClient, login, world: DrawWorld
) -> None:
    headers = await login("sup.draw")
    one = (await client.post("/api/draws/preview", json=body(seed=None), headers=headers)).json()
    two = (await client.post("/api/draws/preview", json=body(seed=None), headers=headers)).json()
    assert re.fullmatch(r"[0-9a-f]{32}", one["seed"]) and one["seed"] != two["seed"]
    # Re-running with the published seed gives the same draw.
    rerun = (
        await client.post("/api/draws/preview", json=body(seed=one["seed"]), headers=headers)
    ).json()
    assert _picks(rerun) == _picks(one)


@pytest.mark.parametrize(
    "proportion,expected",
    [(0.125, 1), (0.375, 2), (0.5, 2), (0.6, 2), (0.625, 3), (1, 4)],  # of 乙县's 4 pharmacies
)
async def test_a_proportion_is_rounded_half_up(
    client: httpx.AsyncClient, login, world: DrawWorld, proportion: float, expected: int
) -> None:
    response = await client.post(
        "/api/draws/preview",
        json=body(region="379802", count=None, proportion=proportion),
        headers=await login("sup.draw"),
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["pool_size"] == 4 and answer["drawn"] == expected
    assert len(answer["picks"]) + len(answer["unassigned"]) == expected


@pytest.mark.parametrize(
    "change,field",
    [
        ({"count": 2, "proportion": 0.5}, "count"),
        ({"count": None, "proportion": None}, "count"),
        ({"count": 0}, "count"),
        ({"count": -3}, "count"),
        ({"count": None, "proportion": 0}, "proportion"),
        ({"count": None, "proportion": 1.5}, "proportion"),
        ({"count": None, "proportion": 0.01}, "proportion"),  # rounds to no institution
        ({"institution_types": []}, "institution_types"),
        ({"institution_types": None}, "institution_types"),
        ({"institution_types": ["bank"]}, "institution_types"),
        ({"agreement_status": []}, "agreement_status"),
        ({"window_start": "2027-07-31", "window_end": "2027-07-01"}, "window_end"),
        ({"title": "  "}, "title"),
    ],
)
async def test_bad_requests_get_422_in_chinese_and_store_nothing(
    client: httpx.AsyncClient, login, world: DrawWorld, change: dict[str, Any], field: str
) -> None:
    headers = await login("sup.draw")
    before = await _counts()
    for path in ("/api/draws/preview", "/api/draws"):
        if path.endswith("preview") and field == "title":
            continue  # a preview may go without a title; saving may not
        response = await client.post(path, json=body(**change), headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert CJK.search(response.json()["detail"]), response.text
        assert response.json()["extra"]["field"] == field
    assert await _counts() == before


async def test_empty_pool_is_refused(client: httpx.AsyncClient, login, world: DrawWorld) -> None:
    response = await client.post(
        "/api/draws/preview",
        json=body(institution_types=["hospital"]),
        headers=await login("sup.draw"),
    )
    assert response.status_code == 422 and "没有符合条件" in response.json()["detail"]


@pytest.mark.parametrize(
    "user,region",
    [
        ("sup.draw.a", "379802"),
        ("sup.draw.a", "379800"),
        ("sup.draw", "000000"),
        ("supervisor", "379801"),
    ],
)
async def test_a_region_outside_ones_scope_is_404(
    client: httpx.AsyncClient, login, world: DrawWorld, user: str, region: str
) -> None:
    before = await _counts()
    draw_only = ("not_inspected_since", "count", "proportion", "title")
    routine = {k: v for k, v in body(region=region).items() if k not in draw_only}
    for path in (
        "/api/draws/preview",
        "/api/draws",
        "/api/assignments/bulk/preview",
        "/api/assignments/bulk",
    ):
        payload = routine if "bulk" in path else body(region=region)
        response = await client.post(path, json=payload, headers=await login(user))
        assert response.status_code == 404, (path, response.text)
        assert "地区不存在或不在您的管辖范围内" in response.json()["detail"]
    assert await _counts() == before


async def test_staff_other_than_planners_are_refused(
    client: httpx.AsyncClient, login, world: DrawWorld
) -> None:
    for user in ("inspector", "manager"):
        response = await client.post("/api/draws/preview", json=body(), headers=await login(user))
        assert response.status_code == 403


async def test_draws_of_another_region_are_hidden(
    client: httpx.AsyncClient, login, world: DrawWorld
) -> None:
    saved = await client.post(
        "/api/draws", json=body(region="379802", count=1, seed="b"), headers=await login("sup.draw")
    )
    assert saved.status_code == 201, saved.text
    draw_id = saved.json()["id"]
    assert (
        await client.get(f"/api/draws/{draw_id}", headers=await login("sup.draw.a"))
    ).status_code == 404
    assert (
        await client.get(f"/api/draws/{draw_id}", headers=await login("supervisor"))
    ).status_code == 404
    assert (
        await client.get(f"/api/draws/{draw_id}", headers=await login("admin"))
    ).status_code == 200
    listed = (await client.get("/api/draws", headers=await login("sup.draw.a"))).json()
    assert draw_id not in {d["id"] for d in listed}


async def test_the_pool_follows_types_statuses_and_the_county(
    client: httpx.AsyncClient, login, world: DrawWorld
) -> None:
    headers = await login("sup.draw")
    whole_city = (
        await client.post(
            "/api/draws/preview", json=body(region="379800", count=100), headers=headers
        )
    ).json()
    assert whole_city["pool_size"] == 10  # 6 + 4 normal pharmacies
    codes = {p["institution_code"] for p in whole_city["picks"]} | {
        u["institution_code"] for u in whole_city["unassigned"]
    }
    assert codes == set(world.codes("Q379801000")[:6]) | set(world.codes("Q379802"))
    suspended = (
        await client.post(
            "/api/draws/preview", json=body(agreement_status=["suspended"]), headers=headers
        )
    ).json()
    assert [p["institution_code"] for p in suspended["picks"]] == ["Q37980100099"]
    default = (
        await client.post(
            "/api/draws/preview", json=body(agreement_status=None, count=100), headers=headers
        )
    ).json()
    assert default["pool_size"] == 6  # null: normal only
    clinics = (
        await client.post(
            "/api/draws/preview", json=body(institution_types=["clinic"], count=2), headers=headers
        )
    ).json()
    assert {p["checklist_id"] for p in clinics["picks"]} == {"clinic-routine"}
    # The disabled inspector is never on the roster.
    assert all("dr.a3" not in p["inspectors"] for p in whole_city["picks"])
    # 乙县's institutions get 乙县's or the city's inspectors, never 甲县's.
    for pick in whole_city["picks"]:
        if pick["institution_code"].startswith("Q379802"):
            assert set(pick["inspectors"]) <= {"dr.b1", "dr.c1", "dr.c2"}


async def test_related_inspectors_are_never_drawn_and_a_pairless_institution_is_left_unassigned(
    client: httpx.AsyncClient, login, world: DrawWorld
) -> None:
    headers = await login("sup.draw")
    b_codes = world.codes("Q379802")
    # dr.c1 is related to every pharmacy of 乙县: only dr.b1 and dr.c2 remain.
    for code in b_codes:
        r = await client.post(
            "/api/inspector-relations",
            json={
                "inspector": "dr.c1",
                "institution_id": str(world.institutions[code]["id"]),
                "reason": "亲属任职",
            },
            headers=headers,
        )
        assert r.status_code == 201, r.text
    answer = (
        await client.post(
            "/api/draws/preview", json=body(region="379802", count=4), headers=headers
        )
    ).json()
    assert [p["inspectors"] for p in answer["picks"]] == [["dr.b1", "dr.c2"]] * 4
    # dr.b1 related to one of them too: no valid pair is left there.
    r = await client.post(
        "/api/inspector-relations",
        json={
            "inspector": "dr.b1",
            "institution_id": str(world.institutions[b_codes[0]]["id"]),
            "reason": "曾在该药店工作",
        },
        headers=headers,
    )
    assert r.status_code == 201
    answer = (
        await client.post(
            "/api/draws/preview", json=body(region="379802", count=4), headers=headers
        )
    ).json()
    assert [u["institution_code"] for u in answer["unassigned"]] == [b_codes[0]]
    assert "回避" in answer["unassigned"][0]["reason"] and CJK.search(
        answer["unassigned"][0]["reason"]
    )
    assert b_codes[0] not in {p["institution_code"] for p in answer["picks"]}
    saved = await client.post("/api/draws", json=body(region="379802", count=4), headers=headers)
    assert saved.status_code == 201
    assert saved.json()["unassigned"] == answer["unassigned"]
    assert _picks(saved.json()) == _picks(answer)


async def test_workloads_are_balanced(client: httpx.AsyncClient, login, world: DrawWorld) -> None:
    answer = (
        await client.post(
            "/api/draws/preview", json=body(count=6, seed="均衡"), headers=await login("sup.draw")
        )
    ).json()
    loads = Counter(u for p in answer["picks"] for u in p["inspectors"])
    # 6 institutions × 2 = 12 places over 4 interchangeable inspectors: 3 each.
    assert sorted(loads.values()) == [3, 3, 3, 3]


async def test_not_inspected_since_leaves_out_recently_inspected_institutions(
    client: httpx.AsyncClient, login, world: DrawWorld
) -> None:
    from datetime import UTC, date, datetime

    from backend.checklists.tables import ChecklistVersion
    from backend.inspections.tables import Inspection

    code = world.codes("Q379801000")[0]
    inst = world.institutions[code]
    checklist = (
        await ChecklistVersion.select(ChecklistVersion.id)
        .where(ChecklistVersion.checklist_id == "pharmacy-routine")
        .first()
    )
    assignment = Assignment(
        institution=inst["id"],
        checklist=checklist["id"],
        window_start=date(2027, 1, 1),
        window_end=date(2027, 1, 2),
    )
    await assignment.save()
    await Inspection(
        assignment=assignment.id,
        institution=inst["id"],
        checklist=checklist["id"],
        checklist_hash="x",
        status="submitted",
        submitted_at=datetime(2027, 3, 5, 2, tzinfo=UTC),
        grade="良好",
    ).save()
    headers = await login("sup.draw")
    since_after = (
        await client.post(
            "/api/draws/preview",
            json=body(count=10, not_inspected_since="2027-03-06"),
            headers=headers,
        )
    ).json()
    since_before = (
        await client.post(
            "/api/draws/preview",
            json=body(count=10, not_inspected_since="2027-03-05"),
            headers=headers,
        )
    ).json()
    assert since_after["pool_size"] == 6 and since_before["pool_size"] == 5
    assert code not in {p["institution_code"] for p in since_before["picks"]}
