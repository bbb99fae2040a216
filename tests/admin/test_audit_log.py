"""The audit log for the admin: filters by entity, user, action and dates; paged with a total;
read-only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

import httpx

from tests.admin.conftest import unique_code

AUDIT = "/api/admin/audit"
CHINA = timezone(timedelta(hours=8))


async def test_filters_and_pages(
    client: httpx.AsyncClient, admin: dict[str, str], new_county: Callable[[], Awaitable[str]]
) -> None:
    county = await new_county()
    created = await client.post(
        "/api/admin/institutions",
        json={"code": unique_code("P"), "name": "审计药房", "type": "pharmacy", "region_code": county},
        headers=admin,
    )
    inst = created.json()["id"]
    for phone in ("0631-1", "0631-2", "0631-3"):
        response = await client.patch(
            f"/api/institutions/{inst}", json={"contact_phone": phone}, headers=admin
        )
        assert response.status_code == 200

    page = await client.get(
        AUDIT, params={"entity_type": "institution", "entity_id": inst, "limit": 2}, headers=admin
    )
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 4 and body["limit"] == 2 and body["offset"] == 0
    assert [e["after"].get("contact_phone") for e in body["items"]] == ["0631-3", "0631-2"]
    assert body["items"][0]["actor_username"] == "admin"
    assert body["items"][0]["before"] == {"contact_phone": "0631-2"}
    rest = await client.get(
        AUDIT,
        params={"entity_type": "institution", "entity_id": inst, "limit": 2, "offset": 2},
        headers=admin,
    )
    assert [e["action"] for e in rest.json()["items"]] == [
        "institution.update", "institution.create"
    ]

    exact = await client.get(
        AUDIT, params={"entity_id": inst, "action": "institution.create"}, headers=admin
    )
    assert exact.json()["total"] == 1
    prefix = await client.get(AUDIT, params={"entity_id": inst, "action": "institution."}, headers=admin)
    assert prefix.json()["total"] == 4
    nobody = await client.get(AUDIT, params={"entity_id": inst, "username": "inspector"}, headers=admin)
    assert nobody.json()["total"] == 0

    today = datetime.now(CHINA).date()
    dated = await client.get(
        AUDIT,
        params={"entity_id": inst, "date_from": today.isoformat(), "date_to": today.isoformat()},
        headers=admin,
    )
    assert dated.json()["total"] == 4
    tomorrow = (today + timedelta(days=1)).isoformat()
    later = await client.get(AUDIT, params={"entity_id": inst, "date_from": tomorrow}, headers=admin)
    assert later.json()["total"] == 0
    yesterday = (today - timedelta(days=1)).isoformat()
    earlier = await client.get(AUDIT, params={"entity_id": inst, "date_to": yesterday}, headers=admin)
    assert earlier.json()["total"] == 0

    actions = await client.get(f"{AUDIT}/actions", headers=admin)
    assert {"institution.create", "institution.update"} <= set(actions.json())


async def test_bad_filters_are_refused(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for params in (
        {"date_from": "2026-13-01"},
        {"date_from": "2026-05-02", "date_to": "2026-05-01"},
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"action": "x%"},
    ):
        response = await client.get(AUDIT, params=params, headers=admin)
        assert response.status_code == 422, (params, response.text)


async def test_the_log_is_read_only(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for method in ("POST", "PATCH", "DELETE", "PUT"):
        response = await client.request(method, AUDIT, headers=admin)
        assert response.status_code == 405, method
