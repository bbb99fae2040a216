"""Regions and their issuing offices; a county's QR posters printed as one PDF."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx

from backend.audit.tables import AuditEvent
from backend.institutions.tables import Region
from tests.admin.conftest import unique_code


def _find(nodes: list[dict], code: str) -> dict | None:
    for node in nodes:
        if node["code"] == code:
            return node
        found = _find(node["children"], code)
        if found:
            return found
    return None


async def test_tree_has_the_demo_city_with_its_counties(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/api/admin/regions", headers=admin)
    assert response.status_code == 200
    city = _find(response.json(), "371000")
    assert city is not None and city["parent_code"] is None and city["office_short_name"] == "威"
    assert {"371002", "371003", "371082"} <= {c["code"] for c in city["children"]}
    huancui = _find(city["children"], "371002")
    assert huancui["parent_code"] == "371000" and huancui["institution_count"] >= 10


async def test_create_and_edit_a_region(
    client: httpx.AsyncClient, admin: dict[str, str], test_city: str
) -> None:
    body = {"code": "379988", "name": "新区", "office_short_name": "新", "parent_code": test_city}
    created = await client.post("/api/admin/regions", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert _find(created.json(), "379988")["parent_code"] == test_city
    again = await client.post("/api/admin/regions", json=body, headers=admin)
    assert again.status_code == 409
    for bad, status in (
        ({**body, "code": "37-99"}, 422),
        ({**body, "code": "379987", "office_short_name": ""}, 422),
        ({**body, "code": "379987", "office_short_name": "新〔区〕"}, 422),
        ({**body, "code": "379987", "office_short_name": "新\u001b"}, 422),
        ({**body, "code": "379987", "name": "新\u0007区"}, 422),
        ({**body, "code": "379987", "parent_code": "000000"}, 404),
    ):
        response = await client.post("/api/admin/regions", json=bad, headers=admin)
        assert response.status_code == status, (bad, response.text)
    assert not await Region.exists().where(Region.code == "379987")

    edited = await client.patch(
        "/api/admin/regions/379988", json={"office_short_name": "新医"}, headers=admin
    )
    assert edited.status_code == 200
    assert _find(edited.json(), "379988")["office_short_name"] == "新医"
    event = await AuditEvent.select(AuditEvent.before, AuditEvent.after).where(
        AuditEvent.action == "region.update"
    ).order_by(AuditEvent.id, ascending=False).output(load_json=True).first()
    assert event == {"before": {"office_short_name": "新"}, "after": {"office_short_name": "新医"}}
    missing = await client.patch("/api/admin/regions/000000", json={"name": "x"}, headers=admin)
    assert missing.status_code == 404
    nothing = await client.patch("/api/admin/regions/379988", json={}, headers=admin)
    assert nothing.status_code == 422


async def test_two_regions_never_share_an_office_short_name(
    client: httpx.AsyncClient, admin: dict[str, str], test_city: str
) -> None:
    """Each office numbers its own notices, so a shared short name would give two notices the
    same number."""
    body = {"code": "379977", "name": "重名区", "office_short_name": "威", "parent_code": test_city}
    taken = await client.post("/api/admin/regions", json=body, headers=admin)
    assert taken.status_code == 409, taken.text
    assert "“威”已由威海市（371000）使用" in taken.json()["detail"]
    assert taken.json()["extra"] == {"field": "office_short_name"}
    assert not await Region.exists().where(Region.code == "379977")

    created = await client.post(
        "/api/admin/regions", json={**body, "office_short_name": " 重名 "}, headers=admin
    )
    assert created.status_code == 201, created.text
    renamed = await client.patch(
        "/api/admin/regions/379977", json={"office_short_name": "环翠"}, headers=admin
    )
    assert renamed.status_code == 409, renamed.text
    assert "环翠区" in renamed.json()["detail"]
    row = await Region.select(Region.office_short_name).where(Region.code == "379977").first()
    assert row == {"office_short_name": "重名"}
    # Its own name again, with a new region name, is no conflict.
    same = await client.patch(
        "/api/admin/regions/379977", json={"name": "重名新区", "office_short_name": "重名"},
        headers=admin,
    )
    assert same.status_code == 200, same.text


async def test_a_new_county_is_inside_its_city_supervisors_scope(
    client: httpx.AsyncClient, admin: dict[str, str], new_county: Callable[[], Awaitable[str]],
    test_city: str,
) -> None:
    county = await new_county()
    inst = await client.post(
        "/api/admin/institutions",
        json={"code": unique_code("P"), "name": "县里的药房", "type": "pharmacy", "region_code": county},
        headers=admin,
    )
    assert inst.status_code == 201
    supervisor = await client.post(
        "/api/admin/users",
        json={"username": f"sv{county}", "password": "a-good-password", "role": "supervisor",
              "region_code": test_city},
        headers=admin,
    )
    assert supervisor.status_code == 201
    login = await client.post(
        "/api/auth/login", json={"username": f"sv{county}", "password": "a-good-password"}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    seen = await client.get(f"/api/institutions/{inst.json()['id']}", headers=headers)
    assert seen.status_code == 200


async def test_posters_of_a_county_as_one_pdf(
    client: httpx.AsyncClient, admin: dict[str, str], new_county: Callable[[], Awaitable[str]]
) -> None:
    county = await new_county()
    empty = await client.get(f"/api/admin/regions/{county}/posters.pdf", headers=admin)
    assert empty.status_code == 422 and "没有定点医药机构" in empty.json()["detail"]
    for name in ("海报甲药房", "海报乙诊所"):
        await client.post(
            "/api/admin/institutions",
            json={"code": unique_code("P"), "name": name, "type": "pharmacy", "region_code": county},
            headers=admin,
        )
    response = await client.get(f"/api/admin/regions/{county}/posters.pdf", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    # One page per institution, each A4 (595.3 × 841.9 points), each carrying its poster image.
    assert len(re.findall(rb"/Type /Page\b(?!s)", pdf)) == 2
    boxes = re.findall(rb"/MediaBox \[ ?0 0 ([0-9.]+) ([0-9.]+) ?\]", pdf)
    assert boxes and all(abs(float(w) - 595.28) < 1 and abs(float(h) - 841.89) < 1 for w, h in boxes)
    assert len(re.findall(rb"/Subtype /Image", pdf)) == 2
    missing = await client.get("/api/admin/regions/000000/posters.pdf", headers=admin)
    assert missing.status_code == 404
