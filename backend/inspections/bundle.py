"""The offline bundle: everything a tablet needs to inspect with no network.

A pull without ``since`` returns everything in the caller's scope. A pull with ``since`` (the
``cursor`` of the previous pull: the server's time when that pull began) returns only rows
changed after it. Rows changed shortly before it are sent again (``OVERLAP``), so that a write
committed late with an earlier timestamp is never missed; the tablet stores rows by id, so a row
received twice costs nothing. The ETag covers the content but not the cursor, so a tablet on a
poor network that asks again with ``If-None-Match`` gets a bodiless 304 while nothing changed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.accounts.auth import CurrentUser, now
from backend.accounts.tables import Role
from backend.checklists.tables import ChecklistVersion
from backend.errors import InvalidInput
from backend.inspections.assignments import assignment_columns, assignment_scope, to_out
from backend.inspections.schemas import BundleOut
from backend.inspections.tables import Assignment
from backend.institutions.tables import (
    AGREEMENT_STATUS_LABELS,
    INSTITUTION_TYPE_LABELS,
    PHYSICIAN_STATUS_LABELS,
    AgreementStatus,
    Institution,
    InstitutionType,
    Physician,
    PhysicianStatus,
)
from backend.tenancy import institution_where

OVERLAP = timedelta(minutes=2)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def encode_cursor(moment: datetime) -> str:
    """An opaque cursor for a point in time."""
    return base64.urlsafe_b64encode(moment.isoformat().encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> datetime:
    """The time a cursor stands for.

    Raises:
        InvalidInput: not a cursor this server made.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment = datetime.fromisoformat(base64.urlsafe_b64decode(padded).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("同步游标（since）无效，请不带 since 重新完整下载") from exc
    if moment.tzinfo is None:
        raise InvalidInput("同步游标（since）无效，请不带 since 重新完整下载")
    return moment


def _institution_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "code": row["code"],
        "name": row["name"],
        "type": row["type"],
        "type_label": INSTITUTION_TYPE_LABELS[InstitutionType(row["type"])],
        "level": row["level"],
        "region_id": str(row["region"]),
        "address": row["address"],
        "contact_name": row["contact_name"],
        "contact_phone": row["contact_phone"],
        "agreement_status": row["agreement_status"],
        "agreement_status_label": AGREEMENT_STATUS_LABELS[AgreementStatus(row["agreement_status"])],
        "qr_token": row["qr_token"],
        "updated_at": row["updated_at"].isoformat(),
    }


def _physician_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "institution_id": str(row["institution"]),
        "name": row["name"],
        "certificate_no": row["certificate_no"],
        "insurance_code": row["insurance_code"],
        "title": row["title"],
        "department": row["department"],
        "status": row["status"],
        "status_label": PHYSICIAN_STATUS_LABELS[PhysicianStatus(row["status"])],
        "updated_at": row["updated_at"].isoformat(),
    }


async def build_bundle(user: CurrentUser, since: str | None) -> tuple[BundleOut, str]:
    """The bundle for a tablet, and its ETag.

    Args:
        user: an inspector, supervisor or admin.
        since: the cursor of the previous pull, or None for everything.
    """
    after = decode_cursor(since) - OVERLAP if since else None
    scope_a = assignment_scope(user)
    scope_i = institution_where(user)
    scope_p = institution_where(user, Physician.institution)

    def scoped(query: Any, scope: Any) -> Any:
        return query.where(scope) if scope is not None else query

    # Taken before reading: anything changed while we read is after it, and comes next time.
    cursor_time = now()

    ids_query = scoped(Assignment.select(Assignment.id), scope_a).where(
        Assignment.status != "cancelled"
    )
    assignment_ids = [r["id"] for r in await ids_query]

    a_query = scoped(Assignment.select(*assignment_columns()), scope_a).order_by(
        Assignment.window_start
    )
    i_query = scoped(Institution.select(), scope_i).order_by(Institution.code)
    p_query = scoped(Physician.select(), scope_p).order_by(Physician.certificate_no)
    if after is not None:
        a_query = a_query.where(Assignment.updated_at > after)
        i_query = i_query.where(Institution.updated_at > after)
        p_query = p_query.where(Physician.updated_at > after)
    assignments = await to_out(await a_query)

    version_ids = list({a.checklist.version_id for a in assignments})
    checklists = []
    if version_ids:
        rows = (
            await ChecklistVersion.select(
                ChecklistVersion.id,
                ChecklistVersion.checklist_id,
                ChecklistVersion.version,
                ChecklistVersion.title,
                ChecklistVersion.content_hash,
                ChecklistVersion.content,
            )
            .where(ChecklistVersion.id.is_in(version_ids))
            .order_by(ChecklistVersion.checklist_id)
            .output(load_json=True)
        )
        checklists = [
            {
                "version_id": str(r["id"]),
                "checklist_id": r["checklist_id"],
                "version": r["version"],
                "title": r["title"],
                "content_hash": r["content_hash"],
                "content": r["content"],
            }
            for r in rows
        ]

    bundle = BundleOut(
        cursor=encode_cursor(cursor_time),
        full=since is None,
        server_time=cursor_time,
        assignment_ids=assignment_ids,
        assignments=assignments,
        checklists=checklists,
        institutions=[_institution_out(r) for r in await i_query],
        physicians=[_physician_out(r) for r in await p_query],
    )
    return bundle, _etag(bundle, user)


def _etag(bundle: BundleOut, user: CurrentUser) -> str:
    # The content only (not the cursor or the time); the user is part of it: scopes differ.
    content = bundle.model_dump(mode="json", exclude={"server_time", "cursor"})
    digest = hashlib.sha256(
        json.dumps([str(user.id), content], sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return f'"{digest[:32]}"'


BUNDLE_ROLES = (Role.inspector, Role.supervisor, Role.admin)
