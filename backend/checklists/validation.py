"""Validate checklist files and report every problem at once, as ``file: path: message``.

An author fixing a checklist wants the whole list of mistakes in one run, each pointing at the
exact place (``sections[2].items[4].points``) in words they understand, not pydantic's. So this
module collects all schema errors *and* all cross-field problems in one pass, translates them, and
adds the YAML line where it knows it.
"""

from __future__ import annotations

import difflib
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
    "Checklist": "a checklist",
    "GradeBand": "a grade band",
    "Section": "a section",
    "Item": "an item",
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
        message = f"invalid YAML: {exc.problem or exc.context}"
        if exc.context and exc.problem:
            message += f" ({exc.context})"
        if mark is not None:
            message += f", column {mark.column + 1}"
        line = mark.line + 1 if mark is not None else None
        return None, [Problem(file, "", message, line)], lines
    except yaml.YAMLError as exc:
        return None, [Problem(file, "", f"invalid YAML: {exc}")], lines
    finally:
        loader.dispose()


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
                        f"duplicate key '{key_node.value}' (also on line {first_line[key]}); "
                        "YAML would silently keep only the last one",
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
        return [Problem(file, "", "the file is empty; a checklist needs id, version, title, ...")]
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
        return "the checklist"
    if isinstance(loc[-1], int):
        names = [part for part in loc if isinstance(part, str)]
        return f"each entry of {names[-1]}" if names else "each entry"
    return str(loc[-1])


def _show(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 40 else f"'{value[:37]}...'"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _number(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def describe_error(error: ErrorDetails, root: type[BaseModel] = Checklist) -> str:
    """Turn a pydantic error into a sentence a checklist author understands.

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
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(loc[:-1], root)
        close = difflib.get_close_matches(key, list(model.model_fields), n=1) if model else []
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown key '{key}'{hint}"
    if kind == "missing":
        return f"missing required key '{loc[-1]}'"
    if kind == "literal_error":
        allowed = [
            part.strip().strip("'")
            for part in str(ctx.get("expected", "")).replace(" or ", ", ").split(",")
        ]
        return f"{subject} must be one of {', '.join(allowed)}, not {_show(value)}"
    if kind == "greater_than":
        return f"{subject} must be greater than {_number(ctx.get('gt'))}"
    if kind == "greater_than_equal":
        return f"{subject} must be at least {_number(ctx.get('ge'))}"
    if kind == "less_than_equal":
        return f"{subject} must be at most {_number(ctx.get('le'))}"
    if kind == "finite_number":
        return f"{subject} must be a finite number"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{subject} must be a whole number, not {_show(value)}"
    if kind in ("float_type", "float_parsing"):
        return f"{subject} must be a number, not {_show(value)}"
    if kind in ("string_type", "string_unicode"):
        quote = " (put it in quotes)" if isinstance(value, int | float | bool) else ""
        return f"{subject} must be text, not {_show(value)}{quote}"
    if kind == "bool_type":
        return f"{subject} must be true or false, not {_show(value)}"
    if kind == "list_type":
        return f"{subject} must be a list, not {_show(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        what = _MODEL_NAMES.get(str(ctx.get("class_name")), subject)
        return f"{what} must be a mapping of keys to values, not {_show(value)}"
    if kind in ("too_short", "id_empty", "text_empty"):
        return f"{subject} must not be empty"
    if kind == "id_format":
        return str(error["msg"])
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
            [Problem(file, "", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")],
            None,
        )
    except OSError as exc:
        return None, [Problem(file, "", f"cannot read the file: {exc.strerror or exc}")], None
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
                problems.append(
                    Problem(str(path), "", "no checklist files (*.yaml, *.yml) in this directory")
                )
        elif path.exists():
            found = [path]
        else:
            problems.append(Problem(str(path), "", "no such file or directory"))
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
                    f"checklist '{checklist_id}' version {version} "
                    f"is also defined in {claimed[identity]}; "
                    "bump the version or remove one of the files",
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
