"""Notice numbers under concurrent submissions: distinct and consecutive, no gaps.

On PostgreSQL: fifty submissions pushed at once through a real ``yibao serve`` with two worker
processes. On either engine: a smaller burst through the app in this process.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.china_time import today_in_china
from backend.rectification.tables import NoticeCounter, RectificationNotice
from tests.cli_helpers import YIBAO
from tests.inspections.helpers import complete_inspection, new_assignment, push
from tests.rectification.helpers import make_institution, make_tenant
from tests.test_serve import _free_port, _wait_healthy

# One failed item without photo evidence keeps the preparation light.
FAIL = {"management.pharmacist-contract": {}}
NUMBER_RE = re.compile(r"^威医保整改〔(\d{4})〕(\d+)号$")


async def _city_counter() -> int:
    from backend.institutions.tables import Region

    city = await Region.select(Region.id).where(Region.code == "371000").first()
    row = (
        await NoticeCounter.select(NoticeCounter.last)
        .where((NoticeCounter.office == city["id"]) & (NoticeCounter.year == today_in_china().year))
        .first()
    )
    return row["last"] if row else 0


async def _prepare(
    http: httpx.AsyncClient, login, codes: list[str], inspectors: list[str], count: int
) -> list[dict[str, Any]]:
    supervisor, inspector = await login("supervisor"), await login("inspector")

    async def one(n: int) -> dict[str, Any]:
        assignment = await new_assignment(http, supervisor, codes[n % len(codes)], inspectors)
        return await complete_inspection(http, inspector, assignment, fail=FAIL)

    records: list[dict[str, Any]] = []
    for start in range(0, count, 10):  # ten at a time: quick, without flooding the server
        records += await asyncio.gather(*(one(n) for n in range(start, min(count, start + 10))))
    return records


async def _numbers(records: list[dict[str, Any]]) -> list[int]:
    rows = await RectificationNotice.select(RectificationNotice.number).where(
        RectificationNotice.inspection.is_in([r["id"] for r in records])
    )
    assert len(rows) == len(records)
    out = []
    for r in rows:
        match = NUMBER_RE.match(r["number"])
        assert match, r["number"]
        assert int(match.group(1)) == today_in_china().year
        out.append(int(match.group(2)))
    return sorted(out)


async def test_concurrent_submissions_in_process(client: httpx.AsyncClient, login) -> None:
    tenant = await make_tenant(client, login)
    other, _, _ = await make_institution()
    from backend.institutions.tables import Institution

    other_code = (
        await Institution.select(Institution.code).where(Institution.id == other).first()
    )["code"]
    records = await _prepare(client, login, [tenant.code, other_code], tenant.inspectors, 12)
    before = await _city_counter()
    inspector = await login("inspector")
    responses = await asyncio.gather(
        *(push(client, inspector, [r], device=f"t{n}") for n, r in enumerate(records))
    )
    assert all(r.status_code == 200 for r in responses), [
        r.text for r in responses if r.status_code != 200
    ]
    assert await _numbers(records) == list(range(before + 1, before + 13))
    assert await _city_counter() == before + 12


@pytest.mark.postgres_only
async def test_fifty_concurrent_submissions_through_two_workers(
    client: httpx.AsyncClient, login, tmp_path: Path
) -> None:
    tenant = await make_tenant(client, login)
    codes = [tenant.code]
    from backend.institutions.tables import Institution

    for _ in range(4):
        inst, _, _ = await make_institution()
        codes.append(
            (await Institution.select(Institution.code).where(Institution.id == inst).first())[
                "code"
            ]
        )

    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [YIBAO, "serve", "--port", str(port), "--workers", "2", "--no-migrate"],
        env={**os.environ, "YIBAO_LOG_LEVEL": "WARNING"},
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, proc)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) >= 2, "the server should run two worker processes"
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
            records = await _prepare(http, login, codes, tenant.inspectors, 50)
            before = await _city_counter()
            inspector = await login("inspector")
            started = time.monotonic()
            responses = await asyncio.gather(
                *(push(http, inspector, [r], device=f"w{n}") for n, r in enumerate(records))
            )
            elapsed = time.monotonic() - started
        failures = [r.text for r in responses if r.status_code != 200]
        assert not failures, failures[:3]
        assert all(r.json()["results"][0]["inspection_status"] == "submitted" for r in responses)
        numbers = await _numbers(records)
        assert numbers == list(range(before + 1, before + 51)), numbers
        assert await _city_counter() == before + 50
        print(
            f"50 concurrent submissions through 2 workers: numbers {before + 1}..{before + 50} in {elapsed:.2f}s"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
