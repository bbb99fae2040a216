"""Logging in and out, refreshing, locking out, and revoking device sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

from backend.accounts.auth import hash_refresh_token, new_refresh_token, now
from backend.accounts.passwords import hash_password, verify_password_async
from backend.accounts.tables import DeviceSession, User
from backend.audit.services import Actor, record
from backend.db import write_transaction
from backend.errors import Forbidden, TooManyRequests, Unauthorized
from backend.settings import Settings

BAD_CREDENTIALS = "用户名或密码错误"
SESSION_ENDED = "登录已失效，请重新登录"


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the username is unknown, so that a wrong username costs as much time
    # as a wrong password and response times don't reveal which accounts exist.
    return hash_password("not-a-real-password-only-for-timing")


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the refresh credential is shown to the client once, here."""

    session_id: UUID
    device_id: str
    refresh_token: str
    user: dict[str, Any]


async def login(
    username: str,
    password: str,
    settings: Settings,
    *,
    device_id: str | None = None,
    device_name: str = "",
) -> NewSession:
    """Check a password and open a device session.

    Raises:
        Unauthorized: unknown user or wrong password (the same message for both).
        TooManyRequests: the account is locked after repeated failures.
        Forbidden: the account is disabled.
    """
    user = await User.select().where(User.username == username).first()
    if user is None:
        await verify_password_async(password, _dummy_hash())
        raise Unauthorized(BAD_CREDENTIALS)
    current = now()
    if user["locked_until"] is not None and user["locked_until"] > current:
        minutes = max(1, int((user["locked_until"] - current).total_seconds() // 60) + 1)
        raise TooManyRequests(f"登录失败次数过多，账户已临时锁定，请 {minutes} 分钟后再试")
    if not await verify_password_async(password, user["password_hash"]):
        await _count_failure(user, settings)
        raise Unauthorized(BAD_CREDENTIALS)
    if not user["is_active"]:
        raise Forbidden("账户已停用，请联系系统管理员")

    device_id = (device_id or "").strip() or f"web-{uuid.uuid4().hex[:12]}"
    refresh = new_refresh_token()
    actor = Actor(id=str(user["id"]), username=username, role=user["role"], device_id=device_id)
    async with write_transaction():
        session = DeviceSession(
            user=user["id"],
            device_id=device_id,
            device_name=device_name[:128],
            refresh_hash=hash_refresh_token(refresh),
            expires_at=current + timedelta(days=settings.refresh_days),
        )
        await session.save()
        await User.update(
            {User.failed_logins: 0, User.locked_until: None, User.last_login_at: current}
        ).where(User.id == user["id"])
        await record(
            actor, "auth.login", "device_session", session.id, after={"device_name": device_name}
        )
    return NewSession(session_id=session.id, device_id=device_id, refresh_token=refresh, user=user)


async def _count_failure(user: dict[str, Any], settings: Settings) -> None:
    actor = Actor(id=str(user["id"]), username=user["username"], role=user["role"])
    async with write_transaction():
        # Incremented in the database, so concurrent failures on several workers all count.
        rows = (
            await User.update({User.failed_logins: User.failed_logins + 1})
            .where(User.id == user["id"])
            .returning(User.failed_logins)
        )
        failures = rows[0]["failed_logins"] if rows else 0
        await record(actor, "auth.login_failed", "user", user["id"], after={"failures": failures})
        if failures >= settings.login_max_failures:
            until = now() + timedelta(minutes=settings.login_lock_minutes)
            await User.update({User.failed_logins: 0, User.locked_until: until}).where(
                User.id == user["id"]
            )
            await record(actor, "auth.locked", "user", user["id"], after={"locked_until": until})


async def refresh(refresh_token: str, device_id: str, settings: Settings) -> dict[str, Any]:
    """Renew a device session: re-checks the session, the device and the user.

    Returns:
        The session row joined with its user's id and role.

    Raises:
        Unauthorized: unknown, revoked or expired credential, another device, or a disabled user.
    """
    row = (
        await DeviceSession.select(
            DeviceSession.id,
            DeviceSession.device_id,
            DeviceSession.revoked_at,
            DeviceSession.expires_at,
            DeviceSession.user.id,
            DeviceSession.user.role,
            DeviceSession.user.is_active,
        )
        .where(DeviceSession.refresh_hash == hash_refresh_token(refresh_token))
        .first()
    )
    current = now()
    if (
        row is None
        or row["revoked_at"] is not None
        or row["expires_at"] < current
        or row["device_id"] != device_id
        or not row["user.is_active"]
    ):
        raise Unauthorized(SESSION_ENDED)
    async with write_transaction():
        await DeviceSession.update(
            {
                DeviceSession.last_seen_at: current,
                DeviceSession.expires_at: current + timedelta(days=settings.refresh_days),
            }
        ).where(DeviceSession.id == row["id"])
    return row


async def revoke_sessions(
    actor: Actor, *, session_id: UUID | None = None, user_id: UUID | None = None, reason: str = ""
) -> int:
    """Revoke one session, or every live session of a user. Returns how many were revoked."""
    query = DeviceSession.revoked_at.is_null()
    if session_id is not None:
        query &= DeviceSession.id == session_id
    if user_id is not None:
        query &= DeviceSession.user == user_id
    async with write_transaction():
        rows = (
            await DeviceSession.update(
                {
                    DeviceSession.revoked_at: now(),
                    DeviceSession.revoked_by: actor.username,
                    DeviceSession.revoke_reason: reason[:128],
                }
            )
            .where(query)
            .returning(DeviceSession.id, DeviceSession.device_id)
        )
        for r in rows:
            await record(
                actor,
                "auth.revoke",
                "device_session",
                r["id"],
                after={"device_id": r["device_id"], "reason": reason},
            )
    return len(rows)
