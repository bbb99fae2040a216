"""A city of its own for the tracking tests: two counties, institutions, supervisors and
inspectors, and inspections submitted through the real sync API, so that the dashboard's numbers
can be checked against counts computed here."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from backend.inspections.tables import Inspection
from backend.institutions.tables import Institution, InstitutionType, Region
from backend.rectification.tables import RectificationNotice, RectificationTask
from tests.inspections.helpers import complete_inspection, new_assignment, push, user_id

PASSWORD = "a-good-password"
# Failed items of the pharmacy checklist, by how badly an inspection goes.
MILD = {"signage.complaint": {"note": "未公示监督举报电话"}}
BAD = {
    "price-posting.price-tags": {"occurrences": 3, "note": "=HYPERLINK(\"http://x\")"},
    "records.rx-retention": {"sampled": 20, "failed": 2},
    "signage.complaint": {"note": "未公示"},
}
CRITICAL = {**MILD, "management.cooperation": {"note": "拒不配合检查"}}


@dataclass
class City:
    """The test city: region codes, institutions by county and the users' headers."""

    city: str
    counties: dict[str, str]  # "a"/"b" -> region code
    institutions: dict[str, list[dict[str, Any]]]  # county key -> rows (id, code, name, type)
    headers: dict[str, dict[str, str]]  # "city", "a", "b" supervisors; "ia", "ib" inspectors
    inspectors: dict[str, list[str]]  # county key -> inspector ids
    inspections: list[str] = field(default_factory=list)

    def all_institutions(self) -> list[dict[str, Any]]:
        return [i for rows in self.institutions.values() for i in rows]


async def _user(client: httpx.AsyncClient, admin: dict[str, str], login, role: str, region: str) -> dict[str, str]:
    username = f"{role[:3]}{uuid.uuid4().hex[:8]}"
    response = await client.post(
        "/api/admin/users",
        json={"username": username, "password": PASSWORD, "role": role, "region_code": region,
              "display_name": f"测试{role}"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return await login(username, PASSWORD)


async def make_city(client: httpx.AsyncClient, login) -> City:
    """Create the regions, institutions and users (no inspections yet)."""
    base = random.randint(10, 99)
    city_code = f"9{base}{random.randint(100, 999)}"[:6]
    while await Region.exists().where(Region.code == city_code):
        city_code = f"9{random.randint(10000, 99999)}"
    # The office short name is in every notice number: unique, like the city code.
    city = Region(code=city_code, name=f"测试市{city_code}", office_short_name=f"测{city_code}")
    await city.save()
    counties: dict[str, str] = {}
    institutions: dict[str, list[dict[str, Any]]] = {}
    for key, n in (("a", 1), ("b", 2)):
        code = f"{city_code}{n}"
        county = Region(code=code, name=f"测试{key.upper()}区", office_short_name=f"测{key}", parent=city.id)
        await county.save()
        counties[key] = code
        rows = []
        kinds = [InstitutionType.pharmacy] * 3 + [InstitutionType.hospital] if key == "a" else [InstitutionType.pharmacy] * 2
        for m, kind in enumerate(kinds):
            inst = Institution(
                code=f"Z{code}{m:02d}{uuid.uuid4().hex[:4].upper()}",
                name=f"测试{key.upper()}区{'大药房' if kind == InstitutionType.pharmacy else '医院'}{m}号",
                type=kind.value,
                region=county.id,
            )
            await inst.save()
            rows.append({"id": str(inst.id), "code": inst.code, "name": inst.name, "type": kind.value})
        institutions[key] = rows
    admin = await login("admin")
    headers = {
        "city": await _user(client, admin, login, "supervisor", city_code),
        "a": await _user(client, admin, login, "supervisor", counties["a"]),
        "b": await _user(client, admin, login, "supervisor", counties["b"]),
    }
    inspectors: dict[str, list[str]] = {}
    for key in ("a", "b"):
        pair = [await _user(client, admin, login, "inspector", counties[key]) for _ in range(2)]
        headers[f"i{key}"] = pair[0]
        inspectors[key] = [await user_id(client, h) for h in pair]
    return City(city_code, counties, institutions, headers, inspectors)


async def inspect(client: httpx.AsyncClient, world: City, county: str, inst: dict[str, Any],
                  fail: dict[str, dict[str, Any]]) -> str:
    """Plan, inspect and submit an inspection of ``inst``; returns the inspection id."""
    assignment = await new_assignment(client, world.headers["city"], inst["code"], world.inspectors[county])
    record = await complete_inspection(client, world.headers[f"i{county}"], assignment, fail=fail)
    response = await push(client, world.headers[f"i{county}"], [record])
    assert response.status_code == 200, response.text
    world.inspections.append(record["id"])
    return record["id"]


async def grades_of(ids: list[str]) -> list[str]:
    rows = await Inspection.select(Inspection.grade).where(Inspection.id.is_in(ids))
    return [r["grade"] for r in rows]


async def tasks_of(ids: list[str]) -> list[dict[str, Any]]:
    notices = await RectificationNotice.select(RectificationNotice.id).where(
        RectificationNotice.inspection.is_in(ids)
    )
    if not notices:
        return []
    return await RectificationTask.select().where(
        RectificationTask.notice.is_in([n["id"] for n in notices])
    )


async def backdate_deadline(task_id: Any, days: int) -> None:
    """Move a task's deadline ``days`` into the past (time passing, for the overdue counts)."""
    from backend.china_time import today_in_china

    await RectificationTask.update(
        {RectificationTask.deadline: today_in_china() - timedelta(days=days)}
    ).where(RectificationTask.id == task_id)
