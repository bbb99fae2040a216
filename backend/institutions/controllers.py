"""Designated institutions (定点医药机构): lists, details, physicians, QR codes and posters,
scan resolution, and the admin's changes."""

from __future__ import annotations

import re
from functools import partial
from typing import Any
from uuid import UUID

from anyio import to_thread
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath, FromQuery, JSONBody

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role
from backend.institutions import qr, services
from backend.institutions.schemas import (
    InstitutionDetail,
    InstitutionOut,
    InstitutionPage,
    InstitutionUpdate,
    OpenAssignment,
    PhysicianOut,
    ScannedInstitution,
)
from backend.institutions.tables import (
    AGREEMENT_STATUS_LABELS,
    INSTITUTION_TYPE_LABELS,
    PHYSICIAN_STATUS_LABELS,
    AgreementStatus,
    InstitutionType,
    PhysicianStatus,
)
from backend.tenancy import require_roles

# The QR code and posters carry the token: the bureau's staff get them, managers never do.
QR_ROLES = (Role.admin, Role.supervisor, Role.inspector)
# They hold a secret: no shared cache may keep them.
NO_STORE = {"Cache-Control": "no-store"}


def _institution_fields(row: dict[str, Any], user: CurrentUser) -> dict[str, Any]:
    kind = InstitutionType(row["type"])
    status = AgreementStatus(row["agreement_status"])
    return {
        "id": row["id"],
        "code": row["code"],
        "name": row["name"],
        "type": kind,
        "type_label": INSTITUTION_TYPE_LABELS[kind],
        "level": row["level"],
        "region_code": row["region_code"],
        "region_name": row["region_name"],
        "address": row["address"],
        "contact_name": row["contact_name"],
        "contact_phone": row["contact_phone"],
        "agreement_status": status,
        "agreement_status_label": AGREEMENT_STATUS_LABELS[status],
        "updated_at": row["updated_at"],
        "qr_token": row["qr_token"] if services.may_see_tokens(user) else None,
    }


def _detail(row: dict[str, Any], user: CurrentUser) -> InstitutionDetail:
    return InstitutionDetail(
        **_institution_fields(row, user), physician_count=row["physician_count"]
    )


def _base_url(request: Request[Any, Any, Any]) -> str:
    """Where the app is reached, as the caller reached it: the phone camera opens it there."""
    return str(request.base_url)


def _file_name(prefix: str, code: str, ext: str) -> str:
    return f'inline; filename="{prefix}-{re.sub(r"[^A-Za-z0-9_-]", "", code)}.{ext}"'


class InstitutionController(Controller):
    path = "/api/institutions"
    tags = ["定点医药机构"]

    @get("/", summary="机构列表")
    async def list_institutions(
        self,
        current_user: NamedDependency[CurrentUser],
        type: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        agreement_status: FromQuery[str | None] = None,
        limit: FromQuery[int] = services.DEFAULT_LIMIT,
        offset: FromQuery[int] = 0,
    ) -> InstitutionPage:
        """The institutions the caller may see, ordered by code.

        Filters: ``type`` (hospital, clinic, tcm_clinic, pharmacy), ``region`` (a region code;
        its counties included), ``q`` (part of the name or code), ``agreement_status`` (normal,
        suspended, terminated). ``limit`` 1–500 (default 100) and ``offset`` page through them;
        ``total`` counts every match. Managers get no ``qr_token``. 422 for a bad filter value.
        """
        rows, total = await services.list_institutions(
            current_user,
            type=type,
            region=region,
            q=q,
            agreement_status=agreement_status,
            limit=limit,
            offset=offset,
        )
        return InstitutionPage(
            items=[InstitutionOut(**_institution_fields(r, current_user)) for r in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    @get("/{institution_id:uuid}", summary="机构详情")
    async def get_institution(
        self, institution_id: FromPath[UUID], current_user: NamedDependency[CurrentUser]
    ) -> InstitutionDetail:
        """One institution with its number of physicians (404 outside the caller's tenancy)."""
        row = await services.get_institution(current_user, institution_id)
        return _detail(row, current_user)

    @get("/{institution_id:uuid}/physicians", summary="机构医保医师")
    async def list_physicians(
        self, institution_id: FromPath[UUID], current_user: NamedDependency[CurrentUser]
    ) -> list[PhysicianOut]:
        """The institution's 医保医师 with their status and this year's remaining points."""
        rows = await services.list_physicians(current_user, institution_id)
        return [
            PhysicianOut(
                **{k: v for k, v in r.items() if k != "status"},
                status=PhysicianStatus(r["status"]),
                status_label=PHYSICIAN_STATUS_LABELS[PhysicianStatus(r["status"])],
            )
            for r in rows
        ]

    @get(
        "/{institution_id:uuid}/qr.png",
        summary="机构检查码图片",
        media_type="image/png",
        guards=[require_roles(*QR_ROLES)],
    )
    async def qr_png(
        self,
        institution_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        current_user: NamedDependency[CurrentUser],
    ) -> Response[bytes]:
        """The QR code (PNG) holding ``{base URL}/s/{token}``: a phone camera opens the app."""
        row = await services.get_institution(current_user, institution_id)
        payload = services.scan_payload(row["qr_token"], _base_url(request))
        return Response(
            qr.qr_png(payload),
            media_type="image/png",
            headers={**NO_STORE, "Content-Disposition": _file_name("qr", row["code"], "png")},
        )

    @get(
        "/{institution_id:uuid}/poster",
        summary="机构检查码海报（A4，网页打印）",
        media_type=MediaType.HTML,
        guards=[require_roles(*QR_ROLES)],
    )
    async def poster_html(
        self,
        institution_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        current_user: NamedDependency[CurrentUser],
    ) -> Response[str]:
        """A print-ready A4 poster with the QR code, as a self-contained HTML page."""
        row = await services.get_institution(current_user, institution_id)
        fields = await services.poster_fields(row, _base_url(request))
        return Response(qr.poster_html(**fields), media_type=MediaType.HTML, headers=NO_STORE)

    @get(
        "/{institution_id:uuid}/poster.png",
        summary="机构检查码海报（A4 图片）",
        media_type="image/png",
        guards=[require_roles(*QR_ROLES)],
    )
    async def poster_png(
        self,
        institution_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        current_user: NamedDependency[CurrentUser],
    ) -> Response[bytes]:
        """The same poster as a 1240 × 1754 PNG (A4 at 150 dpi); 503 when the server has no
        Chinese font to draw it with."""
        row = await services.get_institution(current_user, institution_id)
        fields = await services.poster_fields(row, _base_url(request))
        png = await to_thread.run_sync(partial(services.render_poster_png, fields))
        return Response(
            png,
            media_type="image/png",
            headers={**NO_STORE, "Content-Disposition": _file_name("poster", row["code"], "png")},
        )

    @post(
        "/{institution_id:uuid}/qr-token/rotate",
        summary="更换机构检查码",
        status_code=200,
        guards=[require_roles(Role.admin)],
    )
    async def rotate_qr_token(
        self, institution_id: FromPath[UUID], current_user: NamedDependency[CurrentUser]
    ) -> InstitutionDetail:
        """A new QR token: the old code stops working at once, the posters must be reprinted."""
        await services.rotate_qr_token(institution_id, current_user.actor)
        return _detail(await services.get_institution(current_user, institution_id), current_user)

    @get(
        "/by-qr/{token:str}",
        summary="扫码识别机构",
        guards=[require_roles(Role.inspector)],
    )
    async def by_qr(
        self, token: FromPath[str], current_user: NamedDependency[CurrentUser]
    ) -> ScannedInstitution:
        """The institution a scanned code names, with the caller's open assignments there.

        Only inspectors scan. A malformed or unknown code, or one of an institution outside the
        inspector's region, answers the same 404.
        """
        row = await services.resolve_scan(current_user, token)
        assignments = await services.open_assignments(current_user.id, row["id"])
        return ScannedInstitution(
            **_detail(row, current_user).model_dump(),
            open_assignments=[OpenAssignment(**a) for a in assignments],
        )

    @patch(
        "/{institution_id:uuid}",
        summary="修改机构（协议状态、等级、地址、联系人）",
        guards=[require_roles(Role.admin)],
    )
    async def update_institution(
        self,
        institution_id: FromPath[UUID],
        data: JSONBody[InstitutionUpdate],
        current_user: NamedDependency[CurrentUser],
    ) -> InstitutionDetail:
        """Change the given fields; every change is audited. 422 for a value not allowed."""
        await services.update_institution(
            institution_id,
            current_user.actor,
            agreement_status=data.agreement_status,
            reason=data.reason,
            level=data.level,
            address=data.address,
            contact_name=data.contact_name,
            contact_phone=data.contact_phone,
        )
        return _detail(await services.get_institution(current_user, institution_id), current_user)
