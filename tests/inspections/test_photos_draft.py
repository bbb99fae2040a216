"""A draft's photos on the server: sent during the visit, removed again when the tablet takes them
off the draft (DELETE, audited, refused once submitted), seen only by the team and the region's
staff before 提交, and pruned by ``yibao photos prune`` when the draft is never submitted."""

from __future__ import annotations

import io
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from backend.audit.tables import AuditEvent
from backend.inspections.tables import Inspection, Photo
from tests.cli_helpers import run_yibao
from tests.inspections.helpers import complete_inspection, new_assignment, push, upload, user_id

PHARMACY = "P37100200001"  # 威海百草大药房环翠店 (环翠区), manager.pharmacy's institution
OTHER_PHARMACY = "P37100200003"


def fresh_jpeg() -> bytes:
    """Bytes no other photo has (files are shared between identical uploads)."""
    image = Image.frombytes("RGB", (48, 32), os.urandom(48 * 32 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def files_of(data_dir: Path, row: dict[str, Any]) -> list[Path]:
    return [data_dir / "files" / row["storage_key"], data_dir / "files" / row["thumbnail_key"]]


async def audit_actions(photo_id: str) -> list[str]:
    rows = await AuditEvent.select(AuditEvent.action).where(AuditEvent.entity_id == photo_id)
    return [r["action"] for r in rows]


@pytest.fixture
async def team(client: httpx.AsyncClient, login) -> dict[str, Any]:
    a, b = await login("inspector"), await login("inspector2")
    return {"a": a, "b": b, "ids": [await user_id(client, a), await user_id(client, b)]}


async def _assignment(client: httpx.AsyncClient, login, team: dict[str, Any], code: str = PHARMACY) -> dict[str, Any]:
    return await new_assignment(client, await login("supervisor"), code, team["ids"])


async def test_a_sent_photo_taken_off_the_draft_is_removed_with_its_files(
    client: httpx.AsyncClient, login, team: dict[str, Any], data_dir: Path
) -> None:
    assignment = await _assignment(client, login, team)
    inspection_id = str(uuid.uuid4())
    sent = await upload(client, team["a"], assignment["id"], inspection_id, fresh_jpeg(), item_id="signage.complaint")
    assert sent.status_code == 201, sent.text
    photo_id = sent.json()["id"]
    row = await Photo.select().where(Photo.id == photo_id).first()
    assert all(path.exists() for path in files_of(data_dir, row))

    # Only its team's inspectors may remove it: others 404 (as if it did not exist), other roles 403.
    assert (await client.delete(f"/api/photos/{photo_id}", headers=await login("inspector3"))).status_code == 404
    assert (await client.delete(f"/api/photos/{photo_id}", headers=await login("inspector.city"))).status_code == 404
    for role in ("supervisor", "admin", "manager.pharmacy"):
        refused = await client.delete(f"/api/photos/{photo_id}", headers=await login(role))
        assert refused.status_code == 403, (role, refused.text)
    assert await Photo.exists().where(Photo.id == photo_id)

    gone = await client.delete(f"/api/photos/{photo_id}", headers=team["b"])  # either of the team
    assert gone.status_code == 204, gone.text
    assert not await Photo.exists().where(Photo.id == photo_id)
    assert not any(path.exists() for path in files_of(data_dir, row))
    assert await audit_actions(photo_id) == ["photo.upload", "photo.delete"]
    again = await client.delete(f"/api/photos/{photo_id}", headers=team["a"])
    assert again.status_code == 404 and "照片不存在" in again.json()["detail"]
    assert (await client.get(f"/api/photos/{photo_id}", headers=team["a"])).status_code == 404


async def test_files_shared_with_another_photo_stay(
    client: httpx.AsyncClient, login, team: dict[str, Any], data_dir: Path
) -> None:
    assignment = await _assignment(client, login, team)
    data = fresh_jpeg()
    first = await upload(client, team["a"], assignment["id"], str(uuid.uuid4()), data, item_id="signage.complaint")
    second = await upload(client, team["a"], assignment["id"], str(uuid.uuid4()), data, item_id="signage.complaint")
    assert first.status_code == second.status_code == 201
    row = await Photo.select().where(Photo.id == first.json()["id"]).first()
    assert (await client.delete(f"/api/photos/{first.json()['id']}", headers=team["a"])).status_code == 204
    assert all(path.exists() for path in files_of(data_dir, row))
    assert (await client.get(f"/api/photos/{second.json()['id']}", headers=team["a"])).status_code == 200


async def test_a_submitted_inspections_photo_cannot_be_removed(
    client: httpx.AsyncClient, login, team: dict[str, Any]
) -> None:
    assignment = await _assignment(client, login, team)
    record = await complete_inspection(client, team["a"], assignment)
    assert (await push(client, team["a"], [record])).status_code == 200
    photo_id = record["signatures"][0]["photo_id"]
    refused = await client.delete(f"/api/photos/{photo_id}", headers=team["a"])
    assert refused.status_code == 409
    assert "已提交" in refused.json()["detail"]
    assert await Photo.exists().where(Photo.id == photo_id)
    assert await audit_actions(photo_id) == ["photo.upload"]


async def test_before_submission_only_the_team_and_the_regions_staff_see_a_draft_photo(
    client: httpx.AsyncClient, login, team: dict[str, Any]
) -> None:
    assignment = await _assignment(client, login, team)
    record = await complete_inspection(client, team["a"], assignment, submit=False)
    assert (await push(client, team["a"], [record])).status_code == 200  # a draft on the server
    photo_id = record["signatures"][0]["photo_id"]

    async def status(username: str) -> int:
        return (await client.get(f"/api/photos/{photo_id}/thumbnail", headers=await login(username))).status_code

    before = {u: await status(u) for u in ("inspector", "inspector2", "inspector.city", "inspector3",
                                           "supervisor", "supervisor.huancui", "admin", "manager.pharmacy")}
    assert before == {"inspector": 200, "inspector2": 200, "inspector.city": 404, "inspector3": 404,
                      "supervisor": 200, "supervisor.huancui": 200, "admin": 200, "manager.pharmacy": 404}
    record["submit"] = True
    assert (await push(client, team["a"], [record])).status_code == 200
    assert await status("manager.pharmacy") == 200
    assert await status("inspector.city") == 200  # submitted: the region's inspectors, as any record


async def _backdate(photo_ids: list[str], days: int) -> None:
    old = datetime.now(UTC) - timedelta(days=days)
    await Photo.update({Photo.created_at: old}).where(Photo.id.is_in(photo_ids))


async def test_prune_removes_old_photos_of_drafts_never_submitted_and_nothing_else(
    client: httpx.AsyncClient, login, team: dict[str, Any], data_dir: Path
) -> None:
    # Never pushed (no inspection), a stale draft, a fresh draft, a submitted inspection.
    orphan_assignment = await _assignment(client, login, team)
    orphan = await upload(client, team["a"], orphan_assignment["id"], str(uuid.uuid4()), fresh_jpeg(),
                          item_id="signage.complaint")
    stale_assignment = await _assignment(client, login, team, OTHER_PHARMACY)
    stale = await complete_inspection(client, team["a"], stale_assignment, submit=False)
    assert (await push(client, team["a"], [stale])).status_code == 200
    busy_assignment = await _assignment(client, login, team)
    busy = await upload(client, team["a"], busy_assignment["id"], str(uuid.uuid4()), fresh_jpeg(),
                        item_id="signage.complaint")
    busy_draft = await complete_inspection(client, team["a"], busy_assignment, submit=False)
    assert (await push(client, team["a"], [busy_draft])).status_code == 200
    done_assignment = await _assignment(client, login, team)
    done = await complete_inspection(client, team["a"], done_assignment)
    assert (await push(client, team["a"], [done])).status_code == 200

    stale_photos = [s["photo_id"] for s in stale["signatures"]]
    old_ids = [orphan.json()["id"], *stale_photos, busy.json()["id"], done["signatures"][0]["photo_id"]]
    await _backdate(old_ids, 40)
    await Inspection.update({Inspection.updated_at: datetime.now(UTC) - timedelta(days=35)}).where(
        Inspection.id == stale["id"]
    )
    orphan_row = await Photo.select().where(Photo.id == orphan.json()["id"]).first()

    result = run_yibao("photos", "prune", "--days", "30")
    assert result.returncode == 0, result.stdout + result.stderr
    removed = {orphan.json()["id"], *stale_photos}
    for photo_id in removed:
        assert photo_id in result.stdout
        assert not await Photo.exists().where(Photo.id == photo_id)
        assert await audit_actions(photo_id) == ["photo.upload", "photo.prune"]
    assert not any(path.exists() for path in files_of(data_dir, orphan_row))
    # Kept: the draft changed within 30 days, and the submitted record.
    assert await Photo.exists().where(Photo.id == busy.json()["id"])
    assert await Photo.exists().where(Photo.id == done["signatures"][0]["photo_id"])

    # Nothing left to do: 0 and nothing removed.
    again = run_yibao("photos", "prune", "--days", "30")
    assert again.returncode == 0 and "removed photo" not in again.stdout


async def test_prune_names_a_photo_it_could_not_remove_and_exits_1(
    client: httpx.AsyncClient, login, team: dict[str, Any]
) -> None:
    assignment = await _assignment(client, login, team)
    sent = await upload(client, team["a"], assignment["id"], str(uuid.uuid4()), fresh_jpeg(), item_id="signage.complaint")
    photo_id = sent.json()["id"]
    await _backdate([photo_id], 400)
    # A stored key the file store refuses (outside its folder): the removal fails, in words.
    await Photo.update({Photo.storage_key: "../outside.jpg"}).where(Photo.id == photo_id)
    result = run_yibao("photos", "prune", "--days", "365")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"failed photo {photo_id}" in result.stdout
    assert "Traceback" not in result.stderr
    assert await Photo.exists().where(Photo.id == photo_id)  # named, not half-removed
    await Photo.delete().where(Photo.id == photo_id)  # the other prunes of this run see none of it
    bad = run_yibao("photos", "prune", "--days", "-1")
    assert bad.returncode == 2
