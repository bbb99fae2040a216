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
    try:
        role_value = Role(role)
    except ValueError:
        raise InvalidInput(
            f"未知角色 {role!r}，可选：{', '.join(r.value for r in Role)}",
            details={"field": "role"},
        ) from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD_LENGTH} 位", details={"field": "password"})
    region_id = institution_id = None
    if role_value in {Role.inspector, Role.supervisor}:
        if not region_code or institution_code:
            raise InvalidInput(
                f"{ROLE_LABELS[role_value]}须指定所属区域（--region 行政区划代码），不能指定机构",
                details={"field": "region"},
            )
        region = await Region.select(Region.id).where(Region.code == region_code).first()
        if region is None:
            raise NotFound(f"区域代码 {region_code} 不存在", details={"field": "region"})
        region_id = region["id"]
    elif role_value == Role.manager:
        if not institution_code or region_code:
            raise InvalidInput(
                "机构医保负责人须指定所属机构（--institution 定点机构编码），不能指定区域",
                details={"field": "institution"},
            )
        inst = (
            await Institution.select(Institution.id)
            .where(Institution.code == institution_code)
            .first()
        )
        if inst is None:
            raise NotFound(f"机构编码 {institution_code} 不存在", details={"field": "institution"})
        institution_id = inst["id"]
    elif region_code or institution_code:
        raise InvalidInput("系统管理员不限定区域或机构", details={"field": "role"})

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
        )
        await user.save()
        after = {
            "username": username,
            "role": role_value.value,
            "region": region_code,
            "institution": institution_code,
        }
        await record(actor, "user.create", "user", user.id, after=after)
    return {"id": str(user.id), **after}
