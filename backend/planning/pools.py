"""What a plan is drawn from: the pool of institutions, the roster of inspectors covering each, the
recorded relations (回避) and the checklist for each institution type. Shared by the 双随机 draw
and the bulk routine plan; validation of the common request fields lives here too."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser, region_scope
from backend.accounts.tables import Role, User
from backend.checklists.tables import ChecklistVersion
from backend.china_time import CHINA_TZ
from backend.errors import InvalidInput, NotFound
from backend.inspections.tables import Inspection, InspectionStatus
from backend.institutions.tables import (
    AGREEMENT_STATUS_LABELS,
    INSTITUTION_TYPE_LABELS,
    AgreementStatus,
    Institution,
    InstitutionType,
    Region,
)
from backend.planning.algorithm import Slot, pair_inspectors
from backend.planning.schemas import Pick, PoolRequest, Unassigned
from backend.planning.tables import InspectorRelation

REGION_NOT_FOUND = "地区不存在或不在您的管辖范围内"
MAX_PLAN = 1000  # institutions in one bulk plan or one draw's pool


def new_seed() -> str:
    """A fresh random seed (128 bits, hex) for a draw that was given none."""
    return secrets.token_hex(16)


def seed_of(raw: str | None) -> str:
    """The seed to use: the one given (trimmed), or a fresh one."""
    text = (raw or "").strip()
    return text or new_seed()


async def resolve_region(user: CurrentUser, code: str) -> dict[str, Any]:
    """The region row by code, if the user may plan in it (404 otherwise, the same for a region
    that does not exist)."""
    row = (
        await Region.select(Region.id, Region.code, Region.name).where(Region.code == code).first()
    )
    if row is None or (user.role != Role.admin and row["id"] not in (user.region_ids or ())):
        raise NotFound(REGION_NOT_FOUND)
    return row


def check_common(data: PoolRequest) -> tuple[list[str], list[str]]:
    """Validate the fields every plan has; the types and statuses, de-duplicated and sorted.

    Raises:
        InvalidInput: a rule broken (the message names it).
    """
    if data.window_end < data.window_start:
        raise InvalidInput(
            "检查时间窗口的结束日期不能早于开始日期", details={"field": "window_end"}
        )
    if not data.institution_types:
        raise InvalidInput("请至少选择一种机构类型", details={"field": "institution_types"})
    statuses = ["normal"] if data.agreement_status is None else data.agreement_status
    known_types = {t.value for t in InstitutionType}
    unknown = [t for t in data.institution_types if t not in known_types]
    if unknown:
        raise InvalidInput(
            f"未知的机构类型：{'、'.join(unknown)}（可选：{'、'.join(sorted(known_types))}）",
            details={"field": "institution_types"},
        )
    if not statuses:
        raise InvalidInput("请至少选择一种协议状态", details={"field": "agreement_status"})
    known_status = {s.value for s in AgreementStatus}
    unknown = [s for s in statuses if s not in known_status]
    if unknown:
        raise InvalidInput(
            f"未知的协议状态：{'、'.join(unknown)}（可选：{'、'.join(sorted(known_status))}）",
            details={"field": "agreement_status"},
        )
    return sorted(set(data.institution_types)), sorted(set(statuses))


@dataclass
class Inspector:
    id: UUID
    username: str
    display_name: str
    region: UUID


@dataclass
class Context:
    """Everything a plan reads, loaded once."""

    region: dict[str, Any]
    regions: dict[UUID, dict[str, Any]]
    pool: list[dict[str, Any]]  # institutions, sorted by code
    roster: list[Inspector]  # active inspectors, sorted by username
    checklists: dict[str, dict[str, Any]]  # institution type → newest applying version
    relations: dict[UUID, set[str]] = field(default_factory=dict)  # institution → usernames

    def lineage(self, region_id: UUID) -> set[UUID]:
        """A region and every region above it."""
        chain: set[UUID] = set()
        current: UUID | None = region_id
        while current is not None and current not in chain:
            chain.add(current)
            current = self.regions[current]["parent"] if current in self.regions else None
        return chain

    def covering(self, institution: dict[str, Any]) -> list[Inspector]:
        """The roster's inspectors whose region scope covers the institution (its county's and
        those of the regions above, e.g. the city's)."""
        lineage = self.lineage(institution["region"])
        return [i for i in self.roster if i.region in lineage]

    def roster_snapshot(self) -> list[dict[str, str]]:
        """The roster as recorded for a re-run: the usernames (with their region codes) of the
        active inspectors covering at least one institution of the pool."""
        covering: set[UUID] = set()
        for region in {inst["region"] for inst in self.pool}:
            covering |= self.lineage(region)
        return [
            {"username": i.username, "region": self.regions[i.region]["code"]}
            for i in self.roster
            if i.region in covering
        ]


async def _newest_checklists() -> dict[str, dict[str, Any]]:
    rows = await ChecklistVersion.select(
        ChecklistVersion.id,
        ChecklistVersion.checklist_id,
        ChecklistVersion.version,
        ChecklistVersion.applies_to,
        ChecklistVersion.loaded_at,
    ).output(load_json=True)
    chosen: dict[str, dict[str, Any]] = {}
    # The newest version applying to a type: highest version number, then the latest loaded,
    # then the checklist id (so that the choice never depends on the order rows come back in).
    for row in sorted(rows, key=lambda r: (r["version"], r["loaded_at"], r["checklist_id"])):
        for kind in row["applies_to"] or []:
            chosen[kind] = row
    return chosen


async def load_context(
    region: dict[str, Any],
    types: list[str],
    statuses: list[str],
    not_inspected_since: date | None = None,
) -> Context:
    """The pool (institutions of the region and its counties with the given types and agreement
    statuses, without a submitted inspection on or after ``not_inspected_since``), the active
    inspectors, the relations of the pool's institutions and the checklists."""
    scope = await region_scope(region["id"])
    query = Institution.select(
        Institution.id,
        Institution.code,
        Institution.name,
        Institution.type,
        Institution.region,
        Institution.agreement_status,
    ).where(
        Institution.region.is_in(list(scope)),
        Institution.type.is_in(types),
        Institution.agreement_status.is_in(statuses),
    )
    if not_inspected_since is not None:
        since = datetime.combine(not_inspected_since, time(0), tzinfo=CHINA_TZ)
        inspected = Inspection.select(Inspection.institution).where(
            (Inspection.status == InspectionStatus.submitted.value)
            & (Inspection.submitted_at >= since)
        )
        query = query.where(Institution.id.not_in(inspected))
    pool = sorted(await query, key=lambda r: r["code"])
    regions = {
        r["id"]: r for r in await Region.select(Region.id, Region.code, Region.name, Region.parent)
    }
    inspectors = await User.select(User.id, User.username, User.display_name, User.region).where(
        (User.role == Role.inspector.value) & (User.is_active == True)  # noqa: E712
    )
    roster = sorted(
        (
            Inspector(r["id"], r["username"], r["display_name"], r["region"])
            for r in inspectors
            if r["region"] is not None
        ),
        key=lambda i: i.username,
    )
    relations: dict[UUID, set[str]] = {}
    ids = [p["id"] for p in pool]
    if ids:
        for r in await InspectorRelation.select(
            InspectorRelation.institution, InspectorRelation.inspector.username
        ).where(InspectorRelation.institution.is_in(ids)):
            relations.setdefault(r["institution"], set()).add(r["inspector.username"])
    return Context(
        region=region,
        regions=regions,
        pool=pool,
        roster=roster,
        checklists=await _newest_checklists(),
        relations=relations,
    )


@dataclass
class Staffing:
    """The outcome of pairing: picks (in the order given) and the institutions left out."""

    picks: list[Pick]
    unassigned: list[Unassigned]
    inspector_ids: dict[str, UUID]
    checklist_ids: dict[UUID, UUID]  # institution → checklist version id


def staff(ctx: Context, seed: str, institutions: list[dict[str, Any]]) -> Staffing:
    """Pair inspectors for the institutions, in their order (steps 3 to 6 of docs/draws.md)."""
    slots: list[Slot] = []
    unassigned: list[Unassigned] = []
    names: dict[str, Inspector] = {i.username: i for i in ctx.roster}
    for inst in institutions:
        checklist = ctx.checklists.get(inst["type"])
        if checklist is None:
            label = INSTITUTION_TYPE_LABELS.get(InstitutionType(inst["type"]), inst["type"])
            unassigned.append(_unassigned(inst, f"没有适用于{label}的检查表，未能安排"))
            continue
        covering = [i.username for i in ctx.covering(inst)]
        related = ctx.relations.get(inst["id"], set())
        eligible = [u for u in covering if u not in related]
        if len(eligible) < 2:
            avoided = len(covering) - len(eligible)
            detail = (
                f"负责该机构所在地区的在岗检查人员 {len(covering)} 人，其中 {avoided} 人须回避"
                if avoided
                else f"负责该机构所在地区的在岗检查人员仅 {len(covering)} 人"
            )
            unassigned.append(_unassigned(inst, f"无法组成两人检查组（{detail}），未分配"))
            continue
        slots.append(Slot(inst["code"], tuple(eligible)))
    pairs = pair_inspectors(seed, slots)
    picks = []
    for inst in institutions:
        pair = pairs.get(inst["code"])
        if pair is None:
            continue
        checklist = ctx.checklists[inst["type"]]
        picks.append(
            Pick(
                institution_id=inst["id"],
                institution_code=inst["code"],
                institution_name=inst["name"],
                institution_type=inst["type"],
                region_name=ctx.regions[inst["region"]]["name"],
                checklist_id=checklist["checklist_id"],
                checklist_version=checklist["version"],
                inspectors=list(pair),
                inspector_names=[names[u].display_name or u for u in pair],
            )
        )
    return Staffing(
        picks=picks,
        unassigned=unassigned,
        inspector_ids={i.username: i.id for i in ctx.roster},
        checklist_ids={
            i["id"]: ctx.checklists[i["type"]]["id"]
            for i in institutions
            if i["type"] in ctx.checklists
        },
    )


def _unassigned(inst: dict[str, Any], reason: str) -> Unassigned:
    return Unassigned(
        institution_id=inst["id"],
        institution_code=inst["code"],
        institution_name=inst["name"],
        reason=reason,
    )


def status_labels(statuses: list[str]) -> str:
    """Agreement statuses in Chinese, for messages."""
    return "、".join(AGREEMENT_STATUS_LABELS[AgreementStatus(s)] for s in statuses)
