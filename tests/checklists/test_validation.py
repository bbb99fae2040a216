"""Checklist files: every problem reported at once, with its path and a message in Chinese."""

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
    ("version", "version 应不小于 1，实际为 0", 2),
    (
        "applies_to[1]",
        "取值应为以下之一：hospital、clinic、tcm_clinic、pharmacy，实际为 'pharmcy'",
        4,
    ),
    ("grade_bands[1].min", "评级分档应按 min 从高到低严格递减：80 排在了 60 之后", 7),
    ("grade_bands[2].grade", "等级 '良好' 重复（首次出现在 grade_bands[1]）", 8),
    ("grade_bands[2].min", "最后一个评级分档的 min 应为 0，实际为 10", 8),
    ("sections[0].weight", "weight 应大于 0，实际为 0", 12),
    (
        "sections[0].items[0].mode",
        "mode 取值应为以下之一：pass_fail、deduct、sample，实际为 'dedcut'",
        17,
    ),
    ("sections[0].items[0].points", "points 应大于 0，实际为 0", 18),
    ("sections[0].items[0].pionts", "未知的键 'pionts'（是否应为 'points'？）", 19),
    (
        "sections[0].items[1].id",
        "检查项 id 'signage.sign' 重复（首次出现在 sections[0].items[0]）",
        22,
    ),
    ("sections[0].items[1].per_occurrence", "deduct（按处扣分）模式必须填写 per_occurrence", 22),
    ("sections[0].items[1].text", "键 'text' 重复（第 23 行已出现）", 24),
    ("sections[0].items[1].deadline_days", "deadline_days 应为整数，实际为 '15'", 29),
    ("sections[0].items[1].critical", "critical 应为 true 或 false，实际为 'yes please'", 30),
    ("sections[1].id", "检查部分 id 'signage' 重复（首次出现在 sections[0]）", 31),
    ("sections[1].weight", "weight 应大于 0，实际为 -2", 33),
    ("sections[1].items[0].id", "'Signage.Upper' 不是有效的 id：只能使用小写英文字母", 35),
    ("sections[1].items[0].per_occurrence", "per_occurrence 只用于 deduct 模式", 40),
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
    assert str(Problem("a.yaml", "sections[0].weight", "weight 应大于 0，实际为 0")) == (
        "a.yaml: sections[0].weight: weight 应大于 0，实际为 0"
    )
    assert str(Problem("a.yaml", "version", "version 应不小于 1，实际为 0", 3)) == (
        "a.yaml: version: version 应不小于 1，实际为 0 (line 3)"
    )
    assert str(Problem("a.yaml", "", "YAML 格式错误：x", 7)) == "a.yaml: line 7: YAML 格式错误：x"
    assert str(Problem("a.yaml", "", "文件为空")) == "a.yaml: 文件为空"


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
        ("version", "version 应为整数，实际为 '3'"),
        ("applies_to", "applies_to 不能为空：至少应有 1 项"),
        ("grade_bands", "grade_bands 不能为空：至少应有 1 项"),
        (
            "colour",
            "未知的键 'colour'；此处可用的键："
            "id、version、title、description、applies_to、grade_bands、sections",
        ),
        ("sections[0].items[0].mode", "必填项缺失：应填写 'mode'"),
        ("sections[0].items[0].points", "必填项缺失：应填写 'points'"),
        ("sections[0].items[1]", "检查项应为“键: 值”形式的映射，实际为 'oops'"),
    }
    assert all(problem.line is None for problem in validate_data(data, "x.yaml"))


def test_top_level_shapes() -> None:
    assert [p.message for p in validate_data(None, "e.yaml")] == [
        "文件为空；检查表应包含 id、version、title、applies_to、grade_bands、sections"
    ]
    assert [p.message for p in validate_data(["a"], "l.yaml")] == [
        "检查表应为“键: 值”形式的映射，实际为列表"
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
        "grade_bands[0].min": "min 应不大于 100，实际为 101",
        "sections[0].weight": "weight 应为有限数值，实际为 inf",
        "sections[0].items[0].points": "points 应为数字，实际为 true",
    }


def test_duplicate_keys_are_reported_with_path_and_line() -> None:
    data, problems = parse_yaml("a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\na: 5\n", "d.yaml")
    assert data == {"a": 5, "b": {"c": 4, "d": 3}}  # what PyYAML would silently have kept
    assert [(p.path, p.line) for p in problems] == [("b.c", 5), ("a", 6)]
    assert problems[0].message == (
        "键 'c' 重复（第 3 行已出现）；YAML 只会保留最后一个值，请删除或合并重复的键"
    )


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
    assert problems[0].message == (
        "YAML 格式错误：方括号列表没有正确结束：应为 ',' 或 ']'，实际为 ':'（第 9 列）"
    )
    with pytest.raises(ChecklistInvalid) as caught:
        load_checklist(_write(tmp_path, "s.yaml", "id: x\n  version: 1\n"))
    assert caught.value.problems[0].line == 2
    assert re.match(r".*s\.yaml: line 2: YAML 格式错误：此处不能出现“键: 值”", str(caught.value))


def test_unsafe_tags_are_refused() -> None:
    _, problems = parse_yaml("id: !!python/object/apply:os.system ['true']\n", "u.yaml")
    assert len(problems) == 1
    assert problems[0].message.startswith("YAML 格式错误：不允许的标签 ")
    assert "os.system" in problems[0].message


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: caf\xe9\n".encode("latin-1"))
    problems = validate_paths([latin, tmp_path / "missing.yaml"])
    assert [(Path(p.file).name, p.message) for p in problems] == [
        ("missing.yaml", "文件或目录不存在"),
        ("latin.yaml", "不是 UTF-8 编码的文本（第 11 个字节）；请将文件另存为 UTF-8 编码"),
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
    assert result.problems[0].message == (
        f"检查表 'pharmacy-routine' 第 3 版已在 {tmp_path / 'a.yaml'} 中定义；"
        "请提高 version，或删除其中一个文件"
    )


def test_an_empty_directory_is_a_problem(tmp_path: Path) -> None:
    assert [p.message for p in validate_paths([tmp_path])] == [
        "该目录中没有检查表文件（*.yaml、*.yml）"
    ]


def test_the_model_enforces_the_cross_field_rules_on_its_own() -> None:
    data = parse_yaml(VALID, "v.yaml")[0]
    assert isinstance(data, dict)
    data["sections"][0]["items"][1]["id"] = "signage.designated-sign"
    with pytest.raises(ValidationError, match=r"检查项 id 'signage.designated-sign' 重复"):
        Checklist.model_validate(data)


def test_a_checklist_survives_a_json_dump_and_reload() -> None:
    # The database stores model_dump(mode="json") and rebuilds the model from it.
    checklist = Checklist.model_validate(parse_yaml(VALID, "v.yaml")[0])
    assert Checklist.model_validate(checklist.model_dump(mode="json")) == checklist
