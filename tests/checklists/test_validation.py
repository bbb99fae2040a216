"""Checklist files: every problem reported at once, with its path and a readable message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from backend.checklists.schema import Checklist, content_hash
from backend.checklists.validation import (
    ChecklistInvalid,
    Problem,
    load_checklist,
    parse_yaml,
    scan_paths,
    validate_data,
    validate_paths,
)

VALID = """\
# 定点零售药店日常检查表（最小示例）
id: pharmacy-routine
version: 3
title: 定点零售药店日常检查表
applies_to: [pharmacy]
grade_bands:
  - {grade: 优秀, min: 90}
  - {grade: 良好, min: 80}
  - {grade: 合格, min: 60}
  - {grade: 不合格, min: 0}
sections:
  - id: signage
    title: 标识标牌
    weight: 15
    items:
      - id: signage.designated-sign
        text: 在显著位置悬挂统一格式的定点零售药店标识
        fail_when: 未悬挂，或格式不统一
        mode: pass_fail
        points: 5
        evidence: photo_on_fail
        basis: 《零售药店医疗保障定点管理暂行办法》第十八条
        deadline_days: 15
      - id: signage.hours
        text: 公示营业时间
        fail_when: 未公示
        mode: deduct
        points: 4
        per_occurrence: 1.5
        basis: 《零售药店医疗保障定点管理暂行办法》
        deadline_days: 7
        guidance: 查看门口与收银台
        action: 补充公示
"""

# One of everything, each on its own line so that the expected lines below are easy to check.
BROKEN = """\
id: pharmacy-routine
version: 0
title: 定点零售药店日常检查表
applies_to: [pharmacy, pharmcy]
grade_bands:
  - {grade: 优秀, min: 60}
  - {grade: 良好, min: 80}
  - {grade: 良好, min: 10}
sections:
  - id: signage
    title: 标识标牌
    weight: 0
    items:
      - id: signage.sign
        text: 悬挂标识
        fail_when: 未悬挂
        mode: dedcut
        points: 0
        pionts: 5
        basis: 第十八条
        deadline_days: 15
      - id: signage.sign
        text: 公示营业时间
        text: 公示营业时间（重复）
        fail_when: 未公示
        mode: deduct
        points: 4
        basis: 第十八条
        deadline_days: "15"
        critical: yes please
  - id: signage
    title: 重复的部分
    weight: -2
    items:
      - id: Signage.Upper
        text: x
        fail_when: y
        mode: pass_fail
        points: 1
        per_occurrence: 1
        basis: z
        deadline_days: 1
"""

# (path, a fragment of the message, line)
EXPECTED_BROKEN = [
    ("version", "version must be at least 1", 2),
    ("applies_to[1]", "must be one of hospital, clinic, tcm_clinic, pharmacy, not 'pharmcy'", 4),
    ("grade_bands[1].min", "grade bands must descend by min (highest first): 80 after 60", 7),
    ("grade_bands[2].grade", "duplicate grade '良好' (first at grade_bands[1])", 8),
    ("grade_bands[2].min", "the last grade band must have min 0", 8),
    ("sections[0].weight", "weight must be greater than 0", 12),
    (
        "sections[0].items[0].mode",
        "mode must be one of pass_fail, deduct, sample, not 'dedcut'",
        17,
    ),
    ("sections[0].items[0].points", "points must be greater than 0", 18),
    ("sections[0].items[0].pionts", "unknown key 'pionts' (did you mean 'points'?)", 19),
    (
        "sections[0].items[1].id",
        "duplicate item id 'signage.sign' (first at sections[0].items[0])",
        22,
    ),
    ("sections[0].items[1].per_occurrence", "per_occurrence is required in deduct mode", 22),
    ("sections[0].items[1].text", "duplicate key 'text' (also on line 23)", 24),
    ("sections[0].items[1].deadline_days", "deadline_days must be a whole number, not '15'", 29),
    ("sections[0].items[1].critical", "critical must be true or false, not 'yes please'", 30),
    ("sections[1].id", "duplicate section id 'signage' (first at sections[0])", 31),
    ("sections[1].weight", "weight must be greater than 0", 33),
    ("sections[1].items[0].id", "'Signage.Upper' is not a valid id", 35),
    ("sections[1].items[0].per_occurrence", "per_occurrence is only used in deduct mode", 40),
]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_checklist_has_no_problems_and_loads(tmp_path: Path) -> None:
    loaded = load_checklist(_write(tmp_path, "pharmacy-routine.v3.yaml", VALID))
    checklist = loaded.checklist
    assert (checklist.id, checklist.version) == ("pharmacy-routine", 3)
    first, second = checklist.sections[0].items
    assert (first.critical, first.evidence, first.physician_points, first.per_occurrence) == (
        False,
        "photo_on_fail",
        0,
        None,
    )
    assert (second.per_occurrence, second.guidance, second.action) == (
        1.5,
        "查看门口与收银台",
        "补充公示",
    )
    assert loaded.raw_text == VALID
    assert loaded.content_hash == content_hash(VALID)
    assert validate_paths([tmp_path]) == []


def test_every_problem_of_a_broken_checklist_is_reported_with_its_path(tmp_path: Path) -> None:
    path = _write(tmp_path, "broken.yaml", BROKEN)
    with pytest.raises(ChecklistInvalid) as caught:
        load_checklist(path)
    problems = caught.value.problems
    found = {(problem.path, problem.line): problem.message for problem in problems}
    for expected_path, fragment, line in EXPECTED_BROKEN:
        assert (
            expected_path,
            line,
        ) in found, f"{expected_path} (line {line}) not reported: {problems}"
        assert fragment in found[(expected_path, line)], found[(expected_path, line)]
    assert len(problems) == len(EXPECTED_BROKEN), "\n".join(map(str, problems))
    assert all(problem.file == str(path) for problem in problems)
    assert [problem.line for problem in problems] == sorted(problem.line for problem in problems)


def test_problems_read_as_file_path_message() -> None:
    assert str(Problem("a.yaml", "sections[0].weight", "weight must be greater than 0")) == (
        "a.yaml: sections[0].weight: weight must be greater than 0"
    )
    assert str(Problem("a.yaml", "version", "version must be at least 1", 3)) == (
        "a.yaml: version: version must be at least 1 (line 3)"
    )
    assert (
        str(Problem("a.yaml", "", "invalid YAML: oops", 7)) == "a.yaml: line 7: invalid YAML: oops"
    )
    assert str(Problem("a.yaml", "", "the file is empty")) == "a.yaml: the file is empty"


def test_validate_data_reports_missing_keys_and_wrong_types_without_yaml() -> None:
    data = {
        "id": "x",
        "version": "3",
        "title": "t",
        "applies_to": [],
        "grade_bands": [],
        "sections": [
            {
                "id": "s",
                "title": "部分",
                "weight": 1,
                "items": [{"id": "s.a", "text": "甲"}, "oops"],
            }
        ],
        "colour": "red",
    }
    problems = {(problem.path, problem.message) for problem in validate_data(data, "x.yaml")}
    assert problems >= {
        ("version", "version must be a whole number, not '3'"),
        ("applies_to", "applies_to must not be empty"),
        ("grade_bands", "grade_bands must not be empty"),
        ("colour", "unknown key 'colour'"),
        ("sections[0].items[0].mode", "missing required key 'mode'"),
        ("sections[0].items[0].points", "missing required key 'points'"),
        ("sections[0].items[1]", "an item must be a mapping of keys to values, not 'oops'"),
    }
    assert all(problem.line is None for problem in validate_data(data, "x.yaml"))


def test_top_level_shapes() -> None:
    assert [p.message for p in validate_data(None, "e.yaml")] == [
        "the file is empty; a checklist needs id, version, title, ..."
    ]
    assert [p.message for p in validate_data(["a"], "l.yaml")] == [
        "a checklist must be a mapping of keys to values, not a list"
    ]


def test_numbers_must_be_finite_and_bands_at_most_100() -> None:
    data = {
        "id": "x",
        "version": 1,
        "title": "t",
        "applies_to": ["clinic"],
        "grade_bands": [{"grade": "A", "min": 101}, {"grade": "B", "min": 0}],
        "sections": [
            {
                "id": "s",
                "title": "部分",
                "weight": float("inf"),
                "items": [
                    {
                        "id": "s.a",
                        "text": "甲",
                        "fail_when": "否",
                        "mode": "sample",
                        "points": True,
                        "basis": "b",
                        "deadline_days": 1,
                    }
                ],
            }
        ],
    }
    messages = {problem.path: problem.message for problem in validate_data(data, "x.yaml")}
    assert messages == {
        "grade_bands[0].min": "min must be at most 100",
        "sections[0].weight": "weight must be a finite number",
        "sections[0].items[0].points": "points must be a number, not true",
    }


def test_duplicate_keys_are_reported_with_path_and_line() -> None:
    data, problems = parse_yaml("a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\na: 5\n", "d.yaml")
    assert data == {"a": 5, "b": {"c": 4, "d": 3}}  # what PyYAML would silently have kept
    assert [(p.path, p.line) for p in problems] == [("b.c", 5), ("a", 6)]
    assert "duplicate key 'c' (also on line 3)" in problems[0].message


def test_merge_keys_are_not_duplicates() -> None:
    data, problems = parse_yaml("base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  y: 3\n", "m.yaml")
    assert problems == []
    assert data == {"base": {"x": 1, "y": 2}, "thing": {"x": 1, "y": 3}}


def test_a_yaml_syntax_error_is_one_problem_with_its_line(tmp_path: Path) -> None:
    text = "id: x\nversion: 1\ntitle: [unclosed\nsections: []\n"
    data, problems = parse_yaml(text, "s.yaml")
    assert data is None
    assert len(problems) == 1
    assert problems[0].line is not None and problems[0].line >= 3
    assert problems[0].message.startswith("invalid YAML: ")
    with pytest.raises(ChecklistInvalid) as caught:
        load_checklist(_write(tmp_path, "s.yaml", "id: x\n  version: 1\n"))
    assert caught.value.problems[0].line == 2
    assert re.match(r".*s\.yaml: line 2: invalid YAML: ", str(caught.value))


def test_unsafe_tags_are_refused() -> None:
    _, problems = parse_yaml("id: !!python/object/apply:os.system ['true']\n", "u.yaml")
    assert len(problems) == 1 and problems[0].message.startswith("invalid YAML")


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: caf\xe9\n".encode("latin-1"))
    problems = validate_paths([latin, tmp_path / "missing.yaml"])
    assert [(Path(p.file).name, p.message.split(" (")[0].split(";")[0]) for p in problems] == [
        ("missing.yaml", "no such file or directory"),
        ("latin.yaml", "not UTF-8 text"),
    ]


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode("utf-8"))
    assert load_checklist(path).content_hash == content_hash(VALID)


def test_content_hash_ignores_form_and_follows_content() -> None:
    reformatted = "# 同一份检查表，换了格式\n" + VALID.replace(
        "# 定点零售药店日常检查表（最小示例）\n", ""
    ).replace("version: 3", "version:    3   # 版本").replace(
        "applies_to: [pharmacy]", "applies_to:\n  - pharmacy"
    ).replace("points: 5\n", "points: 5.0\n")
    # Key order does not matter either.
    reordered = VALID.replace(
        "id: pharmacy-routine\nversion: 3\n", "version: 3\nid: pharmacy-routine\n"
    )
    assert content_hash(VALID) == content_hash(reformatted) == content_hash(reordered)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", content_hash(VALID))
    assert content_hash(VALID) != content_hash(VALID.replace("weight: 15", "weight: 16"))
    assert content_hash(VALID) != content_hash(VALID.replace("未悬挂，或格式不统一", "未悬挂"))


def test_a_directory_is_scanned_and_duplicate_versions_are_reported(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", VALID)
    _write(tmp_path, "b.yml", VALID.replace("# 定点", "# 复制的 定点"))
    _write(tmp_path, "c.yaml", VALID.replace("version: 3", "version: 4"))
    _write(tmp_path, "notes.txt", "not a checklist")
    result = scan_paths([tmp_path, tmp_path / "a.yaml"])  # naming a file twice is not a duplicate
    assert [loaded.path.name for loaded in result.checklists] == ["a.yaml", "b.yml", "c.yaml"]
    assert [(Path(p.file).name, p.path) for p in result.problems] == [("b.yml", "version")]
    assert "checklist 'pharmacy-routine' version 3 is also defined in" in result.problems[0].message
    assert str(tmp_path / "a.yaml") in result.problems[0].message


def test_an_empty_directory_is_a_problem(tmp_path: Path) -> None:
    assert [p.message for p in validate_paths([tmp_path])] == [
        "no checklist files (*.yaml, *.yml) in this directory"
    ]


def test_the_model_enforces_the_cross_field_rules_on_its_own() -> None:
    data = parse_yaml(VALID, "v.yaml")[0]
    assert isinstance(data, dict)
    data["sections"][0]["items"][1]["id"] = "signage.designated-sign"
    with pytest.raises(ValidationError, match=r"duplicate item id 'signage.designated-sign'"):
        Checklist.model_validate(data)


def test_a_checklist_survives_a_json_dump_and_reload() -> None:
    # The database stores model_dump(mode="json") and rebuilds the model from it.
    checklist = Checklist.model_validate(parse_yaml(VALID, "v.yaml")[0])
    assert Checklist.model_validate(checklist.model_dump(mode="json")) == checklist
