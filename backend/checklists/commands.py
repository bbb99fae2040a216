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
        print("no checklist files or directories given", file=err)
        return INVALID_INPUT
    result = scan_paths(paths)
    if result.problems:
        for problem in result.problems:
            print(problem, file=err)
        files = len({problem.file for problem in result.problems})
        print(
            f"{_plural(len(result.problems), 'problem')} in {_plural(files, 'file')}; "
            f"{_plural(len(result.checklists), 'checklist')} valid",
            file=err,
        )
        return INVALID_INPUT
    for loaded in result.checklists:
        checklist = loaded.checklist
        items = sum(len(section.items) for section in checklist.sections)
        print(
            f"{loaded.path}: {checklist.id} version {checklist.version}, "
            f"{_plural(len(checklist.sections), 'section')}, {_plural(items, 'item')}, "
            f"{loaded.content_hash}",
            file=out,
        )
    print(f"{_plural(len(result.checklists), 'checklist')} valid", file=out)
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
        print(f"{checklist_path}: the checklist is invalid; nothing was scored", file=err)
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
        return [], [f"{path}: cannot read the file: {exc.strerror or exc}"]
    except UnicodeDecodeError:
        return [], [f"{path}: not UTF-8 text"]
    except json.JSONDecodeError as exc:
        return [], [f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"]
    if not isinstance(data, list):
        return [], [f"{path}: findings must be a JSON list of answers, one per item"]
    answers: list[Answer] = []
    problems: list[str] = []
    for index, entry in enumerate(data):
        try:
            answers.append(Answer.model_validate(entry))
        except ValidationError as exc:
            # Name the item when the entry says which, so the inspector finds it in the form.
            named = isinstance(entry, dict) and isinstance(entry.get("item"), str)
            suffix = f" (item '{entry['item']}')" if named else ""
            for error in exc.errors(include_url=False):
                location = format_path((f"findings[{index}]", *error["loc"]))
                message = describe_error(error, root=Answer)
                problems.append(f"{path}: {location}: {message}{suffix}")
    return answers, problems


def _report(problems: list[str], err: TextIO) -> int:
    for problem in problems:
        print(problem, file=err)
    print(f"{_plural(len(problems), 'problem')}; nothing was scored", file=err)
    return INVALID_INPUT


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
