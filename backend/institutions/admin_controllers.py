"""The administrator's institutions and regions: create, bulk import and its template, the region
tree with the issuing offices, and a county's QR posters as one PDF."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from anyio import to_thread
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role
from backend.institutions import admin, importing, services
from backend.institutions.controllers import NO_STORE, _base_url, _detail
from backend.institutions.schemas import (
    ImportResult,
    InstitutionAdminUpdate,
    InstitutionCreate,
    InstitutionDetail,
    RegionCreate,
    RegionNode,
    RegionUpdate,
)
from backend.tenancy import require_roles

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class ImportForm:
    """The multipart form of an import: the file (.xlsx or .csv)."""

    file: UploadFile


def _attachment(filename: str, fallback: str) -> str:
    # RFC 6266: an ASCII fallback for old clients, the Chinese name for the others.
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


class AdminInstitutionController(Controller):
    path = "/api/admin"
    tags = ["系统管理"]
    guards = [require_roles(Role.admin)]

    @post("/institutions", summary="新建定点医药机构")
    async def create_institution(
        self, data: JSONBody[InstitutionCreate], current_user: NamedDependency[CurrentUser]
    ) -> InstitutionDetail:
        """Create one institution (the same rules as the import): 201; 422 with every problem;
        409 when the code is taken."""
        values = data.model_dump()
        values["region"] = values.pop("region_code")
        new_id = await admin.create_institution(values, current_user.actor)
        return _detail(await services.get_institution(current_user, new_id), current_user)

    @patch("/institutions/{institution_id:uuid}", summary="修改机构（含名称、协议状态及原因）")
    async def update_institution(
        self,
        institution_id: FromPath[UUID],
        data: JSONBody[InstitutionAdminUpdate],
        current_user: NamedDependency[CurrentUser],
    ) -> InstitutionDetail:
        """The admin's edit form: name, level, address, contact and the agreement status with
        its reason; only the fields given change, each change audited. 422 for a value not
        allowed or nothing to change; 404 for an unknown institution."""
        await services.update_institution(
            institution_id, current_user.actor, **data.model_dump(exclude_unset=True)
        )
        return _detail(await services.get_institution(current_user, institution_id), current_user)

    @post("/institutions/import", summary="批量导入定点医药机构（XLSX / CSV）", status_code=200)
    async def import_institutions(
        self,
        data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        current_user: NamedDependency[CurrentUser],
    ) -> Response[Any]:
        """Import the institutions of an ``.xlsx`` or ``.csv`` (UTF-8, BOM or not) file, all or
        none. 200 ``{"imported": n}``; 422 ``{"rows": [{"row": n, "problems": [...]}]}`` naming
        every bad line (the header is line 1) when any row is bad, nothing stored; 422 (or 413
        when too large) with ``detail`` for a file that cannot be read at all."""
        content = await data.file.read()
        try:
            count = await admin.import_institutions(
                data.file.filename or "", content, current_user.actor
            )
        except importing.ImportRefused as exc:
            return Response(
                {
                    "status_code": 422,
                    "detail": exc.message,
                    "rows": [{"row": r.row, "problems": r.problems} for r in exc.rows],
                },
                status_code=422,
            )
        return Response(ImportResult(imported=count), status_code=200)

    @get(
        "/institutions/import-template.xlsx",
        summary="机构导入模板（XLSX）",
        media_type=XLSX,
    )
    async def import_template(self) -> Response[bytes]:
        """The import template: the header row with the Chinese column names (frozen), an example
        row, and a sheet explaining the columns with the region codes."""
        tree = await admin.region_tree()
        regions: list[tuple[str, str]] = []

        def walk(nodes: list[dict[str, Any]]) -> None:
            for node in nodes:
                regions.append((node["code"], node["name"]))
                walk(node["children"])

        walk(tree)
        # Counties first: institutions belong to a county more often than to a city.
        regions.sort(key=lambda r: r[0].endswith("00"))
        body = await to_thread.run_sync(partial(importing.template_xlsx, regions))
        return Response(
            body,
            media_type=XLSX,
            headers={"Content-Disposition": _attachment("机构导入模板.xlsx", "institutions-template.xlsx")},
        )

    @get("/regions", summary="地区与签发机关")
    async def list_regions(self) -> list[RegionNode]:
        """The region tree (cities with their counties), each with its issuing office's short
        name and its numbers of institutions and users."""
        return [RegionNode.model_validate(node) for node in await admin.region_tree()]

    @post("/regions", summary="新建地区")
    async def create_region(
        self, data: JSONBody[RegionCreate], current_user: NamedDependency[CurrentUser]
    ) -> list[RegionNode]:
        """Add a region (201, answering the whole tree); 409 for a code or an office short name
        taken, 404 for an unknown parent, 422 for a value not allowed."""
        await admin.create_region(
            data.code, data.name, data.office_short_name, data.parent_code, current_user.actor
        )
        return [RegionNode.model_validate(node) for node in await admin.region_tree()]

    @patch("/regions/{code:str}", summary="修改地区名称或签发机关简称")
    async def update_region(
        self,
        code: FromPath[str],
        data: JSONBody[RegionUpdate],
        current_user: NamedDependency[CurrentUser],
    ) -> list[RegionNode]:
        """Rename a region or change its issuing office's short name, used in the numbers of the
        notices issued from now on (answering the whole tree); 409 for a short name another
        region has."""
        await admin.update_region(
            code, current_user.actor, name=data.name, office_short_name=data.office_short_name
        )
        return [RegionNode.model_validate(node) for node in await admin.region_tree()]

    @get(
        "/regions/{code:str}/posters.pdf",
        summary="打印地区全部机构的检查码海报（PDF，每页一张 A4）",
        media_type="application/pdf",
    )
    async def region_posters(
        self, code: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[bytes]:
        """Every institution's QR poster of the region (its counties included), one A4 page
        each, ordered by code. 404 unknown region; 422 a region without institutions; 503 when
        the server has no Chinese font."""
        name, fields = await admin.region_poster_fields(code, _base_url(request))
        pdf = await to_thread.run_sync(partial(admin.posters_pdf, fields, f"{name}检查码海报"))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                **NO_STORE,
                "Content-Disposition": _attachment(
                    f"{name}检查码海报.pdf", f"posters-{code}.pdf"
                ).replace("attachment", "inline"),
            },
        )
