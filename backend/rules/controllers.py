"""The rules API: a physician's points and status, an institution's annual assessment.

Who may read: admins everywhere; supervisors and inspectors within their region (a city covers
its counties); an institution's manager for their own institution and its physicians (they are
the ones notified in writing, 威海办法第十五条). Anything outside that answers 404. Reinstating a
cancelled physician is a supervisor's or an admin's act.
"""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role
from backend.errors import InvalidInput, NotFound
from backend.institutions.tables import Physician
from backend.rules import assessment, points
from backend.rules.schemas import Assessment, PhysicianPoints
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
