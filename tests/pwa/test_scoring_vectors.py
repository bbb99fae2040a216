"""The browser's preliminary score (pwa/js/scoring.js) against every shared scoring vector
(tests/vectors/scoring/*.json) and against the server's own engine on the same input.

Each vector runs in Chromium; the result must match ``expected`` (total, grade, critical and
failed items, per-section earned/possible/ratio) or ``expected_error`` (every named item in the
messages), and beyond the vector, the server's ``ScoreResult.to_dict()`` field for field (grade
reason, display numbers, items) and its exact problem messages.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from backend.checklists.schema import Checklist
from backend.checklists.scoring import Answer, ScoringInputError, score

VECTORS = sorted((Path(__file__).parents[1] / "vectors" / "scoring").glob("*.json"))

RUN_ALL = """async (vectors) => {
  const { score, ScoringInputError } = await import('/js/scoring.js');
  const out = {};
  for (const [name, vector] of Object.entries(vectors)) {
    try {
      out[name] = { result: score(vector.checklist, vector.findings) };
    } catch (error) {
      out[name] = { error: error instanceof ScoringInputError ? error.problems : String(error),
                    kind: error.name };
    }
  }
  return out;
}"""


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _close(actual: str | None, expected: float | None) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return math.isclose(float(Fraction(actual)), expected, rel_tol=0, abs_tol=1e-9)


@pytest.fixture(scope="module")
async def js_results(browser: Any, pwa_server: Any) -> dict[str, Any]:
    """Every vector scored in one page (the module is loaded once)."""
    context = await browser.new_context(base_url=pwa_server.base_url)
    try:
        page = await context.new_page()
        await page.goto("/manifest.webmanifest")  # any page of the origin: no app start-up
        return await page.evaluate(RUN_ALL, {p.stem: _load(p) for p in VECTORS})
    finally:
        await context.close()


def test_every_vector_file_is_run() -> None:
    assert len(VECTORS) >= 18


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vector_in_the_browser(path: Path, js_results: dict[str, Any]) -> None:
    vector = _load(path)
    got = js_results[path.stem]
    checklist = Checklist.model_validate(vector["checklist"])
    answers = [Answer.model_validate(f) for f in vector["findings"]]

    if "expected_error" in vector:
        assert "error" in got and got.get("kind") == "ScoringInputError", got
        text = "\n".join(got["error"])
        for item_id in vector["expected_error"]["items"]:
            assert f"'{item_id}'" in text, f"no message names {item_id}: {text}"
        with pytest.raises(ScoringInputError) as caught:
            score(checklist, answers)
        assert got["error"] == caught.value.problems  # the very same messages, in order
        return

    assert "result" in got, got
    result = got["result"]
    expected = vector["expected"]
    assert result["total"] == expected["total"]
    if "total_exact" in expected:
        assert result["total_exact"] == expected["total_exact"]
    assert result["grade"] == expected["grade"]
    assert result["critical_failures"] == expected["critical_failures"]
    if "failed_items" in expected:
        assert result["failed_items"] == expected["failed_items"]
    sections = {s["id"]: s for s in result["sections"]}
    for want in expected["sections"]:
        section = sections[want["id"]]
        if "counted" in want:
            assert section["counted"] is want["counted"], want["id"]
        assert _close(section["earned_exact"], want["earned"]), (want["id"], section)
        assert _close(section["possible_exact"], want["possible"]), (want["id"], section)
        assert _close(section["ratio_exact"], want["ratio"]), (want["id"], section)
    listed = {want["id"] for want in expected["sections"]}
    assert {s["id"] for s in result["sections"] if s["counted"]} <= listed

    # Field for field what the server computes (the JS adds exact values as fraction text).
    server = score(checklist, answers).to_dict()
    for section in result["sections"]:
        for key in ("earned_exact", "possible_exact", "ratio_exact"):
            section.pop(key)
    assert result == server


async def test_preliminary_score_counts_only_answered_items(page: Any) -> None:
    """The running 预评分: unanswered items don't count yet; a half-typed answer is set aside."""
    vector = _load(next(p for p in VECTORS if p.stem.startswith("15-")))
    await page.goto("/manifest.webmanifest")
    result = await page.evaluate(
        """async (vector) => {
          const { preliminaryScore, score } = await import('/js/scoring.js');
          const all = vector.findings;
          const first = all.slice(0, 2);
          const empty = preliminaryScore(vector.checklist, []);
          const partial = preliminaryScore(vector.checklist, first);
          const typing = preliminaryScore(vector.checklist,
            [...first, { item: 'nope', result: 'pass' }, ...all.slice(2).map((f) =>
              f.sampled !== undefined ? { item: f.item, result: f.result } : f)]);
          const done = preliminaryScore(vector.checklist, all);
          return { empty, partial, typing, done, official: score(vector.checklist, all) };
        }""",
        vector,
    )
    items = sum(len(s["items"]) for s in vector["checklist"]["sections"])
    assert result["empty"]["total"] is None and result["empty"]["answered"] == 0
    assert result["empty"]["total_items"] == items and result["empty"]["complete"] is False
    assert result["partial"]["answered"] == 2
    counted = [s for s in result["partial"]["sections"] if s["counted"]]
    assert counted and all(
        sum(1 for i in s["items"] if i["result"] is not None) >= 1 for s in counted
    )
    # Sample items without their counts are left out and reported, not guessed.
    samples = [f for f in vector["findings"][2:] if "sampled" in f]
    assert len(result["typing"]["problems"]) == len(samples)
    assert result["typing"]["answered"] == len(vector["findings"]) - len(samples)
    done = result["done"]
    assert done["complete"] is True and done["problems"] == []
    for key in ("total", "grade", "grade_reason", "critical_failures", "failed_items", "sections"):
        assert done[key] == result["official"][key], key
