"""The annual assessment (年度考核) of an institution.

Per institution and year: the mean of the official totals of its inspections submitted that year
(in China time), re-inspections (复查) excluded, rounded half up to one decimal once; the grade by
the bands of the checklist of its latest such inspection; the reward or penalty from the policy's
``assessment_rewards`` table (the first row whose ``min`` the score reaches); and whether the 2%
rule excludes it from that year's credit rating. Exact decimals throughout: no float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from backend.checklists.schema import Checklist
from backend.china_time import CHINA_TZ
from backend.inspections.tables import AssignmentKind, Inspection, InspectionStatus
from backend.rules.points import credit_rating
from backend.rules.policy import get_policy

ONE_DECIMAL = Decimal("0.1")

def mean_score(totals: list[Decimal]) -> Decimal | None:
    """The mean of the totals, rounded half up to one decimal (once, at the end)."""
    if not totals:
        return None
    return (sum(totals, Decimal(0)) / len(totals)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)

def grade_for(score: Decimal, checklist: Checklist) -> str | None:
    """The grade of the checklist's bands the score reaches (bands highest first)."""
    bands = sorted(checklist.grade_bands, key=lambda b: b.min, reverse=True)
    for band in bands:
        if score >= Decimal(str(band.min)):
            return band.grade
    return None

async def assess(institution_id: UUID, year: int) -> dict[str, Any]:
    """The contract's answer for ``GET /api/institutions/{id}/assessment?year=``."""
    from backend.inspections.sync import checklist_model

    start = datetime(year, 1, 1, tzinfo=CHINA_TZ)
    end = start.replace(year=year + 1)
    rows = (
        await Inspection.select(
            Inspection.score_total, Inspection.submitted_at, Inspection.checklist
        )
        .where(
            (Inspection.institution == institution_id)
            & (Inspection.status == InspectionStatus.submitted.value)
            & (Inspection.submitted_at >= start)
            & (Inspection.submitted_at < end)
            & (Inspection.assignment.kind != AssignmentKind.reinspection.value)
            & Inspection.score_total.is_not_null()
        )
        .order_by(Inspection.submitted_at)
    )
    totals = [Decimal(str(r["score_total"])) for r in rows]
    score = mean_score(totals)
    grade = amount = None
    if score is not None:
        grade = grade_for(score, await checklist_model(rows[-1]["checklist"]))
        amount = get_policy().reward_for(score).quantize(Decimal("0.01"))
    credit = await credit_rating(institution_id, year)
    reasons = [credit["reason"]] if credit["excluded"] else []
    return {
        "year": year,
        "score": score,
        "grade": grade,
        "amount": amount,
        "inspections": len(rows),
        "credit_rating_excluded": credit["excluded"],
        "reasons": reasons,
        "penalised_physicians": credit["penalised"],
        "physicians": credit["physicians"],
    }


async def assess_many(institution_ids: list[UUID], year: int) -> dict[UUID, dict[str, Any]]:
    """:func:`assess` for many institutions at once (the assessment export): the same answer
    per institution, read in a few queries per batch of 500 instead of several per institution."""
    from backend.inspections.sync import checklist_model
    from backend.institutions.tables import Physician
    from backend.rules.points import credit_decision
    from backend.rules.tables import PhysicianPointEvent

    start = datetime(year, 1, 1, tzinfo=CHINA_TZ)
    end = start.replace(year=year + 1)
    policy = get_policy()
    out: dict[UUID, dict[str, Any]] = {}
    for n in range(0, len(institution_ids), 500):
        batch = institution_ids[n : n + 500]
        rows = (
            await Inspection.select(
                Inspection.institution, Inspection.score_total, Inspection.checklist
            )
            .where(
                Inspection.institution.is_in(batch)
                & (Inspection.status == InspectionStatus.submitted.value)
                & (Inspection.submitted_at >= start)
                & (Inspection.submitted_at < end)
                & (Inspection.assignment.kind != AssignmentKind.reinspection.value)
                & Inspection.score_total.is_not_null()
            )
            .order_by(Inspection.submitted_at)
        )
        totals: dict[UUID, list[Decimal]] = {}
        latest: dict[UUID, Any] = {}
        for r in rows:
            totals.setdefault(r["institution"], []).append(Decimal(str(r["score_total"])))
            latest[r["institution"]] = r["checklist"]
        penalised: dict[UUID, set[Any]] = {}
        for r in await PhysicianPointEvent.select(
            PhysicianPointEvent.institution, PhysicianPointEvent.physician
        ).where(
            PhysicianPointEvent.institution.is_in(batch)
            & (PhysicianPointEvent.year == year)
            & PhysicianPointEvent.reversed_on.is_null()
        ):
            penalised.setdefault(r["institution"], set()).add(r["physician"])
        counts: dict[UUID, int] = {}
        for r in await Physician.select(Physician.institution).where(
            Physician.institution.is_in(batch)
        ):
            counts[r["institution"]] = counts.get(r["institution"], 0) + 1
        for institution_id in batch:
            mine = totals.get(institution_id, [])
            score = mean_score(mine)
            grade = amount = None
            if score is not None:
                grade = grade_for(score, await checklist_model(latest[institution_id]))
                amount = policy.reward_for(score).quantize(Decimal("0.01"))
            credit = credit_decision(
                len(penalised.get(institution_id, ())),
                counts.get(institution_id, 0),
                year,
                policy.physician_points,
            )
            out[institution_id] = {
                "year": year,
                "score": score,
                "grade": grade,
                "amount": amount,
                "inspections": len(mine),
                "credit_rating_excluded": credit["excluded"],
                "reasons": [credit["reason"]] if credit["excluded"] else [],
                "penalised_physicians": credit["penalised"],
                "physicians": credit["physicians"],
            }
    return out
