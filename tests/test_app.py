"""The app skeleton over HTTP: health, the OpenAPI document and its page, the static app."""

from __future__ import annotations

import httpx


async def test_health_reports_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database_ok"] is True
    assert body["database"] in {"sqlite", "postgresql"}


async def test_openapi_json_describes_the_api(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert "/health" in doc["paths"]
    assert doc["info"]["title"]


async def test_schema_page_uses_only_local_assets(client: httpx.AsyncClient) -> None:
    page = await client.get("/schema")
    assert page.status_code == 200
    assert "swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        response = await client.get(f"/_assets/swagger-ui/{asset}")
        assert response.status_code == 200, asset
        assert len(response.content) > 10_000


async def test_root_serves_the_app_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "医保" in response.text


async def test_unknown_api_path_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/does-not-exist")
    assert response.status_code == 404
