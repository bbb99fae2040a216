"""The admin's management of users: filters, lock and last login, disable/enable, re-role,
unlock, reset password, revoking every device of a user, a user's sessions."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx

from backend.audit.tables import AuditEvent

PASSWORD = "a-good-password"


async def _create(client, admin, **body) -> dict:
    body = {"username": f"u{uuid.uuid4().hex[:10]}", "password": PASSWORD, **body}
    response = await client.post("/api/admin/users", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def _login(client, username: str, password: str = PASSWORD, device: str = "d1"):
    return await client.post(
        "/api/auth/login", json={"username": username, "password": password, "device_id": device}
    )


async def test_list_filters_by_role_region_and_active(
    client: httpx.AsyncClient, admin: dict[str, str], new_county: Callable[[], Awaitable[str]]
) -> None:
    county = await new_county()
    inspector = await _create(client, admin, role="inspector", region_code=county)
    supervisor = await _create(client, admin, role="supervisor", region_code=county)
    listed = await client.get("/api/admin/users", params={"region": county}, headers=admin)
    assert listed.status_code == 200, listed.text
    assert {u["username"] for u in listed.json()} == {inspector["username"], supervisor["username"]}
    only = await client.get(
        "/api/admin/users", params={"region": county, "role": "inspector"}, headers=admin
    )
    assert [u["username"] for u in only.json()] == [inspector["username"]]

    disabled = await client.patch(
        f"/api/admin/users/{inspector['username']}", json={"is_active": False}, headers=admin
    )
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    active = await client.get(
        "/api/admin/users", params={"region": county, "active": "true"}, headers=admin
    )
    assert [u["username"] for u in active.json()] == [supervisor["username"]]
    inactive = await client.get(
        "/api/admin/users", params={"region": county, "active": "false"}, headers=admin
    )
    assert [u["username"] for u in inactive.json()] == [inspector["username"]]
    refused = await _login(client, inspector["username"])
    assert refused.status_code == 403
    enabled = await client.patch(
        f"/api/admin/users/{inspector['username']}", json={"is_active": True}, headers=admin
    )
    assert enabled.json()["is_active"] is True
    assert (await _login(client, inspector["username"])).status_code == 200

    unknown = await client.get("/api/admin/users", params={"region": "000000"}, headers=admin)
    assert unknown.status_code == 422 and "000000" in unknown.json()["detail"]


async def test_lock_shows_and_unlock_lifts_it(
    client: httpx.AsyncClient, admin: dict[str, str], new_county: Callable[[], Awaitable[str]]
) -> None:
    county = await new_county()
    user = await _create(client, admin, role="inspector", region_code=county)
    for _ in range(5):
        assert (await _login(client, user["username"], "wrong-password")).status_code == 401
    assert (await _login(client, user["username"])).status_code == 429
    listed = await client.get("/api/admin/users", params={"region": county}, headers=admin)
    row = listed.json()[0]
    assert row["locked"] is True and row["locked_until"] and row["last_login_at"] is None
    unlocked = await client.patch(
        f"/api/admin/users/{user['username']}", json={"unlock": True}, headers=admin
    )
    assert unlocked.json()["locked"] is False
    assert (await _login(client, user["username"])).status_code == 200
    after = (await client.get("/api/admin/users", params={"region": county}, headers=admin)).json()
    assert after[0]["last_login_at"] is not None


async def test_re_role_reset_password_and_revoke_every_device(
    client: httpx.AsyncClient, admin: dict[str, str], new_county: Callable[[], Awaitable[str]]
) -> None:
    county = await new_county()
    user = await _create(client, admin, role="inspector", region_code=county)
    name = user["username"]
    first = await _login(client, name, device="tablet-1")
    second = await _login(client, name, device="tablet-2")
    assert first.status_code == second.status_code == 200
    sessions = await client.get("/api/admin/sessions", params={"username": name}, headers=admin)
    assert {s["device_id"] for s in sessions.json()} == {"tablet-1", "tablet-2"}

    revoked = await client.post(f"/api/admin/users/{name}/revoke-devices", headers=admin)
    assert revoked.status_code == 200 and revoked.json() == {"revoked": 2}
    token = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert (await client.get("/api/auth/me", headers=token)).status_code == 401
    refresh = await client.post(
        "/api/auth/refresh",
        json={"refresh_token": second.json()["refresh_token"], "device_id": "tablet-2"},
    )
    assert refresh.status_code == 401
    again = await client.post(f"/api/admin/users/{name}/revoke-devices", headers=admin)
    assert again.json() == {"revoked": 0}
    events = await AuditEvent.count().where(
        (AuditEvent.action == "auth.revoke")
        & AuditEvent.entity_id.is_in([s["id"] for s in sessions.json()])
    )
    assert events == 2
    missing = await client.post("/api/admin/users/nobody-here/revoke-devices", headers=admin)
    assert missing.status_code == 404

    re_roled = await client.patch(
        f"/api/admin/users/{name}", json={"role": "supervisor", "region_code": county}, headers=admin
    )
    assert re_roled.status_code == 200 and re_roled.json()["role"] == "supervisor"
    bad_scope = await client.patch(
        f"/api/admin/users/{name}", json={"role": "manager", "region_code": county}, headers=admin
    )
    assert bad_scope.status_code == 422
    reset = await client.patch(
        f"/api/admin/users/{name}", json={"password": "another-password"}, headers=admin
    )
    assert reset.status_code == 200
    assert (await _login(client, name)).status_code == 401
    assert (await _login(client, name, "another-password")).status_code == 200


async def test_admin_cannot_disable_self(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.patch("/api/admin/users/admin", json={"is_active": False}, headers=admin)
    assert response.status_code == 422
