"""Test configuration: one database per run, on the engine ``YIBAO_TEST_DB`` names.

``YIBAO_TEST_DB=sqlite`` (default) uses a fresh SQLite file in a temporary data folder;
``YIBAO_TEST_DB=postgres`` creates a fresh PostgreSQL database (from ``YIBAO_TEST_PG_ADMIN_URL``)
and drops it at the end. The settings are fixed here, before the backend is imported, because
the Piccolo engine is built from them at import time.

Tests that use the ``database`` fixture (directly or through another fixture) are marked ``db``:
``scripts/test`` runs the whole suite on SQLite, then ``-m db`` again on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

ENGINE = os.environ.get("YIBAO_TEST_DB", "sqlite")
_DATA_DIR = Path(tempfile.mkdtemp(prefix="yibao-test-"))
_PG_ADMIN_URL = os.environ.get(
    "YIBAO_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_PG_DB_NAME = f"yibao_test_{uuid.uuid4().hex[:10]}"

os.environ["YIBAO_DATA_DIR"] = str(_DATA_DIR)
os.environ["YIBAO_ENV"] = "development"
os.environ["YIBAO_SECRET_KEY"] = "test-secret-key-" + "x" * 32
os.environ.pop("YIBAO_DEMO", None)
os.environ["YIBAO_LOG_LEVEL"] = "WARNING"
# Tests log in far more often than a person; the limiter itself is tested with its own app.
os.environ["YIBAO_LOGIN_RATE_PER_MINUTE"] = "100000"
os.environ["PICCOLO_CONF"] = "backend.piccolo_conf"


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


if ENGINE == "postgres":
    base = _PG_ADMIN_URL.rsplit("/", 1)[0]
    os.environ["YIBAO_DATABASE_URL"] = f"{base}/{_PG_DB_NAME}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{_PG_DB_NAME}"'))
elif ENGINE == "sqlite":
    os.environ.pop("YIBAO_DATABASE_URL", None)
else:  # pragma: no cover
    raise RuntimeError(f"YIBAO_TEST_DB must be sqlite or postgres, not {ENGINE!r}")


def pytest_report_header() -> str:
    return f"yibao test database: {ENGINE} ({os.environ.get('YIBAO_DATABASE_URL', _DATA_DIR)})"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # PostgreSQL-only tests are deselected, not skipped, on SQLite: the PostgreSQL pass of
    # scripts/test runs them, and a skip would read as "not run" in CI's summary.
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        if "database" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
        if ENGINE != "postgres" and item.get_closest_marker("postgres_only"):
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def pytest_sessionfinish() -> None:
    shutil.rmtree(_DATA_DIR, ignore_errors=True)
    if ENGINE == "postgres":
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{_PG_DB_NAME}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The data folder of this test run."""
    return _DATA_DIR


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[None]:
    """A migrated database with the shipped checklists loaded, shared by the whole run."""
    from backend import db
    from backend.audit.services import Actor
    from backend.checklists.services import load_paths
    from backend.migrations import migrate
    from backend.settings import REPO_ROOT

    await db.start()
    await migrate()
    report = await load_paths([REPO_ROOT / "checklists"], Actor.system("tests"))
    assert report.ok, report.refused
    yield
    await db.stop()


@pytest.fixture
def repo_root() -> Iterator[Path]:
    from backend.settings import REPO_ROOT

    yield REPO_ROOT


@pytest.fixture(scope="session")
async def client(database: None) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the whole app: real routing, middleware and database, on the test loop.

    httpx's ASGI transport runs requests on this event loop (Litestar's AsyncTestClient would run
    the app on a thread of its own, where the database pool of this loop can't be used). It sends
    no lifespan events: the ``database`` fixture has opened the database the app's lifespan would
    open; the app's own start-up and shut-down are tested against a real server process.
    """
    from backend.app import create_app

    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture(scope="session")
async def demo(database: None) -> None:
    """The demo city, institutions, physicians, users and assignments."""
    from backend.demo import create_demo_data
    from backend.settings import get_settings

    await create_demo_data(get_settings())


@pytest.fixture(scope="session")
async def login(client: httpx.AsyncClient, demo: None):
    """``await login("inspector")`` gives the headers of a signed-in demo user (cached per user)."""
    from backend.demo import demo_password

    cache: dict[str, dict[str, str]] = {}

    async def headers(username: str, password: str | None = None) -> dict[str, str]:
        if password is None and username in cache:
            return cache[username]
        response = await client.post(
            "/api/auth/login",
            json={"username": username, "password": password or demo_password(),
                  "device_id": f"test-{username}"},
        )
        assert response.status_code == 200, response.text
        value = {"Authorization": f"Bearer {response.json()['access_token']}"}
        if password is None:
            cache[username] = value
        return value

    return headers
