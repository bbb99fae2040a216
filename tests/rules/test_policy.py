"""The policy file: defaults, partial files, presets, refusals, and ``yibao policy show``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from backend.cli import main
from backend.rules.policy import PolicyError, build, load


def test_defaults_are_the_contract() -> None:
    p = load(None).physician_points
    assert (p.initial, p.suspend_at, p.suspend_months, p.cancel_at) == (12, 9, 3, 12)
    assert (p.suspensions_to_cancel, p.reapply_bar_years) == (2, 2)
    assert p.credit_rating_share == Decimal("0.02") and p.credit_rating_small_count == 1
    table = [(r.min, r.amount) for r in load(None).assessment_rewards]
    assert table == [(Decimal(m), Decimal(a)) for m, a in (
        (95, 500), (91, 300), (90, 100), (85, -100), (80, -300), (75, -600), (70, -900),
        (65, -1200), (0, -1500),
    )]


def test_a_file_with_some_keys_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("physician_points:\n  suspend_months: 6\n  credit_rating_share: 0.05\n")
    p = load(path)
    assert p.physician_points.suspend_months == 6
    assert p.physician_points.credit_rating_share == Decimal("0.05")  # exact, not 0.05000000001
    assert p.physician_points.suspend_at == 9 and p.physician_points.initial == 12
    assert len(p.assessment_rewards) == 9


def test_the_national_preset_and_a_key_over_it() -> None:
    p = build({"preset": "national2024", "physician_points": {"suspend_months": 2}})
    assert p.physician_points.suspensions_to_cancel == 0
    assert p.physician_points.reapply_bar_years == 1
    assert p.physician_points.one_time_reapply_bar_years == 3
    assert p.physician_points.suspend_months == 2  # the file wins over the preset


@pytest.mark.parametrize(
    "data, words",
    [
        ({"preset": "beijing"}, "未知的预设"),
        ({"physician_points": {"initial": 0}}, "physician_points.initial"),
        ({"assessment_rewards": [{"min": 60, "amount": 1}, {"min": 90, "amount": 2}]}, "从高到低"),
        ({"assessment_rewards": [{"min": 60, "amount": 1}]}, "min: 0"),
    ],
)
def test_bad_values_are_refused_in_words(data: dict, words: str) -> None:
    with pytest.raises(PolicyError, match=words):
        build(data)


def test_policy_show_prints_the_effective_policy_as_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("assessment_rewards:\n  - {min: 60, amount: 10.5}\n  - {min: 0, amount: -20}\n")
    monkeypatch.setenv("YIBAO_POLICY_FILE", str(path))
    assert main(["policy", "show"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["assessment_rewards"] == [{"min": 60, "amount": 10.5}, {"min": 0, "amount": -20}]
    assert shown["physician_points"]["cancel_at"] == 12


def test_policy_show_names_a_broken_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("physician_points: [1, 2")
    monkeypatch.setenv("YIBAO_POLICY_FILE", str(path))
    assert main(["policy", "show"]) == 1
    assert "不是有效的 YAML" in capsys.readouterr().err
