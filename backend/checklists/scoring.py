"""The official score of an inspection (product.md, "Scoring (the official formula)").

Everything is computed with exact fractions and rounded once, half up, to one decimal at the
end: float arithmetic turns an exact 63.75 into 63.74999999999999 and would hand out a different
grade at a band boundary. Points and weights written as decimals in YAML (``2.5``) are taken at
their written value through ``Fraction(str(x))``, not at their binary approximation.

Decisions the formula leaves open:

- A ``sample`` item answered ``na`` takes no counts; answered ``pass`` or ``fail`` it needs both
  ``sampled`` and ``failed``, and the result must agree with them (``failed = 0`` is a pass).
- Counts are only accepted where they mean something: ``occurrences`` on a failed ``deduct`` item
  (at least 1; absent means 1), ``sampled``/``failed`` on a ``sample`` item answered pass or fail.
  Anything else is an error rather than silently ignored, so a mistyped answer is caught.
- When every item is not applicable, no section counts: the result has ``total = None`` and
  ``grade = None`` and says why. The inspection is complete and can be stored; there is simply
  nothing to score, and inventing 0 or 100 would put a false grade on the institution.
- A sample item with ``min_sampled`` needs at least that many records checked. A smaller sample
  is valid only when the answer states ``population`` (how many records there were) and every
  one was checked (``sampled = population``); ``population``, when given, is never below
  ``sampled``. Items without ``min_sampled`` (all of version 1) accept any sample of at least 1.
- A failed ``critical`` item is a 否决项 failure; so is a failed sample item whose failing share
  ``failed / sampled`` reaches its ``critical_share``. Either forces the lowest grade.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from backend.checklists.schema import Checklist, GradeBand, Item, Section

Result = Literal["pass", "fail", "na"]


class Answer(BaseModel):
    """The inspector's answer to one item.

    Counts are not range-checked here but by :func:`validate_answers`, so that every problem can
    be reported at once with the item it belongs to.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    item: str
    result: Result
    occurrences: int | None = None
    sampled: int | None = None
    failed: int | None = None
    population: int | None = None


class ScoringInputError(Exception):
    """The answers cannot be scored; ``problems`` lists every reason, each naming its item."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ItemScore:
    """The points one item earned; an ``na`` item counts in neither earned nor possible."""

    id: str
    mode: str
    result: Result
    critical: bool
    points: Fraction
    earned: Fraction
    possible: Fraction


@dataclass(frozen=True)
class SectionScore:
    """A section's earned and possible points; ``counted`` is false when no item applied."""

    id: str
    title: str
    weight: Fraction
    items: tuple[ItemScore, ...]
    earned: Fraction
    possible: Fraction

    @property
    def counted(self) -> bool:
        """Whether the section takes part in the total (it has an applicable item)."""
        return self.possible > 0

    @property
    def ratio(self) -> Fraction | None:
        """earned / possible, or ``None`` for a section that does not count."""
        return self.earned / self.possible if self.counted else None


@dataclass(frozen=True)
class ScoreResult:
    """The official score and grade of one inspection, with everything needed to explain them.

    ``total_exact`` is the unrounded total as a fraction; ``total`` is it rounded half up to one
    decimal, the number users see and grades are decided on.
    """

    checklist_id: str
    checklist_version: int
    sections: tuple[SectionScore, ...]
    total_exact: Fraction | None
    total: Decimal | None
    grade: str | None
    grade_reason: str
    critical_failures: tuple[str, ...]
    failed_items: tuple[str, ...]

    def contribution(self, section: SectionScore) -> Fraction | None:
        """The share of the total that a counted section brings (they add up to ``total_exact``)."""
        if section.ratio is None:
            return None
        counted_weight = sum((s.weight for s in self.sections if s.counted), Fraction(0))
        return 100 * section.weight * section.ratio / counted_weight

    def to_dict(self) -> dict[str, object]:
        """JSON-ready data; numbers other than ``total`` are rounded to 4 decimals for display."""
        counted_weight = sum((s.weight for s in self.sections if s.counted), Fraction(0))

        def contribution(section: SectionScore) -> Fraction | None:
            # As :meth:`contribution`, with the counted weight summed once for all sections.
            ratio = section.ratio
            return None if ratio is None else 100 * section.weight * ratio / counted_weight

        return {
            "checklist": {"id": self.checklist_id, "version": self.checklist_version},
            "total": float(self.total) if self.total is not None else None,
            "total_exact": str(self.total_exact) if self.total_exact is not None else None,
            "grade": self.grade,
            "grade_reason": self.grade_reason,
            "critical_failures": list(self.critical_failures),
            "failed_items": list(self.failed_items),
            "sections": [
                {
                    "id": section.id,
                    "title": section.title,
                    "weight": _display(section.weight),
                    "counted": section.counted,
                    "earned": _display(section.earned),
                    "possible": _display(section.possible),
                    "ratio": _display(section.ratio),
                    "contribution": _display(contribution(section)),
                    "items": [
                        {
                            "id": item.id,
                            "mode": item.mode,
                            "result": item.result,
                            "critical": item.critical,
                            "points": _display(item.points),
                            "earned": _display(item.earned),
                            "possible": _display(item.possible),
                        }
                        for item in section.items
                    ],
                }
                for section in self.sections
            ],
        }


# Below this many units the rounded Decimal is exact and small, so dividing the integer units by
# 10**4 (Python's int / int is correctly rounded) gives the very float ``float(Decimal)`` gives,
# without building the Decimal.
_DISPLAY_EXACT_BELOW = 10**15


def _display(value: Fraction | None) -> float | None:
    if value is None:
        return None
    units = _half_up_units(value, 4)
    if -_DISPLAY_EXACT_BELOW < units < _DISPLAY_EXACT_BELOW:
        return units / 10_000
    return float(Decimal(units).scaleb(-4))


@lru_cache(maxsize=1024)
def _exact(number: float | int, kind: type) -> Fraction:
    return Fraction(str(number))


def exact(number: float) -> Fraction:
    """The value a number was written as: ``2.3`` is 23/10, not the nearest binary float."""
    # Cached by value and type (str(2) and str(2.0) differ, their fractions do not; the type
    # keeps the cache honest all the same). Fractions are immutable, so sharing them is safe.
    return _exact(number, type(number))


def _half_up_units(value: Fraction, places: int) -> int:
    """``value`` × 10**places rounded half away from zero, as an integer.

    floor(|n|/d × 10**p + 1/2) = (2·|n|·10**p + d) // (2·d) for d > 0: integer arithmetic only.
    """
    numerator, denominator = value.numerator, value.denominator
    units = (2 * abs(numerator) * 10**places + denominator) // (2 * denominator)
    return -units if numerator < 0 else units


def round_half_up(value: Fraction, places: int = 1) -> Decimal:
    """Round an exact value to ``places`` decimals, halves away from zero (Decimal's ROUND_HALF_UP).

    Done in integers on the fraction itself, so 84.25 becomes 84.3 and 63.75 becomes 63.8 however
    they were reached.
    """
    return Decimal(_half_up_units(value, places)).scaleb(-places)


# --- checking the answers -----------------------------------------------------------------------


def validate_answers(
    checklist: Checklist, answers: list[Answer], require_complete: bool
) -> list[str]:
    """Every problem with a set of answers, each message naming its item id.

    Args:
        checklist: the checklist the answers belong to.
        answers: the answers, in any order.
        require_complete: also report unanswered items (true for submission and scoring, false
            for a draft still being filled in on the tablet).

    Returns:
        The problems; empty when the answers can be scored (or, for a draft, saved).
    """
    items = {item.id: item for _, item in checklist.all_items()}
    problems: list[str] = []
    times_answered: dict[str, int] = {}
    for answer in answers:
        item = items.get(answer.item)
        if item is None:
            problems.append(
                f"item '{answer.item}': no such item in checklist "
                f"'{checklist.id}' version {checklist.version}"
            )
            continue
        times_answered[answer.item] = times_answered.get(answer.item, 0) + 1
        if times_answered[answer.item] == 2:
            problems.append(
                f"item '{answer.item}': answered more than once; give one answer per item"
            )
        problems += _count_problems(item, answer)
    if require_complete:
        for section, item in checklist.all_items():
            if item.id not in times_answered:
                problems.append(
                    f"item '{item.id}' (section '{section.id}'): no answer; "
                    "an incomplete inspection cannot be scored"
                )
    return problems


def _count_problems(item: Item, answer: Answer) -> list[str]:
    name = f"item '{item.id}'"
    counts = {
        "occurrences": answer.occurrences,
        "sampled": answer.sampled,
        "failed": answer.failed,
        "population": answer.population,
    }
    given = {key: value for key, value in counts.items() if value is not None}
    problems = [
        f"{name}: {key} must not be negative, got {value}"
        for key, value in given.items()
        if value < 0
    ]
    allowed = {
        "pass_fail": (),
        "deduct": ("occurrences",),
        "sample": ("sampled", "failed", "population"),
    }[
        item.mode
    ]
    for key in given:
        if key not in allowed:
            problems.append(f"{name}: {key} is not used by a {item.mode} item")
    if item.mode == "deduct":
        problems += _deduct_problems(name, answer)
    elif item.mode == "sample":
        problems += _sample_problems(name, answer, item.min_sampled)
    return problems


def _deduct_problems(name: str, answer: Answer) -> list[str]:
    if answer.occurrences is None:
        return []
    if answer.result != "fail":
        return [
            f"{name}: occurrences given on a {answer.result} answer; only a fail has occurrences"
        ]
    if answer.occurrences == 0:
        return [
            f"{name}: occurrences on a fail must be at least 1 "
            "(leave it out to count one occurrence)"
        ]
    return []


def _sample_problems(name: str, answer: Answer, min_sampled: int | None) -> list[str]:
    sampled, failed, population = answer.sampled, answer.failed, answer.population
    if answer.result == "na":
        return [
            f"{name}: {key} given on an na answer; a not applicable item takes no counts"
            for key, value in (("sampled", sampled), ("failed", failed), ("population", population))
            if value is not None
        ]
    missing = [key for key, value in (("sampled", sampled), ("failed", failed)) if value is None]
    if missing:
        return [
            f"{name}: a sample item answered {answer.result} needs {' and '.join(missing)} "
            "(records checked, records failing)"
        ]
    assert sampled is not None and failed is not None
    if sampled < 0 or failed < 0:
        return []  # already reported as negative
    if sampled == 0:
        return [f"{name}: sampled must be at least 1 (no record checked means not applicable)"]
    if failed > sampled:
        return [f"{name}: failed ({failed}) cannot exceed sampled ({sampled})"]
    if population is not None and population < 0:
        return []  # already reported as negative
    if population is not None and sampled > population:
        return [f"{name}: sampled ({sampled}) cannot exceed population ({population})"]
    if min_sampled is not None and sampled < min_sampled:
        if population is None:
            return [
                f"{name}: sampled ({sampled}) is below the minimum sample of {min_sampled}; "
                "check more records, or give population when fewer exist"
            ]
        if sampled != population:
            return [
                f"{name}: {sampled} of {population} records checked, below the minimum sample "
                f"of {min_sampled}; a smaller sample must check every record "
                "(sampled = population)"
            ]
    if answer.result == "pass" and failed > 0:
        return [
            f"{name}: answered pass but {failed} of {sampled} sampled records failed; "
            "the result must be fail"
        ]
    if answer.result == "fail" and failed == 0:
        return [
            f"{name}: answered fail but no sampled record failed (failed = 0); "
            "the result must be pass"
        ]
    return []


# --- the formula --------------------------------------------------------------------------------


def score(checklist: Checklist, answers: list[Answer], *, checked: bool = False) -> ScoreResult:
    """Compute the official score and grade of a complete inspection.

    Args:
        checklist: the checklist version the inspection was done against.
        answers: one answer per item of the checklist, in any order.
        checked: the caller has just found ``validate_answers(checklist, answers,
            require_complete=True)`` empty, so it is not run again.

    Returns:
        The score, grade and their explanation.

    Raises:
        ScoringInputError: listing every problem when the answers are invalid or incomplete.
    """
    if not checked:
        problems = validate_answers(checklist, answers, require_complete=True)
        if problems:
            raise ScoringInputError(problems)
    by_item = {answer.item: answer for answer in answers}
    sections = tuple(_section_score(section, by_item) for section in checklist.sections)
    total_exact = _total(sections)
    total = round_half_up(total_exact) if total_exact is not None else None
    items = [(section_item, by_item[section_item.id]) for _, section_item in checklist.all_items()]
    failed = tuple(item.id for item, answer in items if answer.result == "fail")
    critical = [item for item, answer in items if is_critical_failure(item, answer)]
    grade, reason = _grade(checklist.grade_bands, total, critical)
    return ScoreResult(
        checklist_id=checklist.id,
        checklist_version=checklist.version,
        sections=sections,
        total_exact=total_exact,
        total=total,
        grade=grade,
        grade_reason=reason,
        critical_failures=tuple(item.id for item in critical),
        failed_items=failed,
    )


def is_critical_failure(item: Item, answer: Answer) -> bool:
    """Whether an answer is a 否决项 failure: a failed ``critical`` item, or a failed sample item
    whose failing share ``failed / sampled`` reaches its ``critical_share``."""
    if answer.result != "fail":
        return False
    if item.critical:
        return True
    if item.critical_share is None or not answer.sampled or answer.failed is None:
        return False
    return Fraction(answer.failed, answer.sampled) >= exact(item.critical_share)


def _section_score(section: Section, by_item: dict[str, Answer]) -> SectionScore:
    items = tuple(_item_score(item, by_item[item.id]) for item in section.items)
    return SectionScore(
        id=section.id,
        title=section.title,
        weight=exact(section.weight),
        items=items,
        earned=sum((item.earned for item in items), Fraction(0)),
        possible=sum((item.possible for item in items), Fraction(0)),
    )


def _total(sections: tuple[SectionScore, ...]) -> Fraction | None:
    """100 × Σ(weight × ratio) / Σ(weight) over the sections that count; None if none does."""
    weighted = Fraction(0)
    weights = Fraction(0)
    for section in sections:
        if section.ratio is not None:
            weighted += section.weight * section.ratio
            weights += section.weight
    return 100 * weighted / weights if weights else None


def _item_score(item: Item, answer: Answer) -> ItemScore:
    points = exact(item.points)
    if answer.result == "na":
        earned = possible = Fraction(0)
    else:
        possible = points
        earned = _earned(item, answer, points)
    return ItemScore(item.id, item.mode, answer.result, item.critical, points, earned, possible)


def _earned(item: Item, answer: Answer, points: Fraction) -> Fraction:
    if answer.result == "pass":
        return points
    if item.mode == "pass_fail":
        return Fraction(0)
    if item.mode == "deduct":
        assert item.per_occurrence is not None  # the schema requires it in deduct mode
        occurrences = answer.occurrences if answer.occurrences is not None else 1
        return max(Fraction(0), points - exact(item.per_occurrence) * occurrences)
    assert answer.sampled is not None and answer.failed is not None  # checked by validate_answers
    return points * (1 - Fraction(answer.failed, answer.sampled))


def _grade(
    bands: list[GradeBand], total: Decimal | None, critical: list[Item]
) -> tuple[str | None, str]:
    if total is None:
        return None, "所有检查项均为不适用，没有可计分的项目，不评定得分和等级"
    lowest = bands[-1]
    if critical:
        failures = "；".join(f"「{item.text}」({item.id})" for item in critical)
        return lowest.grade, f"否决项不符合：{failures}，等级定为「{lowest.grade}」（得分 {total}）"
    reached = Fraction(total)
    for index, band in enumerate(bands):
        if reached >= exact(band.min):
            if band is lowest and index > 0:
                above = bands[index - 1]
                return band.grade, (
                    f"得分 {total}，未达到「{above.grade}」(≥{_number(above.min)})，等级为「{band.grade}」"
                )
            return band.grade, f"得分 {total}，达到「{band.grade}」(≥{_number(band.min)})"
    # Unreachable for a valid checklist, whose last band has min 0.
    return lowest.grade, f"得分 {total}，等级为「{lowest.grade}」"


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)
