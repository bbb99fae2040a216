"""Hostile input stopped at the door, before Litestar routes or decodes anything.

One ASGI wrapper around the whole application (:func:`install`) handles, by class rather than
case by case:

* **Request bodies that are not multipart uploads** (JSON, or anything claiming to be text) are
  read whole, up to ``YIBAO_MAX_JSON_BYTES``, and checked before any decoder sees them: nesting
  deeper than :data:`MAX_JSON_DEPTH` (a few thousand ``[`` once made the decoder recurse until
  ``RecursionError``), integers beyond what a browser can even write (:data:`MAX_INT_DIGITS`
  digits; a database column would overflow) and exponents like ``1e999``. A body declared
  longer than the limit is refused from its ``Content-Length`` without being read.
* **The NUL character** (``\u0000`` in a JSON string, ``%00`` in the path or the query), which
  no field of the API holds and PostgreSQL cannot store or compare: a text column given one made
  the driver fail, and the request answered 500.
* **OPTIONS** requests that are not CORS preflights handled by the CORS middleware are answered
  here with ``204`` and the path's ``Allow`` header: they never reach a route's guards (which
  once ran before authentication and answered 500).

Photos and form uploads (``multipart/form-data``) stream through untouched: their size is bounded
by Litestar's ``request_max_body_size`` and the photo checks.

Every refusal is a JSON body ``{"status_code", "detail"}`` with a Chinese ``detail``, like every
other error of the API, and goes through the app's ``send`` so it carries the security headers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.utils import normalize_path

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects accepted; the deepest real request (a sync push) has 4."""

MAX_INT_DIGITS = 16
"""Integers with more digits than this are refused (2**53, the largest integer a browser keeps
exactly, has 16): no column, count or id of the API needs more."""

DEFAULT_MAX_JSON_BYTES = 8 * 1024 * 1024
"""Largest JSON body: a sync push of 50 inspections with long notes stays far below."""

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STREAMED_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")

# A JSON string: possessive quantifiers keep the scan linear even on an unterminated string
# (written "unrolled": runs of plain bytes between escapes, the fastest form for long text).
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]++")
_PAIR = re.compile(rb"\[\]|\{\}")
# A run of more digits than an integer may have; it is refused unless it follows a decimal
# point (a long fraction is harmless). The run is matched from its first digit, so only the
# byte before it needs looking at (a look-behind at every byte cost more than the rest).
_LONG_DIGITS = re.compile(rb"\d{%d,}" % (MAX_INT_DIGITS + 1))
_BIG_EXPONENT = re.compile(rb"[eE][+-]?\d{3,}")
_DEEP_RUN = re.compile(rb"[\[{]{%d,}" % (MAX_JSON_DEPTH + 1))
# ``\u0000`` after an even number of backslashes (an odd number escapes the backslash itself,
# which is harmless text).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
NUL_MESSAGE = "请求数据中含有不允许的空字符（\\u0000）"


def json_body_problem(body: bytes) -> str | None:
    """What makes ``body`` unacceptable before decoding (a Chinese sentence), or ``None``.

    Malformed JSON that is not dangerous (truncated, a stray comma) passes: the decoder refuses
    it with its own 400. The cost is a few regular-expression passes in C over the body, at most
    :data:`MAX_JSON_DEPTH` of them over its brackets alone.
    """
    if b"\\u0000" in body and _NUL_ESCAPE.search(body):
        return NUL_MESSAGE
    outside_strings = _STRING.sub(b'""', body)
    if _BIG_EXPONENT.search(outside_strings) or any(
        run.start() == 0 or outside_strings[run.start() - 1] != ord(".")
        for run in _LONG_DIGITS.finditer(outside_strings)
    ):
        return f"请求数据中的数值过大（整数不能超过 {MAX_INT_DIGITS} 位）"
    brackets = _NOT_BRACKET.sub(b"", outside_strings)
    # Removing the innermost pairs once per level: pairs still left after MAX_JSON_DEPTH rounds
    # are nested deeper than allowed; a long run of openers left over is a deep unclosed (e.g.
    # truncated) nesting, which a recursive decoder would descend as well.
    for _ in range(MAX_JSON_DEPTH):
        reduced = _PAIR.sub(b"", brackets)
        if len(reduced) == len(brackets):
            break
        brackets = reduced
    if _PAIR.search(brackets) or _DEEP_RUN.search(brackets):
        return f"请求数据嵌套层数过多（最多 {MAX_JSON_DEPTH} 层）"
    return None


def _has_nul(query: bytes) -> bool:
    return b"\x00" in query or b"%00" in query


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


async def send_error(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    """Answer with the API's error shape: ``{"status_code": status, "detail": detail}``."""
    body = json.dumps({"status_code": status, "detail": detail}, ensure_ascii=False).encode()
    raw = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class HostileInputGuard:
    """The ASGI wrapper described in the module docstring."""

    def __init__(self, app: ASGIApp, litestar_app: Any, *, max_json_bytes: int, cors: bool) -> None:
        self.app = app
        self.litestar_app = litestar_app
        self.max_json_bytes = max_json_bytes
        self.cors = cors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or _has_nul(scope.get("query_string", b"")):
            await send_error(send, 400, NUL_MESSAGE)
            return
        method = scope["method"]
        if method == "OPTIONS" and not (self.cors and _header(scope, b"origin")):
            if await self._answer_options(scope, send):
                return
        elif method in _BODY_METHODS:
            content_type = _header(scope, b"content-type").lower()
            if not content_type.startswith(_STREAMED_TYPES):
                replay = await self._checked_body(scope, receive, send)
                if replay is None:
                    return
                receive = replay
        await self.app(scope, receive, send)

    async def _answer_options(self, scope: Scope, send: Send) -> bool:
        """204 with the path's allowed methods; ``False`` lets the app answer (404, 405)."""
        router = self.litestar_app.asgi_router
        try:
            _, handler, *_ = router.handle_routing(
                path=normalize_path(scope["path"]), method="OPTIONS"
            )
        except (NotFoundException, MethodNotAllowedException):
            return False
        # The handler Litestar made for OPTIONS answers with the path's methods; its guards and
        # dependencies are the part never run here.
        try:
            headers = handler.fn(scope).headers
            allow = next((v for k, v in headers.items() if k.lower() == "allow"), "OPTIONS")
        except Exception:  # a hand-written OPTIONS handler: let the app run it
            return False
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(b"allow", allow.encode())],
            }
        )
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return True

    async def _checked_body(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Read and check the body; a ``receive`` replaying it, or ``None`` when refused."""
        limit = self.max_json_bytes
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            await send_error(send, 413, _too_large(limit))
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return _replay([message], receive)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await send_error(send, 413, _too_large(limit))
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = json_body_problem(body) if body else None
        if problem:
            await send_error(send, 400, problem)
            return None
        return _replay([{"type": "http.request", "body": body, "more_body": False}], receive)


def _too_large(limit: int) -> str:
    return f"请求数据过大（不能超过 {limit // (1024 * 1024)} MB）"


def _replay(messages: list[dict[str, Any]], receive: Receive) -> Receive:
    """A ``receive`` giving back what was read, then what the server says next (a disconnect)."""
    pending = list(messages)

    async def replay() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def install(litestar_app: Any, *, max_json_bytes: int, cors: bool) -> None:
    """Put :class:`HostileInputGuard` around the whole app, outside routing and its middleware
    (Litestar calls ``asgi_handler`` with a ``send`` that already runs the ``before_send`` hooks)."""
    litestar_app.asgi_handler = HostileInputGuard(
        litestar_app.asgi_handler, litestar_app, max_json_bytes=max_json_bytes, cors=cors
    )
