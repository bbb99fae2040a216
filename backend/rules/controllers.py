"""The rules API: a physician's points and status, an institution's annual assessment.

Who may read: admins everywhere; supervisors and inspectors within their region (a city covers
its counties); an institution's manager for their own institution and its physicians (they are
the ones notified in writing, 威海办法第十五条). Anything outside that answers 404. Reinstating a
cancelled physician is a supervisor's or an admin's act.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from anyio import to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath, FromQuery

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role
from backend.errors import InvalidInput, NotFound
from backend.institutions.tables import Physician
from backend.rectification import documents, reading
from backend.rectification.config import RectificationSettings
from backend.rectification.controllers import ServiceUnavailable
from backend.rules import assessment, notice_points, points
from backend.rules.schemas import Assessment, NoticePoints, PhysicianPoints
from backend.settings import Settings
from backend.tenancy import require_roles, visible_institution

READERS = require_roles(Role.admin, Role.supervisor, Role.inspector, Role.manager)
DESK = require_roles(Role.admin, Role.supervisor)


def _year(year: int | None) -> int:
    if year is None:
        return points.today().year
    if not 2000 <= year <= 2100:
        raise InvalidInput("year 须为 2000–2100 之间的年份，如 2026", details={"field": "year"})
    return year


async def _visible_physician(user: CurrentUser, physician_id: UUID) -> dict:
    row = await Physician.select(Physician.id, Physician.institution).where(
        Physician.id == physician_id
    ).first()
    if row is None:
        raise NotFound("医师不存在或不在您的管辖范围内")
    try:
        await visible_institution(user, row["institution"])
    except NotFound:
        raise NotFound("医师不存在或不在您的管辖范围内") from None
    return row


class PhysicianPointsController(Controller):
    path = "/api/physicians"
    tags = ["医保医师记分"]

    @get("/{physician_id:uuid}/points", guards=[READERS], summary="医保医师年度记分与状态")
    async def points(
        self,
        physician_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        year: FromQuery[int | None] = None,
    ) -> PhysicianPoints:
        """The year's initial points, deductions in force and what remains, the status (暂停
        until, re-application date after a cancellation) and the deductions. Default year: the
        current one in China."""
        await _visible_physician(current_user, physician_id)
        return PhysicianPoints.model_validate(await points.points_of(physician_id, _year(year)))

    @post("/{physician_id:uuid}/reinstate", guards=[DESK], status_code=200,
          summary="取消资格的医师重新登记")
    async def reinstate(
        self, physician_id: FromPath[UUID], current_user: NamedDependency[CurrentUser]
    ) -> PhysicianPoints:
        """Register a cancelled physician again; refused (409) before the re-application bar
        ends or when the physician is not cancelled."""
        await _visible_physician(current_user, physician_id)
        return PhysicianPoints.model_validate(
            await points.reinstate(current_user.actor, physician_id, points.today())
        )


class AssessmentController(Controller):
    path = "/api/institutions"
    tags = ["年度考核"]
    guards = [READERS]

    @get("/{institution_id:uuid}/assessment", summary="机构年度考核")
    async def assessment(
        self,
        institution_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        year: FromQuery[int | None] = None,
    ) -> Assessment:
        """The year's score (mean of the official totals, 复查 excluded, one decimal), grade,
        reward or penalty in yuan, and the credit-rating exclusion with its reasons."""
        await visible_institution(current_user, institution_id)
        return Assessment.model_validate(await assessment.assess(institution_id, _year(year)))


async def _points_document(
    request: Request[Any, Any, Any], user: CurrentUser, settings: Settings, notice_id: UUID
) -> notice_points.PointsDocument:
    # The notice read through its own tenancy rules: a manager sees only their institution's
    # issued notices, and never one of a 飞行检查 whose window has not started (404 otherwise).
    notice = await reading.notice_detail(
        user,
        notice_id,
        secret_key=settings.secret_key,
        base_url=reading.public_base(
            RectificationSettings.from_env().public_base_url, str(request.base_url)
        ),
    )
    return await notice_points.gather(
        notice, RectificationSettings.from_env().objection_working_days
    )


class NoticePointsController(Controller):
    """医保医师记分告知书: the written notice to the institution of its physicians' points
    (威海办法第十五条), one per 整改通知书 that deducted points."""

    path = "/api/rectification/notices"
    tags = ["医保医师记分"]
    guards = [READERS]

    @get("/{notice_id:uuid}/deductions", summary="通知书涉及的医保医师记分")
    async def deductions(
        self,
        request: Request[CurrentUser, Any, Any],
        notice_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> NoticePoints:
        """The physicians the notice deducted points from, per deduction the item and basis,
        each one's remaining points and status for the year, the objection deadline, and the
        printable document's URLs (an empty list: the notice deducted nothing)."""
        doc = await _points_document(request, current_user, settings, notice_id)
        return NoticePoints.model_validate(notice_points.summary(doc))

    @get(
        "/{notice_id:uuid}/physician-points",
        summary="医保医师记分告知书（打印版网页）",
        media_type=MediaType.HTML,
    )
    async def document_html(
        self,
        request: Request[CurrentUser, Any, Any],
        notice_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response[str]:
        """The 记分告知书 as a printable A4 HTML page."""
        doc = await _points_document(request, current_user, settings, notice_id)
        return Response(
            notice_points.render_html(doc),
            media_type=MediaType.HTML,
            headers={"Cache-Control": "private, no-store"},
        )

    @get(
        "/{notice_id:uuid}/physician-points.pdf",
        summary="医保医师记分告知书（PDF）",
        media_type="application/pdf",
    )
    async def document_pdf(
        self,
        request: Request[CurrentUser, Any, Any],
        notice_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        """The 记分告知书 as a PDF (A4, Chinese font embedded). 503 without a Chinese font."""
        doc = await _points_document(request, current_user, settings, notice_id)
        try:
            pdf = await to_thread.run_sync(notice_points.render_pdf, doc)
        except documents.FontMissing:
            raise ServiceUnavailable(
                "服务器未安装中文字体，暂时无法生成 PDF。请改用网页版打印，"
                "或请系统管理员安装中文字体（fonts-wqy-microhei）。"
            ) from None
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="physician-points-{notice_id}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )
