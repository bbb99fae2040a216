"""The manager's photo evidence for a task's answer: uploaded one by one before the answer that
lists them, like the inspectors' photos (same checks, same re-encoding without metadata, same
content-addressed file store), with their metadata in ``rectification_attachment``."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser
from backend.audit.services import record
from backend.db import write_transaction
from backend.errors import Conflict, InvalidInput, NotFound
from backend.inspections.images import (
    ImageLimits,
    ProcessedImage,
    process_image_async,
    sha256_hex,
)
from backend.media import store_image
from backend.rectification.access import notice_where, visible_task
from backend.rectification.tables import FINISHED_TASK_STATUSES, Attachment, NoticeStatus
from backend.storage import FileStore, NewFiles

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
ATTACHMENT_NOT_FOUND = "照片不存在或您无权查看"
MAX_PER_TASK = 100


async def receive_attachment(
    user: CurrentUser,
    task_id: UUID,
    attachment_id: UUID,
    sha256: str | None,
    data: bytes,
    store: FileStore,
    limits: ImageLimits,
    captured_at: datetime | None = None,
) -> tuple[dict[str, Any], bool]:
    """Check, prepare and store one photo for a task.

    Args:
        user: the manager.
        task_id: the task the photo is evidence for.
        attachment_id: the client's UUID for the photo (a retry sends the same).
        sha256: the SHA-256 of the bytes as the client computed it (optional; checked if given).
        data: the uploaded bytes.
        store: where the files go.
        limits: the image limits.
        captured_at: when the photo was taken, if the client knows better than its EXIF.

    Returns:
        The attachment row, and whether it was stored now (False: the same upload again).

    Raises:
        NotFound: not a task of the manager's institution.
        Conflict: the id is taken by another photo, or the task no longer takes answers.
        InvalidInput: a malformed or mismatching SHA-256.
        ImageRejected: not an acceptable image.
    """
    task = await visible_task(user, task_id)
    digest = sha256_hex(data)
    if sha256 is not None:
        claimed = sha256.lower()
        if not SHA256_RE.match(claimed):
            raise InvalidInput("sha256 须为 64 位十六进制字符", details={"field": "sha256"})
        if claimed != digest:
            raise InvalidInput(
                "照片内容与校验值不符，上传可能中断，请重新上传", details={"field": "sha256"}
            )
    existing = await Attachment.select().where(Attachment.id == attachment_id).first()
    if existing is not None:
        if existing["sha256"] == digest and existing["task"] == task_id:
            return existing, False
        raise Conflict("照片编号已被另一张照片使用，请重新选择照片", details={"field": "id"})
    if (
        task["notice_status"] != NoticeStatus.issued.value
        or task["status"] in FINISHED_TASK_STATUSES
    ):
        raise Conflict("该事项已办结，不能再上传照片")
    if await Attachment.count().where(Attachment.task == task_id) >= MAX_PER_TASK:
        raise Conflict(f"每个事项最多上传 {MAX_PER_TASK} 张照片")

    image = await process_image_async(data, limits)
    # Files written for this upload are removed again if it fails (store full or read-only half
    # way, database connection lost): no orphan file is left.
    files = NewFiles(store)
    try:
        inserted = await _store_and_insert(
            user, task_id, attachment_id, digest, image, files, captured_at
        )
    except BaseException:
        await files.discard(in_use=_attachment_file_in_use)
        raise
    row = await Attachment.select().where(Attachment.id == attachment_id).first()
    assert row is not None
    if not inserted and (row["sha256"] != digest or row["task"] != task_id):
        raise Conflict("照片编号已被另一张照片使用，请重新选择照片", details={"field": "id"})
    return row, bool(inserted)


async def _attachment_file_in_use(key: str) -> bool:
    return await Attachment.exists().where(
        (Attachment.storage_key == key) | (Attachment.thumbnail_key == key)
    )


async def _store_and_insert(
    user: CurrentUser,
    task_id: UUID,
    attachment_id: UUID,
    digest: str,
    image: ProcessedImage,
    files: NewFiles,
    captured_at: datetime | None,
) -> list[dict[str, Any]]:
    """Store the files and insert the row; the inserted ids (none: the same upload was there)."""
    meta = await store_image(files, "rectification", digest, image)
    async with write_transaction():
        # ON CONFLICT DO NOTHING: a concurrent retry of the same upload may insert the same id
        # between our check above and this insert (on PostgreSQL a READ COMMITTED transaction
        # can't see it coming); the loser then inserts nothing instead of failing.
        inserted = (
            await Attachment.insert(
                Attachment(
                    id=attachment_id,
                    task=task_id,
                    sha256=digest,
                    captured_at=captured_at or image.captured_at,
                    uploaded_by=user.id,
                    **meta,
                )
            )
            .on_conflict(action="DO NOTHING")
            .returning(Attachment.id)
        )
        if inserted:
            await record(
                user.actor,
                "rectification_task.upload_photo",
                "rectification_task",
                task_id,
                after={"attachment": str(attachment_id), "sha256": digest},
            )
    return inserted


async def visible_attachment(user: CurrentUser, attachment_id: UUID) -> dict[str, Any]:
    """An attachment row the user may see (as its task), else 404."""
    query = Attachment.select().where(Attachment.id == attachment_id)
    scope = notice_where(user, Attachment.task.notice)
    if scope is not None:
        query = query.where(scope)
    row = await query.first()
    if row is None:
        raise NotFound(ATTACHMENT_NOT_FOUND)
    return row


def attachment_urls(attachment_id: UUID | str) -> dict[str, str]:
    """Where an attachment's image and thumbnail are served."""
    return {
        "url": f"/api/rectification/photos/{attachment_id}",
        "thumbnail_url": f"/api/rectification/photos/{attachment_id}/thumbnail",
    }
