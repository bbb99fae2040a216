"""Every kind of checklist problem reads in Chinese, says what is expected, and keeps its path and
line: the administrator uploading a YAML file in 系统管理 and the author running
``yibao checklists validate`` read these messages."""

from __future__ import annotations

import re
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backend.checklists.validation import (
    ChecklistInvalid,
    describe_error,
    load_checklist_text,
    parse_yaml,
)
from tests.checklists.test_validation import BROKEN, VALID

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _problems(text: str) -> list[tuple[str, int | None, str]]:
    with pytest.raises(ChecklistInvalid) as caught:
        load_checklist_text(text, "upload.yaml")
    assert all(problem.file == "upload.yaml" for problem in caught.value.problems)
    return [(p.path, p.line, p.message) for p in caught.value.problems]


# (what the author got wrong, the edit of VALID, the one problem expected: path, line, message)
CASES = [
    (
        "missing key",
        ("        basis: 《零售药店医疗保障定点管理暂行办法》第十八条\n", ""),
        ("sections[0].items[0].basis", 16, "必填项缺失：应填写 'basis'"),
    ),
    (
        "misspelt key",
        ("guidance: 查看门口与收银台", "guidence: 查看门口与收银台"),
        ("sections[0].items[1].guidence", 32, "未知的键 'guidence'（是否应为 'guidance'？）"),
    ),
    (
        "unknown key without a near match",
        ("title: 定点零售药店日常检查表\n", "title: 定点零售药店日常检查表\ncolour: red\n"),
        (
            "colour",
            5,
            "未知的键 'colour'；此处可用的键："
            "id、version、title、description、applies_to、grade_bands、sections",
        ),
    ),
    (
        "value outside the allowed ones",
        ("evidence: photo_on_fail", "evidence: photo"),
        (
            "sections[0].items[0].evidence",
            21,
            "evidence 取值应为以下之一：none、photo_on_fail、photo_always，实际为 'photo'",
        ),
    ),
    (
        "institution type outside the allowed ones",
        ("applies_to: [pharmacy]", "applies_to: [drugstore]"),
        (
            "applies_to[0]",
            5,
            "applies_to 中的每一项取值应为以下之一：hospital、clinic、tcm_clinic、pharmacy，"
            "实际为 'drugstore'",
        ),
    ),
    (
        "not greater than",
        ("weight: 15", "weight: 0"),
        ("sections[0].weight", 14, "weight 应大于 0，实际为 0"),
    ),
    (
        "below the minimum",
        ("deadline_days: 15", "deadline_days: -1"),
        ("sections[0].items[0].deadline_days", 23, "deadline_days 应不小于 0，实际为 -1"),
    ),
    (
        "above the maximum",
        ("{grade: 优秀, min: 90}", "{grade: 优秀, min: 120}"),
        ("grade_bands[0].min", 7, "min 应不大于 100，实际为 120"),
    ),
    (
        "not a finite number",
        ("weight: 15", "weight: .inf"),
        ("sections[0].weight", 14, "weight 应为有限数值，实际为 inf"),
    ),
    (
        "not a whole number",
        ("version: 3", "version: 3.5"),
        ("version", 3, "version 应为整数，实际为 3.5"),
    ),
    (
        "a number written as text",
        ("points: 5\n", "points: '5'\n"),
        ("sections[0].items[0].points", 20, "points 应为数字，实际为 '5'"),
    ),
    (
        "text written as a number",
        ("title: 标识标牌", "title: 2024"),
        ("sections[0].title", 13, "title 应为文本，实际为 2024（如要写成文本，请加引号）"),
    ),
    (
        "not a boolean",
        ("        points: 5\n", "        points: 5\n        critical: 1\n"),
        ("sections[0].items[0].critical", 21, "critical 应为 true 或 false，实际为 1"),
    ),
    (
        "not a list",
        ("applies_to: [pharmacy]", "applies_to: pharmacy"),
        ("applies_to", 5, "applies_to 应为列表，实际为 'pharmacy'"),
    ),
    (
        "an item that is not a mapping",
        ("      - id: signage.hours\n", "      - 公示营业时间\n      - id: signage.hours\n"),
        ("sections[0].items[1]", 24, "检查项应为“键: 值”形式的映射，实际为 '公示营业时间'"),
    ),
    (
        "an empty list",
        ("applies_to: [pharmacy]", "applies_to: []"),
        ("applies_to", 5, "applies_to 不能为空：至少应有 1 项"),
    ),
    (
        "an empty id",
        ("  - id: signage\n", "  - id: ''\n"),
        ("sections[0].id", 12, "id 不能为空"),
    ),
    (
        "blank text",
        ("fail_when: 未悬挂，或格式不统一", "fail_when: '  '"),
        ("sections[0].items[0].fail_when", 18, "fail_when 不能为空（也不能只有空格）"),
    ),
    (
        "an id with capitals",
        ("  - id: signage\n", "  - id: Signage\n"),
        (
            "sections[0].id",
            12,
            "'Signage' 不是有效的 id：只能使用小写英文字母、数字、'.'、'-' 和 '_'",
        ),
    ),
    (
        "a duplicate item id",
        ("id: signage.hours", "id: signage.designated-sign"),
        (
            "sections[0].items[1].id",
            24,
            "检查项 id 'signage.designated-sign' 重复（首次出现在 sections[0].items[0]）；"
            "id 在检查表内应唯一",
        ),
    ),
    (
        "a duplicate institution type",
        ("applies_to: [pharmacy]", "applies_to: [pharmacy, pharmacy]"),
        ("applies_to[1]", 5, "机构类型 'pharmacy' 重复列出；每种机构类型只应写一次"),
    ),
    (
        "a duplicate grade",
        ("{grade: 良好, min: 80}", "{grade: 优秀, min: 80}"),
        (
            "grade_bands[1].grade",
            8,
            "等级 '优秀' 重复（首次出现在 grade_bands[0]）；每个等级只应有一个分档",
        ),
    ),
    (
        "bands out of order",
        ("{grade: 良好, min: 80}", "{grade: 良好, min: 95}"),
        ("grade_bands[1].min", 8, "评级分档应按 min 从高到低严格递减：95 排在了 90 之后"),
    ),
    (
        "a last band above 0",
        ("{grade: 不合格, min: 0}", "{grade: 不合格, min: 30}"),
        (
            "grade_bands[3].min",
            10,
            "最后一个评级分档的 min 应为 0，实际为 30（这样任何总分都能得到等级）",
        ),
    ),
    (
        "per_occurrence missing in deduct mode",
        ("        per_occurrence: 1.5\n", ""),
        (
            "sections[0].items[1].per_occurrence",
            24,
            "deduct（按处扣分）模式必须填写 per_occurrence（每处扣分）",
        ),
    ),
    (
        "per_occurrence outside deduct mode",
        ("        points: 5\n", "        points: 5\n        per_occurrence: 1\n"),
        (
            "sections[0].items[0].per_occurrence",
            21,
            "per_occurrence 只用于 deduct 模式；请从这个 pass_fail 模式的检查项中删除",
        ),
    ),
    (
        "a duplicate key",
        ("        deadline_days: 15\n", "        deadline_days: 15\n        points: 6\n"),
        (
            "sections[0].items[0].points",
            24,
            "键 'points' 重复（第 20 行已出现）；YAML 只会保留最后一个值，请删除或合并重复的键",
        ),
    ),
]


@pytest.mark.parametrize(
    ("edit", "expected"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_each_kind_of_problem_reads_in_chinese_with_its_path_and_line(
    edit: tuple[str, str], expected: tuple[str, int, str]
) -> None:
    old, new = edit
    assert VALID.count(old) == 1, old
    assert _problems(VALID.replace(old, new)) == [expected]


YAML_CASES = [
    ("title: [unclosed\n", 2, "方括号列表没有正确结束：应为 ',' 或 ']'，实际为文件结尾（第 1 列）"),
    ("title: {a: 1\n", 2, "花括号映射没有正确结束：应为 ',' 或 '}'，实际为文件结尾（第 1 列）"),
    ("title: a: b\n", 1, "此处不能出现“键: 值”；多半是缩进不对，或值里有冒号却没加引号（第 9 列）"),
    ("title:\n\tx: 1\n", 2, "含有制表符（Tab）；YAML 只能用空格缩进（第 1 列）"),
    (
        'title: "\\q"\n',
        1,
        "双引号文本中有无法识别的转义字符 'q'；反斜杠请写成 \\\\ 或改用单引号（第 10 列）",
    ),
    ("title: *x\n", 1, "引用了未定义的锚点 'x'（第 8 列）"),
    (
        "title: a\n---\ntitle: b\n",
        2,
        "文件中有多个 YAML 文档（'---'）；一个文件只能写一份检查表（第 1 列）",
    ),
]


@pytest.mark.parametrize(("text", "line", "reason"), YAML_CASES)
def test_yaml_syntax_errors_read_in_chinese_with_their_line(
    text: str, line: int, reason: str
) -> None:
    data, problems = parse_yaml(text, "s.yaml")
    assert data is None
    assert [(p.path, p.line, p.message) for p in problems] == [
        ("", line, f"YAML 格式错误：{reason}")
    ]


def test_every_problem_of_a_broken_file_reads_in_chinese() -> None:
    problems = _problems(BROKEN)
    assert len(problems) == 18
    for path, line, message in problems:
        assert line is not None and path, message
        assert CHINESE.search(message), message
        # No English sentence is left: what remains of ASCII are keys, values and ids.
        assert not re.search(r"\b(must|not|missing|unknown|duplicate|expected)\b", message), message


class _Other(BaseModel):
    """Constraints no checklist field uses today, so that a future field still reads in Chinese."""

    model_config = ConfigDict(extra="forbid", strict=True)

    code: str = Field(default="ab", min_length=2, max_length=4, pattern=r"^[a-z]+$")
    tags: list[str] = Field(default_factory=list, max_length=2)
    share: float = Field(default=0.5, lt=1, multiple_of=0.25)
    kind: Literal["a", "b"] = "a"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"code": "a"}, "code 至少应有 2 个字符"),
        ({"code": "abcde"}, "code 最多只能有 4 个字符"),
        ({"code": "AB"}, "code 的格式不对：应符合 ^[a-z]+$，实际为 'AB'"),
        ({"tags": ["x", "y", "z"]}, "tags 最多只能有 2 项"),
        ({"share": 1.0}, "share 应小于 1，实际为 1.0"),
        ({"share": 0.3}, "share 应为 0.25 的整数倍，实际为 0.3"),
        ({"kind": None}, "kind 取值应为以下之一：a、b，实际为空值（null）"),
        ({"code": None}, "code 应为文本，实际为空值（null）"),
    ],
)
def test_other_pydantic_constraints_read_in_chinese(data: dict[str, object], expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _Other.model_validate(data)
    errors = caught.value.errors(include_url=False)
    assert [describe_error(error, root=_Other) for error in errors] == [expected]


def test_an_unknown_error_type_keeps_pydantics_words() -> None:
    error = {
        "type": "some_new_check",
        "loc": ("sections", 0, "weight"),
        "msg": "Odd value",
        "input": 1,
    }
    assert describe_error(error) == "weight: Odd value"  # type: ignore[arg-type]
