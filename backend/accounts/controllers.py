"""Login, refresh and logout; the admin's management of users and device sessions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from backend.accounts import services, sessions
from backend.accounts.auth import CurrentUser, TokenIssuer, now
from backend.accounts.schemas import (
    LoginRequest,
    RefreshRequest,
    RevokeResult,
    SessionOut,
    TokenResponse,
    UserCreate,
    UserInfo,
    UserOut,
    UserUpdate,
)
from backend.accounts.tables import ROLE_LABELS, DeviceSession, Role, User
from backend.errors import InvalidInput, NotFound
from backend.settings import Settings
from backend.tenancy import require_roles


async def user_info(user_id: UUID) -> UserInfo:
    """The signed-in user's own details, with the names of their scope."""
    row = (
        await User.select(
            User.id,
            User.username,
            User.display_name,
            User.role,
            User.region.code,
            User.region.name,
            User.institution.id,
            User.institution.code,
            User.institution.name,
        )
        .where(User.id == user_id)
        .first()
    )
    assert row is not None
    return UserInfo(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        role_label=ROLE_LABELS[Role(row["role"])],
        region_code=row["region.code"],
        region_name=row["region.name"],
        institution_id=row["institution.id"],
        institution_code=row["institution.code"],
        institution_name=row["institution.name"],
    )


class AuthController(Controller):
    path = "/api/auth"
    tags = ["登录"]

    @post("/login", summary="登录", status_code=200)
    async def login(
        self,
        data: JSONBody[LoginRequest],
        settings: NamedDependency[Settings],
        tokens: NamedDependency[TokenIssuer],
    ) -> TokenResponse:
        """Check the password and open a session on this device.

        Answers 401 for a wrong username or password (the same message for both), 429 when the
        account is locked after repeated failures, 403 for a disabled account.
        """
        session = await sessions.login(
            data.username,
            data.password,
            settings,
            device_id=data.device_id,
            device_name=data.device_name,
        )
        user = session.user
        row = (
            await DeviceSession.select(DeviceSession.expires_at)
            .where(DeviceSession.id == session.session_id)
            .first()
        )
        return TokenResponse(
            access_token=tokens.access_token(user["id"], session.session_id, user["role"]),
            expires_in=settings.access_token_minutes * 60,
            refresh_token=session.refresh_token,
            refresh_expires_at=row["expires_at"] if row else None,
            device_id=session.device_id,
            session_id=session.session_id,
            user=await user_info(user["id"]),
        )

    @post("/refresh", summary="刷新访问令牌", status_code=200)
    async def refresh(
        self,
        data: JSONBody[RefreshRequest],
        settings: NamedDependency[Settings],
        tokens: NamedDependency[TokenIssuer],
    ) -> TokenResponse:
        """A new access token for a device session that is still valid (401 otherwise)."""
        row = await sessions.refresh(data.refresh_token, data.device_id, settings)
        return TokenResponse(
            access_token=tokens.access_token(row["user.id"], row["id"], row["user.role"]),
            expires_in=settings.access_token_minutes * 60,
            device_id=row["device_id"],
            session_id=row["id"],
            user=await user_info(row["user.id"]),
        )

    @post("/logout", summary="退出登录", status_code=200)
    async def logout(self, current_user: NamedDependency[CurrentUser]) -> RevokeResult:
        """End this device's session (its refresh credential stops working)."""
        revoked = await sessions.revoke_sessions(
            current_user.actor, session_id=current_user.session_id, reason="退出登录"
        )
        return RevokeResult(revoked=revoked)

    @get("/me", summary="当前用户")
    async def me(self, current_user: NamedDependency[CurrentUser]) -> UserInfo:
        """Who is signed in, with role and scope."""
        return await user_info(current_user.id)


def _user_out(row: dict[str, Any]) -> UserOut:
    return UserOut(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        is_active=row["is_active"],
        locked_until=row["locked_until"],
        locked=row["locked_until"] is not None and row["locked_until"] > now(),
        last_login_at=row["last_login_at"],
        enforcement_cert_no=row.get("enforcement_cert_no") or "",
        region_code=row["region.code"],
        region_name=row["region.name"],
        institution_code=row["institution.code"],
        institution_name=row["institution.name"],
    )


class AdminUserController(Controller):
    path = "/api/admin"
    tags = ["系统管理"]
    guards = [require_roles(Role.admin)]

    @get("/users", summary="用户列表")
    async def list_users(
        self,
        role: FromQuery[Role | None] = None,
        region: FromQuery[str | None] = None,
        active: FromQuery[bool | None] = None,
    ) -> list[UserOut]:
        """Every account, optionally of one role, of one region (code; its managers included
        through their institutions), active (``true``) or disabled (``false``); each with its
        lock and its last login."""
        return [_user_out(r) for r in await services.list_users(role, region, active)]

    @post(
        "/users/{username:str}/revoke-devices",
        summary="吊销用户的全部设备会话",
        status_code=200,
    )
    async def revoke_devices(
        self, username: FromPath[str], current_user: NamedDependency[CurrentUser]
    ) -> RevokeResult:
        """End every live device session of the user: tokens stop working at the next request,
        the user must log in again on each device. 404 for an unknown user."""
        return RevokeResult(revoked=await services.revoke_devices(username, current_user.actor))

    @post("/users", summary="创建用户")
    async def create_user(
        self, data: JSONBody[UserCreate], current_user: NamedDependency[CurrentUser]
    ) -> UserOut:
        """Create an account; inspectors and supervisors need a region, managers an institution."""
        await services.create_user(
            data.username,
            data.role.value,
            data.password,
            current_user.actor,
            region_code=data.region_code,
            institution_code=data.institution_code,
            display_name=data.display_name,
            enforcement_cert_no=data.enforcement_cert_no,
        )
        return _user_out(await services.get_user(data.username))

    @patch("/users/{username:str}", summary="修改用户（停用、改角色、重置密码、解锁）")
    async def update_user(
        self,
        username: FromPath[str],
        data: JSONBody[UserUpdate],
        current_user: NamedDependency[CurrentUser],
    ) -> UserOut:
        """Change an account. Disabling, re-roling or a new password ends its device sessions."""
        if username == current_user.username and (
            data.is_active is False or data.role not in (None, Role.admin)
        ):
            raise InvalidInput("不能停用自己的账户或取消自己的管理员角色")
        row = await services.update_user(
            username,
            current_user.actor,
            role=data.role.value if data.role else None,
            region_code=data.region_code,
            institution_code=data.institution_code,
            is_active=data.is_active,
            password=data.password,
            unlock=data.unlock,
            display_name=data.display_name,
            enforcement_cert_no=data.enforcement_cert_no,
        )
        return _user_out(row)

    @get("/sessions", summary="设备会话列表")
    async def list_sessions(self, username: FromQuery[str | None] = None) -> list[SessionOut]:
        """Device sessions, newest first, optionally of one user."""
        query = DeviceSession.select(
            DeviceSession.all_columns(exclude=[DeviceSession.refresh_hash, DeviceSession.user]),
            DeviceSession.user.username,
        ).order_by(DeviceSession.created_at, ascending=False)
        if username:
            query = query.where(DeviceSession.user.username == username)
        rows = await query.limit(500)
        return [
            SessionOut(
                username=r["user.username"], **{k: v for k, v in r.items() if k != "user.username"}
            )
            for r in rows
        ]

    @post(
        "/sessions/{session_id:uuid}/revoke", summary="吊销设备会话（设备丢失时）", status_code=200
    )
    async def revoke_session(
        self, session_id: FromPath[UUID], current_user: NamedDependency[CurrentUser]
    ) -> RevokeResult:
        """Cut a device off: its tokens stop working at its next request."""
        revoked = await sessions.revoke_sessions(
            current_user.actor, session_id=session_id, reason="管理员吊销"
        )
        if not revoked:
            raise NotFound("会话不存在或已吊销")
        return RevokeResult(revoked=revoked)
