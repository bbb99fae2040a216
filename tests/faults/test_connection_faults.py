"""Faults of the links around a real ``yibao serve``: PostgreSQL dropping the app's connections
under a sync load, and a tablet cutting its upload half-way.

The server is the one of the kill tests (``tests/inspections/test_sync_crash.py``): on SQLite a
fresh data folder of its own, on PostgreSQL the test database with two workers. On PostgreSQL its
connections carry an ``application_name`` so that the test terminates exactly those (not its own).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.inspections.helpers import answer, bundle_checklist, items_of, jpeg_bytes, now_iso
from tests.inspections.test_sync_crash import (
    ON_POSTGRES,
    Database,
    Server,
    _assignments,
    _drop,
    _json,
    _team,
)

APP_NAME = "yibao_fault_test"
DEVICE = "tablet-faults"
DB_DOWN = "数据库连接中断"


@pytest.fixture(scope="module")
def server(
    database: None, demo: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    instance = Server(tmp_path_factory.mktemp("fault-server"))
    if ON_POSTGRES:
        url = instance.env["YIBAO_DATABASE_URL"]
        instance.env["YIBAO_DATABASE_URL"] = f"{url}?application_name={APP_NAME}"
    try:
        instance.start()
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def db(server: Server) -> Iterator[Database]:
    reader = Database(server)
    try:
        yield reader
    finally:
        reader.close()


# --- 1. PostgreSQL drops the app's connections mid-load --------------------------------------------


async def _terminate_app_connections() -> int:
    """``pg_terminate_backend`` on every connection of the server (never the test's own)."""
    import asyncpg

    conn = await asyncpg.connect(os.environ["YIBAO_DATABASE_URL"])
    try:
        return await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND application_name = $1",
            APP_NAME,
        )
    finally:
        await conn.close()


def _drafts(checklist: dict[str, Any], assignments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One draft per assignment: every item answered, no photos (a draft may lack them)."""
    items = items_of(checklist["content"])
    return [
        {
            "id": str(uuid.uuid4()),
            "assignment_id": a["id"],
            "checklist_id": checklist["checklist_id"],
            "checklist_version": checklist["version"],
            "checklist_hash": checklist["content_hash"],
            "client_revision": 1,
            "client_updated_at": now_iso(),
            "started_at": now_iso(-600),
            "findings": [answer(item, "pass") for item in items],
        }
        for a in assignments
    ]


@pytest.mark.postgres_only
async def test_dropped_database_connections_answer_503_and_the_pool_recovers(
    database: None, server: Server, db: Database
) -> None:
    server.ensure_up()
    async with server.client() as http:
        a, team = await _team(server, http)
        assignments = await _assignments(server, http, team, 48)
        checklist = await bundle_checklist(http, a, assignments[0]["checklist"]["version_id"])
    drafts = _drafts(checklist, assignments)
    queue = list(drafts)
    answers: list[tuple[dict[str, Any], httpx.Response]] = []
    unavailable = 0
    load_done = asyncio.Event()

    async def tablet() -> None:
        async with server.client() as http:
            while queue:
                record = queue.pop()
                response = await http.post(
                    "/api/sync", json={"device_id": DEVICE, "inspections": [record]}, headers=a
                )
                answers.append((record, response))

    async def killer() -> int:
        rounds = 0
        deadline = time.monotonic() + 30
        while not load_done.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            rounds += 1 if await _terminate_app_connections() else 0
        return rounds

    async def load() -> None:
        try:
            await asyncio.gather(*(tablet() for _ in range(6)))
        finally:
            load_done.set()

    _, rounds = await asyncio.gather(load(), killer())
    assert rounds >= 3, "the connections were never terminated during the load"

    for _record, response in answers:
        # Stored, or refused as a fault to retry: never a 500.
        assert response.status_code in (200, 503), response.text
        if response.status_code == 503:
            unavailable += 1
            assert DB_DOWN in response.json()["detail"]
            assert int(response.headers["retry-after"]) > 0
    assert unavailable > 0, "no request met a dropped connection: the test proved nothing"

    # Every push answered 200 is stored whole.
    acknowledged = {r["assignment_id"]: r for r, response in answers if response.status_code == 200}
    stored = await db.inspections(list(acknowledged))
    for assignment_id, record in acknowledged.items():
        assert stored[assignment_id]["id"] == record["id"]
        assert stored[assignment_id]["findings"] == len(record["findings"])

    # The pool has recovered by itself: every request now succeeds, more of them at once than
    # a worker's pool holds (a leaked connection would make some of them hang or fail).
    refused = [r for r, response in answers if response.status_code != 200]
    async with server.client() as http:

        async def resend(record: dict[str, Any]) -> None:
            response = await http.post(
                "/api/sync", json={"device_id": DEVICE, "inspections": [record]}, headers=a
            )
            assert (await _json(response))["results"][0]["status"] in ("accepted", "unchanged")

        async def ask() -> None:
            await _json(await http.get("/api/auth/me", headers=a))

        await asyncio.wait_for(
            asyncio.gather(*(resend(r) for r in refused), *(ask() for _ in range(40))), 60
        )
    final = await db.inspections([r["assignment_id"] for r in drafts])
    assert {k: v["id"] for k, v in final.items()} == {r["assignment_id"]: r["id"] for r in drafts}
    assert all(v["findings"] == len(drafts[0]["findings"]) for v in final.values())


# --- 2. A tablet cuts its upload half-way --------------------------------------------------------


def _multipart(fields: dict[str, str], data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), boundary


def _temporary_files(server: Server) -> list[Path]:
    return list(server.data_dir.rglob("*.tmp")) if server.data_dir.exists() else []


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.97])
async def test_an_upload_cut_half_way_leaves_nothing(
    database: None, server: Server, db: Database, fraction: float
) -> None:
    server.ensure_up()
    async with server.client() as http:
        a, team = await _team(server, http)
        (assignment,) = await _assignments(server, http, team, 1)
    data = jpeg_bytes(int.from_bytes(os.urandom(2), "big"), size=(1200, 900))
    photo_id = str(uuid.uuid4())
    digest = hashlib.sha256(data).hexdigest()
    body, boundary = _multipart(
        {
            "id": photo_id,
            "sha256": digest,
            "assignment_id": assignment["id"],
            "inspection_id": str(uuid.uuid4()),
            "kind": "evidence",
            "item_id": "signage.complaint",
        },
        data,
    )
    head = (
        "POST /api/photos HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Authorization: {a['Authorization']}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode()
    log_before = len(server.log_tail(10**9))
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(head + body[: int(len(body) * fraction)])
    await asyncio.sleep(0.3)  # the server is waiting for the rest
    _drop(sock)
    await asyncio.sleep(0.5)  # and notices the link is gone

    assert await db.photos([photo_id]) == {}
    assert list(server.files_dir.rglob(f"*{digest}*")) == []
    assert _temporary_files(server) == []
    # A cut link is no error of the server's: nothing logged as one.
    assert "Traceback" not in server.log_tail(10**9)[log_before:]

    # The server is unharmed, and the tablet's retry is stored whole.
    async with server.client() as http:
        response = await http.post(
            "/api/photos",
            content=body,
            headers={**a, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert response.status_code == 201, response.text
    assert set(await db.photos([photo_id])) == {photo_id}
    assert len(list(server.files_dir.rglob(f"*{digest}*"))) == 2
    assert _temporary_files(server) == []
