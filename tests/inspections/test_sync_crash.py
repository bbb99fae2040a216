"""A real ``yibao serve`` process cut off and killed mid-work: nothing is half-stored, retries mend.

On SQLite the server gets a fresh data folder of its own (it migrates and creates the demo data
itself) and the test reads its database file with the stdlib ``sqlite3`` module, read-only. On
PostgreSQL it serves the test database (two workers, killed as a process group) and the test reads
it through the Piccolo tables. One server per module, restarted after each kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from backend.demo import demo_password
from tests.cli_helpers import YIBAO
from tests.inspections.helpers import (
    answer,
    bundle_checklist,
    complete_inspection,
    items_of,
    jpeg_bytes,
    now_iso,
    signature_png,
    upload,
)

ON_POSTGRES = "YIBAO_DATABASE_URL" in os.environ  # set by conftest for YIBAO_TEST_DB=postgres
HUANCUI = "371002"
PHARMACY = "P37100200001"
DEVICE = "tablet-crash"


# --- the server process ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``yibao serve`` in its own session, so that a kill reaches every worker."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.env = {**os.environ, "YIBAO_LOG_LEVEL": "WARNING"}
        self.env.pop("YIBAO_PHOTO_MAX_BYTES", None)
        self.env.pop("YIBAO_PHOTO_MAX_PIXELS", None)
        if not ON_POSTGRES:
            self.env["YIBAO_DATA_DIR"] = str(workdir / "data")  # a fresh data folder
            self.env["YIBAO_DEMO"] = "true"
        self.data_dir = Path(self.env["YIBAO_DATA_DIR"])
        self.files_dir = self.data_dir / "files"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0
        self._log: io.BufferedWriter | None = None
        self.tokens: dict[str, dict[str, str]] = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        path = self.workdir / "server.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def start(self) -> None:
        assert not self.running
        self.port = _free_port()
        args = [YIBAO, "serve", "--port", str(self.port)]
        if ON_POSTGRES:
            args += ["--workers", "2"]
        self._log = open(self.workdir / "server.log", "ab")  # noqa: SIM115 - closed in _reap
        self.proc = subprocess.Popen(
            args,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.starts += 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._reap()
                raise AssertionError(f"server exited early:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"server did not become healthy:\n{self.log_tail()}")

    def ensure_up(self) -> None:
        if not self.running:
            self.start()

    def kill(self) -> None:
        """SIGKILL the whole process group: no shut-down code of the server runs."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._reap()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the group (a worker that did not stop) goes now.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._reap()

    def _reap(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.proc is not None:
            pgid = self.proc.pid
            self.proc = None
            # Workers of a multi-worker server are children of the killed supervisor: wait until
            # the group is gone, so no process outlives the test.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.killpg(pgid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.02)

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(base_url=self.base, timeout=60) as http:
            yield http

    async def login(self, http: httpx.AsyncClient, username: str) -> dict[str, str]:
        """Headers of a signed-in demo user (tokens outlive restarts: same secret key)."""
        if username not in self.tokens:
            response = await http.post(
                "/api/auth/login",
                json={
                    "username": username,
                    "password": demo_password(),
                    "device_id": f"crash-{username}",
                },
            )
            assert response.status_code == 200, response.text
            token = response.json()["access_token"]
            self.tokens[username] = {"Authorization": f"Bearer {token}"}
        return self.tokens[username]


# --- reading the server's database -----------------------------------------------------------------


class Database:
    """Read-only questions about what the server has committed."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._conn: sqlite3.Connection | None = None

    def _sqlite(self) -> sqlite3.Connection:
        if self._conn is None:
            path = self.server.data_dir / "yibao.sqlite3"
            self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def inspections(self, assignment_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Per assignment that has one: its inspection's id, status and number of findings
        and of finding writes in the history (one consistent snapshot)."""
        if not ON_POSTGRES:
            marks = ",".join("?" * len(assignment_ids))
            rows = (
                self._sqlite()
                .execute(
                    "SELECT i.assignment, i.id, i.status,"
                    " (SELECT COUNT(*) FROM finding f WHERE f.inspection = i.id),"
                    " (SELECT COUNT(*) FROM finding_revision r WHERE r.inspection = i.id)"
                    f" FROM inspection i WHERE i.assignment IN ({marks})",
                    assignment_ids,
                )
                .fetchall()
            )
            return {
                str(a): {"id": str(i), "status": s, "findings": n, "revisions": r}
                for a, i, s, n, r in rows
            }
        from backend.inspections.tables import Inspection

        # One statement, so one snapshot: an inspection and its findings commit together.
        rows = await Inspection.raw(
            "SELECT i.assignment, i.id, i.status,"
            " (SELECT COUNT(*) FROM finding f WHERE f.inspection = i.id) AS findings,"
            " (SELECT COUNT(*) FROM finding_revision r WHERE r.inspection = i.id) AS revisions"
            " FROM inspection i WHERE i.assignment = ANY({})",
            [uuid.UUID(a) for a in assignment_ids],
        )
        return {
            str(r["assignment"]): {
                "id": str(r["id"]),
                "status": r["status"],
                "findings": r["findings"],
                "revisions": r["revisions"],
            }
            for r in rows
        }

    async def photos(self, photo_ids: list[str]) -> dict[str, dict[str, str]]:
        """Per stored photo: its storage and thumbnail keys."""
        if not ON_POSTGRES:
            marks = ",".join("?" * len(photo_ids))
            rows = (
                self._sqlite()
                .execute(
                    f"SELECT id, storage_key, thumbnail_key FROM photo WHERE id IN ({marks})",
                    photo_ids,
                )
                .fetchall()
            )
            return {str(i): {"storage_key": s, "thumbnail_key": t} for i, s, t in rows}
        from backend.inspections.tables import Photo

        rows = await Photo.select(Photo.id, Photo.storage_key, Photo.thumbnail_key).where(
            Photo.id.is_in([uuid.UUID(p) for p in photo_ids])
        )
        return {
            str(r["id"]): {"storage_key": r["storage_key"], "thumbnail_key": r["thumbnail_key"]}
            for r in rows
        }


@pytest.fixture(scope="module")
def server(
    database: None, demo: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server for the module (PostgreSQL: on the test database, whose demo data exists)."""
    instance = Server(tmp_path_factory.mktemp("crash-server"))
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


# --- building pushes over HTTP ----------------------------------------------------------------------


async def _json(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _team(server: Server, http: httpx.AsyncClient) -> tuple[dict[str, str], list[str]]:
    a = await server.login(http, "inspector")
    b = await server.login(http, "inspector2")
    ids = [(await _json(await http.get("/api/auth/me", headers=h)))["id"] for h in (a, b)]
    return a, ids


async def _pharmacies(server: Server, http: httpx.AsyncClient) -> dict[str, str]:
    """Code → id of the 环翠 pharmacies, as the server knows them."""
    supervisor = await server.login(http, "supervisor")
    page = await _json(
        await http.get(
            "/api/institutions",
            params={"type": "pharmacy", "region": HUANCUI},
            headers=supervisor,
        )
    )
    found = {i["code"]: i["id"] for i in page["items"]}
    assert PHARMACY in found and len(found) >= 3, found
    return found


async def _assignments(
    server: Server, http: httpx.AsyncClient, team: list[str], count: int
) -> list[dict[str, Any]]:
    supervisor = await server.login(http, "supervisor")
    pharmacies = sorted((await _pharmacies(server, http)).values())
    gate = asyncio.Semaphore(4)

    async def make(n: int) -> dict[str, Any]:
        async with gate:
            response = await http.post(
                "/api/assignments",
                json={
                    "institution_id": pharmacies[n % len(pharmacies)],
                    "checklist_id": "pharmacy-routine",
                    "window_start": str(date.today()),
                    "window_end": str(date.today() + timedelta(days=5)),
                    "inspector_ids": team,
                },
                headers=supervisor,
            )
        return await _json(response, 201)

    return list(await asyncio.gather(*(make(n) for n in range(count))))


async def _records(
    http: httpx.AsyncClient, headers: dict[str, str], assignments: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A complete, submittable inspection for each assignment, photos and signatures uploaded
    (the checklist is fetched once; uploads run a few at a time, as a tablet's queue would)."""
    checklist = await bundle_checklist(http, headers, assignments[0]["checklist"]["version_id"])
    items = items_of(checklist["content"])
    gate = asyncio.Semaphore(6)

    async def put(assignment_id: str, inspection_id: str, data: bytes, **fields: Any) -> str:
        async with gate:
            response = await upload(http, headers, assignment_id, inspection_id, data, **fields)
        return (await _json(response, 201))["id"]

    async def build(assignment: dict[str, Any]) -> dict[str, Any]:
        inspection_id = str(uuid.uuid4())
        findings = []
        for n, item in enumerate(items):
            finding = answer(item, "pass")
            if item.get("evidence") == "photo_always":
                photo = await put(
                    assignment["id"], inspection_id, jpeg_bytes(n), item_id=item["id"]
                )
                finding["photo_ids"] = [photo]
            findings.append(finding)
        signatures = []
        # The representative and two inspectors of the team (条例第二十九条).
        signers = [("representative", None)] + [
            ("inspector", p["id"]) for p in assignment["inspectors"][:2]
        ]
        for seed, (signer, signer_id) in enumerate(signers, start=1):
            photo = await put(
                assignment["id"],
                inspection_id,
                signature_png(seed),
                kind="signature",
                signer=signer,
                filename="sig.png",
            )
            signature = {"photo_id": photo, "signer": signer, "name": signer}
            if signer_id:
                signature["user_id"] = signer_id
            signatures.append(signature)
        return {
            "id": inspection_id,
            "assignment_id": assignment["id"],
            "checklist_id": checklist["checklist_id"],
            "checklist_version": checklist["version"],
            "checklist_hash": checklist["content_hash"],
            "client_revision": 3,
            "client_updated_at": now_iso(),
            "started_at": now_iso(-3600),
            "representative_name": "王店长",
            "signatures": signatures,
            "findings": findings,
            "submit": True,
        }

    return list(await asyncio.gather(*(build(a) for a in assignments)))


def _assert_whole(
    stored: dict[str, dict[str, Any]], by_assignment: dict[str, dict[str, Any]]
) -> None:
    """Every inspection present is complete: all its findings, submitted, under its own id."""
    for assignment_id, row in stored.items():
        record = by_assignment[assignment_id]
        assert row == {
            "id": record["id"],
            "status": "submitted",
            "findings": len(record["findings"]),
            "revisions": len(record["findings"]),
        }, assignment_id


# --- 1. a push whose answer is lost -----------------------------------------------------------------


async def _wait_for(probe: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError("timed out waiting for the server")


def _raw_push(
    port: int, headers: dict[str, str], body: bytes, send: int | None = None
) -> socket.socket:
    """Send a push over a bare socket (all of it, or its first ``send`` bytes) and return the
    socket unread: the tablet that will never see the answer."""
    head = (
        "POST /api/sync HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: {headers['Authorization']}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(head + (body if send is None else body[:send]))
    return sock


def _drop(sock: socket.socket) -> None:
    """Close as a dropped link does: at once, unread (SO_LINGER 0 sends a reset)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


async def test_a_push_whose_answer_is_lost_is_stored_once_when_resent(
    database: None, server: Server, db: Database
) -> None:
    server.ensure_up()
    async with server.client() as http:
        a, team = await _team(server, http)
        (assignment,) = await _assignments(server, http, team, 1)
        record = await complete_inspection(http, a, assignment)
    body = json.dumps({"device_id": DEVICE, "inspections": [record]}).encode()

    async def stored() -> dict[str, Any]:
        return (await db.inspections([assignment["id"]])).get(assignment["id"], {})

    # The link drops half-way through the upload: nothing of it is stored.
    _drop(_raw_push(server.port, a, body, send=len(body) // 2))
    # The tablet sends it again; the server stores it and answers, but the answer is lost.
    sock = _raw_push(server.port, a, body)
    try:
        row = await _wait_for(stored)
    finally:
        _drop(sock)
    assert row["status"] == "submitted"

    # The tablet, never told, sends the same push once more.
    async with server.client() as http:
        response = await http.post(
            "/api/sync", json={"device_id": DEVICE, "inspections": [record]}, headers=a
        )
        result = (await _json(response))["results"][0]
        assert result["status"] == "unchanged", result
        assert result["inspection_id"] == record["id"]
        assert result["score"]["total"] is not None
    _assert_whole({assignment["id"]: await stored()}, {assignment["id"]: record})


# --- 2. SIGKILL in the middle of a batch ------------------------------------------------------------


def _send_in_background(
    base: str, headers: dict[str, str], pushes: list[list[dict[str, Any]]]
) -> tuple[threading.Thread, dict[str, Any]]:
    """Send the pushes one after another from another thread, as a tablet's sync queue does."""
    outcome: dict[str, Any] = {"responses": [], "error": None}

    def run() -> None:
        with httpx.Client(base_url=base, timeout=120) as http:
            for records in pushes:
                try:
                    response = http.post(
                        "/api/sync",
                        json={"device_id": DEVICE, "inspections": records},
                        headers=headers,
                    )
                except httpx.HTTPError as exc:
                    outcome["error"] = exc
                    return
                outcome["responses"].append(response)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


async def test_sigkill_mid_batch_leaves_whole_inspections_and_the_resend_completes_it(
    database: None, server: Server, db: Database
) -> None:
    per_push = 30
    partial: dict[str, Any] | None = None
    for attempt in range(3):
        server.ensure_up()
        pushes_per_attempt = attempt + 1  # the window too narrow: a longer batch next time
        async with server.client() as http:
            a, team = await _team(server, http)
            assignments = await _assignments(server, http, team, per_push * pushes_per_attempt)
            records = await _records(http, a, assignments)
        pushes = [records[i : i + per_push] for i in range(0, len(records), per_push)]
        ids = [r["assignment_id"] for r in records]
        by_assignment = {r["assignment_id"]: r for r in records}

        thread, outcome = _send_in_background(server.base, a, pushes)
        # Kill at a different point of the batch each run (always inside it).
        kill_after = random.randint(1, per_push // 2)
        killed = False
        seen: dict[str, Any] = {}
        while thread.is_alive():
            seen = await db.inspections(ids)
            _assert_whole(seen, by_assignment)  # no reader ever sees an inspection in part
            if kill_after <= len(seen) < len(ids):
                server.kill()
                killed = True
                break
            await asyncio.sleep(0.01)
        thread.join(timeout=60)
        assert not thread.is_alive()

        after = await db.inspections(ids)
        # Whatever the moment of the kill: no inspection is there in part.
        _assert_whole(after, by_assignment)
        assert len(after) >= len(seen)
        if killed and 0 < len(after) < len(ids):
            assert outcome["error"] is not None, "the interrupted push must not have been answered"
            partial = after
            break
        # Everything was committed before the kill landed: try again with a longer batch.

    assert partial is not None, "never caught the server with part of the batch committed"
    assert not server.running

    # The tablet retries the whole batch against the restarted server.
    server.start()
    async with server.client() as http:
        results = []
        for records_of_push in pushes:
            response = await http.post(
                "/api/sync", json={"device_id": DEVICE, "inspections": records_of_push}, headers=a
            )
            results += (await _json(response))["results"]
        expected = {
            r["id"]: "unchanged" if r["assignment_id"] in partial else "accepted" for r in records
        }
        assert {r["id"]: r["status"] for r in results} == expected
        assert all(r["inspection_status"] == "submitted" for r in results)
        assert {r["inspection_id"] for r in results} == {r["id"] for r in records}

        final = await db.inspections(ids)
        assert set(final) == set(ids)  # one inspection per assignment, none missing
        _assert_whole(final, by_assignment)

        # And once more, for good measure: all of it is known now.
        again = await http.post(
            "/api/sync", json={"device_id": DEVICE, "inspections": pushes[0]}, headers=a
        )
        assert {r["status"] for r in (await _json(again))["results"]} == {"unchanged"}


# --- 3. photos and a kill ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _scene() -> Image.Image:
    size = (1600, 1200)
    return Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(size),
            Image.effect_noise(size, 40),
            Image.radial_gradient("L").resize(size),
        ),
    )


def _camera_photo() -> bytes:
    """A noisy photo of 2 megapixels, slow enough to process that uploads overlap; a patch
    of random pixels makes each one new to the server."""
    image = _scene().copy()
    image.paste(Image.frombytes("RGB", (16, 16), os.urandom(16 * 16 * 3)), (0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def _decodes(path: Path) -> bool:
    with Image.open(path) as image:
        image.load()
    return True


async def test_photos_stored_before_a_kill_are_whole_and_retries_after_it_succeed(
    database: None, server: Server, db: Database
) -> None:
    count = 8
    partial: dict[str, Any] | None = None
    for _attempt in range(3):
        server.ensure_up()
        async with server.client() as http:
            a, team = await _team(server, http)
            (assignment,) = await _assignments(server, http, team, 1)
        inspection_id = str(uuid.uuid4())
        photos = {str(uuid.uuid4()): _camera_photo() for _ in range(count)}
        ids = list(photos)

        async with server.client() as http:
            uploads = [
                asyncio.create_task(
                    upload(http, a, assignment["id"], inspection_id, data, photo_id=pid)
                )
                for pid, data in photos.items()
            ]
            killed = False
            while not all(t.done() for t in uploads):
                rows = await db.photos(ids)
                if 0 < len(rows) < count:
                    server.kill()
                    killed = True
                    break
                await asyncio.sleep(0.01)
            answers = await asyncio.gather(*uploads, return_exceptions=True)

        rows = await db.photos(ids)
        # A photo row always has both of its files, whole.
        for row in rows.values():
            for key in (row["storage_key"], row["thumbnail_key"]):
                assert _decodes(server.files_dir / key), key
        # Acknowledged uploads are stored.
        for pid, got in zip(ids, answers, strict=True):
            if isinstance(got, httpx.Response):
                assert got.status_code == 201, got.text
                assert pid in rows
        if killed and 0 < len(rows) < count:
            assert any(isinstance(got, Exception) for got in answers)
            partial = rows
            break

    assert partial is not None, "never caught the server with uploads in flight"
    server.start()
    async with server.client() as http:

        async def retry(pid: str, data: bytes) -> None:
            again = await upload(http, a, assignment["id"], inspection_id, data, photo_id=pid)
            assert again.status_code == (200 if pid in partial else 201), again.text
            for url in (f"/api/photos/{pid}", f"/api/photos/{pid}/thumbnail"):
                shown = await http.get(url, headers=a)
                assert shown.status_code == 200, shown.text
                with Image.open(io.BytesIO(shown.content)) as image:
                    image.load()
                    assert max(image.size) == (1600 if url.endswith(pid) else 320)

        await asyncio.gather(*(retry(pid, data) for pid, data in photos.items()))
    assert set(await db.photos(ids)) == set(ids)
