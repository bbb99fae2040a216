"""Inspector–institution relations (回避): recorded by supervisors of the institution's region and
by admins; a related inspector is never drawn for that institution."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser, region_scope
from backend.accounts.tables import Role, User
from backend.audit.services import record
from backend.db import write_transaction
from backend.errors import Conflict, InvalidInput, NotFound
from backend.planning.schemas import RelationCreate, RelationOut
from backend.planning.tables import InspectorRelation
from backend.tenancy import institution_where, visible_institution

RELATION_NOT_FOUND = "回避记录不存在或不在您的管辖范围内"
INSPECTOR_NOT_FOUND = "检查人员不存在或不在您的管辖范围内"


def _columns() -> list[Any]:
    return [
        InspectorRelation.id,
        InspectorRelation.reason,
        InspectorRelation.created_at,
        InspectorRelation.inspector.username,
        InspectorRelation.inspector.display_name,
        InspectorRelation.institution.id,
        InspectorRelation.institution.code,
        InspectorRelation.institution.name,
        InspectorRelation.created_by.username,
    ]


def _out(r: dict[str, Any]) -> RelationOut:
    return RelationOut(
        id=r["id"],
        inspector=r["inspector.username"],
        inspector_name=r["inspector.display_name"],
        institution_id=r["institution.id"],
        institution_code=r["institution.code"],
        institution_name=r["institution.name"],
        reason=r["reason"],
        created_at=r["created_at"],
        created_by=r["created_by.username"],
    )


async def _inspector(
    user: CurrentUser, username: str, institution: dict[str, Any]
) -> dict[str, Any]:
    """The inspector by username, if the caller may record a relation for them: an admin for
    anyone; a supervisor for the inspectors of their region and those covering the institution
    (e.g. the city's)."""
    row = (
        await User.select(User.id, User.username, User.role, User.region)
        .where(User.username == username)
        .first()
    )
    if row is None:
        raise NotFound(INSPECTOR_NOT_FOUND, details={"field": "inspector"})
    if user.role != Role.admin:
        region = row["region"]
        covers = region is not None and institution["region"] in await region_scope(region)
        if not covers and region not in (user.region_ids or ()):
            raise NotFound(INSPECTOR_NOT_FOUND, details={"field": "inspector"})
    if row["role"] != Role.inspector.value:
        raise InvalidInput(f"{username} 不是检查人员，无需登记回避", details={"field": "inspector"})
    return row


async def create_relation(user: CurrentUser, data: RelationCreate) -> RelationOut:
    """Record that an inspector must not inspect an institution.

    Raises:
        NotFound: the institution or inspector is unknown or outside the caller's region.
        InvalidInput: no reason given, or the user is not an inspector.
        Conflict: the relation is recorded already.
    """
    institution = await visible_institution(user, data.institution_id)
    reason = data.reason.strip()
    if not reason:
        raise InvalidInput(
            "请填写回避原因（如：亲属在该机构任职、曾在该机构工作）", details={"field": "reason"}
        )
    inspector = await _inspector(user, data.inspector.strip(), institution)
    async with write_transaction():
        exists = await InspectorRelation.exists().where(
            (InspectorRelation.inspector == inspector["id"])
            & (InspectorRelation.institution == institution["id"])
        )
        if exists:
            raise Conflict(f"已登记 {inspector['username']} 对{institution['name']}的回避")
        relation = InspectorRelation(
            inspector=inspector["id"],
            institution=institution["id"],
            reason=reason,
            created_by=user.id,
        )
        await relation.save()
        await record(
            user.actor,
            "inspector_relation.create",
            "inspector_relation",
            relation.id,
            after={
                "inspector": inspector["username"],
                "institution": institution["code"],
                "reason": reason,
            },
        )
    return await _get(user, relation.id)


async def _get(user: CurrentUser, relation_id: UUID) -> RelationOut:
    query = InspectorRelation.select(*_columns()).where(InspectorRelation.id == relation_id)
    scope = institution_where(user, InspectorRelation.institution)
    if scope is not None:
        query = query.where(scope)
    row = await query.first()
    if row is None:
        raise NotFound(RELATION_NOT_FOUND)
    return _out(row)


async def list_relations(
    user: CurrentUser, *, institution_id: UUID | None = None, inspector: str | None = None
) -> list[RelationOut]:
    """The relations of the institutions the caller may see, by institution code then inspector."""
    query = InspectorRelation.select(*_columns())
    scope = institution_where(user, InspectorRelation.institution)
    if scope is not None:
        query = query.where(scope)
    if institution_id is not None:
        query = query.where(InspectorRelation.institution == institution_id)
    if inspector:
        query = query.where(InspectorRelation.inspector.username == inspector)
    rows = await query
    rows.sort(key=lambda r: (r["institution.code"], r["inspector.username"]))
    return [_out(r) for r in rows]


async def delete_relation(user: CurrentUser, relation_id: UUID) -> None:
    """Remove a recorded relation (audited with what it said)."""
    found = await _get(user, relation_id)
    async with write_transaction():
        await InspectorRelation.delete().where(InspectorRelation.id == relation_id)
        await record(
            user.actor,
            "inspector_relation.delete",
            "inspector_relation",
            relation_id,
            before={
                "inspector": found.inspector,
                "institution": found.institution_code,
                "reason": found.reason,
            },
        )
