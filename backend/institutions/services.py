"""Designated institutions: listing within one's tenancy, their physicians, QR codes and posters,
QR token rotation, scan resolution, and the admin's changes (agreement status included).

Reads take the caller (:class:`~backend.accounts.auth.CurrentUser`) and apply the tenancy rules of
:mod:`backend.tenancy`; writes take the :class:`~backend.audit.services.Actor` and leave an audit
event in the same transaction.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from piccolo.columns.combination import WhereRaw

from backend import db
from backend.accounts.auth import CurrentUser, now, region_scope
from backend.accounts.tables import Role
from backend.audit.services import Actor, record
from backend.china_time import today_in_china
from backend.errors import DomainError, InvalidInput, NotFound
from backend.inspections.tables import Assignment, AssignmentInspector, AssignmentStatus
from backend.institutions import qr
from backend.institutions.tables import (
    INSTITUTION_TYPE_LABELS,
    AgreementStatus,
    Institution,
    InstitutionType,
    Physician,
    Region,
    new_qr_token,
)
from backend.tenancy import can_see_institution, institution_where, visible_institution

NOT_VISIBLE = "机构不存在或不在您的管辖范围内"
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
# The date printed on posters is the bureau's date (China has one time zone and no DST).
OPEN_ASSIGNMENT_STATUSES = (AssignmentStatus.planned.value, AssignmentStatus.in_progress.value)

# Maximum lengths of the editable text fields (the columns' widths) and their names for messages.
_TEXT_FIELDS = {
    "name": (Institution.name, 128, "机构名称"),
    "level": (Institution.level, 32, "机构等级"),
    "address": (Institution.address, 256, "机构地址"),
    "contact_name": (Institution.contact_name, 64, "联系人"),
    "contact_phone": (Institution.contact_phone, 32, "联系电话"),
}
_PHONE_RE = re.compile(r"^[0-9+()\- ]*$")
MAX_REASON_LENGTH = 500

# The columns of an institution as the API shows it, with its region's code and name.
_COLUMNS = (
    Institution.id,
    Institution.code,
    Institution.name,
    Institution.type,
    Institution.level,
    Institution.region,
    Institution.region.code.as_alias("region_code"),
    Institution.region.name.as_alias("region_name"),
    Institution.address,
    Institution.contact_name,
    Institution.contact_phone,
    Institution.agreement_status,
    Institution.qr_token,
    Institution.updated_at,
)


class ServiceUnavailable(DomainError):
    """The server lacks something it needs for this request (e.g. a font); nothing changed."""

    status_code = 503


def _and(*clauses: Any) -> Any:
    """The clauses that are not ``None``, joined with AND (``None`` when there are none)."""
    combined = None
    for clause in clauses:
        if clause is not None:
            combined = clause if combined is None else combined & clause
    return combined


def _choice(value: str, enum: type[Any], field: str, what: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = "、".join(m.value for m in enum)
        raise InvalidInput(
            f"{what} {value!r} 无效，可选：{allowed}", details={"field": field}
        ) from None


def parse_agreement_status(value: str) -> AgreementStatus:
    """The agreement status named by ``value``.

    Raises:
        InvalidInput: not one of normal, suspended, terminated.
    """
    return _choice(value, AgreementStatus, "agreement_status", "协议状态")


def _contains(q: str) -> Any:
    """Name or code contains ``q`` (case-insensitive; ``%`` and ``_`` taken literally)."""
    escaped = re.sub(r"([!%_])", r"!\1", q.lower())
    pattern = f"%{escaped}%"
    return WhereRaw(
        '(lower("institution"."name") LIKE {} ESCAPE \'!\''
        ' OR lower("institution"."code") LIKE {} ESCAPE \'!\')',
        pattern,
        pattern,
    )


async def list_institutions(
    user: CurrentUser,
    *,
    type: str | None = None,
    region: str | None = None,
    q: str | None = None,
    agreement_status: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """The institutions the user may see, filtered, ordered by code, one page of them.

    Args:
        user: the caller; the tenancy rules restrict the rows.
        type: an institution type (hospital, clinic, tcm_clinic, pharmacy).
        region: a region code; its sub-regions are included (a city covers its counties).
        q: a part of the name or code.
        agreement_status: normal, suspended or terminated.
        limit: at most this many rows (1–500).
        offset: rows to skip.

    Returns:
        The rows of the page and the number of rows matching the filters.

    Raises:
        InvalidInput: a filter value or the page bounds are not allowed.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"每页条数须在 1–{MAX_LIMIT} 之间", details={"field": "limit"})
    if offset < 0:
        raise InvalidInput("偏移量不能为负数", details={"field": "offset"})
    clauses: list[Any] = [institution_where(user)]
    if type:
        kind = _choice(type, InstitutionType, "type", "机构类型")
        clauses.append(Institution.type == kind.value)
    if agreement_status:
        clauses.append(Institution.agreement_status == parse_agreement_status(agreement_status))
    if region:
        found = await Region.select(Region.id).where(Region.code == region.strip()).first()
        if found is None:
            raise InvalidInput(f"区域代码 {region} 不存在", details={"field": "region"})
        clauses.append(Institution.region.is_in(list(await region_scope(found["id"]))))
    if q and q.strip():
        clauses.append(_contains(q.strip()))
    where = _and(*clauses)

    query = Institution.select(*_COLUMNS).order_by(Institution.code).limit(limit).offset(offset)
    count = Institution.count()
    if where is not None:
        query = query.where(where)
        count = count.where(where)
    return await query, await count


async def get_institution(user: CurrentUser, institution_id: UUID) -> dict[str, Any]:
    """One institution the user may see, with its region and its number of physicians.

    Raises:
        NotFound: it does not exist or lies outside the user's tenancy (the same answer).
    """
    await visible_institution(user, institution_id)
    return await _institution_row(institution_id)


async def _institution_row(institution_id: UUID) -> dict[str, Any]:
    row = await Institution.select(*_COLUMNS).where(Institution.id == institution_id).first()
    if row is None:
        raise NotFound(NOT_VISIBLE)
    row["physician_count"] = await Physician.count().where(Physician.institution == institution_id)
    return row


async def list_physicians(user: CurrentUser, institution_id: UUID) -> list[dict[str, Any]]:
    """The 医保医师 of one institution the user may see, by department and name.

    Raises:
        NotFound: the institution does not exist or lies outside the user's tenancy.
    """
    await visible_institution(user, institution_id)
    return (
        await Physician.select(
            Physician.id,
            Physician.name,
            Physician.certificate_no,
            Physician.insurance_code,
            Physician.title,
            Physician.department,
            Physician.status,
            Physician.registered_on,
            Physician.year_points,
        )
        .where(Physician.institution == institution_id)
        .order_by(Physician.department)
        .order_by(Physician.name)
    )


async def resolve_scan(user: CurrentUser, token: str) -> dict[str, Any]:
    """The institution a scanned QR token names, for an inspector whose region covers it.

    Raises:
        NotFound: the token is malformed, unknown (e.g. rotated away), or names an institution
            outside the inspector's region: the same answer for all three.
    """
    if not qr.is_valid_token(token):
        raise NotFound(NOT_VISIBLE)
    row = (
        await Institution.select(Institution.id, Institution.region)
        .where(Institution.qr_token == token)
        .first()
    )
    if row is None or not can_see_institution(user, row):
        raise NotFound(NOT_VISIBLE)
    return await _institution_row(row["id"])


async def open_assignments(user_id: UUID, institution_id: UUID) -> list[dict[str, Any]]:
    """The assignments at an institution that this inspector is on and that are still open
    (planned or in progress), earliest window first."""
    mine = AssignmentInspector.select(AssignmentInspector.assignment).where(
        AssignmentInspector.inspector == user_id
    )
    return (
        await Assignment.select(
            Assignment.id,
            Assignment.kind,
            Assignment.status,
            Assignment.window_start,
            Assignment.window_end,
            Assignment.checklist.checklist_id.as_alias("checklist_id"),
            Assignment.checklist.version.as_alias("checklist_version"),
        )
        .where(
            (Assignment.institution == institution_id)
            & Assignment.status.is_in(list(OPEN_ASSIGNMENT_STATUSES))
            & Assignment.id.is_in(mine)
        )
        .order_by(Assignment.window_start)
    )


# --------------------------------------------------------------------------------------------
# QR code and posters
# --------------------------------------------------------------------------------------------


def scan_payload(token: str, base_url: str | None) -> str:
    """What the QR code holds: ``{base_url}/s/{token}``, or ``yibao:inst:{token}`` when the base
    URL is missing or unusable (e.g. a malformed Host header), so a code is always produced."""
    if base_url:
        try:
            return qr.qr_payload(token, base_url)
        except ValueError:
            pass
    return qr.qr_payload(token)


async def issuing_bureau(region_id: UUID) -> str:
    """The bureau that issues an institution's poster: its top-level region + 医疗保障局,
    e.g. 威海市医疗保障局 for an institution in 环翠区."""
    name = ""
    seen: set[UUID] = set()
    current: UUID | None = region_id
    while current is not None and current not in seen:
        row = await Region.select(Region.name, Region.parent).where(Region.id == current).first()
        if row is None:
            break
        seen.add(current)
        name, current = row["name"], row["parent"]
    return f"{name}医疗保障局"


async def poster_fields(row: dict[str, Any], base_url: str | None) -> dict[str, Any]:
    """The keyword arguments of :func:`qr.poster_html` and :func:`qr.poster_png` for an
    institution row (as :func:`get_institution` gives it)."""
    return {
        "institution_name": row["name"],
        "institution_code": row["code"],
        "institution_type_label": INSTITUTION_TYPE_LABELS[InstitutionType(row["type"])],
        "region_name": row["region_name"],
        "address": row["address"],
        "token_payload": scan_payload(row["qr_token"], base_url),
        "issued_by": await issuing_bureau(row["region"]),
        "printed_on": today_in_china(),
    }


def render_poster_png(fields: dict[str, Any]) -> bytes:
    """The PNG poster (CPU-bound: call it from a worker thread).

    Raises:
        ServiceUnavailable: no CJK font is installed on the server.
    """
    try:
        return qr.poster_png(**fields)
    except qr.FontMissing:
        raise ServiceUnavailable(
            "服务器未安装中文字体，暂时无法生成海报图片。请改用网页版海报打印，"
            "或请系统管理员安装中文字体（如 fonts-wqy-microhei 或 fonts-noto-cjk）。"
        ) from None


# --------------------------------------------------------------------------------------------
# Writes (admin, or other services such as escalation)
# --------------------------------------------------------------------------------------------


@asynccontextmanager
async def _atomic() -> AsyncIterator[None]:
    """A write transaction, or the caller's when one is already open (so a service that acts
    inside its own transaction, e.g. escalation, can call these and commit everything at once)."""
    if db.engine().transaction_exists():
        yield
    else:
        async with db.write_transaction():
            yield


async def _locked(institution_id: UUID) -> dict[str, Any]:
    """The institution row, locked until the transaction ends on PostgreSQL (SQLite's write
    transaction holds the database already)."""
    query = Institution.select().where(Institution.id == institution_id)
    if not db.is_sqlite():
        query = query.lock_rows()
    row = await query.first()
    if row is None:
        raise NotFound(NOT_VISIBLE)
    return row


def token_fingerprint(token: str) -> str:
    """A short hash of a QR token: enough to tell in the audit log that it changed, useless for
    recovering it."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


async def rotate_qr_token(institution_id: UUID, actor: Actor) -> str:
    """Give an institution a new QR token; the old one stops resolving at once.

    ``updated_at`` moves, so tablets pick the change up with their next incremental download.
    The audit event records fingerprints of the tokens, never the tokens.

    Returns:
        The new token.

    Raises:
        NotFound: no such institution.
    """
    token = new_qr_token()
    async with _atomic():
        row = await _locked(institution_id)
        await Institution.update(
            {Institution.qr_token: token, Institution.updated_at: now()}
        ).where(Institution.id == institution_id)
        await record(
            actor,
            "institution.rotate_qr",
            "institution",
            institution_id,
            before={"qr_token_sha256": token_fingerprint(row["qr_token"])},
            after={"qr_token_sha256": token_fingerprint(token)},
        )
    return token


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidInput(
            f"变更原因不能超过 {MAX_REASON_LENGTH} 个字", details={"field": "reason"}
        )
    return text


async def set_agreement_status(
    institution_id: UUID, status: str, actor: Actor, reason: str | None = None
) -> dict[str, Any]:
    """Set an institution's agreement status (协议状态), audited with the reason.

    Reusable by other services (e.g. escalation of overdue rectifications): called inside an
    open write transaction it joins it, otherwise it opens its own. Setting the status it already
    has changes and records nothing. The caller checks that the actor may do this.

    Args:
        institution_id: the institution.
        status: normal, suspended or terminated.
        actor: who decides.
        reason: why (kept in the audit event).

    Returns:
        The institution row after the change.

    Raises:
        InvalidInput: an unknown status or a too long reason.
        NotFound: no such institution.
    """
    new = parse_agreement_status(status)
    text = _reason(reason)
    async with _atomic():
        row = await _locked(institution_id)
        if row["agreement_status"] == new.value:
            return row
        changed_at = now()
        await Institution.update(
            {Institution.agreement_status: new.value, Institution.updated_at: changed_at}
        ).where(Institution.id == institution_id)
        await record(
            actor,
            "institution.set_agreement_status",
            "institution",
            institution_id,
            before={"agreement_status": row["agreement_status"]},
            after={"agreement_status": new.value, "reason": text},
        )
    return {**row, "agreement_status": new.value, "updated_at": changed_at}


def _text_value(field: str, value: str) -> str:
    _column, max_length, label = _TEXT_FIELDS[field]
    text = value.strip()
    if len(text) > max_length:
        raise InvalidInput(f"{label}不能超过 {max_length} 个字", details={"field": field})
    if field == "name" and not text:
        raise InvalidInput("机构名称不能为空", details={"field": field})
    if field == "contact_phone" and not _PHONE_RE.fullmatch(text):
        raise InvalidInput("联系电话只能包含数字、空格、“+”、“-”和括号", details={"field": field})
    return text


async def update_institution(
    institution_id: UUID,
    actor: Actor,
    *,
    agreement_status: str | None = None,
    reason: str | None = None,
    level: str | None = None,
    address: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Change an institution's agreement status, name, level, address or contact; ``None`` leaves a
    field as it is. Everything is checked before anything changes, and all changes commit
    together: ``institution.update`` records the fields, ``institution.set_agreement_status``
    the status (see :func:`set_agreement_status`). Values equal to the current ones change and
    record nothing.

    Returns:
        The institution row after the change.

    Raises:
        InvalidInput: nothing to change, or a value is not allowed (the message says which).
        NotFound: no such institution.
    """
    given = {
        "name": name,
        "level": level,
        "address": address,
        "contact_name": contact_name,
        "contact_phone": contact_phone,
    }
    if reason is not None and agreement_status is None:
        raise InvalidInput("变更原因只用于协议状态的变更", details={"field": "reason"})
    values = {field: _text_value(field, v) for field, v in given.items() if v is not None}
    if agreement_status is None and not values:
        raise InvalidInput("没有需要修改的内容")
    if agreement_status is not None:
        parse_agreement_status(agreement_status)
    _reason(reason)

    async with _atomic():
        row = await _locked(institution_id)
        changed = {f: v for f, v in values.items() if row[f] != v}
        if changed:
            await Institution.update(
                {
                    **{_TEXT_FIELDS[f][0]: v for f, v in changed.items()},
                    Institution.updated_at: now(),
                }
            ).where(Institution.id == institution_id)
            await record(
                actor,
                "institution.update",
                "institution",
                institution_id,
                before={f: row[f] for f in changed},
                after=changed,
            )
            if "name" in changed:
                # Sealed records name the institution: each gets a new seal (earlier ones stay).
                from backend.records.seal import reseal_affected

                await reseal_affected(institution_id=institution_id)
        if agreement_status is not None:
            await set_agreement_status(institution_id, agreement_status, actor, reason)
    return await Institution.select().where(Institution.id == institution_id).first()


def may_see_tokens(user: CurrentUser) -> bool:
    """Whether the user may learn QR tokens. A manager never does: the code is for inspectors
    to prove they stand at the institution, and the API gives it to the bureau's staff only."""
    return user.role != Role.manager
