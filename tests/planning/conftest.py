"""Fixtures of the planning tests.

The database is shared by the whole run, so these tests keep to a city of their own (抽查市,
379800, with two counties) and to inspectors and institutions of their own: draws and plans made
here never touch the demo city. Users get the demo password, so ``login(username)`` works.

    抽查市 379800: inspectors dr.c1, dr.c2 (city level); supervisor sup.draw
    ├─ 甲县 379801: inspectors dr.a1, dr.a2, dr.a3 (disabled); supervisor sup.draw.a
    │     pharmacies Q37980100001–06, clinics Q37980100011–12, a suspended pharmacy Q37980100099
    └─ 乙县 379802: inspector dr.b1; pharmacies Q37980200001–04
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from backend.accounts.passwords import hash_password_async
from backend.accounts.tables import User
from backend.demo import demo_password
from backend.institutions.tables import Institution, Region

PHONE = "0631-5999888"  # every test institution's contact phone: never published


@dataclass
class DrawWorld:
    city: str
    county_a: str
    county_b: str
    institutions: dict[str, dict[str, Any]]  # code → row
    inspectors: dict[str, dict[str, Any]]  # username → row

    def codes(self, prefix: str) -> list[str]:
        return sorted(c for c in self.institutions if c.startswith(prefix))


@pytest.fixture(scope="session")
async def draw_world(demo: None) -> DrawWorld:
    existing = await Region.select(Region.id).where(Region.code == "379800").first()
    if existing is None:
        city = Region(code="379800", name="抽查市", office_short_name="抽")
        await city.save()
        a = Region(code="379801", name="甲县", office_short_name="甲", parent=city.id)
        b = Region(code="379802", name="乙县", office_short_name="乙", parent=city.id)
        await a.save()
        await b.save()
        rows = []
        for n in range(1, 7):
            rows.append(
                Institution(
                    code=f"Q37980100{n:03d}",
                    name=f"甲县第{n}药店",
                    type="pharmacy",
                    region=a.id,
                    contact_phone=PHONE,
                    address=f"甲县{n}号",
                )
            )
        for n in (11, 12):
            rows.append(
                Institution(
                    code=f"Q37980100{n:03d}",
                    name=f"甲县第{n}诊所",
                    type="clinic",
                    region=a.id,
                    contact_phone=PHONE,
                )
            )
        rows.append(
            Institution(
                code="Q37980100099",
                name="甲县中止药店",
                type="pharmacy",
                region=a.id,
                agreement_status="suspended",
                contact_phone=PHONE,
            )
        )
        for n in range(1, 5):
            rows.append(
                Institution(
                    code=f"Q37980200{n:03d}",
                    name=f"乙县第{n}药店",
                    type="pharmacy",
                    region=b.id,
                    contact_phone=PHONE,
                )
            )
        await Institution.insert(*rows)
        password = await hash_password_async(demo_password())
        users = [
            ("dr.c1", "城一", "inspector", city.id, True),
            ("dr.c2", "城二", "inspector", city.id, True),
            ("dr.a1", "甲一", "inspector", a.id, True),
            ("dr.a2", "甲二", "inspector", a.id, True),
            ("dr.a3", "甲三（停用）", "inspector", a.id, False),
            ("dr.b1", "乙一", "inspector", b.id, True),
            ("sup.draw", "抽查市监管", "supervisor", city.id, True),
            ("sup.draw.a", "甲县监管", "supervisor", a.id, True),
        ]
        await User.insert(
            *[
                User(
                    username=u,
                    display_name=d,
                    role=r,
                    region=reg,
                    is_active=act,
                    password_hash=password,
                    phone="13800000000",
                )
                for u, d, r, reg, act in users
            ]
        )
    institutions = {
        r["code"]: r for r in await Institution.select().where(Institution.code.like("Q3798%"))
    }
    inspectors = {
        r["username"]: r
        for r in await User.select(User.id, User.username, User.display_name, User.region).where(
            User.username.like("dr.%")
        )
    }
    return DrawWorld("379800", "379801", "379802", institutions, inspectors)


def body(**extra: Any) -> dict[str, Any]:
    """A draw request over 甲县's pharmacies, overridable."""
    return {
        "region": "379801",
        "institution_types": ["pharmacy"],
        "agreement_status": ["normal"],
        "not_inspected_since": None,
        "count": 3,
        "proportion": None,
        "seed": "2026-Q3-甲县",
        "window_start": "2027-07-01",
        "window_end": "2027-07-31",
        "title": "2027年第三季度甲县定点零售药店双随机抽查",
        **extra,
    }


@pytest.fixture
async def world(draw_world: DrawWorld) -> DrawWorld:
    """The test city with no relation (回避) recorded: each test records its own."""
    from backend.planning.tables import InspectorRelation

    ids = [r["id"] for r in draw_world.institutions.values()]
    await InspectorRelation.delete().where(InspectorRelation.institution.is_in(ids))
    return draw_world
