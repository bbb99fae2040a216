"""The points timeline and the assessment table, as pure functions with a controlled clock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from backend.institutions.tables import PhysicianStatus as S
from backend.rules.assessment import mean_score
from backend.rules.points import Deduction, add_months, timeline
from backend.rules.policy import build

POLICY = build({}).physician_points


def d(points: int, on: date, year: int | None = None) -> Deduction:
    return Deduction(points=points, year=year or on.year, occurred_on=on, effective_on=on)


def test_points_do_not_carry_over_the_year_boundary() -> None:
    events = [d(6, date(2026, 12, 30)), d(6, date(2027, 1, 4))]
    state = timeline(events, [], POLICY, date(2027, 1, 5))
    assert state.status == S.active and state.changes == []  # 6 + 6 in two years: nothing


def test_the_year_is_the_submission_day_not_the_notice_day() -> None:
    # Submitted 31 Dec 2026, notice issued 4 Jan 2027: counts in 2026 with the other 6.
    events = [d(6, date(2026, 11, 2)), Deduction(3, 2026, date(2026, 12, 31), date(2027, 1, 4))]
    state = timeline(events, [], POLICY, date(2027, 1, 4))
    assert state.status == S.suspended
    assert state.changes[0].year == 2026 and state.changes[0].effective_on == date(2027, 1, 4)


def test_suspension_then_restoration_after_the_period() -> None:
    events = [d(4, date(2026, 3, 1)), d(5, date(2026, 3, 10))]
    assert timeline(events, [], POLICY, date(2026, 3, 9)).status == S.active
    on = timeline(events, [], POLICY, date(2026, 3, 10))
    assert on.status == S.suspended and on.suspended_until == date(2026, 6, 9)
    assert timeline(events, [], POLICY, date(2026, 6, 9)).status == S.suspended
    back = timeline(events, [], POLICY, date(2026, 6, 10))
    assert back.status == S.active and back.suspended_until is None
    assert [c.kind.value for c in back.changes] == ["suspend", "restore"]


def test_only_one_suspension_a_year() -> None:
    events = [d(9, date(2026, 2, 1)), d(1, date(2026, 7, 1))]  # 10 after the restoration
    state = timeline(events, [], POLICY, date(2026, 8, 1))
    assert state.status == S.active
    assert [c.kind.value for c in state.changes] == ["suspend", "restore"]


def test_the_second_suspension_cancels_with_the_reapplication_bar() -> None:
    events = [d(9, date(2026, 2, 1)), d(9, date(2027, 3, 15))]
    state = timeline(events, [], POLICY, date(2027, 3, 15))
    assert state.status == S.cancelled
    assert state.reapply_after == date(2029, 3, 15)
    assert [c.kind.value for c in state.changes] == ["suspend", "restore", "cancel"]
    # More points while cancelled change nothing.
    later = timeline([*events, d(12, date(2028, 1, 2))], [], POLICY, date(2028, 2, 1))
    assert later.reapply_after == date(2029, 3, 15)


def test_reaching_cancel_at_cancels() -> None:
    events = [d(9, date(2026, 2, 1)), d(3, date(2026, 4, 1))]
    state = timeline(events, [], POLICY, date(2026, 4, 1))
    assert state.status == S.cancelled and state.suspended_until is None
    assert state.reapply_after == date(2028, 4, 1)


def test_a_reinstatement_starts_a_new_record() -> None:
    events = [d(12, date(2026, 1, 5)), d(9, date(2028, 6, 1))]
    state = timeline(events, [date(2028, 1, 5)], POLICY, date(2028, 6, 1))
    # The new record's first suspension is a first one: suspended, not cancelled.
    assert state.status == S.suspended
    assert [c.kind.value for c in state.changes] == ["cancel", "reinstate", "suspend"]


def test_national_preset_one_time_twelve_bars_three_years() -> None:
    national = build({"preset": "national2024"}).physician_points
    state = timeline([d(12, date(2026, 5, 1))], [], national, date(2026, 5, 2))
    assert state.status == S.cancelled and state.reapply_after == date(2029, 5, 1)
    # Two suspensions do not cancel there; a suspension lasts 6 months.
    two = timeline([d(9, date(2026, 1, 10)), d(9, date(2027, 1, 10))], [], national, date(2027, 1, 11))
    assert two.status == S.suspended and two.suspended_until == date(2027, 7, 9)


def test_add_months_clamps_to_the_month_end() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


@pytest.mark.parametrize(
    "score, amount",
    [
        ("100", 500), ("95", 500), ("94.9", 300), ("91", 300), ("90.9", 100), ("90", 100),
        ("89.9", -100), ("85", -100), ("84.9", -300), ("80", -300), ("79.9", -600),
        ("75", -600), ("74.9", -900), ("70", -900), ("69.9", -1200), ("65", -1200),
        ("64.9", -1500), ("64.5", -1500), ("0", -1500),
    ],
)
def test_assessment_table_on_and_between_thresholds(score: str, amount: int) -> None:
    assert build({}).reward_for(Decimal(score)) == Decimal(amount)


def test_mean_rounds_half_up_once() -> None:
    assert mean_score([Decimal("90.0"), Decimal("90.1")]) == Decimal("90.1")  # 90.05 → 90.1
    assert mean_score([Decimal("84.9"), Decimal("85.0"), Decimal("85.0")]) == Decimal("85.0")
    assert mean_score([]) is None
