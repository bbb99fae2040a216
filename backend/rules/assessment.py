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
from backend.inspections.tables import AssignmentKind, Inspection, InspectionStatus
from backend.rectification.deadlines import CHINA_TZ
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
