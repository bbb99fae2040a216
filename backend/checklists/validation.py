"""Validate checklist files and report every problem at once, as ``file: path: message``.

An author fixing a checklist wants the whole list of mistakes in one run, each pointing at the
exact place (``sections[2].items[4].points``) in words they understand, not pydantic's. So this
module collects all schema errors *and* all cross-field problems in one pass, translates them, and
adds the YAML line where it knows it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from backend.checklists.schema import (
    Checklist,
    GradeBand,
    Item,
    Loc,
    Section,
    cross_field_problems,
    format_path,
    hash_data,
)

#: Where each location of the parsed data starts in the YAML text (1-based lines).
LineMap = dict[Loc, int]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_CHILD_MODELS: dict[tuple[type[BaseModel], str], type[BaseModel]] = {
    (Checklist, "grade_bands"): GradeBand,
    (Checklist, "sections"): Section,
    (Section, "items"): Item,
}
_MODEL_NAMES: dict[str, str] = {
    "Checklist": "检查表",
    "GradeBand": "评级分档",
    "Section": "检查部分",
    "Item": "检查项",
    "Answer": "检查结果",
}


@dataclass(frozen=True)
class Problem:
    """One problem in one checklist file.

    ``path`` is the location in the data (``sections[0].items[3].mode``), empty when the problem
    concerns the whole file; ``line`` is the 1-based YAML line when known.
    """

    file: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        # The location (file, path, "line N") keeps its form: editors and scripts jump to it.
        if not self.path:
            where = f"line {self.line}" if self.line is not None else ""
            return (
                f"{self.file}: {where}: {self.message}" if where else f"{self.file}: {self.message}"
            )
        suffix = f" (line {self.line})" if self.line is not None else ""
        return f"{self.file}: {self.path}: {self.message}{suffix}"


class ChecklistInvalid(Exception):
    """A checklist file has problems; ``problems`` lists all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class LoadedChecklist:
    """A valid checklist with the text it came from and the hash an inspection pins."""

    checklist: Checklist
    raw_text: str
    content_hash: str
    path: Path


@dataclass
class ScanResult:
    """What :func:`scan_paths` found: the valid checklists and every problem."""

    checklists: list[LoadedChecklist] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


# --- YAML ---------------------------------------------------------------------------------------


def parse_yaml(text: str, file: str) -> tuple[object, list[Problem]]:
    """Parse YAML safely, reporting what PyYAML would let pass or only raise.

    Duplicate keys in a mapping are reported (PyYAML silently keeps the last one, so a pasted
    item could overwrite another's ``points`` unseen). A syntax error becomes one problem with its
    line.

    Args:
        text: the YAML text.
        file: the name used in problems.

    Returns:
        The parsed data (``None`` when the text is empty or does not parse) and the problems.
    """
    data, problems, _ = _parse(text, file)
    return data, problems


def _parse(text: str, file: str) -> tuple[object, list[Problem], LineMap]:
    loader = yaml.SafeLoader(text)
    lines: LineMap = {}
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
        if node is None:
            return None, problems, lines
        _walk(node, (), lines, problems, file, set())
        return loader.construct_document(node), problems, lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML 格式错误：{_yaml_reason(exc.problem, exc.context)}"
        if mark is not None:
            message += f"（第 {mark.column + 1} 列）"
        line = mark.line + 1 if mark is not None else None
        return None, [Problem(file, "", message, line)], lines
    except yaml.YAMLError as exc:
        return None, [Problem(file, "", f"YAML 格式错误：{exc}")], lines
    finally:
        loader.dispose()


#: PyYAML's most frequent complaints, in words an author can act on; ``{0}`` is the quoted part.
_YAML_REASONS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"mapping values are not allowed here"),
        "此处不能出现“键: 值”；多半是缩进不对，或值里有冒号却没加引号",
    ),
    (
        re.compile(r"found character '\\t' that cannot start any token"),
        "含有制表符（Tab）；YAML 只能用空格缩进",
    ),
    (re.compile(r"could not find expected ':'"), "缺少冒号 ':'；应写成“键: 值”"),
    (
        re.compile(r"expected ',' or '\]', but got (.+)"),
        "方括号列表没有正确结束：应为 ',' 或 ']'，实际为{0}",
    ),
    (
        re.compile(r"expected ',' or '\}', but got (.+)"),
        "花括号映射没有正确结束：应为 ',' 或 '}}'，实际为{0}",
    ),
    (
        re.compile(r"expected <block end>, but found (.+)"),
        "缩进不一致：同一层的内容应左对齐，此处出现了{0}",
    ),
    (
        re.compile(r"found unexpected end of stream"),
        "文件意外结束；引号或括号没有闭合",
    ),
    (
        re.compile(r"could not determine a constructor for the tag (.+)"),
        "不允许的标签{0}；检查表只能使用普通的 YAML 值（文本、数字、列表、映射）",
    ),
    (re.compile(r"found undefined alias (.+)"), "引用了未定义的锚点{0}"),
    (re.compile(r"found undefined tag handle (.+)"), "未定义的标签前缀{0}"),
    (
        re.compile(r"found unknown escape character (.+)"),
        "双引号文本中有无法识别的转义字符{0}；反斜杠请写成 \\\\ 或改用单引号",
    ),
    (
        re.compile(r"found unexpected ':'"),
        "出现了多余的冒号 ':'；值里有冒号时请给整个值加引号",
    ),
    (
        re.compile(r"expected a single document in the stream"),
        "文件中有多个 YAML 文档（'---'）；一个文件只能写一份检查表",
    ),
]


def _yaml_token(token: str) -> str:
    # PyYAML names the end of the text as a token; an author knows it as the end of the file.
    return "文件结尾" if token.strip("'") == "<stream end>" else f" {token}"


def _yaml_reason(problem: str | None, context: str | None) -> str:
    """PyYAML's reason in Chinese where it is known; its own words otherwise (still precise)."""
    for pattern, chinese in _YAML_REASONS:
        for text in (problem, context):
            match = pattern.search(text or "")
            if match:
                return chinese.format(*(_yaml_token(group) for group in match.groups()))
    if problem and context:
        return f"{problem} ({context})"
    return text


def _walk(
    node: yaml.Node, loc: Loc, lines: LineMap, problems: list[Problem], file: str, active: set[int]
) -> None:
    """Record the line of every location and report duplicate mapping keys."""
    lines.setdefault(loc, node.start_mark.line + 1)
    if id(node) in active:  # a recursive alias (&a [*a]); nothing more to learn
        return
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first_line: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = (key_node.tag, key_node.value)
            key_line = key_node.start_mark.line + 1
            child: Loc = (*loc, key_node.value)
            if key in first_line:
                problems.append(
                    Problem(
                        file,
                        format_path(child),
                        f"键 '{key_node.value}' 重复（第 {first_line[key]} 行已出现）；"
                        "YAML 只会保留最后一个值，请删除或合并重复的键",
                        key_line,
                    )
                )
                continue
            first_line[key] = key_line
            lines[child] = key_line
            _walk(value_node, child, lines, problems, file, active)
    elif isinstance(node, yaml.SequenceNode):
        for index, item_node in enumerate(node.value):
            _walk(item_node, (*loc, index), lines, problems, file, active)
    active.discard(id(node))


# --- schema problems ----------------------------------------------------------------------------


def validate_data(data: object, file: str, lines: LineMap | None = None) -> list[Problem]:
    """Check parsed checklist data against the schema and the cross-field rules.

    Every problem is returned, not just the first: all schema errors and all cross-field
    problems (duplicate ids, band order, ``per_occurrence`` against ``mode``), the latter even
    where other parts of the file are broken.

    Args:
        data: the parsed checklist (normally a dict).
        file: the name used in problems.
        lines: optional location -> YAML line map (from parsing) to add line numbers.

    Returns:
        The problems, in file order when lines are known; empty when the data is a valid checklist.
    """
    if data is None:
        return [
            Problem(
                file,
                "",
                "文件为空；检查表应包含 id、version、title、applies_to、grade_bands、sections",
            )
        ]
    problems: list[Problem] = []
    try:
        Checklist.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            # The model re-runs the cross-field rules; they are reported below, all of them.
            if error["type"] == "checklist_rules":
                continue
            problems.append(_problem(file, error["loc"], describe_error(error), lines))
    for loc, message in cross_field_problems(data):
        problems.append(_problem(file, loc, message, lines))
    if lines:
        problems.sort(key=lambda problem: problem.line if problem.line is not None else 0)
    return problems


def _problem(file: str, loc: Loc, message: str, lines: LineMap | None) -> Problem:
    return Problem(file, format_path(loc), message, _line_of(loc, lines))


def _line_of(loc: Loc, lines: LineMap | None) -> int | None:
    if not lines:
        return None
    # A missing key has no line of its own; point at the mapping it is missing from.
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _model_at(loc: Loc, root: type[BaseModel]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, str) and model is not None:
            model = _CHILD_MODELS.get((model, part))
    return model


def _subject(loc: Loc) -> str:
    if not loc:
        return "检查表"
    if isinstance(loc[-1], int):
        names = [part for part in loc if isinstance(part, str)]
        return f"{names[-1]} 中的每一项" if names else "每一项"
    return str(loc[-1])


def _show(value: object) -> str:
    if value is None:
        return "空值（null）"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 40 else f"'{value[:37]}...'"
    if isinstance(value, Mapping):
        return "映射"
    if isinstance(value, list | tuple):
        return "列表"
    if isinstance(value, float) and value != value:
        return "NaN"
    return str(value)


def _number(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _choices(expected: object) -> str:
    """pydantic's ``"'a', 'b' or 'c'"`` as ``a、b、c``."""
    parts = str(expected).replace(" or ", ", ").split(",")
    return "、".join(part.strip().strip("'") for part in parts if part.strip())


def _spaced(text: str) -> str:
    """A space after a key or value written in Latin letters, none after Chinese."""
    return f"{text} " if text[-1:].isascii() else text


def _actual(value: object) -> str:
    shown = _show(value)
    return f"，实际为{' ' if shown[:1].isascii() else ''}{shown}"


#: Messages by pydantic error type; ``{s}`` is the subject, ``{v}`` the given value, the rest come
#: from the error's context. An unknown type falls back to pydantic's English text.
_BY_TYPE: dict[str, str] = {
    "greater_than": "{s}应大于 {gt}{v}",
    "greater_than_equal": "{s}应不小于 {ge}{v}",
    "less_than": "{s}应小于 {lt}{v}",
    "less_than_equal": "{s}应不大于 {le}{v}",
    "multiple_of": "{s}应为 {multiple_of} 的整数倍{v}",
    "finite_number": "{s}应为有限数值{v}",
    "int_type": "{s}应为整数{v}",
    "int_parsing": "{s}应为整数{v}",
    "int_from_float": "{s}应为整数（不能带小数）{v}",
    "int_parsing_size": "{s}超出可处理的整数范围",
    "float_type": "{s}应为数字{v}",
    "float_parsing": "{s}应为数字{v}",
    "decimal_type": "{s}应为数字{v}",
    "bool_type": "{s}应为 true 或 false{v}",
    "bool_parsing": "{s}应为 true 或 false{v}",
    "list_type": "{s}应为列表{v}",
    "tuple_type": "{s}应为列表{v}",
    "set_type": "{s}应为列表{v}",
    "none_required": "{s}应留空（null）{v}",
    "too_short": "{s}不能为空：至少应有 {min_length} 项",
    "too_long": "{s}最多只能有 {max_length} 项",
    "string_too_short": "{s}至少应有 {min_length} 个字符",
    "string_too_long": "{s}最多只能有 {max_length} 个字符",
    "string_pattern_mismatch": "{s}的格式不对：应符合 {pattern}{v}",
    "date_type": "{s}应为日期（YYYY-MM-DD）{v}",
    "date_parsing": "{s}应为日期（YYYY-MM-DD）{v}",
    "date_from_datetime_parsing": "{s}应为日期（YYYY-MM-DD）{v}",
    "datetime_type": "{s}应为日期时间{v}",
    "datetime_parsing": "{s}应为日期时间{v}",
    "id_empty": "{s}不能为空",
    "text_empty": "{s}不能为空（也不能只有空格）",
}


def describe_error(error: ErrorDetails, root: type[BaseModel] = Checklist) -> str:
    """Turn a pydantic error into a Chinese sentence: what is wrong and what is expected.

    The message is chosen by the error's ``type`` and filled with its context (the bound, the
    allowed values) and the value given; a type not known here keeps pydantic's English text, so
    that nothing is ever reported without a reason.

    Args:
        error: one entry of ``ValidationError.errors()``.
        root: the model that was validated, to suggest the right key for a misspelt one.

    Returns:
        The message, without the location (callers show that as the path).
    """
    loc = error["loc"]
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    subject = _subject(loc)
    lead = _spaced(subject)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(loc[:-1], root)
        close = difflib.get_close_matches(key, list(model.model_fields), n=1) if model else []
        hint = f"（是否应为 '{close[0]}'？）" if close else ""
        allowed = "、".join(model.model_fields) if model else ""
        expected = f"；此处可用的键：{allowed}" if allowed and not close else ""
        return f"未知的键 '{key}'{hint}{expected}"
    if kind == "missing":
        return f"必填项缺失：应填写 '{loc[-1]}'"
    if kind in ("literal_error", "enum"):
        return f"{lead}取值应为以下之一：{_choices(ctx.get('expected', ''))}{_actual(value)}"
    if kind in ("string_type", "string_unicode"):
        quote = "（如要写成文本，请加引号）" if isinstance(value, int | float | bool) else ""
        return f"{lead}应为文本{_actual(value)}{quote}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        what = _MODEL_NAMES.get(str(ctx.get("class_name")), subject)
        return f"{_spaced(what)}应为“键: 值”形式的映射{_actual(value)}"
    if kind in ("id_format", "checklist_rules"):
        return str(error["msg"])  # already Chinese, written in schema.py
    template = _BY_TYPE.get(kind)
    if template is None:
        return f"{subject}: {error['msg']}"
    numbers = {name: _number(bound) for name, bound in ctx.items()}
    try:
        return template.format(s=lead, v=_actual(value), **numbers)
    except KeyError:  # a pydantic version without the expected context value
        return f"{subject}: {error['msg']}"


# --- files --------------------------------------------------------------------------------------


def load_checklist(path: str | Path) -> LoadedChecklist:
    """Read, parse and validate one checklist file.

    Args:
        path: the YAML file.

    Returns:
        The checklist with its raw text and content hash.

    Raises:
        ChecklistInvalid: with every problem, when the file is unreadable, not YAML, or invalid.
    """
    loaded, problems, _ = _load(Path(path))
    if loaded is None:
        raise ChecklistInvalid(problems)
    return loaded


def _load(path: Path) -> tuple[LoadedChecklist | None, list[Problem], object]:
    """Load one file; also return the parsed data, even when invalid, for cross-file checks."""
    file = str(path)
    try:
        # utf-8-sig: editors on Windows like to prepend a BOM.
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return (
            None,
            [
                Problem(
                    file,
                    "",
                    f"不是 UTF-8 编码的文本（第 {exc.start + 1} 个字节）；请将文件另存为 UTF-8 编码",
                )
            ],
            None,
        )
    except OSError as exc:
        return None, [Problem(file, "", f"无法读取文件（{exc.strerror or exc}）")], None
    return _load_text(text, file, path)


def load_checklist_text(text: str, file: str) -> LoadedChecklist:
    """Parse and validate a checklist given as text (an uploaded file), as :func:`load_checklist`
    does for a file on disk.

    Args:
        text: the YAML text (a leading BOM is ignored).
        file: the file's name, used in problems and kept as the source.

    Raises:
        ChecklistInvalid: with every problem, when the text is not YAML or not a valid checklist.
    """
    loaded, problems, _ = _load_text(text.removeprefix("\ufeff"), file, Path(file))
    if loaded is None:
        raise ChecklistInvalid(problems)
    return loaded


def _load_text(
    text: str, file: str, path: Path
) -> tuple[LoadedChecklist | None, list[Problem], object]:
    data, problems, lines = _parse(text, file)
    if problems and data is None:
        return None, problems, None
    problems = sorted(
        [*problems, *validate_data(data, file, lines)],
        key=lambda problem: problem.line if problem.line is not None else 0,
    )
    if problems:
        return None, problems, data
    return LoadedChecklist(Checklist.model_validate(data), text, hash_data(data), path), [], data


def _expand(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    files: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                child
                for child in path.iterdir()
                if child.is_file() and child.suffix in (".yaml", ".yml")
            )
            if not found:
                problems.append(Problem(str(path), "", "该目录中没有检查表文件（*.yaml、*.yml）"))
        elif path.exists():
            found = [path]
        else:
            problems.append(Problem(str(path), "", "文件或目录不存在"))
            found = []
        for file in found:
            if file.resolve() not in seen:  # the same file named twice is not a duplicate checklist
                seen.add(file.resolve())
                files.append(file)
    return files, problems


def scan_paths(paths: Iterable[str | Path]) -> ScanResult:
    """Validate files and directories, keeping the valid checklists (used by ``yibao validate``).

    Directories contribute their ``*.yaml`` / ``*.yml`` files (not recursively), sorted by name.
    Besides each file's own problems, two files claiming the same ``(id, version)`` are reported.

    Args:
        paths: files and directories.

    Returns:
        The valid checklists and every problem found.
    """
    files, problems = _expand(paths)
    result = ScanResult(problems=problems)
    claimed: dict[tuple[str, int], Path] = {}
    for path in files:
        loaded, file_problems, data = _load(path)
        result.problems += file_problems
        if loaded is not None:
            result.checklists.append(loaded)
        # Even a file with other problems names its id and version: a clash is worth knowing.
        identity = _identity(data)
        if identity is None:
            continue
        if identity in claimed:
            checklist_id, version = identity
            result.problems.append(
                Problem(
                    str(path),
                    "version",
                    f"检查表 '{checklist_id}' 第 {version} 版已在 {claimed[identity]} 中定义；"
                    "请提高 version，或删除其中一个文件",
                )
            )
        else:
            claimed[identity] = path
    return result


def _identity(data: object) -> tuple[str, int] | None:
    if not isinstance(data, Mapping):
        return None
    checklist_id, version = data.get("id"), data.get("version")
    if isinstance(checklist_id, str) and isinstance(version, int) and not isinstance(version, bool):
        return checklist_id, version
    return None


def validate_paths(paths: Iterable[str | Path]) -> list[Problem]:
    """Every problem in the given checklist files and directories (see :func:`scan_paths`).

    Args:
        paths: files and directories.

    Returns:
        The problems; empty when every checklist is valid and no two claim the same id and version.
    """
    return scan_paths(paths).problems
