"""Receiving evidence photos and signatures, and serving them to those who may see them.

An upload names its client UUID and the SHA-256 of its bytes. The same upload again (a retry
after a dropped connection) returns the stored photo and stores nothing; the same bytes under
another id reuse the stored files. Bytes that don't match their SHA-256 (an upload cut off
half-way) are refused, so a half-received photo is never stored as if it were whole.

Tablets send a draft's photos while the visit goes on, so a photo may reach the server and then be
taken off the draft (deleted or retaken): :func:`delete_draft_photo` removes it again, until the
inspection is submitted. Before submission only the assignment's team and the bureau's staff of
the region see a photo; the institution never does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role
from backend.audit.services import record
from backend.db import write_transaction
from backend.errors import Conflict, InvalidInput, NotFound
from backend.inspections.assignments import (
    is_unannounced_flight,
    teams_of,
    visible_assignment,
)
from backend.inspections.images import ImageLimits, process_image_async, sha256_hex
from backend.inspections.reading import may_see
from backend.inspections.tables import Inspection, InspectionStatus, Photo, PhotoKind
from backend.media import store_image
from backend.storage import FileStore, NewFiles

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
PHOTO_NOT_FOUND = "照片不存在或您无权查看"
LOCKED = "该检查已提交并锁定，不能再添加照片"
DELETE_LOCKED = "该检查已提交并锁定，照片不能再删除"


async def _inspection_locked(assignment_id: UUID) -> bool:
    return await Inspection.exists().where(
        (Inspection.assignment == assignment_id)
        & (Inspection.status == InspectionStatus.submitted.value)
    )


async def _same_upload(upload: PhotoUpload, claimed: str) -> dict[str, Any]:
    """The stored photo of a repeated upload, or 409 when the id holds other content."""
    row = await Photo.select().where(Photo.id == upload.id).first()
    if row is None or row["sha256"] != claimed or row["assignment"] != upload.assignment_id:
        raise Conflict("照片编号已被另一张照片使用，请重新拍摄", details={"field": "id"})
    return row


async def _photo_file_in_use(key: str) -> bool:
    return await Photo.exists().where((Photo.storage_key == key) | (Photo.thumbnail_key == key))


def _is_unique_violation(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return "uniqueviolation" in text or "unique constraint" in text or "duplicate key" in text


@dataclass(frozen=True)
class PhotoUpload:
    """The fields that come with an uploaded image."""

    id: UUID
    sha256: str
    assignment_id: UUID
    inspection_id: UUID
    kind: PhotoKind
    item_id: str | None = None
    signer: str | None = None
    captured_at: datetime | None = None


async def receive_photo(
    user: CurrentUser, upload: PhotoUpload, data: bytes, store: FileStore, limits: ImageLimits
) -> tuple[dict[str, Any], bool]:
    """Check, prepare and store one uploaded image.

    Returns:
        The photo row and whether it was created now (False for a repeated upload).

    Raises:
        InvalidInput: the SHA-256 is malformed or does not match the bytes (422).
        NotFound: the assignment is not the user's (404).
        Conflict: the id is taken by different content, or the inspection is locked (409).
        ImageRejected: not an acceptable image (413/415/422).
    """
    claimed = upload.sha256.lower()
    if not SHA256_RE.match(claimed):
        raise InvalidInput("sha256 须为 64 位十六进制字符", details={"field": "sha256"})
    assignment = await visible_assignment(user, upload.assignment_id)
    existing = await Photo.select().where(Photo.id == upload.id).first()
    if existing is not None:
        if existing["sha256"] == claimed and existing["assignment"] == upload.assignment_id:
            return existing, False
        raise Conflict("照片编号已被另一张照片使用，请重新拍摄", details={"field": "id"})
    if sha256_hex(data) != claimed:
        raise InvalidInput(
            "照片内容与校验值不符，上传可能中断，请重新上传", details={"field": "sha256"}
        )
    if await _inspection_locked(upload.assignment_id):
        raise Conflict(LOCKED)

    # Files written for this upload are removed again if it fails (store full or read-only half
    # way, database connection lost, inspection locked meanwhile): no orphan file is left.
    files = NewFiles(store)
    try:
        created = await _store_and_record(user, upload, claimed, assignment, data, files, limits)
    except BaseException:
        await files.discard(in_use=_photo_file_in_use)
        raise
    if created is not None:
        return created, False
    row = await Photo.select().where(Photo.id == upload.id).first()
    return row, True  # type: ignore[return-value]


async def _store_and_record(
    user: CurrentUser,
    upload: PhotoUpload,
    claimed: str,
    assignment: dict[str, Any],
    data: bytes,
    files: NewFiles,
    limits: ImageLimits,
) -> dict[str, Any] | None:
    """Store the files (unless the same bytes are stored already) and insert the row.

    Returns:
        None when the row was inserted now, else the row of a concurrent same upload.
    """
    twin = await Photo.select().where(Photo.sha256 == claimed).first()
    if (
        twin is not None
        and await files.exists(twin["storage_key"])
        and await files.exists(twin["thumbnail_key"])
    ):
        meta = {
            k: twin[k]
            for k in (
                "content_type",
                "width",
                "height",
                "size_bytes",
                "storage_key",
                "thumbnail_key",
            )
        }
        captured_at = twin["captured_at"]
    else:
        image = await process_image_async(data, limits)
        meta = await store_image(files, "photos", claimed, image)
        captured_at = image.captured_at

    try:
        async with write_transaction():
            if await Photo.exists().where(Photo.id == upload.id):
                # A concurrent retry of the same upload got here first.
                return await _same_upload(upload, claimed)
            # Again inside the transaction: the inspection may have been submitted while this
            # image was being processed.
            if await _inspection_locked(upload.assignment_id):
                raise Conflict(LOCKED)
            photo = Photo(
                id=upload.id,
                assignment=upload.assignment_id,
                inspection_id=upload.inspection_id,
                item_id=upload.item_id,
                kind=upload.kind.value,
                signer=upload.signer,
                sha256=claimed,
                captured_at=upload.captured_at or captured_at,
                device_id=user.device_id,
                uploaded_by=user.id,
                **meta,
            )
            await photo.save()
            await record(
                user.actor,
                "photo.upload",
                "photo",
                upload.id,
                after={
                    "assignment": str(upload.assignment_id),
                    "inspection": str(upload.inspection_id),
                    "institution": assignment["institution.code"],
                    "item": upload.item_id,
                    "kind": upload.kind.value,
                    "sha256": claimed,
                },
            )
    except Exception as exc:
        # On PostgreSQL a concurrent retry's uncommitted row is invisible to the check above; its
        # primary key still stops the second insert. That retry is the same upload: answer 200.
        if not _is_unique_violation(exc):
            raise
        return await _same_upload(upload, claimed)
    return None


async def visible_photo(user: CurrentUser, photo_id: UUID) -> dict[str, Any]:
    """A photo row the user may see: as its inspection (managers once it is submitted), or its
    assignment's team and region while the inspection has not arrived yet."""
    row = (
        await Photo.select(
            Photo.all_columns(),
            Photo.assignment.institution.id,
            Photo.assignment.institution.region,
            Photo.assignment.kind,
            Photo.assignment.window_start,
        )
        .where(Photo.id == photo_id)
        .first()
    )
    if row is None:
        raise NotFound(PHOTO_NOT_FOUND)
    if user.role == Role.manager and is_unannounced_flight(
        row["assignment.kind"], row["assignment.window_start"]
    ):
        raise NotFound(PHOTO_NOT_FOUND)  # a 飞行检查 not yet begun: see unannounced_flights
    submitted = await Inspection.exists().where(
        (Inspection.assignment == row["assignment"])
        & (Inspection.status == InspectionStatus.submitted.value)
    )
    institution = {
        "id": row["assignment.institution.id"],
        "region": row["assignment.institution.region"],
    }
    if not may_see(user, institution, submitted):
        raise NotFound(PHOTO_NOT_FOUND)
    if not submitted and user.role == Role.inspector and not await _on_team(user, row["assignment"]):
        raise NotFound(PHOTO_NOT_FOUND)  # a draft's photos: its own inspectors only
    return row


async def _on_team(user: CurrentUser, assignment_id: UUID) -> bool:
    team = (await teams_of([assignment_id])).get(assignment_id, [])
    return any(person.id == user.id for person in team)


async def delete_draft_photo(user: CurrentUser, photo_id: UUID, store: FileStore) -> None:
    """Remove a photo the tablet took off a draft after it was sent: the row (audited), then its
    files unless another photo row shares them (the same bytes are stored once).

    Raises:
        NotFound: no such photo, or the user is not on its assignment's team (404).
        Conflict: the inspection is submitted: its photos are part of the record (409).
    """
    row = await Photo.select().where(Photo.id == photo_id).first()
    if row is None or user.role != Role.inspector or not await _on_team(user, row["assignment"]):
        raise NotFound(PHOTO_NOT_FOUND)
    async with write_transaction():
        if await _inspection_locked(row["assignment"]):
            raise Conflict(DELETE_LOCKED)
        await Photo.delete().where(Photo.id == photo_id)
        await record(user.actor, "photo.delete", "photo", photo_id, before=removed_photo_view(row))
    await remove_unused_files(store, row)


def removed_photo_view(row: dict[str, Any]) -> dict[str, Any]:
    """What an audit event keeps of a removed photo (enough to say which one it was)."""
    return {
        "assignment": str(row["assignment"]),
        "inspection": str(row["inspection_id"]),
        "item": row["item_id"],
        "kind": row["kind"],
        "sha256": row["sha256"],
        "uploaded_at": row["created_at"].isoformat() if row.get("created_at") else None,
    }


async def remove_unused_files(store: FileStore, row: dict[str, Any]) -> None:
    """Delete a removed photo's display image and thumbnail unless another row still uses them.

    After the row's transaction: a crash in between leaves an unreferenced file, never a row that
    points at nothing (the order :func:`backend.media.store_image` keeps too)."""
    for key in (row["storage_key"], row["thumbnail_key"]):
        if not await _photo_file_in_use(key):
            await store.delete(key)
