"""The shipped version-2 checklists: valid, weights summing to 100, every basis an article of the
national rules (or the service agreement), and fund safety deciding the grade (issue 10, item 7)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from backend.checklists.schema import Checklist, Item
from backend.checklists.scoring import Answer, score

ROOT = Path(__file__).parents[2] / "checklists"
NAMES = ["hospital-routine", "clinic-routine", "pharmacy-routine"]


def _load(name: str, version: int) -> Checklist:
    return Checklist.model_validate(yaml.safe_load((ROOT / f"{name}.v{version}.yaml").read_text()))


def _answers(checklist: Checklist, failing: dict[str, str]) -> list[Answer]:
    """Every item passes with a valid sample, except ``failing``: item id -> "all" (every
    sampled record fails) or "fail" (a pass/fail or deduct item fails)."""
    answers = []
    for _, item in checklist.all_items():
        size = item.min_sampled or 10
        if item.id in failing:
            if item.mode == "sample":
                answers.append(Answer(item=item.id, result="fail", sampled=size, failed=size))
            else:
                answers.append(Answer(item=item.id, result="fail"))
        elif item.mode == "sample":
            answers.append(Answer(item=item.id, result="pass", sampled=size, failed=0))
        else:
            answers.append(Answer(item=item.id, result="pass"))
    return answers


@pytest.mark.parametrize("name", NAMES)
def test_v2_is_valid_and_weights_sum_to_100(name: str) -> None:
    checklist = _load(name, 2)
    assert checklist.version == 2
    assert sum(section.weight for section in checklist.sections) == 100
    assert [band.grade for band in checklist.grade_bands] == ["优秀", "良好", "合格", "不合格"]


@pytest.mark.parametrize("name", NAMES)
def test_every_basis_cites_an_article_and_no_expired_measure(name: str) -> None:
    for _, item in _load(name, 2).all_items():
        assert re.search(r"第[一二三四五六七八九十]+[条项]|服务协议", item.basis), item.id
        assert "威海" not in item.basis and "临汾" not in item.basis, item.id
        # A measure named without an article is not a basis (《…办法》 followed by nothing).
        assert not re.findall(r"《[^》]+》(?!第|（)", item.basis), item.id


def test_v1_still_loads_unchanged() -> None:
    for name in NAMES:
        assert _load(name, 1).version == 1


def test_pharmacy_fund_safety_failures_grade_lowest() -> None:
    failing = {
        "management.pharmacist-on-duty": "fail",
        "sales.rx-review": "all",
        "inventory.reconcile": "all",
        "records.upload-accuracy": "all",
    }
    v1 = score(_load("pharmacy-routine", 1), _answers(_load("pharmacy-routine", 1), failing))
    assert (float(v1.total), v1.grade) == (89.8, "良好")  # what version 1 gave
    v2 = score(_load("pharmacy-routine", 2), _answers(_load("pharmacy-routine", 2), failing))
    assert v2.grade == "不合格"
    assert set(v2.critical_failures) == {"sales.rx-review", "inventory.reconcile", "records.upload-accuracy"}


def test_hospital_charts_all_disagreeing_with_billing_grade_lowest() -> None:
    checklist = _load("hospital-routine", 2)
    result = score(checklist, _answers(checklist, {"records.chart-consistency": "all"}))
    assert result.grade == "不合格"
    assert result.critical_failures == ("records.chart-consistency",)


def test_clinic_cases_all_disagreeing_with_billing_grade_lowest() -> None:
    checklist = _load("clinic-routine", 2)
    result = score(checklist, _answers(checklist, {"records.case-consistency": "all"}))
    assert result.grade == "不合格"


def test_one_bad_record_of_twenty_is_not_a_veto() -> None:
    checklist = _load("hospital-routine", 2)
    answers = [
        Answer(item=a.item, result="fail", sampled=20, failed=1)
        if a.item == "records.chart-consistency"
        else a
        for a in _answers(checklist, {})
    ]
    result = score(checklist, answers)
    assert result.critical_failures == () and result.grade == "优秀"


@pytest.mark.parametrize("name", NAMES)
def test_all_passing_grades_top(name: str) -> None:
    checklist = _load(name, 2)
    result = score(checklist, _answers(checklist, {}))
    assert (float(result.total), result.grade) == (100.0, "优秀")


def _item(checklist: Checklist, item_id: str) -> Item:
    return next(item for _, item in checklist.all_items() if item.id == item_id)


def test_card_retention_equally_serious_everywhere() -> None:
    cards = [_item(_load(name, 2), "identity.card-retention") for name in NAMES]
    assert len({(c.mode, c.points, c.critical, c.deadline_days, c.basis) for c in cards}) == 1
    assert all(c.critical for c in cards)


def test_major_change_not_registered_is_a_termination_ground() -> None:
    pharmacy = _item(_load("pharmacy-routine", 2), "management.info-change")
    assert pharmacy.critical and "第四十条第（九）项" in pharmacy.basis
    hospital = _item(_load("hospital-routine", 2), "management.info-change")
    assert hospital.critical and "第四十三条第（六）项" in hospital.basis


def test_required_checks_are_present() -> None:
    text = {name: (ROOT / f"{name}.v2.yaml").read_text() for name in NAMES}
    for word in ["追溯码", "视频监控", "超剂量", "辅助用药", "虚记", "重复收费", "分解", "串换",
                 "挂床", "低标准入院", "推诿", "诱导", "转卖", "返还现金"]:
        assert word in text["hospital-routine"], word
    for word in ["追溯码", "视频监控", "对码", "大处方", "套取", "虚记", "分解", "串换"]:
        assert word in text["clinic-routine"], word
    for word in ["追溯码", "超量", "频繁购药", "回流", "套取", "转卖"]:
        assert word in text["pharmacy-routine"], word


def test_chart_samples_follow_the_three_linkage_minimum() -> None:
    hospital = _load("hospital-routine", 2)
    for item_id in ["records.chart-consistency", "records.self-pay-consent", "billing.restricted-scope",
                    "billing.over-treatment", "billing.rehab-records", "billing.phantom-items"]:
        assert _item(hospital, item_id).min_sampled == 20, item_id


def test_fraud_and_money_flags() -> None:
    hospital = _load("hospital-routine", 2)
    for item_id in ["identity.impersonation", "identity.bedside", "billing.no-swap", "billing.no-fictitious"]:
        assert _item(hospital, item_id).fraud, item_id
    assert _item(hospital, "billing.over-treatment").monetary
    assert not _item(hospital, "signage.designated-sign").monetary


@pytest.mark.parametrize("name", NAMES)
def test_v2_keeps_the_v1_ids_it_still_checks(name: str) -> None:
    old = {item.id for _, item in _load(name, 1).all_items()}
    new = {item.id for _, item in _load(name, 2).all_items()}
    assert old <= new
