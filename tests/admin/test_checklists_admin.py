"""Checklist versions for the admin: list, read, upload with the rules of ``yibao checklists load``
(problems with their path, the same file again changes nothing, a changed file under a loaded
version refused). The versions uploaded here are removed at the end, so that no other test sees
a checklist it does not expect."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from backend.audit.tables import AuditEvent
from backend.checklists.tables import ChecklistVersion
from backend.settings import REPO_ROOT

UPLOAD = "/api/admin/checklists"


@pytest.fixture
async def checklist_id() -> AsyncIterator[str]:
    """A checklist id of this test only; its versions are deleted afterwards."""
    value = f"admin-test-{uuid.uuid4().hex[:8]}"
    yield value
    await ChecklistVersion.delete().where(ChecklistVersion.checklist_id == value)


def _yaml(
    checklist_id: str, version: int = 1, points: int = 10, title: str = "测试检查表"
) -> bytes:
    source = (REPO_ROOT / "checklists" / "pharmacy-routine.v1.yaml").read_text(encoding="utf-8")
    lines = source.splitlines()
    assert lines[0] == "id: pharmacy-routine" and lines[1] == "version: 1"
    lines[0], lines[1] = f"id: {checklist_id}", f"version: {version}"
    lines[2] = f"title: {title}"
    text = "\n".join(lines) + "\n"
    if points != 10:
        text += f"# changed: {points}\n"
        text = text.replace("title: 测试检查表", f"title: 测试检查表{points}")
    return text.encode("utf-8")


async def _upload(client, admin, name: str, content: bytes) -> httpx.Response:
    return await client.post(UPLOAD, files={"file": (name, content)}, headers=admin)


async def test_list_and_read_the_shipped_versions(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get(UPLOAD, headers=admin)
    assert response.status_code == 200
    rows = {r["checklist_id"]: r for r in response.json()}
    assert {"pharmacy-routine", "clinic-routine", "hospital-routine"} <= rows.keys()
    pharmacy = rows["pharmacy-routine"]
    assert pharmacy["applies_to"] == ["pharmacy"] and pharmacy["content_hash"]
    assert pharmacy["loaded_at"] and pharmacy["item_count"] > 0
    one = await client.get(f"{UPLOAD}/{pharmacy['id']}", headers=admin)
    assert one.status_code == 200
    body = one.json()
    assert body["content"]["id"] == "pharmacy-routine" and body["content"]["sections"]
    assert body["source_text"].startswith("id: pharmacy-routine")
    missing = await client.get(f"{UPLOAD}/{uuid.uuid4()}", headers=admin)
    assert missing.status_code == 404


async def test_upload_new_same_again_and_changed(
    client: httpx.AsyncClient, admin: dict[str, str], checklist_id: str
) -> None:
    first = await _upload(client, admin, "new.yaml", _yaml(checklist_id))
    assert first.status_code == 201, first.text
    assert first.json()["outcome"] == "loaded"
    version = first.json()["version"]
    assert version["checklist_id"] == checklist_id and version["version"] == 1
    event = (
        await AuditEvent.select(AuditEvent.after)
        .where((AuditEvent.action == "checklist.load") & (AuditEvent.entity_id == version["id"]))
        .output(load_json=True)
        .first()
    )
    assert event["after"]["file"] == "new.yaml" and event["after"]["checklist_id"] == checklist_id

    # The same content again (a BOM does not make it different): nothing happens.
    again = await _upload(client, admin, "again.yml", b"\xef\xbb\xbf" + _yaml(checklist_id))
    assert again.status_code == 200, again.text
    assert again.json() == {"outcome": "unchanged", "version": version}

    changed = await _upload(client, admin, "changed.yaml", _yaml(checklist_id, points=7))
    assert changed.status_code == 409, changed.text
    detail = changed.json()["detail"]
    assert f"检查表 {checklist_id} 第 1 版已载入" in detail and "version 提高到 2" in detail
    assert changed.json()["extra"]["next_version"] == 2
    stored = await ChecklistVersion.select(ChecklistVersion.title).where(
        ChecklistVersion.checklist_id == checklist_id
    )
    assert stored == [{"title": "测试检查表"}]

    second = await _upload(client, admin, "v2.yaml", _yaml(checklist_id, version=2, points=7))
    assert second.status_code == 201 and second.json()["version"]["version"] == 2


async def test_problems_come_with_their_path_and_nothing_is_stored(
    client: httpx.AsyncClient, admin: dict[str, str], checklist_id: str
) -> None:
    text = _yaml(checklist_id).decode()
    text = text.replace("applies_to: [pharmacy]", "applies_to: [shop]", 1)
    text = text.replace("    weight:", "    wieght:", 1)
    response = await _upload(client, admin, "bad.yaml", text.encode())
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"].startswith("检查表有") and "未载入" in body["detail"]
    problems = body["extra"]["problems"]
    paths = {p["path"] for p in problems}
    assert "applies_to[0]" in paths
    messages = {p["path"]: p["message"] for p in problems}
    assert messages["applies_to[0]"] == (
        "applies_to 中的每一项取值应为以下之一：hospital、clinic、tcm_clinic、pharmacy，"
        "实际为 'shop'"
    )
    assert messages["sections[0].wieght"] == "未知的键 'wieght'（是否应为 'weight'？）"
    assert messages["sections[0].weight"] == "必填项缺失：应填写 'weight'"
    assert all(p["line"] for p in problems)
    assert not await ChecklistVersion.exists().where(ChecklistVersion.checklist_id == checklist_id)

    syntax = await _upload(client, admin, "broken.yaml", b"id: [unclosed\n")
    assert syntax.status_code == 422
    assert [(p["path"], p["line"], p["message"]) for p in syntax.json()["extra"]["problems"]] == [
        ("", 2, "YAML 格式错误：方括号列表没有正确结束：应为 ',' 或 ']'，实际为文件结尾（第 1 列）")
    ]
    for name, content, status in (
        ("list.txt", _yaml(checklist_id), 422),
        ("empty.yaml", b"  \n", 422),
        ("gbk.yaml", "标题".encode("gbk"), 422),
        ("huge.yaml", b"#" * (1024 * 1024 + 1), 413),
    ):
        refused = await _upload(client, admin, name, content)
        assert refused.status_code == status, (name, refused.text)
    assert not await ChecklistVersion.exists().where(ChecklistVersion.checklist_id == checklist_id)
