"""Assignments, the offline bundle, the sync push, inspections and photos over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role
from backend.errors import InvalidInput
from backend.inspections import assignments, photos, reading, sync
from backend.inspections.bundle import BUNDLE_ROLES, build_bundle
from backend.inspections.images import ImageLimits
from backend.inspections.schemas import (
    AssignmentCreate,
    AssignmentOut,
    BundleOut,
    CancelRequest,
    HistoryEvent,
    InspectionOut,
    PhotoOut,
    PushRequest,
    PushResponse,
)
from backend.inspections.tables import AssignmentStatus, PhotoKind
from backend.media import image_response, thumbnail_type
from backend.settings import Settings
from backend.storage import get_file_store
from backend.tenancy import require_roles


class AssignmentController(Controller):
    path = "/api/assignments"
    tags = ["检查任务"]

    @get(
        "/",
        summary="检查任务列表",
        guards=[require_roles(Role.admin, Role.supervisor, Role.inspector)],
    )
    async def list_assignments(
        self,
        current_user: NamedDependency[CurrentUser],
        status: FromQuery[AssignmentStatus | None] = None,
    ) -> list[AssignmentOut]:
        """An inspector's own assignments; a supervisor's region's; everything for an admin."""
        return await assignments.list_assignments(current_user, status=status)

    @post("/", summary="创建检查任务", guards=[require_roles(Role.admin, Role.supervisor)])
    async def create_assignment(
        self, data: JSONBody[AssignmentCreate], current_user: NamedDependency[CurrentUser]
    ) -> AssignmentOut:
        """Plan an inspection of an institution in one's region with at least two inspectors."""
        return await assignments.create_assignment(current_user, data)

    @get(
        "/{assignment_id:uuid}",
        summary="检查任务详情",
        guards=[require_roles(Role.admin, Role.supervisor, Role.inspector)],
    )
    async def get_assignment(
        self, assignment_id: FromPath[UUID], current_user: NamedDependency[CurrentUser]
    ) -> AssignmentOut:
        """One assignment (404 outside one's tenancy)."""
        return await assignments.get_assignment(current_user, assignment_id)

    @post(
        "/{assignment_id:uuid}/cancel",
        summary="取消检查任务",
        status_code=200,
        guards=[require_roles(Role.admin, Role.supervisor)],
    )
    async def cancel_assignment(
        self,
        assignment_id: FromPath[UUID],
        data: JSONBody[CancelRequest],
        current_user: NamedDependency[CurrentUser],
    ) -> AssignmentOut:
        """Cancel an assignment whose inspection has not been submitted."""
        return await assignments.cancel_assignment(current_user, assignment_id, data.reason)


class SyncController(Controller):
    path = "/api/sync"
    tags = ["离线同步"]

    @get("/bundle", summary="离线数据包", guards=[require_roles(*BUNDLE_ROLES)])
    async def bundle(
        self,
        request: Request[CurrentUser, Any, Any],
        current_user: NamedDependency[CurrentUser],
        since: FromQuery[str | None] = None,
    ) -> Response[BundleOut]:
        """Assignments, their checklist versions, the region's institutions and physicians.

        Pass the previous answer's ``cursor`` as ``since`` for the changes only, and its ETag as
        ``If-None-Match`` to get 304 when nothing changed.
        """
        bundle, etag = await build_bundle(current_user, since)
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if request.headers.get("if-none-match") == etag:
            return Response(content=None, status_code=304, headers=headers)  # type: ignore[arg-type]
        return Response(bundle, headers=headers)

    @post("/", summary="上传检查记录（批量、幂等）", guards=[require_roles(Role.inspector)])
    async def push(
        self, data: JSONBody[PushRequest], current_user: NamedDependency[CurrentUser]
    ) -> Response[PushResponse]:
        """Apply a batch of inspections; each gets its own result.

        The answer is 200 when every record was accepted, merged or already known; when every
        record was rejected, the first rejection's status (409, 422, 404); when some were and
        some weren't, 207. Read ``results`` in every case.
        """
        results = await sync.push(current_user, data)
        rejected = [r for r in results if r.status == "rejected"]
        if not rejected:
            status = 200
        elif len(rejected) == len(results):
            status = rejected[0].http_status
        else:
            status = 207
        return Response(PushResponse(results=results), status_code=status)


class InspectionController(Controller):
    path = "/api/inspections"
    tags = ["现场检查"]

    @get("/", summary="检查记录列表")
    async def list_inspections(
        self,
        current_user: NamedDependency[CurrentUser],
        status: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
        offset: FromQuery[int] = 0,
    ) -> list[dict[str, Any]]:
        """Inspections one may see; a manager sees their institution's submitted ones."""
        if not 1 <= limit <= 500 or offset < 0:
            raise InvalidInput("limit 须在 1–500 之间，offset 不能为负")
        return await reading.list_inspections(
            current_user, status=status, limit=limit, offset=offset
        )

    @get("/{inspection_id:uuid}", summary="检查记录详情")
    async def get_inspection(
        self, inspection_id: FromPath[UUID], current_user: NamedDependency[CurrentUser]
    ) -> InspectionOut:
        """The inspection with every finding, its photos and, once submitted, the official score."""
        return await reading.inspection_out(current_user, inspection_id)

    @get(
        "/{inspection_id:uuid}/history",
        summary="检查记录历史（审计）",
        guards=[require_roles(Role.admin, Role.supervisor)],
    )
    async def inspection_history(
        self, inspection_id: FromPath[UUID], current_user: NamedDependency[CurrentUser]
    ) -> list[HistoryEvent]:
        """Every change and every finding write received, including those that lost a conflict."""
        return await reading.history(current_user, inspection_id)


@dataclass
class PhotoForm:
    """The multipart form of an upload."""

    file: UploadFile
    id: str
    sha256: str
    assignment_id: str
    inspection_id: str
    kind: str = "evidence"
    item_id: str | None = None
    signer: str | None = None
    captured_at: str | None = None


def _uuid(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise InvalidInput(f"{field} 须为 UUID", details={"field": field}) from None


def _upload_fields(form: PhotoForm) -> photos.PhotoUpload:
    try:
        kind = PhotoKind(form.kind)
    except ValueError:
        raise InvalidInput("kind 须为 evidence 或 signature", details={"field": "kind"}) from None
    captured_at = None
    if form.captured_at:
        try:
            captured_at = datetime.fromisoformat(form.captured_at)
        except ValueError:
            raise InvalidInput(
                "captured_at 须为 ISO 8601 时间", details={"field": "captured_at"}
            ) from None
    if kind == PhotoKind.signature and form.signer not in {"representative", "inspector"}:
        raise InvalidInput(
            "签字图片须注明签字人：representative 或 inspector", details={"field": "signer"}
        )
    return photos.PhotoUpload(
        id=_uuid(form.id, "id"),
        sha256=form.sha256,
        assignment_id=_uuid(form.assignment_id, "assignment_id"),
        inspection_id=_uuid(form.inspection_id, "inspection_id"),
        kind=kind,
        item_id=form.item_id or None,
        signer=form.signer or None,
        captured_at=captured_at,
    )


class PhotoController(Controller):
    path = "/api/photos"
    tags = ["照片"]

    @post("/", summary="上传佐证照片或签字（幂等）", guards=[require_roles(Role.inspector)])
    async def upload(
        self,
        data: Annotated[PhotoForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response[PhotoOut]:
        """Upload one image with its client id and SHA-256: 201 stored, 200 already stored."""
        upload = _upload_fields(data)
        content = await data.file.read()
        row, created = await photos.receive_photo(
            current_user, upload, content, get_file_store(settings), ImageLimits.from_env()
        )
        return Response(reading.photo_out(row), status_code=201 if created else 200)

    @delete(
        "/{photo_id:uuid}",
        summary="删除草稿中的照片（已提交的检查不能删除）",
        guards=[require_roles(Role.inspector)],
    )
    async def remove(
        self,
        photo_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> None:
        """A photo taken off a draft after it was sent: 204 removed; 409 once submitted."""
        await photos.delete_draft_photo(current_user, photo_id, get_file_store(settings))

    @get("/{photo_id:uuid}", summary="照片（展示尺寸）")
    async def display(
        self,
        photo_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        """The display-size image, without metadata."""
        row = await photos.visible_photo(current_user, photo_id)
        return await image_response(settings, row["storage_key"], row["content_type"])

    @get("/{photo_id:uuid}/thumbnail", summary="照片缩略图")
    async def thumbnail(
        self,
        photo_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        """The thumbnail (longest side 320 px)."""
        row = await photos.visible_photo(current_user, photo_id)
        return await image_response(
            settings, row["thumbnail_key"], thumbnail_type(row["thumbnail_key"])
        )
