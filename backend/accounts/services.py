"""Creating and changing user accounts."""

from __future__ import annotations

import re
from typing import Any

from backend.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password_async
from backend.accounts.tables import ROLE_LABELS, Role, User
from backend.audit.services import Actor, record
from backend.db import write_transaction
from backend.errors import Conflict, InvalidInput, NotFound
from backend.institutions.tables import Institution, Region

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")


def public_user(row: dict[str, Any]) -> dict[str, Any]:
    """A user row without secrets, for logs, audit events and API answers."""
    return {k: v for k, v in row.items() if k not in {"password_hash"}}


async def create_user(
    username: str,
    role: str,
    password: str,
    actor: Actor,
    *,
    region_code: str | None = None,
    institution_code: str | None = None,
    display_name: str = "",
    enforcement_cert_no: str = "",
) -> dict[str, Any]:
    """Create an account with its scope, checking every rule first.

    Inspectors and supervisors need a region; managers an institution; admins neither.

    Raises:
        InvalidInput: a rule is broken (the message says which).
        NotFound: the region or institution code is unknown.
        Conflict: the username is taken.
    """
    if not USERNAME_RE.match(username):
        raise InvalidInput(
            "用户名须为 3–64 位字母、数字、点、下划线或连字符，并以字母或数字开头",
            details={"field": "username"},
        )
    role_value = _role(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD_LENGTH} 位", details={"field": "password"})
    region_id, institution_id = await _scope_ids(role_value, region_code, institution_code)
    cert_no = cert_number(enforcement_cert_no)

    password_hash = await hash_password_async(password)
    async with write_transaction():
        if await User.exists().where(User.username == username):
            raise Conflict(f"用户名 {username} 已存在", details={"field": "username"})
        user = User(
            username=username,
            display_name=display_name or username,
            password_hash=password_hash,
            role=role_value.value,
            region=region_id,
            institution=institution_id,
            enforcement_cert_no=cert_no,
        )
        await user.save()
        after = {
            "username": username,
            "role": role_value.value,
            "region": region_code,
            "institution": institution_code,
        }
        if cert_no:
            after["enforcement_cert_no"] = cert_no
        await record(actor, "user.create", "user", user.id, after=after)
    return {"id": str(user.id), **after}


_CERT_RE = re.compile(r"^[0-9A-Za-z\-]{4,32}$")


def cert_number(raw: str) -> str:
    """An enforcement certificate number (执法证号) as stored: trimmed; "" clears it.

    Raises:
        InvalidInput: not 4–32 letters, digits or hyphens.
    """
    value = (raw or "").strip()
    if value and not _CERT_RE.match(value):
        raise InvalidInput(
            "执法证号须为 4–32 位字母、数字或连字符", details={"field": "enforcement_cert_no"}
        )
    return value


async def _scope_ids(
    role: Role, region_code: str | None, institution_code: str | None
) -> tuple[Any, Any]:
    """Resolve and check the scope a role needs: (region id, institution id)."""
    if role in {Role.inspector, Role.supervisor}:
        if not region_code or institution_code:
            raise InvalidInput(
                f"{ROLE_LABELS[role]}须指定所属区域（行政区划代码），不能指定机构",
                details={"field": "region"},
            )
        region = await Region.select(Region.id).where(Region.code == region_code).first()
        if region is None:
            raise NotFound(f"区域代码 {region_code} 不存在", details={"field": "region"})
        return region["id"], None
    if role == Role.manager:
        if not institution_code or region_code:
            raise InvalidInput(
                "机构医保负责人须指定所属机构（定点机构编码），不能指定区域",
                details={"field": "institution"},
            )
        inst = (
            await Institution.select(Institution.id)
            .where(Institution.code == institution_code)
            .first()
        )
        if inst is None:
            raise NotFound(f"机构编码 {institution_code} 不存在", details={"field": "institution"})
        return None, inst["id"]
    if region_code or institution_code:
        raise InvalidInput("系统管理员不限定区域或机构", details={"field": "role"})
    return None, None


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(
            f"未知角色 {role!r}，可选：{', '.join(r.value for r in Role)}",
            details={"field": "role"},
        ) from None


async def update_user(
    username: str,
    actor: Actor,
    *,
    role: str | None = None,
    region_code: str | None = None,
    institution_code: str | None = None,
    is_active: bool | None = None,
    password: str | None = None,
    unlock: bool = False,
    display_name: str | None = None,
    enforcement_cert_no: str | None = None,
) -> dict[str, Any]:
    """Change a user: re-role (with the scope the new role needs), disable or enable, reset the
    password, unlock. Disabling or re-roling revokes the user's device sessions, so the change
    takes effect at once on every device.

    Raises:
        NotFound: no such user.
        InvalidInput: the change breaks a rule.
    """
    from backend.accounts.sessions import revoke_sessions

    user = await User.select().where(User.username == username).first()
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    changes: dict[Any, Any] = {}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if role is not None or region_code is not None or institution_code is not None:
        new_role = _role(role) if role is not None else Role(user["role"])
        region_id, institution_id = await _scope_ids(new_role, region_code, institution_code)
        changes.update(
            {User.role: new_role.value, User.region: region_id, User.institution: institution_id}
        )
        before.update(
            role=user["role"], region=str(user["region"]), institution=str(user["institution"])
        )
        after.update(role=new_role.value, region=region_code, institution=institution_code)
    if is_active is not None and is_active != user["is_active"]:
        changes[User.is_active] = is_active
        before["is_active"], after["is_active"] = user["is_active"], is_active
    if password is not None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput(f"密码至少 {MIN_PASSWORD_LENGTH} 位", details={"field": "password"})
        changes[User.password_hash] = await hash_password_async(password)
        after["password"] = "changed"
    if unlock:
        changes.update({User.locked_until: None, User.failed_logins: 0})
        after["unlocked"] = True
    if display_name is not None:
        changes[User.display_name] = display_name
        before["display_name"], after["display_name"] = user["display_name"], display_name
    if enforcement_cert_no is not None:
        cert_no = cert_number(enforcement_cert_no)
        changes[User.enforcement_cert_no] = cert_no
        before["enforcement_cert_no"] = user.get("enforcement_cert_no", "")
        after["enforcement_cert_no"] = cert_no
    if not changes:
        raise InvalidInput("没有需要修改的内容")
    from backend.accounts.auth import now

    changes[User.updated_at] = now()
    async with write_transaction():
        await User.update(changes).where(User.id == user["id"])
        await record(actor, "user.update", "user", user["id"], before=before, after=after)
        if User.display_name in changes:
            # Sealed records name their inspectors: each gets a new seal (earlier ones stay).
            from backend.records.seal import reseal_affected

            await reseal_affected(user_id=user["id"])
    if (
        User.role in changes
        or changes.get(User.is_active) is False
        or User.password_hash in changes
    ):
        await revoke_sessions(actor, user_id=user["id"], reason="账户变更")
    return await get_user(username)


def _user_columns() -> list[Any]:
    # What the admin API shows of an account: no secrets, the scope by code and name.
    return [
        User.id,
        User.username,
        User.display_name,
        User.role,
        User.enforcement_cert_no,
        User.is_active,
        User.locked_until,
        User.last_login_at,
        User.region.code,
        User.region.name,
        User.institution.code,
        User.institution.name,
    ]


async def list_users(
    role: Role | None = None, region: str | None = None, active: bool | None = None
) -> list[dict[str, Any]]:
    """Every account, without secrets, ordered by username; optionally of one role, of one
    region (exactly that region's users, or the managers of its institutions), active or not.

    Raises:
        InvalidInput: the region code is unknown.
    """
    query = User.select(*_user_columns()).order_by(User.username)
    if role is not None:
        query = query.where(User.role == role.value)
    if region:
        found = await Region.select(Region.id).where(Region.code == region.strip()).first()
        if found is None:
            raise InvalidInput(f"区域代码 {region} 不存在", details={"field": "region"})
        query = query.where(
            (User.region == found["id"]) | (User.institution.region == found["id"])
        )
    if active is not None:
        query = query.where(User.is_active == active)
    return await query


async def revoke_devices(username: str, actor: Actor) -> int:
    """End every live device session of a user (a lost or handed-over tablet): their tokens stop
    working at the next request. Each revoked session is audited.

    Returns:
        How many sessions were revoked (0 when none was live).

    Raises:
        NotFound: no such user.
    """
    from backend.accounts.sessions import revoke_sessions

    user = await User.select(User.id).where(User.username == username).first()
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    return await revoke_sessions(actor, user_id=user["id"], reason="管理员吊销全部设备")


async def get_user(username: str) -> dict[str, Any]:
    """A user without secrets, with the codes and names of their scope."""
    row = await User.select(*_user_columns()).where(User.username == username).first()
    if row is None:
        raise NotFound(f"用户 {username} 不存在")
    return row
