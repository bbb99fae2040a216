"""``create_app()``: the one Litestar application, used by the server and the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response
from litestar.config.compression import CompressionConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.plugins.pydantic import PydanticPlugin
from litestar.static_files import create_static_files_router

from backend import __version__, db, http_limits
from backend.accounts.auth import CurrentUser, TokenIssuer, make_jwt_auth
from backend.accounts.controllers import AdminUserController, AuthController
from backend.audit.controllers import AuditController
from backend.audit.public import PublicAuditController
from backend.audit.sealer import background_sealer
from backend.checklists.controllers import ChecklistAdminController
from backend.desk.controllers import DeskController
from backend.errors import DATABASE_UNAVAILABLE, DomainError, ServiceUnavailable, chinese_detail
from backend.health import HealthController
from backend.inspections.controllers import (
    AssignmentController,
    InspectionController,
    PhotoController,
    SyncController,
)
from backend.inspections.images import ImageLimits
from backend.institutions.admin_controllers import AdminInstitutionController
from backend.institutions.controllers import InstitutionController
from backend.logs import log_unexpected_exception, structlog_plugin
from backend.planning.controllers import (
    BulkAssignmentController,
    DrawController,
    InspectorRelationController,
    PlanningOptionsController,
)
from backend.planning.public import PublicDrawController
from backend.pwa_routes import PWA_ROUTES
from backend.records.controllers import EvidenceController, PublicSigningKeyController
from backend.rectification.controllers import (
    NoticeController,
    RectificationController,
    TaskController,
)
from backend.rectification.public import PublicVerificationController
from backend.rules.controllers import (
    AssessmentController,
    NoticePointsController,
    PhysicianPointsController,
)
from backend.security import LocalSwaggerPlugin, before_send_hook, cors_config
from backend.settings import REPO_ROOT, Settings, get_settings
from backend.tracking.controllers import ArchiveController, DashboardController, ExportController

PWA_DIR = REPO_ROOT / "pwa"  # the default of YIBAO_PWA_DIR (settings.pwa_dir)
ASSETS_DIR = Path(__file__).parent / "static"
SWAGGER = "/_assets/swagger-ui"


def domain_error_handler(_: Request, exc: DomainError) -> Response:
    """A refused request: its status and a message a person understands."""
    body: dict[str, object] = {"status_code": exc.status_code, "detail": exc.message}
    if exc.details is not None:
        body["extra"] = exc.details
    headers = {}
    if isinstance(exc, ServiceUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    return Response(body, status_code=exc.status_code, headers=headers)


def validation_error_handler(_: Request, exc: ValidationException) -> Response:
    """Malformed input (wrong JSON shape or types): 400 with the fields concerned."""
    return Response(
        {"status_code": 400, "detail": "请求数据格式不正确", "extra": exc.extra},
        status_code=400,
    )


def http_error_handler(_: Request, exc: Exception) -> Response:
    """Every other refusal Litestar raises itself (unknown route 404, 405, 413, 415, a body that
    is not JSON, too many requests) and any unexpected error (500): the API's error shape with a
    Chinese ``detail``, never Litestar's English default nor a stack trace."""
    if not isinstance(exc, HTTPException) and db.is_connection_lost(exc):
        # PostgreSQL dropped the connection: the transaction did not commit, the pool reconnects
        # on the next request. A fault to retry, not a bug: 503, never 500.
        return domain_error_handler(_, ServiceUnavailable(DATABASE_UNAVAILABLE))
    if client_gone(exc):
        # No one will read the answer; a 400 keeps it out of the server-error counts.
        return Response(
            {"status_code": 400, "detail": "请求数据不完整（连接中断），请重新发送"},
            status_code=400,
        )
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else ""
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    return Response(
        {"status_code": status, "detail": chinese_detail(status, detail)},
        status_code=status,
        headers=headers,
    )


def client_gone(exc: BaseException) -> bool:
    """True for Litestar's error when the client closed the link before its body was whole (a
    tablet losing its signal mid-upload): nothing was handled, nothing stored, no server fault."""
    return isinstance(exc, HTTPException) and exc.detail == "client disconnected prematurely"


async def log_server_fault(exc: Exception, scope: Any) -> None:
    """Log an unexpected error (see ``log_unexpected_exception``), but not a cut link."""
    if not client_gone(exc):
        await log_unexpected_exception(exc, scope)


def not_authorized_handler(_: Request, exc: NotAuthorizedException) -> Response:
    """Missing, expired, forged or revoked credentials: 401 with a message for the user."""
    return Response(
        {"status_code": 401, "detail": "未登录或登录已失效，请重新登录"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _current_user(request: Request[CurrentUser, Any, Any]) -> CurrentUser:
    return request.user


def openapi_config() -> OpenAPIConfig:
    """OpenAPI at ``/schema`` (JSON at ``/schema/openapi.json``), with a locally served UI."""
    return OpenAPIConfig(
        title="医保定点医药机构现场检查 API",
        version=__version__,
        description="检查任务、离线同步、评分、整改通知书与整改事项的接口。",
        path="/schema",
        render_plugins=[
            LocalSwaggerPlugin(
                path=["/", "/swagger"],
                js_url=f"{SWAGGER}/swagger-ui-bundle.js",
                css_url=f"{SWAGGER}/swagger-ui.css",
                standalone_preset_js_url=f"{SWAGGER}/swagger-ui-standalone-preset.js",
                favicon="<link rel='icon' type='image/png' href='/_assets/favicon.png'>",
            )
        ],
    )


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the application. The database engine comes from Piccolo's configuration."""
    settings = settings or get_settings()
    jwt_auth = make_jwt_auth(settings)
    tokens = TokenIssuer(jwt_auth)
    login_rate = RateLimitConfig(
        rate_limit=("minute", settings.login_rate_per_minute),
        check_throttle_handler=lambda request: request.url.path == "/api/auth/login",
    )

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await db.start()
        try:
            # Every worker runs the audit sealer; a lock lets one seal at a time.
            async with background_sealer():
                yield
        finally:
            await db.stop()

    app = Litestar(
        route_handlers=[
            HealthController,
            AuthController,
            AdminUserController,
            AdminInstitutionController,
            ChecklistAdminController,
            AuditController,
            AssignmentController,
            SyncController,
            InspectionController,
            EvidenceController,
            PublicSigningKeyController,
            PhotoController,
            InstitutionController,
            NoticeController,
            TaskController,
            RectificationController,
            PublicVerificationController,
            DashboardController,
            ExportController,
            ArchiveController,
            PhysicianPointsController,
            AssessmentController,
            NoticePointsController,
            InspectorRelationController,
            DrawController,
            BulkAssignmentController,
            PlanningOptionsController,
            PublicDrawController,
            PublicAuditController,
            DeskController,
            create_static_files_router(
                path="/_assets",
                directories=[ASSETS_DIR],
                include_in_schema=False,
                opt={"exclude_from_auth": True},
            ),
            # Registered last so that every API route wins over a file of the same name.
            # /sw.js (with its precache version) and /s/{token} (QR poster deep links).
            *PWA_ROUTES,
            create_static_files_router(
                path="/",
                directories=[settings.pwa_dir],
                html_mode=True,
                include_in_schema=False,
                opt={"exclude_from_auth": True},
            ),
        ],
        lifespan=[lifespan],
        before_send=[before_send_hook(settings)],
        cors_config=cors_config(settings),
        on_app_init=[jwt_auth.on_app_init],
        after_exception=[log_server_fault],
        middleware=[login_rate.middleware],
        dependencies={
            "settings": Provide(lambda: settings, sync_to_thread=False),
            "tokens": Provide(lambda: tokens, sync_to_thread=False),
            "current_user": Provide(_current_user, sync_to_thread=False),
        },
        openapi_config=openapi_config(),
        # gzip for the app shell and JSON (the PWA's first load must stay small); photos are
        # JPEG/PNG already, so compressing them only costs CPU.
        compression_config=CompressionConfig(
            backend="gzip", gzip_compress_level=6, exclude=["^/api/photos"]
        ),
        # prefer_alias: the OpenAPI schema names fields as they are sent (e.g. ``from``, not
        # ``from_``), so that every response matches its declared schema.
        plugins=[structlog_plugin(settings), PydanticPlugin(prefer_alias=True)],
        exception_handlers={
            DomainError: domain_error_handler,
            ValidationException: validation_error_handler,
            NotAuthorizedException: not_authorized_handler,
            HTTPException: http_error_handler,
            500: http_error_handler,
        },
        # Room for the largest photo and its form fields; the photo check gives the precise 413.
        request_max_body_size=ImageLimits.from_env().max_bytes + 1024 * 1024,
        debug=False,
    )
    # Outside routing: bounded JSON bodies and OPTIONS answered before any guard runs.
    http_limits.install(
        app, max_json_bytes=settings.max_json_bytes, cors=bool(settings.cors_origins)
    )
    return app
