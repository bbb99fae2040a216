"""Building what rectification tests need: institutions of their own, their managers, and
submitted inspections with failed items (through the real sync API)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from backend.institutions.tables import Institution, InstitutionType, Region
from tests.inspections.helpers import (
    complete_inspection,
    jpeg_bytes,
    new_assignment,
    push,
    user_id,
)

PASSWORD = "a-good-password"
# Failed items of the pharmacy checklist with different modes and deadlines.
FAILS: dict[str, dict[str, Any]] = {
    "price-posting.price-tags": {"occurrences": 3, "note": "货架 12 种药品未标价"},
    "records.rx-retention": {"sampled": 20, "failed": 2},
    "signage.complaint": {"note": "未公示监督举报电话"},
}


@dataclass
class Tenant:
    """An institution made for one test module, its manager's headers and an inspector pair."""

    institution_id: str
    code: str
    name: str
    manager: dict[str, str]
    inspectors: list[str]  # user ids
    inspector: dict[str, str]  # headers of the first inspector


async def make_institution(county: str = "371002", name: str | None = None) -> tuple[str, str, str]:
    """A fresh pharmacy in a county of the demo city; returns (id, code, name)."""
    region = await Region.select(Region.id).where(Region.code == county).first()
    assert region is not None
    code = f"T{county}{uuid.uuid4().hex[:6].upper()}"
    name = name or f"测试大药房{code[-6:]}店"
    inst = Institution(
        code=code,
        name=name,
        type=InstitutionType.pharmacy.value,
        region=region["id"],
        address="山东省威海市环翠区测试路1号",
    )
    await inst.save()
    return str(inst.id), code, name


async def make_tenant(client: httpx.AsyncClient, login, county: str = "371002") -> Tenant:
    """An institution of its own with its own manager, so tests can change its state freely."""
    institution_id, code, name = await make_institution(county)
    username = f"mgr{uuid.uuid4().hex[:8]}"
    response = await client.post(
        "/api/admin/users",
        json={
            "username": username,
            "password": PASSWORD,
            "role": "manager",
            "institution_code": code,
            "display_name": "测试负责人",
        },
        headers=await login("admin"),
    )
    assert response.status_code == 201, response.text
    pair = ("inspector", "inspector2") if county == "371002" else ("inspector3", "inspector4")
    inspector = await login(pair[0])
    ids = [await user_id(client, inspector), await user_id(client, await login(pair[1]))]
    return Tenant(
        institution_id=institution_id,
        code=code,
        name=name,
        manager=await login(username, PASSWORD),
        inspectors=ids,
        inspector=inspector,
    )


async def submit(
    client: httpx.AsyncClient,
    login,
    tenant: Tenant,
    fails: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Plan, inspect and submit an inspection of the tenant's institution; returns the push
    result with the inspection id."""
    assignment = await new_assignment(
        client, await login("supervisor"), tenant.code, tenant.inspectors
    )
    record = await complete_inspection(
        client, tenant.inspector, assignment, fail=FAILS if fails is None else fails
    )
    response = await push(client, tenant.inspector, [record])
    assert response.status_code == 200, response.text
    return {**response.json()["results"][0], "assignment": assignment, "record": record}


async def notice_of(
    client: httpx.AsyncClient, headers: dict[str, str], inspection_id: str
) -> dict[str, Any]:
    """The detail of the notice issued for an inspection (looked up through the list)."""
    from backend.rectification.tables import RectificationNotice

    row = (
        await RectificationNotice.select(RectificationNotice.id)
        .where(RectificationNotice.inspection == inspection_id)
        .first()
    )
    assert row is not None, "no notice for the inspection"
    response = await client.get(f"/api/rectification/notices/{row['id']}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def upload_photo(
    client: httpx.AsyncClient, headers: dict[str, str], task_id: str, seed: int = 5
) -> httpx.Response:
    data = jpeg_bytes(seed)
    return await client.post(
        f"/api/rectification/tasks/{task_id}/photos",
        data={"id": str(uuid.uuid4()), "sha256": hashlib.sha256(data).hexdigest()},
        files={"file": ("p.jpg", data, "image/jpeg")},
        headers=headers,
    )


class RecordingNotifier:
    """A notifier that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    async def send(self, event: Any) -> None:
        self.events.append(event)
