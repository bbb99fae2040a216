"""The photo store failing half-way: a full disk (ENOSPC) or a read-only or forbidden folder
(EROFS, EACCES) gives a clear error in Chinese, and nothing is half-stored: no photo row, no file
of the photo, no temporary file in the data folder. Once the disk is back, the same upload works.

The failures are injected into the real store of the app under test (its ``os`` calls), at the
first file of the pair (the display image) or at the second (the thumbnail, after the first
was written). The test process runs as root, which ignores folder permissions, so a read-only
folder is simulated by the error the kernel would give.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from backend.inspections.tables import Photo
from backend.settings import get_settings
from tests.inspections.helpers import new_assignment, user_id

PHARMACY = "P37100200001"  # 环翠区, the inspectors' region


def fresh_jpeg() -> bytes:
    """A photo no earlier test stored (its SHA-256 names its files)."""
    import io

    image = Image.new("RGB", (400, 300), (40, 90, 140))
    image.paste(Image.frombytes("RGB", (24, 24), os.urandom(24 * 24 * 3)), (0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


async def send(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    assignment: dict[str, Any],
    data: bytes,
    photo_id: str | None = None,
) -> tuple[httpx.Response, str, str]:
    """Upload ``data`` as an evidence photo (a new id unless ``photo_id``, a retry, is given)."""
    photo_id = photo_id or str(uuid.uuid4())
    digest = hashlib.sha256(data).hexdigest()
    response = await client.post(
        "/api/photos",
        data={
            "id": photo_id,
            "sha256": digest,
            "assignment_id": assignment["id"],
            "inspection_id": assignment["inspection_id"],
            "kind": "evidence",
            "item_id": "signage.complaint",
        },
        files={"file": ("photo.jpg", data, "image/jpeg")},
        headers=headers,
    )
    return response, photo_id, digest


@pytest.fixture
async def inspector(login) -> dict[str, str]:
    return await login("inspector")


@pytest.fixture
async def assignment(client: httpx.AsyncClient, login, inspector: dict[str, str]) -> dict[str, Any]:
    ids = [await user_id(client, inspector), await user_id(client, await login("inspector2"))]
    created = await new_assignment(client, await login("supervisor"), PHARMACY, ids)
    return {**created, "inspection_id": str(uuid.uuid4())}


def fail_file_write(monkeypatch: pytest.MonkeyPatch, at: int, code: int) -> None:
    """The ``at``-th file fsync of the store (1: display image, 2: thumbnail) fails with ``code``,
    after its temporary file was created and written: the worst moment for leftovers."""
    real_fsync = os.fsync
    seen = {"files": 0}

    def fsync(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            seen["files"] += 1
            if seen["files"] == at:
                raise OSError(code, os.strerror(code))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def fail_file_create(monkeypatch: pytest.MonkeyPatch, at: int, code: int) -> None:
    """The ``at``-th temporary file of the store cannot even be created (a read-only folder)."""
    real_mkstemp = tempfile.mkstemp
    seen = {"files": 0}

    def mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
        seen["files"] += 1
        if seen["files"] == at:
            raise OSError(code, os.strerror(code))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def leftovers(digest: str) -> list[Path]:
    """Files of the photo and temporary files anywhere in the data folder."""
    data_dir = get_settings().data_dir
    files = get_settings().files_dir
    of_photo = list(files.rglob(f"*{digest}*")) if files.exists() else []
    temporary = list(data_dir.rglob("*.tmp"))
    return of_photo + temporary


@pytest.mark.parametrize(
    ("inject", "at", "code", "status", "words"),
    [
        (fail_file_write, 1, errno.ENOSPC, 507, "存储空间已满"),
        (fail_file_write, 2, errno.ENOSPC, 507, "存储空间已满"),
        (fail_file_create, 1, errno.EROFS, 503, "存储不可写"),
        (fail_file_create, 2, errno.EACCES, 503, "存储不可写"),
        (fail_file_write, 2, errno.EIO, 503, "存储不可写"),
    ],
    ids=["full-at-image", "full-at-thumbnail", "read-only", "forbidden-at-thumbnail", "io-error"],
)
async def test_a_failing_store_answers_clearly_and_leaves_nothing(
    client: httpx.AsyncClient,
    inspector: dict[str, str],
    assignment: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    inject: Any,
    at: int,
    code: int,
    status: int,
    words: str,
) -> None:
    data = fresh_jpeg()
    inject(monkeypatch, at, code)
    response, photo_id, digest = await send(client, inspector, assignment, data)
    monkeypatch.undo()

    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert "照片未保存" in response.json()["detail"]
    assert int(response.headers["retry-after"]) > 0
    assert not await Photo.exists().where(Photo.id == uuid.UUID(photo_id))
    assert leftovers(digest) == []

    # The disk is back: the tablet's retry of the same upload is stored whole.
    again, _, _ = await send(client, inspector, assignment, data, photo_id=photo_id)
    assert again.status_code == 201, again.text
    shown = await client.get(f"/api/photos/{photo_id}/thumbnail", headers=inspector)
    assert shown.status_code == 200
    assert len(list(get_settings().files_dir.rglob(f"*{digest}*"))) == 2
    assert list(get_settings().data_dir.rglob("*.tmp")) == []


async def test_a_failure_never_removes_the_files_of_a_photo_stored_before(
    client: httpx.AsyncClient,
    inspector: dict[str, str],
    assignment: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same bytes again under a new id while the first photo's thumbnail is missing: the
    new upload rewrites the thumbnail, the disk is full, and the first photo's image stays."""
    data = fresh_jpeg()
    first, first_id, digest = await send(client, inspector, assignment, data)
    assert first.status_code == 201, first.text
    files = get_settings().files_dir
    (image,) = [p for p in files.rglob(f"*{digest}*") if ".thumb" not in p.name]
    (thumbnail,) = [p for p in files.rglob(f"*{digest}*") if ".thumb" in p.name]
    thumbnail.unlink()

    # The image is there with the same bytes (no write); the thumbnail's write is refused.
    fail_file_create(monkeypatch, 1, errno.ENOSPC)
    second, second_id, _ = await send(client, inspector, assignment, data)
    monkeypatch.undo()

    assert second.status_code == 507, second.text
    assert not await Photo.exists().where(Photo.id == uuid.UUID(second_id))
    assert image.is_file()  # the first photo's, kept
    assert (await client.get(f"/api/photos/{first_id}", headers=inspector)).status_code == 200
    assert list(get_settings().data_dir.rglob("*.tmp")) == []


async def test_a_full_store_refuses_a_rectification_photo_and_leaves_nothing(
    client: httpx.AsyncClient, login, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manager's evidence for a rectification task goes through the same store: the same
    clear answer, and neither a row nor a file is left when its thumbnail cannot be written."""
    from backend.rectification.tables import Attachment
    from tests.rectification.helpers import make_tenant, notice_of, submit

    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant)
    notice = await notice_of(client, await login("supervisor"), result["inspection_id"])
    task_id = notice["tasks"][0]["id"]
    data = fresh_jpeg()
    digest = hashlib.sha256(data).hexdigest()
    attachment_id = str(uuid.uuid4())

    async def upload() -> httpx.Response:
        return await client.post(
            f"/api/rectification/tasks/{task_id}/photos",
            data={"id": attachment_id, "sha256": digest},
            files={"file": ("p.jpg", data, "image/jpeg")},
            headers=tenant.manager,
        )

    fail_file_write(monkeypatch, 2, errno.ENOSPC)
    refused = await upload()
    monkeypatch.undo()

    assert refused.status_code == 507, refused.text
    assert "存储空间已满" in refused.json()["detail"]
    assert not await Attachment.exists().where(Attachment.id == uuid.UUID(attachment_id))
    assert leftovers(digest) == []
    assert (await upload()).status_code == 201
    assert len(list(get_settings().files_dir.rglob(f"*{digest}*"))) == 2


async def test_a_photo_whose_file_is_gone_answers_404_in_chinese(
    client: httpx.AsyncClient, inspector: dict[str, str], assignment: dict[str, Any]
) -> None:
    """A row whose file went missing (a lost disk, a restore without its photos) is a clear 404,
    never a 500; the thumbnail, still there, is served."""
    data = fresh_jpeg()
    response, photo_id, digest = await send(client, inspector, assignment, data)
    assert response.status_code == 201, response.text
    (image,) = [p for p in get_settings().files_dir.rglob(f"*{digest}*") if ".thumb" not in p.name]
    image.unlink()

    gone = await client.get(f"/api/photos/{photo_id}", headers=inspector)
    assert gone.status_code == 404, gone.text
    assert "找不到文件" in gone.json()["detail"]
    assert (
        await client.get(f"/api/photos/{photo_id}/thumbnail", headers=inspector)
    ).status_code == 200
