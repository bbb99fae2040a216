"""执法证号 (enforcement_cert_no): set at creation by the admin API and ``yibao create-user
--cert-no``, changed by PATCH, shown in the admin users list, refused when malformed, audited."""

from __future__ import annotations

import uuid

import httpx

from backend.audit.tables import AuditEvent
from tests.cli_helpers import run_yibao

PASSWORD = "a-good-password"


async def test_admin_sets_changes_and_lists_the_cert_no(client: httpx.AsyncClient, login) -> None:
    admin = await login("admin")
    username = f"cert{uuid.uuid4().hex[:8]}"
    body = {
        "username": username,
        "password": PASSWORD,
        "role": "inspector",
        "region_code": "371002",
    }
    bad = await client.post(
        "/api/admin/users", json={**body, "enforcement_cert_no": "证 123"}, headers=admin
    )
    assert bad.status_code == 422 and "执法证号" in bad.json()["detail"]
    created = await client.post(
        "/api/admin/users", json={**body, "enforcement_cert_no": "37100010001"}, headers=admin
    )
    assert created.status_code == 201, created.text
    assert created.json()["enforcement_cert_no"] == "37100010001"

    changed = await client.patch(
        f"/api/admin/users/{username}", json={"enforcement_cert_no": " 37100010002 "}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["enforcement_cert_no"] == "37100010002"
    listed = await client.get("/api/admin/users", params={"role": "inspector"}, headers=admin)
    row = next(u for u in listed.json() if u["username"] == username)
    assert row["enforcement_cert_no"] == "37100010002"
    events = (
        await AuditEvent.select(AuditEvent.after)
        .where(
            (AuditEvent.action == "user.update") & (AuditEvent.entity_id == changed.json()["id"])
        )
        .output(load_json=True)
    )
    assert any((e["after"] or {}).get("enforcement_cert_no") == "37100010002" for e in events)
    refused = await client.patch(
        f"/api/admin/users/{username}", json={"enforcement_cert_no": "x" * 33}, headers=admin
    )
    assert refused.status_code in (400, 422)
    other = await client.patch(
        f"/api/admin/users/{username}",
        json={"enforcement_cert_no": "1"},
        headers=await login("supervisor"),
    )
    assert other.status_code == 403


async def test_create_user_cli_takes_a_cert_no(
    database: None, client: httpx.AsyncClient, login
) -> None:
    username = f"clicert{uuid.uuid4().hex[:6]}"
    result = run_yibao(
        "create-user",
        username,
        "--role",
        "inspector",
        "--region",
        "371002",
        "--password",
        PASSWORD,
        "--cert-no",
        "37100010009",
    )
    assert result.returncode == 0, result.stderr
    listed = await client.get("/api/admin/users", headers=await login("admin"))
    row = next(u for u in listed.json() if u["username"] == username)
    assert row["enforcement_cert_no"] == "37100010009"
