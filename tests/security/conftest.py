"""Helpers of the security tests: an app with its own settings (limits, TLS, CORS)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

# The browser harness's fixtures (a real server, Chromium), for tests/security/test_csp_browser.py.
from tests.pwa.conftest import (  # noqa: F401
    browser,
    context,
    new_context,
    page,
    playwright_driver,
    pwa_server,
    start_server,
)

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def assert_chinese_refusal(response: httpx.Response, status: int | tuple[int, ...]) -> dict:
    """A refusal with the given status and the API's error shape, its ``detail`` in Chinese."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text)
    body = response.json()
    assert body["status_code"] == response.status_code
    assert CHINESE.search(body["detail"]), body
    return body


@pytest.fixture
def app_client(database: None) -> Callable[..., AsyncIterator[httpx.AsyncClient]]:
    """``async with app_client(tls=True) as http:`` a client on an app built with changed settings."""
    from backend.app import create_app
    from backend.settings import get_settings

    @asynccontextmanager
    async def make(**changes: object) -> AsyncIterator[httpx.AsyncClient]:
        settings = dataclasses.replace(get_settings(), **changes)
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

    return make
