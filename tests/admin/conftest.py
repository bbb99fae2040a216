"""Fixtures of the administration tests.

The database is shared by the whole run, so these tests keep to a city of their own (测试市,
with counties made per test) and to checklist ids of their own, which they remove again: nothing
here changes what other tests see of the demo city or of the shipped checklists.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

TEST_CITY = "379900"


@pytest.fixture(scope="session")
async def admin(login) -> dict[str, str]:
    """The demo admin's headers."""
    return await login("admin")


@pytest.fixture(scope="session")
async def test_city(client: httpx.AsyncClient, admin: dict[str, str]) -> str:
    """A city outside the demo data (code 379900), for the records these tests make."""
    response = await client.post(
        "/api/admin/regions",
        json={"code": TEST_CITY, "name": "测试市", "office_short_name": "测"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return TEST_CITY


@pytest.fixture
async def new_county(
    client: httpx.AsyncClient, admin: dict[str, str], test_city: str
) -> Callable[[], Awaitable[str]]:
    """``await new_county()`` makes an empty county of the test city and gives its code."""

    async def make() -> str:
        code = f"3799{uuid.uuid4().int % 10**6:06d}"
        response = await client.post(
            "/api/admin/regions",
            json={"code": code, "name": f"测试县{code[-4:]}", "office_short_name": f"测{code[-6:]}",
                  "parent_code": test_city},
            headers=admin,
        )
        assert response.status_code == 201, response.text
        return code

    return make


def unique_code(prefix: str = "T") -> str:
    """An institution code no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:12].upper()}"
