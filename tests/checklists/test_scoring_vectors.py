"""Run the shared scoring vectors (tests/vectors/scoring/*.json) against the Python engine.

The vectors are language-neutral: the PWA's preliminary score runs the same files. Each holds a
full checklist, the findings, and either ``expected`` (total, grade, per-section earned/possible/
ratio, critical and failed items; ``total_exact`` as a fraction string is optional for other
implementations) or ``expected_error`` (``items``: the ids the error messages must name). Every
expected number was worked out by hand in the vector's ``description``.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import pytest

from backend.checklists.schema import Checklist
from backend.checklists.scoring import Answer, ScoringInputError, score

VECTORS = sorted((Path(__file__).parents[1] / "vectors" / "scoring").glob("*.json"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _close(actual: Fraction | None, expected: float | None) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    # Expected values are written with up to 10 decimals (2/3 as 0.6666666667).
    return math.isclose(float(actual), expected, rel_tol=0, abs_tol=1e-9)


def test_there_are_enough_vectors() -> None:
    scored = [path for path in VECTORS if "expected" in _load(path)]
    errors = [path for path in VECTORS if "expected_error" in _load(path)]
    assert len(scored) >= 12
    assert len(errors) >= 6


@pytest.mark.parametrize("path", VECTORS, ids=[path.stem for path in VECTORS])
def test_vector(path: Path) -> None:
    vector = _load(path)
    assert vector["name"] and vector["description"]
    checklist = Checklist.model_validate(vector["checklist"])
    answers = [Answer.model_validate(finding) for finding in vector["findings"]]

    if "expected_error" in vector:
        with pytest.raises(ScoringInputError) as caught:
            score(checklist, answers)
        text = "\n".join(caught.value.problems)
        for item_id in vector["expected_error"]["items"]:
            assert f"'{item_id}'" in text, f"no message names {item_id}: {text}"
        return

    expected = vector["expected"]
    result = score(checklist, answers)
    data = result.to_dict()
    assert data["total"] == expected["total"]
    if "total_exact" in expected:
        assert data["total_exact"] == expected["total_exact"]
    assert data["grade"] == expected["grade"]
    assert data["critical_failures"] == expected["critical_failures"]
    if "failed_items" in expected:
        assert data["failed_items"] == expected["failed_items"]
    by_id = {section.id: section for section in result.sections}
    for want in expected["sections"]:
        got = by_id[want["id"]]
        if "counted" in want:
            assert got.counted is want["counted"], want["id"]
        assert _close(got.earned, want["earned"]), (want["id"], got.earned)
        assert _close(got.possible, want["possible"]), (want["id"], got.possible)
        assert _close(got.ratio, want["ratio"]), (want["id"], got.ratio)
    # A vector that lists only the counted sections must not hide a counted one.
    listed = {want["id"] for want in expected["sections"]}
    assert {section.id for section in result.sections if section.counted} <= listed
