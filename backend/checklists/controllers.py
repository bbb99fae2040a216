"""Checklist versions for the administrator: list, read one, upload a new YAML version.

An upload goes through the same validation and the same rules as ``yibao checklists load``: every
problem is reported with its path in the file, the same file again changes nothing, and a file
that changes a version already loaded is refused (past inspections are scored against it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from pydantic import BaseModel

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role
from backend.checklists import services
from backend.checklists.validation import ChecklistInvalid, load_checklist_text
from backend.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from backend.tenancy import require_roles

MAX_CHECKLIST_BYTES = 1024 * 1024


class ChecklistVersionOut(BaseModel):
    """A loaded checklist version, without its content."""

    id: UUID
    checklist_id: str
    version: int
    title: str
    applies_to: list[str]
    content_hash: str
    item_count: int
    source_file: str
    loaded_at: datetime


class ChecklistVersionDetail(ChecklistVersionOut):
    """A loaded version with its parsed content (sections, items, grade bands) and its YAML."""

    content: dict[str, Any]
    source_text: str


class UploadResult(BaseModel):
    """``loaded``: a new version was stored (201); ``unchanged``: this exact content is loaded
    already (200)."""

    outcome: str
    version: ChecklistVersionOut


@dataclass
class ChecklistUpload:
    """The multipart form of an upload."""

    file: UploadFile


def _out(row: dict[str, Any]) -> ChecklistVersionOut:
    return ChecklistVersionOut(**{k: row[k] for k in ChecklistVersionOut.model_fields})


def _text(name: str, content: bytes) -> str:
    if not name.lower().endswith((".yaml", ".yml")):
        raise InvalidInput("检查表须为 .yaml 或 .yml 文件", details={"field": "file"})
    if not content.strip():
        raise InvalidInput("文件是空的", details={"field": "file"})
    if len(content) > MAX_CHECKLIST_BYTES:
        raise PayloadTooLarge("检查表文件过大（上限 1 MB）", details={"field": "file"})
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"文件不是 UTF-8 编码（第 {exc.start} 字节），请以 UTF-8 保存后重新上传",
            details={"field": "file"},
        ) from None


class ChecklistAdminController(Controller):
    path = "/api/admin/checklists"
    tags = ["系统管理"]
    guards = [require_roles(Role.admin)]

    @get("/", summary="检查表版本列表")
    async def list_versions(self) -> list[ChecklistVersionOut]:
        """Every loaded version: by checklist id, newest version first."""
        return [_out(r) for r in await services.list_versions()]

    @get("/{version_id:uuid}", summary="检查表版本详情")
    async def get_version(self, version_id: FromPath[UUID]) -> ChecklistVersionDetail:
        """One loaded version with its parsed content and the YAML it was loaded from."""
        row = await services.version_by_id(version_id)
        if row is None:
            raise NotFound("检查表版本不存在")
        return ChecklistVersionDetail(
            **_out(row).model_dump(), content=row["content"], source_text=row["source_text"]
        )

    @post("/", summary="上传检查表新版本（YAML）")
    async def upload(
        self,
        data: Annotated[ChecklistUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        current_user: NamedDependency[CurrentUser],
    ) -> Response[UploadResult]:
        """Validate and load a checklist YAML file (multipart field ``file``).

        201 loaded; 200 the same content is loaded already; 422 with ``extra.problems`` (each
        with ``path``, ``line`` and ``message``) when the file is invalid; 409 when the file's
        version is loaded with other content (raise ``version`` to load it). Nothing is stored
        unless 201.
        """
        name = data.file.filename or ""
        text = _text(name, await data.file.read())
        try:
            loaded = load_checklist_text(text, name)
        except ChecklistInvalid as exc:
            problems = [
                {"path": p.path, "line": p.line, "message": p.message} for p in exc.problems
            ]
            raise InvalidInput(
                f"检查表有 {len(problems)} 处问题，未载入", details={"problems": problems}
            ) from None
        result = await services.store_checklist(loaded, name, current_user.actor)
        checklist = loaded.checklist
        if result.outcome == "refused":
            raise Conflict(
                f"检查表 {checklist.id} 第 {checklist.version} 版已载入，且内容不同"
                f"（已载入 {result.existing_hash}，文件为 {loaded.content_hash}）。"
                "已载入的版本不能更改，因为以往的检查按它评分："
                f"请将 version 提高到 {checklist.version + 1} 或以上再上传",
                details={
                    "checklist_id": checklist.id,
                    "version": checklist.version,
                    "loaded_hash": result.existing_hash,
                    "file_hash": loaded.content_hash,
                    "next_version": checklist.version + 1,
                },
            )
        row = await services.version_by_id(result.version_id)
        assert row is not None
        return Response(
            UploadResult(outcome=result.outcome, version=_out(row)),
            status_code=201 if result.outcome == "loaded" else 200,
        )
