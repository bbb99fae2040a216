"""Properties of the scoring formula on random valid checklists and random complete answers.

What marking an item not applicable does needs care, because N/A removes the item from the
possible points rather than giving it full marks:

- N/A instead of a fail that earned nothing never lowers the total (true, tested).
- N/A instead of any other answer raises the section ratio exactly when the item scored no better
  than the rest of its section; a passing item, or a partly failed deduct/sample item in a weak
  section, marked N/A can lower the total. That is the formula as product.md writes it (N/A means
  "does not apply here", not "forgiven"); the examples at the end pin it down.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from random import Random

import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backend.checklists.schema import Checklist, Item, content_hash
from backend.checklists.scoring import Answer, ScoreResult, score
from backend.checklists.validation import validate_data

# No example database: it would write .hypothesis/ into the shared working tree.
PROPERTY = settings(database=None, deadline=None, max_examples=150)

NUMBERS = st.sampled_from([0.1, 0.5, 1, 2, 2.5, 3, 4.2, 5, 7.3, 10, 12.5, 33.7]) | st.integers(
    1, 60
)
GRADES = ["优秀", "良好", "合格", "基本合格", "不合格"]


@st.composite
def checklist_data(draw: st.DrawFn, force_critical: bool = False) -> dict:
    """A valid checklist as plain data, as it would be written in YAML."""
    sections = []
    for s_index in range(draw(st.integers(1, 4))):
        items = []
        for i_index in range(draw(st.integers(1, 4))):
            mode = draw(st.sampled_from(["pass_fail", "deduct", "sample"]))
            item: dict[str, object] = {
                "id": f"s{s_index}.i{i_index}",
                "text": f"检查项 {s_index}-{i_index}",
                "fail_when": "不符合",
                "mode": mode,
                "points": draw(NUMBERS),
                "critical": draw(st.booleans()),
                "basis": "《医疗保障基金使用监督管理条例》",
                "deadline_days": draw(st.integers(1, 90)),
            }
            if mode == "deduct":
                item["per_occurrence"] = draw(NUMBERS)
            items.append(item)
        sections.append(
            {
                "id": f"s{s_index}",
                "title": f"部分 {s_index}",
                "weight": draw(NUMBERS),
                "items": items,
            }
        )
    if force_critical:
        chosen = draw(st.sampled_from([item for section in sections for item in section["items"]]))
        chosen["critical"] = True
    mins = sorted(draw(st.sets(st.integers(1, 100), max_size=len(GRADES) - 1)), reverse=True)
    bands = [{"grade": grade, "min": minimum} for grade, minimum in zip(GRADES, [*mins, 0])]
    return {
        "id": "random",
        "version": 1,
        "title": "随机检查表",
        "applies_to": ["pharmacy"],
        "grade_bands": bands,
        "sections": sections,
    }


def checklists(force_critical: bool = False) -> st.SearchStrategy[Checklist]:
    return checklist_data(force_critical).map(Checklist.model_validate)


def answer_for(item: Item, result: str) -> st.SearchStrategy[Answer]:
    """A valid answer with the given result for the item."""
    if result == "na":
        return st.just(Answer(item=item.id, result="na"))
    if item.mode == "deduct" and result == "fail":
        return st.builds(
            Answer,
            item=st.just(item.id),
            result=st.just("fail"),
            occurrences=st.none() | st.integers(1, 12),
        )
    if item.mode == "sample":
        return st.integers(1, 40).flatmap(
            lambda sampled: st.builds(
                Answer,
                item=st.just(item.id),
                result=st.just(result),
                sampled=st.just(sampled),
                failed=st.just(0) if result == "pass" else st.integers(1, sampled),
            )
        )
    return st.just(Answer(item=item.id, result=result))


@st.composite
def answers_for(draw: st.DrawFn, checklist: Checklist) -> list[Answer]:
    return [
        draw(answer_for(item, draw(st.sampled_from(["pass", "fail", "na"]))))
        for _, item in checklist.all_items()
    ]


def cases(force_critical: bool = False) -> st.SearchStrategy[tuple[Checklist, list[Answer]]]:
    return checklists(force_critical).flatmap(lambda c: st.tuples(st.just(c), answers_for(c)))


def _rank(checklist: Checklist, result: ScoreResult) -> int:
    return [band.grade for band in checklist.grade_bands].index(result.grade)


@PROPERTY
@given(cases())
def test_total_is_between_0_and_100(case: tuple[Checklist, list[Answer]]) -> None:
    checklist, answers = case
    result = score(checklist, answers)
    if result.total_exact is None:
        assert all(answer.result == "na" for answer in answers)
        assert result.total is None and result.grade is None
        return
    assert 0 <= result.total_exact <= 100
    assert Decimal(0) <= result.total <= Decimal(100)


@PROPERTY
@given(checklists(), st.data())
def test_all_pass_gives_100_and_the_top_grade(checklist: Checklist, data: st.DataObject) -> None:
    answers = [data.draw(answer_for(item, "pass")) for _, item in checklist.all_items()]
    result = score(checklist, answers)
    assert result.total == Decimal("100.0")
    assert result.grade == checklist.grade_bands[0].grade
    assert result.failed_items == () and result.critical_failures == ()


@PROPERTY
@given(cases(), st.data())
def test_failing_an_item_never_raises_the_total_or_the_grade(
    case: tuple[Checklist, list[Answer]], data: st.DataObject
) -> None:
    checklist, answers = case
    passing = [index for index, answer in enumerate(answers) if answer.result == "pass"]
    assume(passing)
    index = data.draw(st.sampled_from(passing))
    items = {item.id: item for _, item in checklist.all_items()}
    changed = list(answers)
    changed[index] = data.draw(answer_for(items[answers[index].item], "fail"))
    before, after = score(checklist, answers), score(checklist, changed)
    assert after.total_exact <= before.total_exact
    assert after.total <= before.total
    assert _rank(checklist, after) >= _rank(checklist, before)


@PROPERTY
@given(cases(), st.data())
def test_na_instead_of_a_fail_that_earned_nothing_never_lowers_the_total(
    case: tuple[Checklist, list[Answer]], data: st.DataObject
) -> None:
    checklist, answers = case
    before = score(checklist, answers)
    earned = {item.id: item.earned for section in before.sections for item in section.items}
    zero_fails = [
        i
        for i, answer in enumerate(answers)
        if answer.result == "fail" and earned[answer.item] == 0
    ]
    assume(zero_fails)
    index = data.draw(st.sampled_from(zero_fails))
    changed = list(answers)
    changed[index] = Answer(item=answers[index].item, result="na")
    after = score(checklist, changed)
    assume(after.total_exact is not None)  # the only applicable item is gone: nothing to compare
    assert after.total_exact >= before.total_exact


@PROPERTY
@given(cases(), st.data())
def test_na_never_lowers_the_total_when_the_item_scored_no_better_than_its_section(
    case: tuple[Checklist, list[Answer]], data: st.DataObject
) -> None:
    checklist, answers = case
    before = score(checklist, answers)
    candidates = []
    for section in before.sections:
        applicable = [item for item in section.items if item.possible > 0]
        for item in applicable:
            if len(applicable) > 1 and item.earned / item.possible <= section.ratio:
                candidates.append(item.id)
    assume(candidates)
    chosen = data.draw(st.sampled_from(candidates))
    changed = [
        Answer(item=chosen, result="na") if answer.item == chosen else answer for answer in answers
    ]
    assert score(checklist, changed).total_exact >= before.total_exact


@PROPERTY
@given(cases(), st.randoms(use_true_random=False))
def test_the_order_of_the_answers_does_not_matter(
    case: tuple[Checklist, list[Answer]], random: Random
) -> None:
    checklist, answers = case
    shuffled = list(answers)
    random.shuffle(shuffled)
    assert score(checklist, shuffled).to_dict() == score(checklist, answers).to_dict()


@PROPERTY
@given(checklists(force_critical=True), st.data())
def test_a_failed_critical_item_forces_the_lowest_grade(
    checklist: Checklist, data: st.DataObject
) -> None:
    answers = data.draw(answers_for(checklist))
    critical = data.draw(
        st.sampled_from([item for _, item in checklist.all_items() if item.critical])
    )
    answers = [
        data.draw(answer_for(critical, "fail")) if a.item == critical.id else a for a in answers
    ]
    result = score(checklist, answers)
    assert result.grade == checklist.grade_bands[-1].grade
    assert critical.id in result.critical_failures
    assert "否决项" in result.grade_reason


@PROPERTY
@given(cases())
def test_total_is_the_exact_value_rounded_half_up_once(
    case: tuple[Checklist, list[Answer]],
) -> None:
    checklist, answers = case
    result = score(checklist, answers)
    assume(result.total_exact is not None)
    # An independent route: Decimal division at high precision, then ROUND_HALF_UP.
    with localcontext() as context:
        context.prec = 80
        value = Decimal(result.total_exact.numerator) / Decimal(result.total_exact.denominator)
        assert result.total == value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@PROPERTY
@given(cases())
def test_grade_is_the_first_band_the_rounded_total_reaches(
    case: tuple[Checklist, list[Answer]],
) -> None:
    checklist, answers = case
    result = score(checklist, answers)
    assume(result.total is not None and not result.critical_failures)
    reached = [
        band.grade
        for band in checklist.grade_bands
        if Fraction(result.total) >= Fraction(str(band.min))
    ]
    assert result.grade == reached[0]


@PROPERTY
@given(cases())
def test_section_contributions_add_up_to_the_total(case: tuple[Checklist, list[Answer]]) -> None:
    checklist, answers = case
    result = score(checklist, answers)
    assume(result.total_exact is not None)
    contributions = [result.contribution(section) for section in result.sections if section.counted]
    assert sum(contributions, Fraction(0)) == result.total_exact


@PROPERTY
@given(checklist_data(), st.booleans())
def test_a_valid_checklist_round_trips_through_yaml_with_a_stable_hash(
    data: dict, flow: bool
) -> None:
    block = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    other = yaml.safe_dump(
        data, allow_unicode=True, sort_keys=True, default_flow_style=flow, indent=4
    )
    assert validate_data(yaml.safe_load(block), "random.yaml") == []
    assert content_hash(block) == content_hash(other)
    changed = dict(data, title=data["title"] + "（修订）")
    assert content_hash(yaml.safe_dump(changed, allow_unicode=True)) != content_hash(block)


# --- what N/A does, pinned by examples (see the module docstring) ------------------------------


def _two_item_checklist(first: dict, second: dict) -> Checklist:
    base = {"fail_when": "不符合", "basis": "依据", "deadline_days": 10}
    return Checklist.model_validate(
        {
            "id": "na-examples",
            "version": 1,
            "title": "示例",
            "applies_to": ["clinic"],
            "grade_bands": [{"grade": "合格", "min": 60}, {"grade": "不合格", "min": 0}],
            "sections": [
                {
                    "id": "s",
                    "title": "部分",
                    "weight": 1,
                    "items": [{**base, **first}, {**base, **second}],
                }
            ],
        }
    )


def test_na_on_a_passing_item_can_lower_the_total() -> None:
    checklist = _two_item_checklist(
        {"id": "a", "text": "甲", "mode": "pass_fail", "points": 5},
        {"id": "b", "text": "乙", "mode": "pass_fail", "points": 5},
    )
    fail_b = Answer(item="b", result="fail")
    assert score(checklist, [Answer(item="a", result="pass"), fail_b]).total == Decimal("50.0")
    assert score(checklist, [Answer(item="a", result="na"), fail_b]).total == Decimal("0.0")


def test_na_on_a_partly_failed_deduct_item_can_lower_the_total() -> None:
    checklist = _two_item_checklist(
        {"id": "a", "text": "甲", "mode": "deduct", "points": 10, "per_occurrence": 2},
        {"id": "b", "text": "乙", "mode": "pass_fail", "points": 10},
    )
    fail_b = Answer(item="b", result="fail")
    # a earns 10 - 2 = 8 of 10, b 0 of 10: 8/20 = 40.0; without a: 0/10 = 0.0.
    assert score(checklist, [Answer(item="a", result="fail"), fail_b]).total == Decimal("40.0")
    assert score(checklist, [Answer(item="a", result="na"), fail_b]).total == Decimal("0.0")
