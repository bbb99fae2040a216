"""回避 relations over HTTP, bulk routine plans, and the public page (公示) and CSV of a draw."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from backend.audit.tables import AuditEvent
from backend.inspections.tables import Assignment, Inspection
from backend.planning.tables import InspectorRelation
from tests.planning.conftest import PHONE, DrawWorld, body

CJK = re.compile(r"[\u4e00-\u9fff]")


def _routine(**extra):
    return {
        "region": "379801",
        "institution_types": ["pharmacy"],
        "window_start": "2027-09-01",
        "window_end": "2027-09-30",
        "seed": "routine",
        **extra,
    }


async def test_relations_are_recorded_listed_and_removed_with_audit(
    client: httpx.AsyncClient, login, world: DrawWorld
) -> None:
    headers = await login("sup.draw.a")
    inst = world.institutions["Q37980100001"]
    created = await client.post(
        "/api/inspector-relations",
        json={
            "inspector": "dr.c1",
            "institution_id": str(inst["id"]),
            "reason": "配偶在该药店任职",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    relation = created.json()
    assert relation["inspector"] == "dr.c1" and relation["institution_code"] == "Q37980100001"
    assert relation["reason"] == "配偶在该药店任职" and relation["created_by"] == "sup.draw.a"

    again = await client.post(
        "/api/inspector-relations",
        json={"inspector": "dr.c1", "institution_id": str(inst["id"]), "reason": "重复"},
        headers=headers,
    )
    assert again.status_code == 409 and CJK.search(again.json()["detail"])

    by_inst = (
        await client.get(
            "/api/inspector-relations", params={"institution_id": str(inst["id"])}, headers=headers
        )
    ).json()
    assert [r["id"] for r in by_inst] == [relation["id"]]
    by_inspector = (
        await client.get("/api/inspector-relations", params={"inspector": "dr.a1"}, headers=headers)
    ).json()
    assert by_inspector == []
    # The demo city's supervisor sees none of the test city's relations.
    other = (
        await client.get("/api/inspector-relations", headers=await login("supervisor.huancui"))
    ).json()
    assert relation["id"] not in {r["id"] for r in other}
    assert (
        await client.delete(
            f"/api/inspector-relations/{relation['id']}", headers=await login("supervisor.huancui")
        )
    ).status_code == 404

    gone = await client.delete(f"/api/inspector-relations/{relation['id']}", headers=headers)
    assert gone.status_code == 204
    assert (
        await client.delete(f"/api/inspector-relations/{relation['id']}", headers=headers)
    ).status_code == 404
    events = (
        await AuditEvent.select(AuditEvent.action, AuditEvent.before)
        .where(AuditEvent.entity_id == relation["id"])
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )
    assert [e["action"] for e in events] == [
        "inspector_relation.create",
        "inspector_relation.delete",
    ]
    assert events[1]["before"]["reason"] == "配偶在该药店任职"


@pytest.mark.parametrize(
    "user,payload,status",
    [
        ("sup.draw.a", {"inspector": "dr.a1", "reason": ""}, 422),  # no reason
        ("sup.draw.a", {"inspector": "nobody.here", "reason": "x"}, 404),
        ("sup.draw.a", {"inspector": "sup.draw", "reason": "x"}, 422),  # not an inspector
        ("sup.draw.a", {"inspector": "inspector", "reason": "x"}, 404),  # another city's inspector
        (
            "supervisor.huancui",
            {"inspector": "dr.a1", "reason": "x"},
            404,
        ),  # institution not theirs
        ("inspector", {"inspector": "dr.a1", "reason": "x"}, 403),
        ("manager", {"inspector": "dr.a1", "reason": "x"}, 403),
    ],
)
async def test_bad_relations_are_refused_and_store_nothing(
    client: httpx.AsyncClient, login, world: DrawWorld, user: str, payload: dict, status: int
) -> None:
    inst = world.institutions["Q37980100002"]
    before = await InspectorRelation.count()
    response = await client.post(
        "/api/inspector-relations",
        json={**payload, "institution_id": str(inst["id"])},
        headers=await login(user),
    )
    assert response.status_code == status, response.text
    assert CJK.search(response.json()["detail"])
    assert await InspectorRelation.count() == before


async def test_bulk_routine_plans_every_institution_with_balanced_pairs(
    client: httpx.AsyncClient, login, world: DrawWorld
) -> None:
    headers = await login("sup.draw")
    inst = world.institutions["Q37980100003"]
    await client.post(
        "/api/inspector-relations",
        json={"inspector": "dr.a2", "institution_id": str(inst["id"]), "reason": "亲属"},
        headers=headers,
    )
    preview = await client.post("/api/assignments/bulk/preview", json=_routine(), headers=headers)
    assert preview.status_code == 200, preview.text
    plan = preview.json()
    assert plan["pool_size"] == 6 and len(plan["picks"]) == 6 and plan["unassigned"] == []
    loads = Counter(u for p in plan["picks"] for u in p["inspectors"])
    assert sorted(loads.values()) == [3, 3, 3, 3]
    assert (
        "dr.a2"
        not in next(p for p in plan["picks"] if p["institution_code"] == "Q37980100003")[
            "inspectors"
        ]
    )

    before = await Assignment.count()
    saved = await client.post("/api/assignments/bulk", json=_routine(), headers=headers)
    assert saved.status_code == 201, saved.text
    assert saved.json()["created"] == 6 and await Assignment.count() == before + 6
    assert [p["inspectors"] for p in saved.json()["picks"]] == [
        p["inspectors"] for p in plan["picks"]
    ]
    one = (
        await client.get(
            f"/api/assignments/{saved.json()['picks'][0]['assignment_id']}", headers=headers
        )
    ).json()
    assert one["kind"] == "routine" and one["window_start"] == "2027-09-01"

    bad = await client.post(
        "/api/assignments/bulk", json=_routine(window_end="2027-08-01"), headers=headers
    )
    assert bad.status_code == 422 and CJK.search(bad.json()["detail"])


async def test_the_public_page_and_csv_publish_the_draw_and_its_results(
    client: httpx.AsyncClient, login, world: DrawWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await login("sup.draw")
    saved = await client.post("/api/draws", json=body(count=2, seed="公示测试"), headers=headers)
    assert saved.status_code == 201, saved.text
    draw = saved.json()
    page = await client.get(draw["public_url"])  # no login
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "双随机抽查结果公示" in text and body()["title"] in text and "公示测试" in text
    assert "2027年07月01日" in text and "2027年07月31日" in text
    for pick in draw["picks"]:
        assert pick["institution_code"] in text and pick["institution_name"] in text
    assert "定点零售药店" in text
    # Nothing private: no phone numbers, no accounts, no names unless configured.
    assert PHONE not in text and "13800000000" not in text
    for username in ("dr.a1", "dr.a2", "dr.c1", "dr.c2", "sup.draw"):
        assert username not in text
    names = {n for p in draw["picks"] for n in p["inspector_names"]}
    assert not any(n in text for n in names)

    response = await client.get(draw["csv_url"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["抽查事项", "随机种子", "序号", "机构编码", "机构名称"]
    assert [r[3] for r in rows[1:]] == [p["institution_code"] for p in draw["picks"]]
    assert all(r[1] == "公示测试" for r in rows[1:])
    assert PHONE not in response.text and "dr.a1" not in response.text

    # Results appear once the inspection is submitted.
    pick = draw["picks"][0]
    a = (
        await Assignment.select(Assignment.checklist)
        .where(Assignment.id == pick["assignment_id"])
        .first()
    )
    await Inspection(
        assignment=pick["assignment_id"],
        institution=pick["institution_id"],
        checklist=a["checklist"],
        checklist_hash="x",
        status="submitted",
        submitted_at=datetime(2027, 7, 3, 3, tzinfo=UTC),
        grade="良好",
        score_total=86.5,
    ).save()
    text = (await client.get(draw["public_url"])).text
    assert "2027-07-03" in text and "良好" in text
    read = (await client.get(f"/api/draws/{draw['id']}", headers=headers)).json()
    assert (
        read["results"][0]["grade"] == "良好" and read["results"][0]["inspected_on"] == "2027-07-03"
    )

    monkeypatch.setenv("YIBAO_DRAW_PUBLISH_INSPECTORS", "true")
    text = (await client.get(draw["public_url"])).text
    assert "检查人员" in text and all(n in text for n in names)
    assert "dr.a1" not in text and PHONE not in text
    csv_text = (await client.get(draw["csv_url"])).content.decode("utf-8-sig")
    assert all(n in csv_text for n in names)


async def test_an_unknown_draw_has_no_public_page(
    client: httpx.AsyncClient, world: DrawWorld
) -> None:
    for path in (
        "/public/draws/8d4a1c1e-0000-4000-8000-000000000000",
        "/public/draws/nonsense",
        "/public/draws/8d4a1c1e-0000-4000-8000-000000000000.csv",
    ):
        response = await client.get(path)
        assert response.status_code == 404 and "未找到" in response.text


async def test_planning_options_offer_the_callers_regions_inspectors_and_checklists(
    client: httpx.AsyncClient, login, world: DrawWorld
) -> None:
    county = (await client.get("/api/planning/options", headers=await login("sup.draw.a"))).json()
    assert [r["code"] for r in county["regions"]] == ["379801"]
    # 甲县's inspectors (the disabled one marked) and the city's, never 乙县's or the demo city's.
    names = {i["username"]: i["is_active"] for i in county["inspectors"]}
    assert names == {"dr.a1": True, "dr.a2": True, "dr.a3": False, "dr.c1": True, "dr.c2": True}
    assert {"pharmacy-routine", "clinic-routine"} <= {
        c["checklist_id"] for c in county["checklists"]
    }
    city = (await client.get("/api/planning/options", headers=await login("sup.draw"))).json()
    assert [r["code"] for r in city["regions"]] == ["379800", "379801", "379802"]
    assert "dr.b1" in {i["username"] for i in city["inspectors"]}
    assert (
        await client.get("/api/planning/options", headers=await login("inspector"))
    ).status_code == 403


async def test_planned_assignments_filter_by_region_kind_status_and_window(
    client: httpx.AsyncClient, login, world: DrawWorld
) -> None:
    headers = await login("sup.draw")
    saved = await client.post(
        "/api/draws", json=body(region="379802", count=2, seed="列表"), headers=headers
    )
    assert saved.status_code == 201, saved.text
    ids = {p["assignment_id"] for p in saved.json()["picks"]}
    got = await client.get(
        "/api/planning/assignments",
        params={
            "region": "379802",
            "kind": "random",
            "status": "planned",
            "window_from": "2027-07-15",
            "window_to": "2027-07-20",
        },
        headers=headers,
    )
    assert got.status_code == 200, got.text
    rows = got.json()
    assert ids <= {r["id"] for r in rows}
    assert all(r["region_code"] == "379802" and r["kind"] == "random" for r in rows)
    outside = (
        await client.get(
            "/api/planning/assignments", params={"window_from": "2027-08-01"}, headers=headers
        )
    ).json()
    assert not ids & {r["id"] for r in outside}
    routine = (
        await client.get(
            "/api/planning/assignments",
            params={"kind": "routine", "region": "379802"},
            headers=headers,
        )
    ).json()
    assert not ids & {r["id"] for r in routine}
    # Another county's supervisor: 404 for 乙县, none of these in their list.
    county = await login("sup.draw.a")
    assert (
        await client.get("/api/planning/assignments", params={"region": "379802"}, headers=county)
    ).status_code == 404
    assert not ids & {
        r["id"] for r in (await client.get("/api/planning/assignments", headers=county)).json()
    }
    bad = await client.get("/api/planning/assignments", params={"kind": "weekly"}, headers=headers)
    assert bad.status_code == 422 and CJK.search(bad.json()["detail"])


async def test_a_related_inspector_cannot_be_put_on_a_team_by_hand(
    client: httpx.AsyncClient, login, world: DrawWorld
) -> None:
    headers = await login("sup.draw.a")
    inst = world.institutions["Q37980100005"]
    r = await client.post(
        "/api/inspector-relations",
        json={"inspector": "dr.a1", "institution_id": str(inst["id"]), "reason": "亲属任职"},
        headers=headers,
    )
    assert r.status_code == 201
    team = [str(world.inspectors[u]["id"]) for u in ("dr.a1", "dr.a2")]
    before = await Assignment.count()
    response = await client.post(
        "/api/assignments",
        json={
            "institution_id": str(inst["id"]),
            "checklist_id": "pharmacy-routine",
            "window_start": "2027-10-01",
            "window_end": "2027-10-05",
            "inspector_ids": team,
        },
        headers=headers,
    )
    assert (
        response.status_code == 422
        and "dr.a1 须回避该机构（亲属任职）" in response.json()["detail"]
    )
    assert await Assignment.count() == before
    team = [str(world.inspectors[u]["id"]) for u in ("dr.c1", "dr.a2")]
    ok = await client.post(
        "/api/assignments",
        json={
            "institution_id": str(inst["id"]),
            "checklist_id": "pharmacy-routine",
            "window_start": "2027-10-01",
            "window_end": "2027-10-05",
            "inspector_ids": team,
            "kind": "special",
        },
        headers=headers,
    )
    assert ok.status_code == 201, ok.text
