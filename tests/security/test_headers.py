"""Security headers on every kind of response; HSTS and CORS only when configured."""

from __future__ import annotations

import pytest

from backend.security import PERMISSIONS_POLICY

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "permissions-policy": PERMISSIONS_POLICY,
}


def directives(csp: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_secure(response) -> dict[str, list[str]]:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (response.request.url, name, response.headers)
    assert "strict-transport-security" not in response.headers
    assert "access-control-allow-origin" not in response.headers
    policy = directives(response.headers["content-security-policy"])
    for key in ("script-src", "default-src"):
        assert "'unsafe-inline'" not in policy[key] and "'unsafe-eval'" not in policy[key]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    return policy


async def test_every_kind_of_response_carries_the_headers(client, login) -> None:
    admin = await login("admin")
    responses = {
        "app shell": await client.get("/"),
        "app script": await client.get("/js/app.js"),
        "service worker": await client.get("/sw.js"),
        "API": await client.get("/api/auth/me", headers=admin),
        "API refusal": await client.get("/api/auth/me"),
        "unknown route": await client.get("/api/nothing"),
        "public verification page": await client.get("/verify/not-a-real-token"),
        "public verification JSON": await client.get("/api/public/notices/verify/not-a-real-token"),
        "public draw page": await client.get("/public/draws/not-a-draw"),
        "health": await client.get("/health"),
        "OPTIONS": await client.options("/api/admin/users"),
        "hostile body": await client.post("/api/auth/login", content=b"[" * 999),
    }
    for name, response in responses.items():
        assert response.status_code < 500, (name, response.status_code)
        policy = assert_secure(response)
        assert policy["script-src"][0] == "'self'", name


async def test_the_camera_is_for_the_apps_own_origin_only(client) -> None:
    value = (await client.get("/")).headers["permissions-policy"]
    assert "camera=(self)" in value and "microphone=()" in value and "geolocation=()" in value


async def test_documents_allow_only_the_print_button_inline(client) -> None:
    """The printable documents' 打印 button is allowed by its hash, nothing else inline."""
    import base64
    import hashlib

    policy = directives((await client.get("/")).headers["content-security-policy"])
    digest = base64.b64encode(hashlib.sha256(b"window.print()").digest()).decode()
    assert policy["script-src"] == ["'self'", "'unsafe-hashes'", f"'sha256-{digest}'"]


async def test_the_api_page_runs_without_inline_script(client) -> None:
    page = await client.get("/schema")
    assert page.status_code == 200
    policy = assert_secure(page)
    assert policy["script-src"] == ["'self'"]
    html = page.text
    assert "<script>" not in html and "<script type" not in html
    assert html.count("<script src=") == 3 and "/_assets/swagger-init.js" in html
    assert (await client.get("/_assets/swagger-init.js")).status_code == 200


async def test_hsts_only_when_served_over_tls(app_client) -> None:
    async with app_client(tls=True) as http:
        for path in ("/", "/api/nothing", "/health"):
            value = (await http.get(path)).headers.get("strict-transport-security")
            assert value and "max-age=31536000" in value


async def test_cors_is_closed_unless_configured(client) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization"}
    response = await client.options("/api/auth/login", headers=preflight)
    assert "access-control-allow-origin" not in response.headers
    response = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


async def test_cors_opens_to_the_configured_origins_only(app_client) -> None:
    async with app_client(cors_origins=("https://bureau.example",)) as http:
        ok = await http.options(
            "/api/auth/login",
            headers={"Origin": "https://bureau.example", "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "authorization, content-type"},
        )
        assert ok.status_code in (200, 204), ok.text
        assert ok.headers["access-control-allow-origin"] == "https://bureau.example"
        assert "content-security-policy" in ok.headers
        other = await http.options(
            "/api/auth/login",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"
        simple = await http.get("/health", headers={"Origin": "https://bureau.example"})
        assert simple.headers["access-control-allow-origin"] == "https://bureau.example"
        # Without an Origin, OPTIONS is still answered before any guard.
        assert (await http.options("/api/admin/users")).status_code == 204


@pytest.mark.parametrize("path", ["/api/rectification/notices/{id}/document"])
async def test_a_notice_document_carries_the_headers(client, login, path) -> None:
    supervisor = await login("supervisor")
    notices = (await client.get("/api/rectification/notices", headers=supervisor)).json()
    items = notices["items"] if isinstance(notices, dict) else notices
    assert items, notices
    response = await client.get(path.format(id=items[0]["id"]), headers=supervisor)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert_secure(response)
