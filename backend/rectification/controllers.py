"""The rectification API: notices, tasks, photos, objections, escalation, re-inspection and the
manager's "what is new" (the public verification is in :mod:`backend.rectification.public`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from anyio import to_thread
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import MediaType, RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role
from backend.errors import DomainError, InvalidInput
from backend.inspections.images import ImageLimits
from backend.inspections.schemas import AssignmentOut
from backend.media import image_response, thumbnail_type
from backend.rectification import (
    attachments,
    documents,
    escalation,
    issuing,
    queue,
    reading,
    reinspection,
    tasks,
)
from backend.rectification.config import RectificationSettings
from backend.rectification.schemas import (
    AnswerIn,
    CommentIn,
    EscalationIn,
    EscalationOut,
    LadderStep,
    NoticeDetail,
    NoticePage,
    ObjectionDecisionIn,
    ObjectionIn,
    ObjectionOut,
    OverdueTask,
    PhotoLink,
    QueuePage,
    ReinspectionIn,
    ReviewIn,
    SeenIn,
    ServiceIn,
    TaskDetail,
    UpdatesOut,
)
from backend.rectification.tables import (
    OBJECTION_STATUS_LABELS,
    ObjectionStatus,
)
from backend.settings import Settings
from backend.storage import get_file_store
from backend.tenancy import require_roles

STAFF = (Role.admin, Role.supervisor, Role.inspector)
SUPERVISORS = (Role.admin, Role.supervisor)
MANAGER = (Role.manager,)
NAIVE_SINCE = "since 必须带时区，例如 2026-01-01T10:00:00+08:00"


class ServiceUnavailable(DomainError):
    """The server lacks something it needs for this request (a font); nothing changed."""

    status_code = 503


def _base_url(request: Request[Any, Any, Any]) -> str:
    return reading.public_base(
        RectificationSettings.from_env().public_base_url, str(request.base_url)
    )


async def _detail(
    request: Request[Any, Any, Any], user: CurrentUser, settings: Settings, notice_id: UUID
) -> NoticeDetail:
    return await reading.notice_detail(
        user, notice_id, secret_key=settings.secret_key, base_url=_base_url(request)
    )


def _objection_out(row: dict[str, Any]) -> ObjectionOut:
    return ObjectionOut(
        id=row["id"],
        task_id=row["task"],
        reason=row["reason"],
        status=row["status"],
        status_label=OBJECTION_STATUS_LABELS[ObjectionStatus(row["status"])],
        filed_at=row["filed_at"],
        decided_at=row["decided_at"],
        decision_comment=row["decision_comment"],
    )


class NoticeController(Controller):
    path = "/api/rectification/notices"
    tags = ["整改通知书"]

    @get("/", summary="整改通知书列表")
    async def list_notices(
        self,
        current_user: NamedDependency[CurrentUser],
        status: FromQuery[str | None] = None,
        institution_id: FromQuery[UUID | None] = None,
        limit: FromQuery[int] = 50,
        offset: FromQuery[int] = 0,
    ) -> NoticePage:
        """Notices one may see, newest first: a manager their institution's issued notices;
        inspectors and supervisors their region's (drafts included); admins all. Each with its
        number, dates, status, task counts, the next deadline and the days left to it.

        Filters: ``status`` (draft, issued, closed), ``institution_id``; ``limit`` 1–200."""
        items, total = await reading.list_notices(
            current_user, status=status, institution_id=institution_id, limit=limit, offset=offset
        )
        return NoticePage(items=items, total=total, limit=limit, offset=offset)

    @get("/{notice_id:uuid}", summary="整改通知书详情")
    async def get_notice(
        self,
        request: Request[CurrentUser, Any, Any],
        notice_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> NoticeDetail:
        """The notice with every task (what was found, basis, action, deadline, status),
        escalation steps, re-inspections and its verification URL."""
        return await _detail(request, current_user, settings, notice_id)

    @get(
        "/{notice_id:uuid}/document",
        summary="整改通知书（打印版网页）",
        media_type=MediaType.HTML,
    )
    async def document_html(
        self,
        request: Request[CurrentUser, Any, Any],
        notice_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response[str]:
        """The notice as a printable A4 HTML page, with its verification QR code."""
        notice = await _detail(request, current_user, settings, notice_id)
        data = await documents.gather(
            notice,
            get_file_store(settings),
            RectificationSettings.from_env().objection_working_days,
        )
        return Response(
            documents.render_html(data),
            media_type=MediaType.HTML,
            headers={"Cache-Control": "private, no-store"},
        )

    @get(
        "/{notice_id:uuid}/document.pdf",
        summary="整改通知书（PDF）",
        media_type="application/pdf",
    )
    async def document_pdf(
        self,
        request: Request[CurrentUser, Any, Any],
        notice_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        """The notice as a PDF (A4, Chinese font embedded) with its verification QR code.

        503 when the server has no Chinese font to embed."""
        notice = await _detail(request, current_user, settings, notice_id)
        data = await documents.gather(
            notice,
            get_file_store(settings),
            RectificationSettings.from_env().objection_working_days,
        )
        try:
            pdf = await to_thread.run_sync(documents.render_pdf, data)
        except documents.FontMissing:
            raise ServiceUnavailable(
                "服务器未安装中文字体，暂时无法生成 PDF。请改用网页版打印，"
                "或请系统管理员安装中文字体（fonts-wqy-microhei）。"
            ) from None
        name = f"rectification-notice-{notice_id}"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="{name}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )

    @post(
        "/{notice_id:uuid}/confirm",
        summary="签发通知书草稿",
        status_code=200,
        guards=[require_roles(*SUPERVISORS)],
    )
    async def confirm(
        self,
        request: Request[CurrentUser, Any, Any],
        notice_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> NoticeDetail:
        """Confirm a draft (YIBAO_NOTICE_MODE=draft): it is numbered and issued now; the
        deadlines and the objection window count from today. 409 if no longer a draft."""
        await issuing.confirm_notice(current_user, notice_id)
        return await _detail(request, current_user, settings, notice_id)

    @post(
        "/{notice_id:uuid}/service",
        summary="登记送达（纸质送达日期）",
        status_code=200,
        guards=[require_roles(*SUPERVISORS)],
    )
    async def record_service(
        self,
        request: Request[CurrentUser, Any, Any],
        notice_id: FromPath[UUID],
        data: JSONBody[ServiceIn],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> NoticeDetail:
        """Record the day the notice was served (送达), e.g. a later day of paper service: the
        objection window and the rectification deadlines are counted again from it."""
        await issuing.record_service(
            current_user, notice_id, data.served_on, data.method, data.note.strip()
        )
        return await _detail(request, current_user, settings, notice_id)

    @post(
        "/{notice_id:uuid}/reinspection",
        summary="安排复查",
        guards=[require_roles(*SUPERVISORS)],
    )
    async def plan_reinspection(
        self,
        notice_id: FromPath[UUID],
        data: JSONBody[ReinspectionIn],
        current_user: NamedDependency[CurrentUser],
    ) -> AssignmentOut:
        """Create a 复查 assignment (kind ``reinspection``) for the notice's institution with the
        same checklist version; its findings will accept or reopen the notice's tasks. The team
        is given by ``inspector_ids`` or by ``inspectors`` (usernames), at least two."""
        return await reinspection.plan_reinspection(
            current_user,
            notice_id,
            window_start=data.window_start,
            window_end=data.window_end,
            inspector_ids=await reinspection.team_ids(data.inspector_ids, data.inspectors),
            note=data.note,
        )

    @post(
        "/{notice_id:uuid}/escalations",
        summary="采取处理措施",
        guards=[require_roles(*SUPERVISORS)],
    )
    async def escalate(
        self,
        notice_id: FromPath[UUID],
        data: JSONBody[EscalationIn],
        current_user: NamedDependency[CurrentUser],
    ) -> EscalationOut:
        """Record an escalation step; 中止协议 / 解除协议 set the institution's agreement status."""
        row = await escalation.escalate(
            current_user,
            notice_id,
            data.step,
            note=data.note,
            amount=data.amount,
            rule_reference=data.rule_reference,
            decided_on=data.decided_on,
            document_no=data.document_no,
        )
        return reading.escalation_out(row)


@dataclass
class PhotoForm:
    """The multipart form of a manager's photo upload."""

    file: UploadFile
    id: str
    sha256: str | None = None
    captured_at: str | None = None


class TaskController(Controller):
    path = "/api/rectification/tasks"
    tags = ["整改事项"]

    @get("/{task_id:uuid}", summary="整改事项详情")
    async def get_task(
        self, task_id: FromPath[UUID], current_user: NamedDependency[CurrentUser]
    ) -> TaskDetail:
        """The task: what was found, basis, required action, deadline and days left, the
        answer with photos, the objection, the history with comments, and the caller's actions."""
        return await reading.task_detail(current_user, task_id)

    @post(
        "/{task_id:uuid}/photos",
        summary="上传整改佐证照片（幂等）",
        guards=[require_roles(*MANAGER)],
    )
    async def upload_photo(
        self,
        task_id: FromPath[UUID],
        data: Annotated[PhotoForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response[PhotoLink]:
        """Upload one photo with its client UUID (and optionally its SHA-256): 201 stored,
        200 already stored. List the ids in the answer."""
        try:
            photo_id = UUID(data.id)
        except ValueError:
            raise InvalidInput("id 须为 UUID", details={"field": "id"}) from None
        captured_at = None
        if data.captured_at:
            try:
                captured_at = datetime.fromisoformat(data.captured_at)
            except ValueError:
                raise InvalidInput(
                    "captured_at 须为 ISO 8601 时间", details={"field": "captured_at"}
                ) from None
        row, created = await attachments.receive_attachment(
            current_user,
            task_id,
            photo_id,
            data.sha256,
            await data.file.read(),
            get_file_store(settings),
            ImageLimits.from_env(),
            captured_at,
        )
        link = PhotoLink(id=row["id"], **attachments.attachment_urls(row["id"]))
        return Response(link, status_code=201 if created else 200)

    @post(
        "/{task_id:uuid}/answer",
        summary="提交整改报告",
        status_code=200,
        guards=[require_roles(*MANAGER)],
    )
    async def answer(
        self,
        task_id: FromPath[UUID],
        data: JSONBody[AnswerIn],
        current_user: NamedDependency[CurrentUser],
    ) -> TaskDetail:
        """The manager's report with the photos uploaded for this task. 409 unless the task is
        waiting for an answer (open) on an issued notice."""
        await tasks.answer_task(current_user, task_id, data.report, data.photo_ids)
        return await reading.task_detail(current_user, task_id)

    @post(
        "/{task_id:uuid}/accept",
        summary="验收通过",
        status_code=200,
        guards=[require_roles(*STAFF)],
    )
    async def accept(
        self,
        task_id: FromPath[UUID],
        data: JSONBody[ReviewIn],
        current_user: NamedDependency[CurrentUser],
    ) -> TaskDetail:
        """Accept an answered task (inspector or supervisor of the region). The notice closes
        when every task is accepted. 409 unless an answer waits for review."""
        await tasks.review_task(current_user, task_id, True, data.comment)
        return await reading.task_detail(current_user, task_id)

    @post(
        "/{task_id:uuid}/reject",
        summary="退回整改",
        status_code=200,
        guards=[require_roles(*STAFF)],
    )
    async def reject(
        self,
        task_id: FromPath[UUID],
        data: JSONBody[ReviewIn],
        current_user: NamedDependency[CurrentUser],
    ) -> TaskDetail:
        """Send an answered task back to open with a comment (required)."""
        await tasks.review_task(current_user, task_id, False, data.comment)
        return await reading.task_detail(current_user, task_id)

    @post("/{task_id:uuid}/comments", summary="留言")
    async def comment(
        self,
        task_id: FromPath[UUID],
        data: JSONBody[CommentIn],
        current_user: NamedDependency[CurrentUser],
    ) -> TaskDetail:
        """A comment in the task's history, by the manager or the bureau."""
        await tasks.comment_task(current_user, task_id, data.text)
        return await reading.task_detail(current_user, task_id)

    @post("/{task_id:uuid}/objection", summary="提出申诉", guards=[require_roles(*MANAGER)])
    async def object(
        self,
        task_id: FromPath[UUID],
        data: JSONBody[ObjectionIn],
        current_user: NamedDependency[CurrentUser],
    ) -> ObjectionOut:
        """Object to a task with a reason, once, within the objection window (409 after it)."""
        return _objection_out(await tasks.object_to_task(current_user, task_id, data.reason))

    @post(
        "/{task_id:uuid}/objection/decision",
        summary="处理申诉",
        status_code=200,
        guards=[require_roles(*SUPERVISORS)],
    )
    async def decide(
        self,
        task_id: FromPath[UUID],
        data: JSONBody[ObjectionDecisionIn],
        current_user: NamedDependency[CurrentUser],
    ) -> ObjectionOut:
        """Decide a pending objection: ``upheld`` withdraws the task (cancelled), ``dismissed``
        leaves it as it was."""
        row = await tasks.decide_objection(
            current_user, task_id, data.decision == "upheld", data.comment
        )
        return _objection_out(row)


class RectificationController(Controller):
    path = "/api/rectification"
    tags = ["整改事项"]

    @get("/photos/{photo_id:uuid}", summary="整改佐证照片")
    async def photo(
        self,
        photo_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        """A photo the manager uploaded (display size, no metadata)."""
        row = await attachments.visible_attachment(current_user, photo_id)
        return await image_response(settings, row["storage_key"], row["content_type"])

    @get("/photos/{photo_id:uuid}/thumbnail", summary="整改佐证照片缩略图")
    async def thumbnail(
        self,
        photo_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        """Its thumbnail."""
        row = await attachments.visible_attachment(current_user, photo_id)
        return await image_response(
            settings, row["thumbnail_key"], thumbnail_type(row["thumbnail_key"])
        )

    @get(
        "/queue",
        summary="待办（待验收、待处理申诉、待确认通知书）",
        guards=[require_roles(*SUPERVISORS)],
    )
    async def review_queue(
        self, current_user: NamedDependency[CurrentUser], kind: FromQuery[str] = "answers"
    ) -> QueuePage:
        """What waits for the bureau in one's region, oldest first: ``kind=answers`` answered
        tasks waiting for 验收, ``objections`` pending objections, ``drafts`` draft notices to
        confirm. Each with its institution, notice number, item and days waiting."""
        return await queue.review_queue(current_user, kind)

    @get("/overdue", summary="逾期整改事项", guards=[require_roles(*STAFF)])
    async def overdue(self, current_user: NamedDependency[CurrentUser]) -> list[OverdueTask]:
        """Overdue tasks of the region, most days overdue first, with the steps taken so far."""
        return await reading.overdue_tasks(current_user)

    @get("/updates", summary="最新动态")
    async def updates(
        self,
        current_user: NamedDependency[CurrentUser],
        since: FromQuery[datetime | None] = None,
    ) -> UpdatesOut:
        """What happened to one's notices after ``since`` (ISO 8601 with its zone, e.g.
        ``2026-01-01T10:00:00+08:00``), or, without it, since one last marked the updates as
        seen (``POST /api/rectification/updates/seen``)."""
        if since is not None and since.utcoffset() is None:
            # A time without a zone is eight hours apart between a tablet in China and the
            # server in UTC: refused, like every time the API takes.
            raise DomainError(
                NAIVE_SINCE,
                details=[{"key": "since", "message": NAIVE_SINCE, "source": "query"}],
            )
        return await reading.updates(current_user, since)

    @post("/updates/seen", summary="标记动态为已读", status_code=200)
    async def seen(
        self, data: JSONBody[SeenIn], current_user: NamedDependency[CurrentUser]
    ) -> dict[str, datetime]:
        """Remember that the updates up to ``at`` (default: now) have been read."""
        return {"seen_at": await reading.mark_seen(current_user, data.at)}

    @get("/escalation-ladder", summary="处理措施（升级阶梯）")
    async def ladder(self) -> list[LadderStep]:
        """The escalation steps in order, with their rule references."""
        return [
            LadderStep(
                step=s.code,
                label=s.label,
                pharmacy_rule=s.pharmacy_rule,
                medical_rule=s.medical_rule,
                agreement_status=s.agreement_status.value if s.agreement_status else None,
                takes_amount=s.takes_amount,
            )
            for s in escalation.LADDER
        ]
