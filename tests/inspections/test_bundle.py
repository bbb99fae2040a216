"""The offline bundle: everything in scope, then only changes; 304 when nothing changed."""

from __future__ import annotations

from datetime import timedelta

import httpx

from backend.accounts.auth import now
from backend.inspections.tables import Assignment
from backend.institutions.tables import Institution, Physician, Region
from tests.inspections.helpers import new_assignment, user_id


async def _region_institutions(code: str) -> set[str]:
    region = await Region.select(Region.id).where(Region.code == code).first()
    return {r["code"] for r in await Institution.select(Institution.code).where(Institution.region == region["id"])}


async def test_full_bundle_holds_what_an_inspector_needs(client: httpx.AsyncClient, login) -> None:
    a = await login("inspector")
    response = await client.get("/api/sync/bundle", headers=a)
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["full"] is True and bundle["cursor"]
    assert {i["code"] for i in bundle["institutions"]} == await _region_institutions("371002")
    assert all(i["qr_token"] and i["agreement_status_label"] for i in bundle["institutions"])
    me = await user_id(client, a)
    assert bundle["assignments"], "the demo inspector has assignments"
    for assignment in bundle["assignments"]:
        assert me in {p["id"] for p in assignment["inspectors"]}
    used = {a["checklist"]["version_id"] for a in bundle["assignments"]}
    assert used == {c["version_id"] for c in bundle["checklists"]}
    assert all(c["content"]["sections"] for c in bundle["checklists"])
    institution_ids = {i["id"] for i in bundle["institutions"]}
    assert bundle["physicians"] and all(p["institution_id"] in institution_ids for p in bundle["physicians"])


async def test_city_supervisor_gets_every_county(client: httpx.AsyncClient, login) -> None:
    bundle = (await client.get("/api/sync/bundle", headers=await login("supervisor"))).json()
    codes = {i["code"] for i in bundle["institutions"]}
    assert await _region_institutions("371003") <= codes and await _region_institutions("371082") <= codes


async def test_unchanged_bundle_is_304_and_changes_come_incrementally(client: httpx.AsyncClient, login) -> None:
    a = await login("inspector3")  # 文登区: other tests don't touch it
    # The demo data was made seconds ago, inside the overlap the bundle sends again; age it.
    region = await Region.select(Region.id).where(Region.code == "371003").first()
    day_ago = now() - timedelta(days=1)
    inside = Institution.select(Institution.id).where(Institution.region == region["id"])
    await Institution.update({Institution.updated_at: day_ago}).where(Institution.region == region["id"])
    await Physician.update({Physician.updated_at: day_ago}).where(Physician.institution.is_in(inside))
    await Assignment.update({Assignment.updated_at: day_ago}).where(Assignment.institution.is_in(inside))
    first = await client.get("/api/sync/bundle", headers=a)
    etag, cursor = first.headers["etag"], first.json()["cursor"]
    again = await client.get("/api/sync/bundle", headers={**a, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""

    delta = await client.get("/api/sync/bundle", params={"since": cursor}, headers=a)
    assert delta.status_code == 200 and delta.json()["full"] is False
    assert delta.headers["etag"] == (
        await client.get("/api/sync/bundle", params={"since": cursor}, headers=a)
    ).headers["etag"]

    # An institution changes (its agreement is suspended) and a new assignment is planned.
    target = await Institution.select(Institution.id, Institution.code).where(Institution.code == "P37100300002").first()
    await Institution.update({Institution.agreement_status: "suspended", Institution.updated_at: now()}).where(
        Institution.id == target["id"]
    )
    team = [await user_id(client, a), await user_id(client, await login("inspector4"))]
    created = await new_assignment(client, await login("supervisor"), "P37100300003", team)

    changed = await client.get(
        "/api/sync/bundle", params={"since": cursor}, headers={**a, "If-None-Match": delta.headers["etag"]}
    )
    assert changed.status_code == 200
    body = changed.json()
    assert any(i["code"] == "P37100300002" and i["agreement_status"] == "suspended" for i in body["institutions"])
    assert created["id"] in {x["id"] for x in body["assignments"]}
    assert created["id"] in body["assignment_ids"]
    assert body["checklists"], "the new assignment's checklist comes with it"
    assert [i["code"] for i in body["institutions"]] == ["P37100300002"]
    assert body["physicians"] == []

    cancelled = await client.post(
        f"/api/assignments/{created['id']}/cancel", json={"reason": "计划调整"}, headers=await login("supervisor")
    )
    assert cancelled.status_code == 200, cancelled.text
    latest = (await client.get("/api/sync/bundle", params={"since": body["cursor"]}, headers=a)).json()
    assert created["id"] not in latest["assignment_ids"]
    assert any(x["id"] == created["id"] and x["status"] == "cancelled" for x in latest["assignments"])


async def test_bundle_refusals(client: httpx.AsyncClient, login) -> None:
    assert (await client.get("/api/sync/bundle")).status_code == 401
    assert (await client.get("/api/sync/bundle", headers=await login("manager"))).status_code == 403
    bad = await client.get("/api/sync/bundle", params={"since": "not-a-cursor"}, headers=await login("inspector"))
    assert bad.status_code == 422 and "since" in bad.json()["detail"]
