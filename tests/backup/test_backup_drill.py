"""The backup drill: ``yibao backup`` of a real ``yibao serve`` on SQLite while tablets push,
``yibao restore`` into a fresh folder, and every record and photo acknowledged before the backup
began is there, each photo byte for byte (SHA-256), the sealed records verify.

SQLite only (the embedded deployment these commands are for): no ``database`` fixture, so it
runs in the suite's SQLite pass and never skips.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import signal
import socket
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from tests.cli_helpers import YIBAO, run_yibao
from tests.inspections.helpers import complete_inspection, push, upload

PORTS = range(18400, 18500)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port in 18400-18499")


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "YIBAO_DATA_DIR": str(data_dir), "YIBAO_DEMO": "true"}
    env.pop("YIBAO_DATABASE_URL", None)  # the embedded deployment, whatever the run's engine
    return env


def _unique_jpeg(n: int) -> bytes:
    """A photo no other upload shares (keys are content-addressed: shared bytes prove less)."""
    noise = Image.frombytes("RGB", (16, 12), os.urandom(16 * 12 * 3))
    buffer = io.BytesIO()
    noise.resize((320, 240), Image.NEAREST).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _start(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [YIBAO, "serve", "--port", str(port)],
        env=_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early:\n{proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise AssertionError("server did not become healthy in time")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


async def _login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post(
        "/api/auth/login", json={"username": username, "password": "demo2026", "device_id": "drill"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class Tablets:
    """Inspectors pushing whole inspections, one after another, and what the server confirmed."""

    def __init__(self, client: httpx.AsyncClient, live_files: Path) -> None:
        self.client = client
        self.live_files = live_files
        self.acknowledged: list[dict[str, Any]] = []  # in the order the server confirmed them
        self.stop = asyncio.Event()

    async def run(self) -> None:
        client = self.client
        supervisor = await _login(client, "supervisor")
        inspector = await _login(client, "inspector")
        team = [(await client.get("/api/auth/me", headers=h)).json()["id"]
                for h in (inspector, await _login(client, "inspector2"))]
        pharmacies = (await client.get(
            "/api/institutions", params={"type": "pharmacy", "region": "371002"}, headers=supervisor
        )).json()["items"]
        n = 0
        while not self.stop.is_set():
            n += 1
            institution = pharmacies[n % len(pharmacies)]
            today = time.strftime("%Y-%m-%d")
            assignment = await client.post("/api/assignments", headers=supervisor, json={
                "institution_id": institution["id"], "checklist_id": "pharmacy-routine",
                "window_start": today, "window_end": today, "inspector_ids": team,
            })
            assert assignment.status_code == 201, assignment.text
            record = await complete_inspection(client, inspector, assignment.json())
            photo = _unique_jpeg(n)
            uploaded = await upload(
                client, inspector, assignment.json()["id"], record["id"], photo,
                item_id=record["findings"][0]["item"],
            )
            assert uploaded.status_code == 201, uploaded.text
            record["findings"][0].setdefault("photo_ids", []).append(uploaded.json()["id"])
            response = await push(client, inspector, [record], device=f"drill-{n}")
            result = response.json()["results"][0]
            assert result["inspection_status"] == "submitted", response.text
            # Acknowledged: what the server now holds for this record, as it serves it.
            photos = {}
            for finding in record["findings"]:
                for photo_id in finding.get("photo_ids", []):
                    served = await client.get(f"/api/photos/{photo_id}", headers=inspector)
                    assert served.status_code == 200, served.text
                    photos[photo_id] = hashlib.sha256(served.content).hexdigest()
            self.acknowledged.append({"id": record["id"], "findings": len(record["findings"]),
                                      "photos": photos, "unique": uploaded.json()["id"]})


async def test_a_backup_under_load_restores_every_acknowledged_record(tmp_path: Path) -> None:
    live, restored, archive = tmp_path / "live", tmp_path / "restored", tmp_path / "yibao.tar.gz"
    proc, base = _start(live)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            tablets = Tablets(client, live / "files")
            load = asyncio.create_task(tablets.run())
            while len(tablets.acknowledged) < 2 and not load.done():
                await asyncio.sleep(0.1)
            before = list(tablets.acknowledged)
            assert before, load.exception() if load.done() else "no push acknowledged"
            # The backup runs while the tablets go on pushing (the event loop keeps serving them).
            backup = await asyncio.create_subprocess_exec(
                YIBAO, "backup", str(archive), env=_env(live),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            out, err = await backup.communicate()
            during = len(tablets.acknowledged) - len(before)
            while len(tablets.acknowledged) < len(before) + during + 1 and not load.done():
                await asyncio.sleep(0.1)  # one more push after the backup: the server still writes
            tablets.stop.set()
            await load
    finally:
        _stop(proc)
    assert backup.returncode == 0, err.decode()
    assert "备份完成" in out.decode()

    result = run_yibao("restore", str(archive), env=_env(restored))
    assert result.returncode == 0, result.stderr
    assert "恢复完成" in result.stdout

    with closing(sqlite3.connect(restored / "yibao.sqlite3")) as db:
        for record in before:
            status = db.execute("SELECT status FROM inspection WHERE id = ?", (record["id"],)).fetchone()
            assert status == ("submitted",), record["id"]
            findings = db.execute(
                "SELECT count(*) FROM finding WHERE inspection = ?", (record["id"],)
            ).fetchone()[0]
            assert findings == record["findings"]
            for photo_id, sha256 in record["photos"].items():
                key = db.execute("SELECT storage_key FROM photo WHERE id = ?", (photo_id,)).fetchone()
                assert key is not None, photo_id
                restored_file = restored / "files" / key[0]
                assert hashlib.sha256(restored_file.read_bytes()).hexdigest() == sha256, photo_id
    assert len({r["unique"] for r in before}) == len(before)

    # The restored deployment checks out with the ordinary tools: every sealed record's digest,
    # signature and photo files (with the restored signing key), and the audit chain.
    verify = run_yibao("records", "verify", env=_env(restored))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    audit = run_yibao("audit", "verify", env=_env(restored))
    assert audit.returncode == 0, audit.stdout + audit.stderr

