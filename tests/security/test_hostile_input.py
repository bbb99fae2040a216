"""Hostile input, by class: each answers a 4xx with a Chinese ``detail`` and stores nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from backend.http_limits import MAX_JSON_DEPTH, json_body_problem
from tests.inspections.helpers import complete_inspection, new_assignment, push, user_id
from tests.security.conftest import assert_chinese_refusal

PHARMACY = "P37100200001"
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
async def draft(client: httpx.AsyncClient, login) -> tuple[dict, dict]:
    """A valid draft push of a fresh assignment, and the inspector's headers."""
    inspector = await login("inspector")
    team = [await user_id(client, inspector), await user_id(client, await login("inspector2"))]
    assignment = await new_assignment(client, await login("supervisor"), PHARMACY, team)
    record = await complete_inspection(client, inspector, assignment, submit=False)
    return record, inspector


async def _stored(client: httpx.AsyncClient, headers: dict, inspection_id: str) -> bool:
    response = await client.get(f"/api/inspections/{inspection_id}", headers=headers)
    return response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000,
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b'{"device_id": "t", "inspections": ' + b"[" * 3000,
    ],
    ids=["open-arrays", "closed-arrays", "objects", "inside-a-push"],
)
async def test_deep_nesting_is_a_400_not_a_recursion_error(client, login, body) -> None:
    inspector = await login("inspector")
    response = await client.post("/api/sync", content=body, headers={**inspector, **JSON})
    detail = assert_chinese_refusal(response, 400)["detail"]
    assert "嵌套" in detail
    # Also refused on a public route and before authentication.
    assert_chinese_refusal(await client.post("/api/auth/login", content=body, headers=JSON), 400)


def test_the_depth_check_lets_real_json_through() -> None:
    deep_ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json_body_problem(deep_ok.encode()) is None
    assert json_body_problem(("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)).encode())
    # Brackets, digits and quotes inside strings are text, not structure.
    text = json.dumps({"note": "[" * 500 + "12345678901234567890" + '"{'}, ensure_ascii=False)
    assert json_body_problem(text.encode()) is None
    assert json_body_problem(b'{"x": 0.30000000000000004, "y": -12.5e-3}') is None


async def test_numbers_beyond_any_column_are_refused(client, draft) -> None:
    record, inspector = draft
    huge = json.loads(json.dumps(record))
    huge["id"] = str(uuid.uuid4())
    huge["findings"][0]["occurrences"] = 10**30
    response = await client.post(
        "/api/sync", content=json.dumps({"device_id": "t", "inspections": [huge]}),
        headers={**inspector, **JSON},
    )
    assert "数值过大" in assert_chinese_refusal(response, 400)["detail"]
    for exponent in (b"1e999", b"-1E+400"):
        body = json.dumps({"device_id": "t", "inspections": [huge]}).encode().replace(
            b'"occurrences": ' + str(10**30).encode(), b'"occurrences": ' + exponent
        )
        assert_chinese_refusal(
            await client.post("/api/sync", content=body, headers={**inspector, **JSON}), 400
        )
    assert not await _stored(client, inspector, huge["id"])


@pytest.mark.parametrize(
    "field,value",
    [("occurrences", 10**12), ("sampled", 100_001), ("failed", -(10**9)), ("client_revision", 2**40)],
)
async def test_every_count_is_bounded_by_the_schema(client, draft, field, value) -> None:
    record, inspector = draft
    bad = json.loads(json.dumps(record))
    bad["id"] = str(uuid.uuid4())
    bad["findings"][0][field] = value
    response = await push(client, inspector, [bad])
    assert_chinese_refusal(response, 400)
    assert field in json.dumps(response.json().get("extra"))
    assert not await _stored(client, inspector, bad["id"])


@pytest.mark.parametrize("where", ["inspection", "finding", "started_at"])
async def test_times_without_a_time_zone_are_refused(client, draft, where) -> None:
    record, inspector = draft
    bad = json.loads(json.dumps(record))
    bad["id"] = str(uuid.uuid4())
    naive = "2026-01-01T10:00:00"
    if where == "inspection":
        bad["client_updated_at"] = naive
    elif where == "finding":
        bad["findings"][0]["client_updated_at"] = naive
    else:
        bad["started_at"] = naive
    response = await push(client, inspector, [bad])
    assert_chinese_refusal(response, 400)
    assert not await _stored(client, inspector, bad["id"])


async def test_a_well_formed_push_still_reaches_the_sync(client, draft) -> None:
    """The checks at the door refuse nothing a tablet sends: the push gets its per-record answer
    (the sync's own rules, not the door, decide whether the record is kept)."""
    record, inspector = draft
    response = await push(client, inspector, [record])
    assert response.status_code in (200, 207, 422), response.text
    assert response.json()["results"][0]["id"] == record["id"]


@pytest.mark.parametrize(
    "body",
    [b'{"device_id":"t","inspe', b'{"device_id": "t", "inspections": [{"id": ', b"\xff\xfe\x00", b"", b"null"],
    ids=["truncated-key", "truncated-value", "not-utf8", "empty", "null"],
)
async def test_truncated_or_garbled_bodies_are_a_chinese_400(client, login, body) -> None:
    inspector = await login("inspector")
    response = await client.post("/api/sync", content=body, headers={**inspector, **JSON})
    assert_chinese_refusal(response, 400)


async def test_a_json_body_beyond_the_limit_is_a_413(app_client, login) -> None:
    async with app_client(max_json_bytes=64 * 1024) as http:
        body = json.dumps({"username": "x" * 100_000, "password": "p"}).encode()
        response = await http.post("/api/auth/login", content=body, headers=JSON)
        assert "过大" in assert_chinese_refusal(response, 413)["detail"]

        async def chunks():  # no Content-Length: counted while read
            for _ in range(10):
                yield b" " * 10_000

        response = await http.post("/api/auth/login", content=chunks(), headers=JSON)
        assert_chinese_refusal(response, 413)


@pytest.mark.parametrize(
    "path",
    ["/api/admin/users", "/api/admin/audit", "/api/admin/checklists", "/api/sync", "/api/assignments"],
)
async def test_options_never_reaches_a_guard(client, path) -> None:
    response = await client.options(path)  # no token, no Origin
    assert response.status_code == 204, response.text
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert "OPTIONS" in allowed and allowed & {"GET", "POST"}, allowed
    assert response.content == b""


async def test_unknown_methods_and_routes_answer_in_chinese(client, login) -> None:
    admin = await login("admin")
    assert_chinese_refusal(await client.request("PROPFIND", "/api/admin/users"), 405)
    assert_chinese_refusal(await client.request("PROPFIND", "/api/admin/users", headers=admin), 405)
    assert_chinese_refusal(await client.delete("/api/auth/login"), 405)
    assert_chinese_refusal(await client.options("/api/no/such/route"), 404)
    assert_chinese_refusal(await client.get("/api/no/such/route", headers=admin), 404)
    # A form where JSON is expected.
    response = await client.post(
        "/api/auth/login", content=b"username=a&password=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_chinese_refusal(response, (400, 415))


async def test_litestars_english_defaults_never_reach_a_user(client, login) -> None:
    """The status-code messages Litestar writes itself are replaced, whatever the route."""
    admin = await login("admin")
    english = ("Not Found", "Method Not Allowed", "Bad Request", "Internal Server Error",
               "Request Entity Too Large", "Unsupported Media Type", "Malformed")
    responses = [
        await client.get("/api/nothing-here"),
        await client.put("/api/sync", headers=admin),
        await client.post("/api/sync", content=b"{", headers={**admin, **JSON}),
        await client.post("/api/photos", content=b"x", headers={**admin, "content-type": "image/png"}),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500, response.text
        assert not any(word in response.text for word in english), response.text
        assert_chinese_refusal(response, response.status_code)


async def test_other_times_without_a_zone_never_crash(client, login) -> None:
    manager = await login("manager")
    naive = "2026-01-01T10:00:00"
    response = await client.post("/api/rectification/updates/seen", json={"at": naive}, headers=manager)
    assert_chinese_refusal(response, 400)
    response = await client.get("/api/rectification/updates", params={"since": naive}, headers=manager)
    assert response.status_code < 500, response.text


async def test_a_since_without_a_zone_is_refused_in_chinese(client, login) -> None:
    """A time in a query parameter needs its zone too: the tablet's 08:00 is the server's 00:00."""
    manager = await login("manager")
    for naive in ("2026-01-01T10:00:00", "2026-01-01T10:00:00.250"):
        response = await client.get("/api/rectification/updates", params={"since": naive}, headers=manager)
        assert "时区" in assert_chinese_refusal(response, 400)["detail"]
    for garbled in ("2026-01-01 10:00", "yesterday"):
        response = await client.get("/api/rectification/updates", params={"since": garbled}, headers=manager)
        assert_chinese_refusal(response, 400)
    for aware in ("2026-01-01T10:00:00+08:00", "2026-01-01T02:00:00Z"):
        response = await client.get("/api/rectification/updates", params={"since": aware}, headers=manager)
        assert response.status_code == 200, response.text
        echoed = datetime.fromisoformat(response.json()["since"].replace("Z", "+00:00"))
        assert echoed == datetime(2026, 1, 1, 2, tzinfo=UTC)


async def test_the_nul_character_is_refused_wherever_it_comes(client, login) -> None:
    """PostgreSQL can neither store nor compare a NUL: an institution named with one answered
    500 there. Refused at the door in a JSON body, a path or a query; nothing is stored."""
    admin = await login("admin")
    code = f"P{uuid.uuid4().hex[:10].upper()}"
    body = {"code": code, "name": "空\u0000字符药房", "type": "pharmacy", "region_code": "371002"}
    response = await client.post("/api/admin/institutions", json=body, headers=admin)
    assert "空字符" in assert_chinese_refusal(response, 400)["detail"]
    response = await client.get(f"/api/institutions/{code}%00", headers=admin)
    assert "空字符" in assert_chinese_refusal(response, 400)["detail"]
    response = await client.get("/api/institutions", params={"q": "a\u0000"}, headers=admin)
    assert "空字符" in assert_chinese_refusal(response, 400)["detail"]
    listed = await client.get("/api/institutions", params={"q": code}, headers=admin)
    assert listed.status_code == 200 and listed.json()["items"] == []
    # An escaped backslash before "u0000" is text, not a NUL.
    text = json.dumps({**body, "name": "反斜杠\\u0000药房"}).encode()
    assert json_body_problem(text) is None
    created = await client.post("/api/admin/institutions", content=text, headers={**admin, **JSON})
    assert created.status_code == 201 and created.json()["name"] == "反斜杠\\u0000药房"
