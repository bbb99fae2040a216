"""The browser test harness: a real ``yibao serve`` process and Debian's Chromium through Playwright.

Playwright's **async** API is used (the suite runs pytest-asyncio in auto mode on one session
loop), so browser tests are ``async def`` and every Playwright call is awaited.

Fixtures
--------
``pwa_server`` (session)
    A real server on a free port, fresh SQLite data folder, demo data. Attributes: ``base_url``,
    ``port``, ``data_dir``, ``pwa_dir``; ``query(sql, *params)`` reads the server's SQLite
    database (read-only) and returns rows as dicts; ``api(method, path, username=..., json=...)``
    calls the API over HTTP as a demo user (an ``httpx.Response``); ``output()`` what the server
    printed (its log file).
``start_server`` (session)
    A factory for more servers, e.g. ``await start_server(pwa_dir=copy)`` to serve a copy of
    ``pwa/`` (``YIBAO_PWA_DIR``); stopped at the end of the run.
``browser`` (session)
    Chromium (``/usr/bin/chromium``) headless, with the flags of docs/stack-notes.
``new_context`` (function)
    ``await new_context(viewport={"width": 800, "height": 1280}, base_url=...)`` — more contexts
    (service workers allowed, zh-CN); all closed after the test.
``context`` / ``page`` (function)
    A 1280×800 context on ``pwa_server`` and a page in it (not navigated yet).
``demo_password`` (session)
    The demo accounts' password.

Helpers (import from ``tests.pwa.conftest``)
--------------------------------------------
``await login(page, username)``
    Fills the login form (``#login-username``, ``#login-password``, ``#login-submit``) and waits
    until the session is stored in IndexedDB.
``await api_login(page, username)``
    Signs in through ``/js/api.js`` directly (no screens needed) on a page of the app.
``await wait_for_sw(page)``
    Waits until the service worker is active, activated and controls the page.
``await screenshot(page, name)``
    Saves ``artifacts/screenshots/{name}-{w}x{h}.png``.
``await wait_ready(page)``
    Waits for ``document.body.dataset.ready === "1"`` (set by app.js when the app is usable).

Without Chromium or the ``playwright`` package the whole folder is skipped with a message naming
what to install; with ``CI=true`` it fails instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli_helpers import YIBAO

CHROMIUM = os.environ.get("YIBAO_TEST_CHROMIUM", "/usr/bin/chromium")  # Debian's browser
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "artifacts"
DEFAULT_VIEWPORT = {"width": 1280, "height": 800}

_missing = [
    what
    for what, ok in (
        (
            "Debian package `chromium` (apt-get install --no-install-recommends chromium)",
            os.path.exists(CHROMIUM),
        ),
        (
            "Python package `playwright` (.venv/bin/pip install -e '.[dev]'; never `playwright install`)",
            importlib.util.find_spec("playwright") is not None,
        ),
    )
    if not ok
]
_MISSING_MESSAGE = "browser tests need: " + "; ".join(_missing)

if _missing and os.environ.get("CI", "").lower() == "true":
    raise pytest.UsageError(f"CI=true: {_MISSING_MESSAGE}")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not _missing:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=_MISSING_MESSAGE))


# --- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PwaServer:
    """A running ``yibao serve`` process (see the module docstring)."""

    base_url: str
    port: int
    data_dir: Path
    pwa_dir: Path
    proc: subprocess.Popen[str] = field(repr=False)
    log_path: Path | None = None
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "yibao.sqlite3"

    def query(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        """Rows of a read-only query on the server's SQLite database, as dicts."""
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    def token(self, username: str, *, fresh: bool = False) -> str:
        """An access token of a demo user (its own device id ``harness-{username}``)."""
        from backend.demo import demo_password

        if fresh or username not in self._tokens:
            response = httpx.post(
                f"{self.base_url}/api/auth/login",
                json={
                    "username": username,
                    "password": demo_password(),
                    "device_id": f"harness-{username}",
                },
                timeout=30,
            )
            assert response.status_code == 200, response.text
            self._tokens[username] = response.json()["access_token"]
        return self._tokens[username]

    def api(
        self, method: str, path: str, *, username: str = "admin", **kwargs: Any
    ) -> httpx.Response:
        """Call the API as a demo user (``json=``, ``params=``, ``headers=`` as for httpx)."""
        headers = {"Authorization": f"Bearer {self.token(username)}", **kwargs.pop("headers", {})}
        return httpx.request(
            method, f"{self.base_url}{path}", headers=headers, timeout=30, **kwargs
        )

    def output(self) -> str:
        """What the server printed so far."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> str:
        """Stop the server (SIGTERM, then kill) and return its output."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.output()


def _wait_healthy(server: PwaServer, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(f"server exited early:\n{server.stop()}")
        try:
            if httpx.get(f"{server.base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server did not become healthy in time:\n{server.stop()}")


def launch_server(data_dir: Path, pwa_dir: Path | None = None, **env: str) -> PwaServer:
    """Start ``yibao serve`` on a free port with a SQLite database in ``data_dir``."""
    port = _free_port()
    full_env = {
        **os.environ,
        "YIBAO_DATA_DIR": str(data_dir),
        "YIBAO_DEMO": "true",
        "YIBAO_LOG_LEVEL": "WARNING",
        "YIBAO_PWA_DIR": str(pwa_dir or REPO_ROOT / "pwa"),
        **env,
    }
    full_env.pop("YIBAO_DATABASE_URL", None)  # always SQLite: the test reads its file
    # Output to a file, not a pipe: a pipe nobody reads fills up and blocks the server.
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"server-{port}.log"
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [YIBAO, "serve", "--port", str(port)],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    server = PwaServer(
        base_url=f"http://127.0.0.1:{port}",
        port=port,
        data_dir=data_dir,
        pwa_dir=pwa_dir or REPO_ROOT / "pwa",
        proc=proc,
        log_path=log_path,
    )
    _wait_healthy(server)
    return server


@pytest.fixture(scope="session")
def start_server() -> Iterator[Callable[..., PwaServer]]:
    """``start_server(pwa_dir=None, **env)``: another server with its own fresh data folder."""
    started: list[PwaServer] = []
    roots: list[Path] = []

    def start(pwa_dir: Path | None = None, **env: str) -> PwaServer:
        root = Path(tempfile.mkdtemp(prefix="yibao-pwa-"))
        roots.append(root)
        server = launch_server(root / "data", pwa_dir, **env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pwa_server(start_server: Callable[..., PwaServer]) -> PwaServer:
    """The shared server of the browser tests (repo's pwa/, demo data, fresh SQLite)."""
    return start_server()


@pytest.fixture(scope="session")
def demo_password() -> str:
    """The password of every demo account."""
    from backend.demo import demo_password as password

    return password()


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def playwright_driver() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    driver = await async_playwright().start()
    yield driver
    await driver.stop()


@pytest.fixture(scope="session")
async def browser(playwright_driver: Any) -> AsyncIterator[Any]:
    """Debian's Chromium, headless."""
    instance = await playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield instance
    await instance.close()


@pytest.fixture
async def new_context(
    browser: Any, pwa_server: PwaServer
) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """``await new_context(**options)``: a fresh browser context (closed after the test)."""
    contexts: list[Any] = []

    async def make(**options: Any) -> Any:
        settings = {
            "viewport": DEFAULT_VIEWPORT,
            "service_workers": "allow",
            "locale": "zh-CN",
            "base_url": pwa_server.base_url,
            **options,
        }
        ctx = await browser.new_context(**settings)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        try:
            await ctx.close()
        except Exception:  # already closed by the test
            pass


@pytest.fixture
async def context(new_context: Callable[..., Awaitable[Any]]) -> Any:
    """A 1280×800 zh-CN context on ``pwa_server`` with service workers allowed."""
    return await new_context()


@pytest.fixture
async def page(context: Any) -> Any:
    """A page in ``context`` (not navigated yet: ``await page.goto("/")``)."""
    return await context.new_page()


# --- helpers ----------------------------------------------------------------------------------


async def wait_for_sw(page: Any, timeout: float = 20) -> None:
    """Wait until a service worker is active, ``activated`` and controls the page."""
    deadline = time.monotonic() + timeout
    state: Any = None
    while time.monotonic() < deadline:
        state = await page.evaluate(
            """async () => {
                const reg = await navigator.serviceWorker.getRegistration();
                return {
                  active: !!(reg && reg.active),
                  state: reg && reg.active ? reg.active.state : null,
                  controller: !!navigator.serviceWorker.controller,
                };
            }"""
        )
        if state["active"] and state["state"] == "activated" and state["controller"]:
            return
        await page.wait_for_timeout(100)
    raise AssertionError(f"service worker not in control after {timeout}s: {state}")


async def wait_ready(page: Any, timeout: float = 15_000) -> None:
    """Wait for the app's ready marker (``document.body.dataset.ready === "1"``)."""
    await page.wait_for_function(
        "() => document.body && document.body.dataset.ready === '1'", timeout=timeout
    )


async def stored_session(page: Any) -> Any:
    """The session kept in IndexedDB (meta ``session``), or None."""
    return await page.evaluate(
        "async () => (await (await import('/js/db.js')).getMeta('session')) || null"
    )


async def login(page: Any, username: str, password: str | None = None) -> None:
    """Sign in through the login screen and wait until the session is stored."""
    from backend.demo import demo_password

    await page.fill("#login-username", username)
    await page.fill("#login-password", password or demo_password())
    await page.click("#login-submit")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        current = await stored_session(page)
        if current and current.get("username") == username:
            return
        await page.wait_for_timeout(100)
    raise AssertionError(f"login as {username} did not store a session")


async def api_login(page: Any, username: str, password: str | None = None) -> dict[str, Any]:
    """Sign in through ``/js/api.js`` (no screens involved); the page must be on the app."""
    from backend.demo import demo_password

    return await page.evaluate(
        """async ([u, p]) => (await import('/js/api.js')).login(u, p)""",
        [username, password or demo_password()],
    )


async def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as ``artifacts/screenshots/{name}-{w}x{h}.png``."""
    size = page.viewport_size or DEFAULT_VIEWPORT
    path = ARTIFACTS / "screenshots" / f"{name}-{size['width']}x{size['height']}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path), full_page=True)
    return path
