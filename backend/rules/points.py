"""Physician points (医保医师记分): deductions, suspension, restoration, cancellation, the
re-application bar and the 2% rule, by the policy's thresholds (policy.py, docs/rules.md).

How it works:
- A deduction is recorded when the notice naming the physician is issued
  (:func:`deduct_for_notice`, called in the issuing transaction): the item's ``physician_points``
  for each physician named on each failed finding. Its year is the day the inspection was
  submitted, in China (威海办法第十二条: 按自然年度计算，不跨年度累计).
- An objection upheld on the task reverses the deductions of its finding
  (:func:`reverse_for_task`).
- The status is derived from the deductions in force by :func:`timeline` (a pure function, the
  clock passed in): within a year, the first time the year's deductions reach ``suspend_at`` the
  physician is suspended for ``suspend_months`` (once a year); the ``suspensions_to_cancel``-th
  suspension of the whole record cancels instead; reaching ``cancel_at`` in a year cancels. A
  cancellation bars re-registration for ``reapply_bar_years``. A reinstatement after the bar
  starts a new record.
- :func:`sync_status` writes what the derivation finds and the history lacks (a restoration
  happens by the passing of time, so it is written when first seen: on a read, or with the next
  deduction), each with an audit event, and keeps ``physician.status``/``year_points`` current.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

from backend.audit.services import Actor, record, record_many
from backend.checklists.schema import Checklist
from backend.china_time import today_in_china
from backend.db import run_many, write_transaction
from backend.errors import Conflict
from backend.inspections.tables import Finding
from backend.institutions.tables import Physician, PhysicianStatus
from backend.rules.policy import PhysicianPointsPolicy, get_policy
from backend.rules.tables import PhysicianPointEvent, PhysicianStatusChange, StatusChangeKind

SYSTEM = Actor.system("physician-points")


def today() -> date:
    """Today in China (tests pass ``today`` to the services instead)."""
    return today_in_china()


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Deduction:
    """One deduction in force (not reversed)."""

    points: int
    year: int
    occurred_on: date
    effective_on: date
    inspection_id: str = ""
    item_id: str = ""


@dataclass(frozen=True)
class Change:
    """A status change the rules derive."""

    kind: StatusChangeKind
    effective_on: date
    until: date | None = None  # suspension: its last day; cancellation: last day of the bar
    year: int | None = None
    reason: str = ""


@dataclass
class State:
    """A physician's status at a day, with the changes that led to it."""

    status: PhysicianStatus = PhysicianStatus.active
    suspended_until: date | None = None
    reapply_after: date | None = None
    changes: list[Change] = field(default_factory=list)


def timeline(
    deductions: list[Deduction],
    reinstatements: list[date],
    policy: PhysicianPointsPolicy,
    today: date,
) -> State:
    """The status on ``today`` from the deductions in force and the reinstatements (pure).

    Deductions and reinstatements later than ``today`` are not yet in force. A reinstatement
    starts a new record: deductions effective before it no longer count towards thresholds.
    """
    state = State()
    start = date.min  # the current record's start (a reinstatement)
    per_year: dict[int, int] = {}
    suspended_years: set[int] = set()
    suspensions = 0
    steps: list[tuple[date, int, Any]] = [(d, 1, None) for d in reinstatements if d <= today]
    steps += [(d.effective_on, 0, d) for d in deductions if d.effective_on <= today]
    steps.sort(key=lambda s: (s[0], s[1], s[2].occurred_on if s[2] else date.min))

    def restore_until(day: date) -> None:
        if state.status == PhysicianStatus.suspended and state.suspended_until is not None:
            back = state.suspended_until.fromordinal(state.suspended_until.toordinal() + 1)
            if back <= day:
                state.changes.append(Change(StatusChangeKind.restore, back, reason="暂停期满"))
                state.status, state.suspended_until = PhysicianStatus.active, None

    for day, kind, d in steps:
        restore_until(day)
        if kind == 1:  # reinstatement
            if state.status == PhysicianStatus.cancelled:
                state.changes.append(Change(StatusChangeKind.reinstate, day, reason="重新登记"))
                state = State(changes=state.changes)
                start, per_year, suspended_years, suspensions = day, {}, set(), 0
            continue
        if d.effective_on < start or state.status == PhysicianStatus.cancelled:
            continue
        total = per_year[d.year] = per_year.get(d.year, 0) + d.points
        cancel_reason = ""
        if policy.cancel_at and total >= policy.cancel_at:
            cancel_reason = f"{d.year}年度累计扣{total}分，达到取消分值{policy.cancel_at}分"
        elif policy.suspend_at and total >= policy.suspend_at and d.year not in suspended_years:
            suspended_years.add(d.year)
            suspensions += 1
            if policy.suspensions_to_cancel and suspensions >= policy.suspensions_to_cancel:
                cancel_reason = f"第{suspensions}次达到暂停分值（{d.year}年度累计扣{total}分）"
            else:
                last = add_months(day, policy.suspend_months)
                last = last.fromordinal(last.toordinal() - 1)
                state.status, state.suspended_until = PhysicianStatus.suspended, last
                state.changes.append(
                    Change(
                        StatusChangeKind.suspend,
                        day,
                        until=last,
                        year=d.year,
                        reason=f"{d.year}年度累计扣{total}分，达到暂停分值{policy.suspend_at}分",
                    )
                )
        if cancel_reason:
            one_time = d.points >= (policy.cancel_at or d.points + 1)
            years = (
                policy.one_time_reapply_bar_years
                if one_time and policy.one_time_reapply_bar_years is not None
                else policy.reapply_bar_years
            )
            bar_end = add_months(day, 12 * years)
            state.status, state.suspended_until = PhysicianStatus.cancelled, None
            state.reapply_after = bar_end
            state.changes.append(
                Change(
                    StatusChangeKind.cancel,
                    day,
                    until=bar_end.fromordinal(bar_end.toordinal() - 1),
                    year=d.year,
                    reason=cancel_reason,
                )
            )
    restore_until(today)
    return state


# ---------------------------------------------------------------- reading the ledger


async def _deductions(physician_id: UUID) -> list[dict[str, Any]]:
    return await PhysicianPointEvent.select().where(
        (PhysicianPointEvent.physician == physician_id) & PhysicianPointEvent.reversed_on.is_null()
    ).order_by(PhysicianPointEvent.effective_on)


def _as_deduction(row: dict[str, Any]) -> Deduction:
    return Deduction(
        points=row["points"],
        year=row["year"],
        occurred_on=row["occurred_on"],
        effective_on=row["effective_on"],
        inspection_id=str(row["inspection"]),
        item_id=row["item_id"],
    )


async def _history(physician_id: UUID) -> list[dict[str, Any]]:
    return await PhysicianStatusChange.select().where(
        PhysicianStatusChange.physician == physician_id
    ).order_by(PhysicianStatusChange.effective_on)


async def evaluate(physician_id: UUID, on: date) -> tuple[State, list[dict[str, Any]]]:
    """The derived state on ``on`` and the deductions in force (rows)."""
    rows = await _deductions(physician_id)
    history = await _history(physician_id)
    reinstated = [
        h["effective_on"]
        for h in history
        if h["kind"] == StatusChangeKind.reinstate.value and h["withdrawn_on"] is None
    ]
    state = timeline([_as_deduction(r) for r in rows], reinstated, get_policy().physician_points, on)
    return state, rows


def _key(kind: str, effective_on: date) -> tuple[str, date]:
    return (kind, effective_on)


async def sync_status(physician_id: UUID, on: date, actor: Actor = SYSTEM) -> State:
    """Write the status changes the rules derive up to ``on`` that the history lacks (and
    withdraw those no longer derived), with an audit event each; keep the physician row current.
    Call inside a write transaction."""
    state, rows = await evaluate(physician_id, on)
    history = [h for h in await _history(physician_id) if h["withdrawn_on"] is None]
    recorded = {_key(h["kind"], h["effective_on"]): h for h in history}
    derived = {_key(c.kind.value, c.effective_on): c for c in state.changes}
    for key, change in derived.items():
        if key in recorded:
            continue
        await PhysicianStatusChange.insert(
            PhysicianStatusChange(
                id=uuid.uuid4(),
                physician=physician_id,
                kind=change.kind.value,
                effective_on=change.effective_on,
                until=change.until,
                year=change.year,
                reason=change.reason,
            )
        )
        await record(
            actor,
            f"physician.{change.kind.value}",
            "physician",
            physician_id,
            after={
                "effective_on": change.effective_on,
                "until": change.until,
                "year": change.year,
                "reason": change.reason,
            },
        )
    for key, row in recorded.items():
        if key in derived or row["kind"] == StatusChangeKind.reinstate.value:
            continue
        # The deduction behind it was reversed (an objection upheld): it never happened.
        await PhysicianStatusChange.update({PhysicianStatusChange.withdrawn_on: on}).where(
            PhysicianStatusChange.id == row["id"]
        )
        await record(
            actor,
            "physician.status_withdrawn",
            "physician",
            physician_id,
            before={"kind": row["kind"], "effective_on": row["effective_on"]},
            after={"withdrawn_on": on, "reason": "所依据的扣分已撤销"},
        )
    policy = get_policy().physician_points
    deducted = sum(r["points"] for r in rows if r["year"] == on.year and r["effective_on"] <= on)
    current = await Physician.select(Physician.status, Physician.year_points).where(
        Physician.id == physician_id
    ).first()
    wanted = {"status": state.status.value, "year_points": max(policy.initial - deducted, 0)}
    if current is not None and (current["status"], current["year_points"]) != (
        wanted["status"],
        wanted["year_points"],
    ):
        await Physician.update(
            {
                Physician.status: wanted["status"],
                Physician.year_points: wanted["year_points"],
                Physician.updated_at: datetime.now().astimezone(),
            }
        ).where(Physician.id == physician_id)
        await record(actor, "physician.update_points", "physician", physician_id,
                     before=current, after=wanted)
    return state


# ---------------------------------------------------------------- the notice's hooks


@cache
def _notice_columns() -> tuple[Any, ...]:
    """A notice with its inspection's submission time and checklist (built once: following a
    foreign key copies tables, costly on every issue)."""
    from backend.rectification.tables import RectificationNotice

    return (
        RectificationNotice.inspection,
        RectificationNotice.institution,
        RectificationNotice.inspection.submitted_at.as_alias("submitted_at"),
        RectificationNotice.inspection.checklist.as_alias("checklist"),
    )


async def deduct_for_notice(actor: Actor, notice_id: UUID, issued_on: date) -> int:
    """Record the deductions of an issued notice (inside its issuing transaction): for each task,
    each physician its finding names, the item's ``physician_points``. Returns how many."""
    from backend.inspections.sync import checklist_model
    from backend.rectification.tables import RectificationNotice, RectificationTask

    notice = await RectificationNotice.select(*_notice_columns()).where(
        RectificationNotice.id == notice_id
    ).first()
    if notice is None:
        return 0
    inspection = notice
    submitted_on = today_in_china(inspection["submitted_at"]) if inspection["submitted_at"] else issued_on
    checklist = await checklist_model(inspection["checklist"])
    points = item_points(checklist)
    if not any(value > 0 for value in points.values()):
        return 0  # a checklist without physician points: nothing to read further
    tasks = await RectificationTask.select(
        RectificationTask.id, RectificationTask.finding, RectificationTask.item_id
    ).where(RectificationTask.notice == notice_id)
    findings = {
        f["id"]: f
        for f in await Finding.select(Finding.id, Finding.physician, Finding.physician_ids)
        .where(Finding.id.is_in([t["finding"] for t in tasks] or [uuid.uuid4()]))
        .output(load_json=True)
    }
    named = [
        (task, findings[task["finding"]]["physician"], findings[task["finding"]]["physician_ids"])
        for task in tasks
        if task["finding"] in findings
    ]
    return await deduct_for_tasks(
        actor, notice_id, notice["institution"], notice["inspection"], submitted_on, points,
        named, issued_on,
    )  # fmt: skip


def item_points(checklist: Checklist) -> dict[str, int]:
    """The ``physician_points`` of each item of a checklist."""
    return {item.id: item.physician_points for _, item in checklist.all_items()}


async def deduct_for_tasks(
    actor: Actor,
    notice_id: UUID,
    institution_id: UUID,
    inspection_id: UUID,
    submitted_on: date,
    points: dict[str, int],
    tasks: list[tuple[dict[str, Any], UUID | None, list[Any] | None]],
    issued_on: date,
) -> int:
    """:func:`deduct_for_notice` for a caller that holds what it reads: the notice's tasks in
    their order (``id``, ``finding``, ``item_id``), each with the physician and the physician ids
    its finding names, and the items' points (:func:`item_points`). Returns how many."""
    events: list[tuple[Any, ...]] = []
    for task, physician, physician_ids in tasks:
        value = points.get(task["item_id"], 0)
        if value <= 0:
            continue
        named = {str(p) for p in physician_ids or []}
        if physician:
            named.add(str(physician))
        for physician_id in sorted(named):
            # In the columns' order (_DEDUCTION_COLUMNS), as the ORM would store them.
            events.append(
                (
                    uuid.uuid4(), UUID(physician_id), institution_id, inspection_id,
                    task["finding"], task["id"], notice_id, task["item_id"], value,
                    submitted_on.year, submitted_on, issued_on, None, "", datetime.now(UTC),
                )
            )  # fmt: skip
    if not events:
        return 0
    # One statement without the ORM, whose per-row objects cost more than the insert.
    await run_many(_INSERT_DEDUCTION, events)
    await record_many(
        actor,
        "physician.deduct",
        "physician",
        [
            (
                e[1],
                {
                    "points": e[8],
                    "year": e[9],
                    "item": e[7],
                    "inspection": str(e[3]),
                    "notice": str(notice_id),
                },
            )
            for e in events
        ],
    )  # one statement for the notice's deductions
    for physician_id in {e[1] for e in events}:
        await sync_status(physician_id, issued_on, actor)
    return len(events)


_DEDUCTION_COLUMNS = (
    "id", "physician", "institution", "inspection", "finding_id", "task_id", "notice_id",
    "item_id", "points", "year", "occurred_on", "effective_on", "reversed_on", "reversed_reason",
    "created_at",
)  # fmt: skip
_INSERT_DEDUCTION = "INSERT INTO {} ({}) VALUES ({})".format(
    PhysicianPointEvent._meta.tablename,
    ", ".join(f'"{c}"' for c in _DEDUCTION_COLUMNS),
    ", ".join(f"${i + 1}" for i in range(len(_DEDUCTION_COLUMNS))),
)


async def reverse_for_task(actor: Actor, task_id: UUID, on: date, reason: str) -> int:
    """Reverse the deductions of a task whose objection was upheld (inside that transaction)."""
    rows = await PhysicianPointEvent.select(
        PhysicianPointEvent.id, PhysicianPointEvent.physician, PhysicianPointEvent.points
    ).where((PhysicianPointEvent.task_id == task_id) & PhysicianPointEvent.reversed_on.is_null())
    if not rows:
        return 0
    await PhysicianPointEvent.update(
        {PhysicianPointEvent.reversed_on: on, PhysicianPointEvent.reversed_reason: reason[:500]}
    ).where(PhysicianPointEvent.id.is_in([r["id"] for r in rows]))
    for r in rows:
        await record(actor, "physician.deduction_reversed", "physician", r["physician"],
                     before={"points": r["points"]}, after={"reversed_on": on, "reason": reason})
    for physician_id in {r["physician"] for r in rows}:
        await sync_status(physician_id, on, actor)
    return len(rows)


# ---------------------------------------------------------------- reading for the API


async def points_of(physician_id: UUID, year: int, on: date | None = None) -> dict[str, Any]:
    """The contract's answer for ``GET /api/physicians/{id}/points?year=``: the year's points,
    the status (on ``on`` for the current year, on 31 December for a past one) and the events.
    Status changes found on the way are written first (see :func:`sync_status`)."""
    on = on or today()
    state, _ = await evaluate(physician_id, on)
    recorded = {
        _key(h["kind"], h["effective_on"])
        for h in await _history(physician_id)
        if h["withdrawn_on"] is None
    }
    if any(_key(c.kind.value, c.effective_on) not in recorded for c in state.changes):
        async with write_transaction():
            await sync_status(physician_id, on)
    at = min(on, date(year, 12, 31))
    state, rows = await evaluate(physician_id, at)
    policy = get_policy().physician_points
    events = [r for r in rows if r["year"] == year and r["effective_on"] <= at]
    deducted = sum(r["points"] for r in events)
    return {
        "year": year,
        "initial": policy.initial,
        "deducted": deducted,
        "remaining": max(policy.initial - deducted, 0),
        "status": state.status.value,
        "suspended_until": state.suspended_until,
        "reapply_after": state.reapply_after,
        "events": [
            {
                "date": r["occurred_on"],
                "effective_on": r["effective_on"],
                "points": r["points"],
                "inspection_id": r["inspection"],
                "item_id": r["item_id"],
            }
            for r in events
        ],
    }


async def reinstate(actor: Actor, physician_id: UUID, on: date | None = None) -> dict[str, Any]:
    """Register a cancelled physician again, once the re-application bar has passed.

    Raises:
        Conflict: the physician is not cancelled, or the bar has not passed yet.
    """
    on = on or today()
    async with write_transaction():
        state = await sync_status(physician_id, on, actor)
        if state.status != PhysicianStatus.cancelled:
            raise Conflict("该医师未被取消医保医师资格，无需重新登记")
        if state.reapply_after is not None and on < state.reapply_after:
            raise Conflict(
                f"取消资格后{state.reapply_after:%Y年%m月%d日}前不得重新申请"
                f"（威海办法第十四条：两年内不得重新申请）"
            )
        await PhysicianStatusChange.insert(
            PhysicianStatusChange(
                id=uuid.uuid4(),
                physician=physician_id,
                kind=StatusChangeKind.reinstate.value,
                effective_on=on,
                reason="重新登记",
            )
        )
        await record(actor, "physician.reinstate", "physician", physician_id,
                     after={"effective_on": on})
        await sync_status(physician_id, on, actor)
    return await points_of(physician_id, on.year, on)


# ---------------------------------------------------------------- the 2% rule


async def credit_rating(institution_id: UUID, year: int) -> dict[str, Any]:
    """Whether the institution is excluded from the year's credit rating (威海办法第十八条):
    the physicians with points deducted that year above ``credit_rating_share`` of its
    physicians, or above ``credit_rating_small_count`` where it has fewer than 100."""
    policy = get_policy().physician_points
    penalised = {
        r["physician"]
        for r in await PhysicianPointEvent.select(PhysicianPointEvent.physician).where(
            (PhysicianPointEvent.institution == institution_id)
            & (PhysicianPointEvent.year == year)
            & PhysicianPointEvent.reversed_on.is_null()
        )
    }
    total = await Physician.count().where(Physician.institution == institution_id)
    return credit_decision(len(penalised), total, year, policy)


def credit_decision(
    count: int, total: int, year: int, policy: PhysicianPointsPolicy
) -> dict[str, Any]:
    """The 2% rule on counts (pure): ``count`` penalised physicians of ``total``."""
    if total < 100:
        excluded = count > policy.credit_rating_small_count
        reason = (
            f"受扣分处理的医保医师 {count} 人，超过 {policy.credit_rating_small_count} 人"
            f"（本机构医保医师 {total} 人，不足 100 人）"
        )
    else:
        excluded = Decimal(count) > policy.credit_rating_share * total
        reason = (
            f"受扣分处理的医保医师 {count} 人，超过本机构医保医师总数 {total} 人的 "
            f"{policy.credit_rating_share * 100:g}%"
        )
    return {
        "excluded": excluded,
        "penalised": count,
        "physicians": total,
        "reason": f"{reason}，不参加{year}年度信用等级评定" if excluded else None,
    }


async def institution_points(
    institution_id: UUID, year: int, on: date | None = None
) -> dict[UUID, dict[str, Any]]:
    """Every physician of the institution: the year's points deducted and remaining and the
    status (on ``on`` for the current year, on 31 December for a past one), as
    :func:`points_of` gives them but read in two queries and derived without writing (a read of
    a whole institution's page does not record restorations; :func:`points_of` does)."""
    on = on or today()
    at = min(on, date(year, 12, 31))
    policy = get_policy().physician_points
    events: dict[UUID, list[dict[str, Any]]] = {}
    for r in await PhysicianPointEvent.select().where(
        (PhysicianPointEvent.physician.institution == institution_id)
        & PhysicianPointEvent.reversed_on.is_null()
    ).order_by(PhysicianPointEvent.effective_on):
        events.setdefault(r["physician"], []).append(r)
    reinstated: dict[UUID, list[date]] = {}
    for h in await PhysicianStatusChange.select(
        PhysicianStatusChange.physician, PhysicianStatusChange.effective_on
    ).where(
        (PhysicianStatusChange.physician.institution == institution_id)
        & (PhysicianStatusChange.kind == StatusChangeKind.reinstate.value)
        & PhysicianStatusChange.withdrawn_on.is_null()
    ):
        reinstated.setdefault(h["physician"], []).append(h["effective_on"])
    ids = [
        r["id"]
        for r in await Physician.select(Physician.id).where(Physician.institution == institution_id)
    ]
    out: dict[UUID, dict[str, Any]] = {}
    for physician_id in ids:
        rows = events.get(physician_id, [])
        state = timeline(
            [_as_deduction(r) for r in rows], reinstated.get(physician_id, []), policy, at
        )
        deducted = sum(r["points"] for r in rows if r["year"] == year and r["effective_on"] <= at)
        out[physician_id] = {
            "year": year,
            "initial": policy.initial,
            "deducted": deducted,
            "remaining": max(policy.initial - deducted, 0),
            "status": state.status.value,
            "suspended_until": state.suspended_until,
            "reapply_after": state.reapply_after,
        }
    return out
