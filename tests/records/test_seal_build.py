"""How the seal builds its record: photo files hashed in one batch give the same bytes as the
one-photo-at-a-time rebuild ``yibao records verify`` does, and every seal reads the files as they
are at sealing (no hash remembered from an earlier seal)."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import UUID

import httpx
import pytest

from backend.db import write_transaction
from backend.inspections.tables import Photo
from backend.records.canonical import build_record, canonical_bytes
from backend.records.seal import latest_seal, seal_inspection, stored_file_hash
from backend.settings import get_settings
from backend.storage import get_file_store
from tests.rectification.helpers import make_tenant, submit

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_batched_hashes_give_the_rebuilt_bytes_and_files_are_read_at_each_seal(
    client: httpx.AsyncClient, login
) -> None:
    tenant = await make_tenant(client, login)
    inspection_id = UUID((await submit(client, login, tenant))["id"])
    settings = get_settings()
    sealed = await latest_seal(inspection_id)
    assert sealed is not None

    calls: list[str] = []

    async def one_at_a_time(photo: dict[str, Any]) -> str | None:
        calls.append(str(photo["id"]))
        return await stored_file_hash(settings, photo)

    rebuilt = await build_record(inspection_id, one_at_a_time)
    assert rebuilt is not None
    assert canonical_bytes(rebuilt).decode("utf-8") == sealed["record"]
    assert calls and len(calls) == len(set(calls))  # each photo file read once

    photo = (
        await Photo.select(Photo.id, Photo.storage_key)
        .where(Photo.inspection_id == inspection_id)
        .first()
    )
    path = get_file_store(settings).path_for(photo["storage_key"])
    assert path is not None
    original = path.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0x01
    path.write_bytes(bytes(damaged))
    try:
        async with write_transaction():
            again = await seal_inspection(inspection_id, reason="change")
    finally:
        path.write_bytes(original)
    async with write_transaction():  # the latest seal matches the files again, for later tests
        await seal_inspection(inspection_id, reason="change")
    hashes = {
        p["id"]: p["sha256"] for f in json.loads(again["record"])["findings"] for p in f["photos"]
    }
    hashes |= {
        s["photo"]["id"]: s["photo"]["sha256"] for s in json.loads(again["record"])["signatures"]
    }
    assert hashes[str(photo["id"])] == hashlib.sha256(bytes(damaged)).hexdigest()
    assert hashes[str(photo["id"])] != hashlib.sha256(original).hexdigest()
