"""The tracking API: the 看板 (dashboard numbers and the lists behind them), exports, and the
机构档案 (institution page and history). Supervisors and admins only; a supervisor sees their
region (a city covers its counties)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role
from backend.errors import InvalidInput
from backend.tenancy import require_roles
from backend.tracking import archive, dashboard, exports, filters, lists
from backend.tracking.schemas import (
    Archive,
    Details,
    FiltersOut,
    InstitutionHistory,
    ListPage,
    Summary,
)

DESK = require_roles(Role.admin, Role.supervisor)
From = Annotated[str | None, QueryParameter(name="from", description="开始日期 YYYY-MM-DD（含）")]
To = Annotated[str | None, QueryParameter(name="to", description="结束日期 YYYY-MM-DD（含）")]
# ``state`` is a name Litestar reserves for the application state.
State = Annotated[
    str | None, QueryParameter(name="state", description="open、overdue、all 或状态代码")
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def _filters_out(f: filters.Filters) -> FiltersOut:
    return FiltersOut.model_validate(f.echo())


def _uuid(value: str | None, field: str) -> UUID | None:
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise InvalidInput(f"{field} 须为 UUID", details={"field": field}) from None


def _narrowing(**values: str | None) -> lists.Narrowing:
    institution = _uuid(values.pop("institution", None), "institution")
    return lists.Narrowing(
        institution=institution,
        **{k: (v.strip() or None) if v else None for k, v in values.items()},
    )


class DashboardController(Controller):
    path = "/api/dashboard"
    tags = ["看板"]
    guards = [DESK]

    @get("/summary", summary="看板：总数")
    async def summary(
        self,
        current_user: NamedDependency[CurrentUser],
        region: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        from_: From = None,
        to: To = None,
    ) -> Summary:
        """Institutions of the scope, those inspected and the inspections submitted in the
        period with their grades, tasks and notices issued in the period still open, overdue
        tasks, escalations and agreement statuses.

        ``region`` (a region code; default the caller's region, an admin's: all), ``type`` (an
        institution type), ``from``/``to`` (China days, inclusive; default the current year).
        404 for a region outside the caller's scope, 422 for a bad type or date.
        """
        f = await filters.resolve(current_user, region=region, type=type, start=from_, end=to)
        data = await dashboard.summary(f)
        regions = await dashboard.regions_for(current_user.region_ids)
        return Summary.model_validate({**data, "filters": f.echo(), "regions": regions})

    @get("/details", summary="看板：图表数据")
    async def details(
        self,
        current_user: NamedDependency[CurrentUser],
        region: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        from_: From = None,
        to: To = None,
    ) -> Details:
        """What the charts draw, for the same filters as the summary: coverage by county and
        type, inspections per month, score bands, the most-failed items, tasks by status,
        escalations by step, agreement statuses and physicians who lost points."""
        f = await filters.resolve(current_user, region=region, type=type, start=from_, end=to)
        (
            coverage,
            trend,
            scores,
            failed,
            tasks,
            escalations,
            agreement,
            physicians,
        ) = await dashboard.together(
            dashboard.coverage(f),
            dashboard.trend(f),
            dashboard.scores(f),
            dashboard.failed_items(f),
            dashboard.task_statuses(f),
            dashboard.escalations(f),
            dashboard.agreement_counts(f),
            dashboard.physicians(f),
        )
        return Details.model_validate(
            {
                "filters": f.echo(),
                "coverage": coverage,
                "trend": trend,
                "scores": scores,
                "failed_items": failed,
                "tasks": tasks,
                "escalations": escalations,
                "agreement": dashboard.agreement(agreement),
                "physicians": physicians,
            }
        )

    @get("/list/{what:str}", summary="看板：数字背后的列表")
    async def list_rows(
        self,
        what: FromPath[str],
        current_user: NamedDependency[CurrentUser],
        region: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        from_: From = None,
        to: To = None,
        grade: FromQuery[str | None] = None,
        month: FromQuery[str | None] = None,
        band: FromQuery[str | None] = None,
        item: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        institution: FromQuery[str | None] = None,
        inspected: FromQuery[str | None] = None,
        agreement_status: FromQuery[str | None] = None,
        state_: State = None,
        step: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
        offset: FromQuery[int] = 0,
    ) -> ListPage:
        """The rows a number counts. ``what``: inspections, institutions, tasks, notices,
        escalations, physicians. Besides the shared filters: inspections by ``grade``,
        ``month`` (YYYY-MM), ``band`` (60-70), ``item`` (checklist:item, failed), ``kind``;
        institutions by ``inspected`` (yes/no) and ``agreement_status``; tasks by ``state``
        (open, overdue, all or a task status) and ``item``; notices by ``state`` (open, closed);
        escalations by ``step``. ``limit`` 1–500, ``offset``."""
        f = await filters.resolve(current_user, region=region, type=type, start=from_, end=to)
        n = _narrowing(
            grade=grade,
            month=month,
            band=band,
            item=item,
            kind=kind,
            institution=institution,
            inspected=inspected,
            agreement_status=agreement_status,
            state=state_,
            step=step,
        )
        items, total = await lists.page(what, f, n, limit=limit, offset=offset)
        return ListPage(
            what=what, filters=_filters_out(f), items=items, total=total, limit=limit, offset=offset
        )


async def _export(
    name: str,
    ext: str,
    user: CurrentUser,
    query: dict[str, str | None],
) -> Stream:
    f = await filters.resolve(
        user,
        region=query.pop("region"),
        type=query.pop("type"),
        start=query.pop("from"),
        end=query.pop("to"),
    )
    n = _narrowing(**query)
    export = exports.EXPORTS[name]
    exports.validate(export, f, n)
    stream = exports.xlsx_stream if ext == "xlsx" else exports.csv_stream
    return Stream(
        stream(export, f, n),
        media_type=XLSX if ext == "xlsx" else CSV,
        headers={
            "Content-Disposition": exports.content_disposition(export, f, ext),
            "Cache-Control": "no-store",
        },
    )


def _query(**values: str | None) -> dict[str, str | None]:
    return dict(values)


class ExportController(Controller):
    path = "/api/exports"
    tags = ["导出"]
    guards = [DESK]

    @get("/inspections.xlsx", summary="导出检查记录（XLSX）", media_type=XLSX)
    async def inspections_xlsx(
        self,
        current_user: NamedDependency[CurrentUser],
        region: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        from_: From = None,
        to: To = None,
        grade: FromQuery[str | None] = None,
        month: FromQuery[str | None] = None,
        band: FromQuery[str | None] = None,
        item: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
    ) -> Stream:
        """One row per submitted inspection the filters select (the 看板's filters, and the
        inspection list's narrowing)."""
        q = _query(
            region=region, type=type, grade=grade, month=month, band=band, item=item, kind=kind
        )
        return await _export("inspections", "xlsx", current_user, {**q, "from": from_, "to": to})

    @get("/inspections.csv", summary="导出检查记录（CSV）", media_type=CSV)
    async def inspections_csv(
        self,
        current_user: NamedDependency[CurrentUser],
        region: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        from_: From = None,
        to: To = None,
        grade: FromQuery[str | None] = None,
        month: FromQuery[str | None] = None,
        band: FromQuery[str | None] = None,
        item: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
    ) -> Stream:
        """The same rows as CSV (UTF-8 with BOM)."""
        q = _query(
            region=region, type=type, grade=grade, month=month, band=band, item=item, kind=kind
        )
        return await _export("inspections", "csv", current_user, {**q, "from": from_, "to": to})

    @get("/findings.xlsx", summary="导出检查发现（XLSX）", media_type=XLSX)
    async def findings_xlsx(
        self,
        current_user: NamedDependency[CurrentUser],
        region: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        from_: From = None,
        to: To = None,
        grade: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
    ) -> Stream:
        """One row per answer (符合, 不符合 and 不适用 alike) of the selected inspections."""
        q = _query(region=region, type=type, grade=grade, kind=kind)
        return await _export("findings", "xlsx", current_user, {**q, "from": from_, "to": to})

    @get("/findings.csv", summary="导出检查发现（CSV）", media_type=CSV)
    async def findings_csv(
        self,
        current_user: NamedDependency[CurrentUser],
        region: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        from_: From = None,
        to: To = None,
        grade: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
    ) -> Stream:
        """The same rows as CSV (UTF-8 with BOM)."""
        q = _query(region=region, type=type, grade=grade, kind=kind)
        return await _export("findings", "csv", current_user, {**q, "from": from_, "to": to})

    @get("/rectification-tasks.xlsx", summary="导出整改事项（XLSX）", media_type=XLSX)
    async def tasks_xlsx(
        self,
        current_user: NamedDependency[CurrentUser],
        region: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        from_: From = None,
        to: To = None,
        state_: State = None,
        item: FromQuery[str | None] = None,
    ) -> Stream:
        """One row per task of the notices issued in the period (``state``: open, overdue …)."""
        q = _query(region=region, type=type, state=state_, item=item)
        return await _export(
            "rectification-tasks", "xlsx", current_user, {**q, "from": from_, "to": to}
        )

    @get("/rectification-tasks.csv", summary="导出整改事项（CSV）", media_type=CSV)
    async def tasks_csv(
        self,
        current_user: NamedDependency[CurrentUser],
        region: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        from_: From = None,
        to: To = None,
        state_: State = None,
        item: FromQuery[str | None] = None,
    ) -> Stream:
        """The same rows as CSV (UTF-8 with BOM)."""
        q = _query(region=region, type=type, state=state_, item=item)
        return await _export(
            "rectification-tasks", "csv", current_user, {**q, "from": from_, "to": to}
        )

    @get("/assessments.xlsx", summary="导出年度考核（XLSX）", media_type=XLSX)
    async def assessments_xlsx(
        self,
        current_user: NamedDependency[CurrentUser],
        region: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        year: FromQuery[int | None] = None,
    ) -> Stream:
        """One row per institution in the region and type: the year's 年度考核 (score, grade,
        reward or penalty in yuan as a number with two decimals, the credit-rating exclusion
        and its reasons). ``year`` defaults to the current one."""
        return await _assessment_export("xlsx", current_user, region, type, year)

    @get("/assessments.csv", summary="导出年度考核（CSV）", media_type=CSV)
    async def assessments_csv(
        self,
        current_user: NamedDependency[CurrentUser],
        region: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        year: FromQuery[int | None] = None,
    ) -> Stream:
        """The same rows as CSV (UTF-8 with BOM; amounts as exact decimal text, e.g. -1500.00)."""
        return await _assessment_export("csv", current_user, region, type, year)


async def _assessment_export(
    ext: str, user: CurrentUser, region: str | None, type: str | None, year: int | None
) -> Stream:
    if year is not None and not 2000 <= year <= 2100:
        raise InvalidInput("year 须为 2000–2100 之间的年份，如 2026", details={"field": "year"})
    span = {"from": f"{year}-01-01", "to": f"{year}-12-31"} if year else {"from": None, "to": None}
    return await _export("assessments", ext, user, {"region": region, "type": type, **span})


class ArchiveController(Controller):
    path = "/api/institutions"
    tags = ["机构档案"]
    guards = [DESK]

    @get("/{institution_id:uuid}/archive", summary="机构档案")
    async def archive(
        self,
        institution_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        year: FromQuery[int | None] = None,
    ) -> Archive:
        """Identity, agreement status and its history, escalation steps, every inspection with
        its score and grade, yearly means, notices with their tasks, physicians with the year's
        points and status, and the year's 年度考核 (``year``: default the current one).
        404 outside the caller's tenancy."""
        if year is not None and not 2000 <= year <= 2100:
            raise InvalidInput("year 须为 2000–2100 之间的年份，如 2026", details={"field": "year"})
        return Archive.model_validate(await archive.archive(current_user, institution_id, year))

    @get("/{institution_id:uuid}/history", summary="机构检查与整改历史")
    async def history(
        self, institution_id: FromPath[UUID], current_user: NamedDependency[CurrentUser]
    ) -> InstitutionHistory:
        """The institution's inspections (id, date, kind, total, grade) and notices (id,
        number, status), newest first. 404 outside the caller's tenancy."""
        return InstitutionHistory.model_validate(
            await archive.history(current_user, institution_id)
        )
