"""The checklist commands behind the ``yibao`` CLI: ``validate`` and ``score``.

Exit codes, the same for both: 0 success; 1 the input is wrong (an invalid or unreadable
checklist, unreadable or invalid findings, answers that cannot be scored). 2 is left to the CLI's
argument parser for usage errors. Results go to ``out``; problems go to ``err``, one per line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from backend.checklists.schema import format_path
from backend.checklists.scoring import Answer, ScoringInputError, score
from backend.checklists.validation import (
    ChecklistInvalid,
    describe_error,
    load_checklist,
    scan_paths,
)

OK = 0
INVALID_INPUT = 1


def validate_command(paths: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Validate checklist files and directories, printing every problem.

    Args:
        paths: YAML files, or directories whose ``*.yaml``/``*.yml`` files are checked.
        out: where the list of valid checklists goes (default: standard output).
        err: where problems go, one per line as ``file: path: message`` (default: standard error).

    Returns:
        0 when every checklist is valid, 1 otherwise.
    """
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    if not paths:
        print("未指定检查表文件或目录", file=err)
        return INVALID_INPUT
    result = scan_paths(paths)
    if result.problems:
        for problem in result.problems:
            print(problem, file=err)
        files = len({problem.file for problem in result.problems})
        print(
            f"共 {len(result.problems)} 处问题，涉及 {files} 个文件；"
            f"{len(result.checklists)} 份检查表有效",
            file=err,
        )
        return INVALID_INPUT
    for loaded in result.checklists:
        checklist = loaded.checklist
        items = sum(len(section.items) for section in checklist.sections)
        print(
            f"{loaded.path}: {checklist.id} 第 {checklist.version} 版，"
            f"{len(checklist.sections)} 个部分，{items} 个检查项，{loaded.content_hash}",
            file=out,
        )
    print(f"{len(result.checklists)} 份检查表有效", file=out)
    return OK


def score_command(
    checklist_path: str, findings_path: str, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Score a findings file against a checklist and print the result as JSON.

    The findings file is a JSON list of answers, one per item:
    ``{"item": id, "result": "pass" | "fail" | "na", "occurrences"?: n, "sampled"?: n,
    "failed"?: n}``.

    Args:
        checklist_path: the checklist YAML file.
        findings_path: the findings JSON file.
        out: where the result goes, as indented JSON (default: standard output).
        err: where problems go, each naming the file and item (default: standard error).

    Returns:
        0 when scored; 1 when the checklist or the findings are invalid or cannot be scored.
    """
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    try:
        loaded = load_checklist(checklist_path)
    except ChecklistInvalid as exc:
        for problem in exc.problems:
            print(problem, file=err)
        print(f"{checklist_path}: 检查表无效，未评分", file=err)
        return INVALID_INPUT
    answers, problems = _read_findings(Path(findings_path))
    if problems:
        return _report(problems, err)
    try:
        result = score(loaded.checklist, answers)
    except ScoringInputError as exc:
        return _report([f"{findings_path}: {problem}" for problem in exc.problems], err)
    data = result.to_dict()
    # The hash pins the exact checklist content the score was computed against.
    data["checklist"] = {
        "id": result.checklist_id,
        "version": result.checklist_version,
        "content_hash": loaded.content_hash,
    }
    print(json.dumps(data, ensure_ascii=False, indent=2), file=out)
    return OK


def _read_findings(path: Path) -> tuple[list[Answer], list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        return [], [f"{path}: 无法读取文件（{exc.strerror or exc}）"]
    except UnicodeDecodeError:
        return [], [f"{path}: 不是 UTF-8 编码的文本；请将文件另存为 UTF-8 编码"]
    except json.JSONDecodeError as exc:
        return [], [f"{path}: line {exc.lineno}, column {exc.colno}: JSON 格式错误（{exc.msg}）"]
    if not isinstance(data, list):
        return [], [f"{path}: 检查结果应为 JSON 列表，每个检查项一条"]
    answers: list[Answer] = []
    problems: list[str] = []
    for index, entry in enumerate(data):
        try:
            answers.append(Answer.model_validate(entry))
        except ValidationError as exc:
            # Name the item when the entry says which, so the inspector finds it in the form.
            named = isinstance(entry, dict) and isinstance(entry.get("item"), str)
            suffix = f"（检查项 '{entry['item']}'）" if named else ""
            for error in exc.errors(include_url=False):
                location = format_path((f"findings[{index}]", *error["loc"]))
                message = describe_error(error, root=Answer)
                problems.append(f"{path}: {location}: {message}{suffix}")
    return answers, problems


def _report(problems: list[str], err: TextIO) -> int:
    for problem in problems:
        print(problem, file=err)
    print(f"共 {len(problems)} 处问题，未评分", file=err)
    return INVALID_INPUT
