"""Security headers, CORS and the API page's own policy: one place for what every response says
to the browser about what it may do with it.

Every response (the app's files, the API, the printable documents, the public verification and
draw pages, errors and 404s alike) carries:

* ``Content-Security-Policy``: scripts only from this origin, never inline or ``eval``. The one
  inline handler the printable documents use, ``onclick="window.print()"``, is allowed by its
  hash (``'unsafe-hashes'`` admits exactly that handler text, nothing else). Styles may be inline
  (``style-src 'self' 'unsafe-inline'``): the documents lay out A4 pages with ``<style>`` and
  computed font sizes, and a document the app opens in a new tab (a ``blob:`` URL) inherits the
  app's policy; a style cannot run code. ``frame-ancestors 'none'``: no page can be framed.
* ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (for old browsers),
  ``Referrer-Policy: no-referrer`` (verification links carry a token in their path),
  ``Permissions-Policy`` allowing the camera (QR scanning, photos) to this origin only.
* ``Strict-Transport-Security`` only when ``YIBAO_TLS=true`` says the app is reached over HTTPS
  (sent over plain HTTP it would be ignored at best, lock users out of a misconfigured site at
  worst).

CORS is closed (no ``Access-Control-Allow-*`` header at all) unless ``YIBAO_CORS_ORIGINS`` lists
origins; the PWA is served from the API's own origin and needs none.

The OpenAPI page at ``/schema`` is rendered without its inline start-up script (see
:class:`LocalSwaggerPlugin`) so that it runs under the same script policy.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from litestar.config.cors import CORSConfig
from litestar.connection import Request
from litestar.openapi.plugins import SwaggerRenderPlugin

from backend.settings import Settings

PRINT_HANDLER = "window.print()"
"""The only inline script text the documents carry (their 打印 button)."""


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def content_security_policy(*, swagger: bool = False) -> str:
    """The policy of the app and its documents, or of the OpenAPI page (``swagger=True``)."""
    scripts = "'self'" if swagger else f"'self' 'unsafe-hashes' '{_sha256(PRINT_HANDLER)}'"
    directives = [
        "default-src 'self'",
        f"script-src {scripts}",
        "script-src-attr " + ("'none'" if swagger else f"'unsafe-hashes' '{_sha256(PRINT_HANDLER)}'"),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


PERMISSIONS_POLICY = (
    "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), "
    "serial=(), bluetooth=(), display-capture=()"
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(settings: Settings) -> dict[str, str]:
    """The headers added to every response (the CSP is chosen per path, see :func:`hook`)."""
    headers = {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "permissions-policy": PERMISSIONS_POLICY,
    }
    if settings.tls:
        headers["strict-transport-security"] = HSTS
    return headers


def before_send_hook(settings: Settings) -> Any:
    """A Litestar ``before_send`` hook adding the headers to every response start, without
    replacing any header a handler set itself."""
    common = [(k.encode(), v.encode()) for k, v in security_headers(settings).items()]
    app_csp = content_security_policy().encode()
    swagger_csp = content_security_policy(swagger=True).encode()

    async def add_headers(message: dict[str, Any], scope: dict[str, Any]) -> None:
        if message["type"] != "http.response.start":
            return
        headers: list[tuple[bytes, bytes]] = list(message.get("headers") or [])
        present = {name.lower() for name, _ in headers}
        path = scope.get("path", "")
        csp = swagger_csp if path == "/schema" or path.startswith("/schema/") else app_csp
        for name, value in [*common, (b"content-security-policy", csp)]:
            if name not in present:
                headers.append((name, value))
        message["headers"] = headers

    return add_headers


def cors_config(settings: Settings) -> CORSConfig | None:
    """CORS for the configured origins only; ``None`` (closed) when none are configured."""
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        allow_credentials=False,
        max_age=600,
    )


class LocalSwaggerPlugin(SwaggerRenderPlugin):
    """Swagger UI without inline script: the page loads ``/_assets/swagger-init.js``, which
    fetches the schema from ``/schema/openapi.json``."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = openapi_schema["info"]["title"]
        return (
            "<!DOCTYPE html><html><head>"
            f"<title>{title}</title>{self.favicon}"
            '<meta charset="utf-8"/>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link href="{self.css_url}" rel="stylesheet">'
            f'<script src="{self.js_url}"></script>'
            f'<script src="{self.standalone_preset_js_url}"></script>'
            "</head><body><div id='swagger-container'></div>"
            '<script src="/_assets/swagger-init.js"></script>'
            "</body></html>"
        ).encode()
