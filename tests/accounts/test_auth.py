"""Logging in, tokens, refresh credentials bound to a device, lock-out, revocation."""

from __future__ import annotations

import uuid

import httpx
import jwt
import pytest
from litestar.security.jwt import Token

from backend.accounts.tables import DeviceSession, User
from backend.audit.tables import AuditEvent
from backend.demo import demo_password


async def _new_user(client: httpx.AsyncClient, admin: dict[str, str], **extra: str) -> str:
    username = f"u{uuid.uuid4().hex[:10]}"
    body = {"username": username, "password": "a-good-password", "role": "inspector",
            "region_code": "371002", **extra}
    response = await client.post("/api/admin/users", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return username


async def _login(client: httpx.AsyncClient, username: str, password: str = "a-good-password",
                 device: str = "tablet-1") -> httpx.Response:
    return await client.post(
        "/api/auth/login", json={"username": username, "password": password, "device_id": device}
    )


async def test_login_gives_tokens_and_me_answers(client: httpx.AsyncClient, demo: None) -> None:
    response = await client.post(
        "/api/auth/login", json={"username": "inspector", "password": demo_password()}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["access_token"] and body["refresh_token"]
    assert body["user"]["role"] == "inspector" and body["user"]["region_name"] == "环翠区"
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["username"] == "inspector"


@pytest.mark.parametrize(
    "username,password", [("inspector", "wrong-password"), ("nobody-here", "whatever123")]
)
async def test_bad_credentials_get_the_same_answer(
    client: httpx.AsyncClient, demo: None, username: str, password: str
) -> None:
    response = await client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json()["detail"] == "用户名或密码错误"


async def test_malformed_login_is_a_clear_400(client: httpx.AsyncClient, demo: None) -> None:
    response = await client.post("/api/auth/login", json={"username": "inspector"})
    assert response.status_code == 400
    assert "password" in response.text


async def test_missing_forged_expired_and_garbage_tokens_get_401(
    client: httpx.AsyncClient, login
) -> None:
    from backend.settings import get_settings

    good = (await login("inspector"))["Authorization"].split()[1]
    decoded = Token.decode(good, get_settings().secret_key, "HS256")
    forged = Token(exp=decoded.exp, sub=decoded.sub, extras=decoded.extras).encode(
        "another-secret-key-of-enough-length-xxxxxxxx", "HS256"
    )
    issued = int(decoded.iat.timestamp()) - 7200
    expired = jwt.encode(
        {"exp": issued + 3600, "iat": issued, "sub": decoded.sub, "extras": decoded.extras},
        get_settings().secret_key,
        algorithm="HS256",
    )
    for headers in (
        {},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": "Bearer not.a.token"},
        {"Authorization": good},  # no Bearer prefix
    ):
        response = await client.get("/api/auth/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["detail"] == "未登录或登录已失效，请重新登录"


async def test_repeated_failures_lock_the_account(client: httpx.AsyncClient, login) -> None:
    admin = await login("admin")
    username = await _new_user(client, admin)
    for _ in range(5):
        assert (await _login(client, username, "wrong-password")).status_code == 401
    locked = await _login(client, username)  # even the right password
    assert locked.status_code == 429
    assert "锁定" in locked.json()["detail"]
    user = await User.select(User.id).where(User.username == username).first()
    actions = [e["action"] for e in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.entity_id == str(user["id"]))]
    assert actions.count("auth.login_failed") == 5 and "auth.locked" in actions

    unlock = await client.patch(f"/api/admin/users/{username}", json={"unlock": True}, headers=admin)
    assert unlock.status_code == 200, unlock.text
    assert (await _login(client, username)).status_code == 200


async def test_refresh_is_bound_to_the_device_and_revocable(
    client: httpx.AsyncClient, login
) -> None:
    admin = await login("admin")
    username = await _new_user(client, admin)
    body = (await _login(client, username, device="tablet-A")).json()
    refresh = {"refresh_token": body["refresh_token"], "device_id": "tablet-A"}
    renewed = await client.post("/api/auth/refresh", json=refresh)
    assert renewed.status_code == 200, renewed.text
    new_token = renewed.json()["access_token"]
    assert (await client.get("/api/auth/me", headers={"Authorization": f"Bearer {new_token}"})).status_code == 200

    other_device = await client.post("/api/auth/refresh", json={**refresh, "device_id": "tablet-B"})
    assert other_device.status_code == 401

    revoke = await client.post(f"/api/admin/sessions/{body['session_id']}/revoke", headers=admin)
    assert revoke.status_code == 200 and revoke.json() == {"revoked": 1}
    # The lost tablet is cut off at its next contact: its refresh and its unexpired token fail.
    assert (await client.post("/api/auth/refresh", json=refresh)).status_code == 401
    assert (await client.get("/api/auth/me", headers={"Authorization": f"Bearer {new_token}"})).status_code == 401
    row = await DeviceSession.select().where(DeviceSession.id == body["session_id"]).first()
    assert row["revoked_by"] == "admin"


async def test_disabling_a_user_ends_their_sessions(client: httpx.AsyncClient, login) -> None:
    admin = await login("admin")
    username = await _new_user(client, admin)
    token = (await _login(client, username)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200
    disabled = await client.patch(f"/api/admin/users/{username}", json={"is_active": False}, headers=admin)
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 401
    again = await _login(client, username)
    assert again.status_code == 403 and "停用" in again.json()["detail"]


async def test_logout_ends_the_session(client: httpx.AsyncClient, login) -> None:
    admin = await login("admin")
    username = await _new_user(client, admin)
    token = (await _login(client, username)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 200
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 401


async def test_admin_manages_users_and_others_may_not(client: httpx.AsyncClient, login) -> None:
    admin = await login("admin")
    for role in ("supervisor", "inspector", "manager"):
        response = await client.get("/api/admin/users", headers=await login(role))
        assert response.status_code == 403, role
        assert "管理员" in response.json()["detail"]
    username = await _new_user(client, admin)
    rerole = await client.patch(
        f"/api/admin/users/{username}",
        json={"role": "manager", "institution_code": "H37100200001"},
        headers=admin,
    )
    assert rerole.status_code == 200, rerole.text
    assert rerole.json()["role"] == "manager" and rerole.json()["institution_code"] == "H37100200001"

    before = await User.count()
    bad = [
        ({"username": username, "password": "a-good-password", "role": "inspector", "region_code": "371002"}, 409),
        ({"username": "new.user1", "password": "short", "role": "admin"}, 400),
        ({"username": "new.user2", "password": "a-good-password", "role": "king"}, 400),
        ({"username": "new.user3", "password": "a-good-password", "role": "manager"}, 422),
        ({"username": "new.user4", "password": "a-good-password", "role": "inspector", "region_code": "000000"}, 404),
    ]
    for body, status in bad:
        response = await client.post("/api/admin/users", json=body, headers=admin)
        assert response.status_code == status, (body, response.text)
        assert response.json()["detail"]
    assert await User.count() == before


async def test_login_attempts_are_rate_limited_per_address(database: None, demo: None) -> None:
    from dataclasses import replace

    from backend.app import create_app
    from backend.settings import get_settings

    app = create_app(replace(get_settings(), login_rate_per_minute=3))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        statuses = [
            (await client.post("/api/auth/login", json={"username": "x", "password": "y"})).status_code
            for _ in range(5)
        ]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]
