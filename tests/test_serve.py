"""``yibao serve`` as a real server process: first start, health, the app, a clean shut-down."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.cli_helpers import YIBAO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(base: str, proc: subprocess.Popen[str], timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"server exited early:\n{proc.stdout.read() if proc.stdout else ''}"
            )
        try:
            response = httpx.get(f"{base}/health", timeout=2)
            if response.status_code == 200:
                return response.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("server did not become healthy in time")


def test_first_start_serves_and_stops_cleanly(database: None, tmp_path: Path) -> None:
    env = {**os.environ, "YIBAO_DEMO": "true", "YIBAO_LOG_LEVEL": "INFO"}
    args = [YIBAO, "serve", "--port", str(port := _free_port())]
    if "YIBAO_DATABASE_URL" in os.environ:
        args += ["--workers", "2"]  # PostgreSQL: several stateless workers
    else:
        env["YIBAO_DATA_DIR"] = str(tmp_path / "fresh")  # SQLite: the very first start
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        health = _wait_healthy(base, proc)
        assert health["database_ok"] is True
        assert "医保" in httpx.get(f"{base}/").text
        assert "/health" in httpx.get(f"{base}/schema/openapi.json").json()["paths"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
            raise AssertionError(f"server did not stop on SIGTERM:\n{output}") from None
    # uvicorn shuts down gracefully, then re-raises the signal it caught (so -SIGTERM), except
    # under its multi-worker supervisor, which exits 0.
    assert proc.returncode in {0, -signal.SIGTERM}, output
    assert "Application shutdown complete" in output
    assert "inspector" in output and "演示账号" in output  # demo logins printed
    assert f"http://127.0.0.1:{port}/" in output
    if "YIBAO_DATABASE_URL" not in os.environ:
        assert (tmp_path / "fresh" / "yibao.sqlite3").exists()
