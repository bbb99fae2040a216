"""The checklist file format as pydantic models, its cross-field rules, and the content hash.

A checklist is configuration written by people (``checklists/*.yaml``), so the models are strict:
unknown keys are errors (a typo such as ``pionts`` must not silently fall back to a default) and
values are not coerced (``points: "5"`` or ``critical: 1`` are mistakes, not numbers and booleans).

The rules that involve more than one field (unique ids, band order, ``per_occurrence`` versus
``mode``) live in :func:`cross_field_problems`, which works on the raw parsed data so that
``validation.py`` can report them even when other parts of the file are broken. The
:class:`Checklist` model runs the same function, so a model built directly (from the database, from
an API payload) obeys the same rules.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

InstitutionType = Literal["hospital", "clinic", "tcm_clinic", "pharmacy"]
Mode = Literal["pass_fail", "deduct", "sample"]
Evidence = Literal["none", "photo_on_fail", "photo_always"]

#: A location in the parsed data, as pydantic reports it: ``("sections", 2, "items", 4, "points")``.
Loc = tuple[str | int, ...]

_ID_PATTERN = re.compile(r"[a-z0-9._-]+")


def _check_id(value: str) -> str:
    if not value:
        raise PydanticCustomError("id_empty", "不能为空")
    if not _ID_PATTERN.fullmatch(value):
        raise PydanticCustomError(
            "id_format",
            "'{value}' 不是有效的 id：只能使用小写英文字母、数字、'.'、'-' 和 '_'",
            {"value": value},
        )
    return value


def _check_text(value: str) -> str:
    # Whitespace-only text would print as a blank line on the rectification notice.
    if not value.strip():
        raise PydanticCustomError("text_empty", "不能为空（也不能只有空格）")
    return value


Id = Annotated[str, AfterValidator(_check_id)]
Text = Annotated[str, AfterValidator(_check_text)]
PositiveNumber = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    # strict: YAML already yields native types, so any coercion would hide an author's mistake.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class GradeBand(_Strict):
    """One grade: a rounded total ``>= min`` earns ``grade`` (bands are tried highest first)."""

    grade: Text
    min: float = Field(ge=0, le=100, allow_inf_nan=False)


class Item(_Strict):
    """One checklist item, answered pass / fail / not applicable on site."""

    id: Id
    text: Text
    fail_when: Text
    # mode comes before points and per_occurrence so that messages read in file order.
    mode: Mode
    points: PositiveNumber
    per_occurrence: PositiveNumber | None = None
    critical: bool = False
    evidence: Evidence = "none"
    basis: Text
    # 0 means 立即整改 (rectify at once); otherwise days counted on ``deadline_basis``.
    deadline_days: int = Field(ge=0)
    # calendar (自然日, the default for rectification) or working (工作日) days.
    deadline_basis: Literal["calendar", "working"] | None = None
    physician_points: int = Field(default=0, ge=0)
    # sample mode only: the fewest records a valid sample holds, unless the institution has fewer
    # (then the answer states ``population`` and every record is checked).
    min_sampled: int | None = Field(default=None, ge=1)
    # sample mode only: a failing share (failed / sampled) at or above this is a 否决项 failure, so
    # a systematic failure decides the grade while one bad record of twenty does not.
    critical_share: float | None = Field(default=None, gt=0, le=1, allow_inf_nan=False)
    # Fund money is involved in a failure (the finding carries the amount 违规金额).
    monetary: bool = False
    # The failure describes fraud (欺诈骗保: 冒名, 虚构, 串换, 挂床 ...): the case is referred.
    fraud: bool = False
    guidance: Text | None = None
    action: Text | None = None


class Section(_Strict):
    """A group of items with a relative weight in the total."""

    id: Id
    title: Text
    weight: PositiveNumber
    items: list[Item] = Field(min_length=1)


class Checklist(_Strict):
    """One version of one checklist, as written in ``checklists/<file>.yaml``."""

    id: Id
    version: int = Field(ge=1)
    title: Text
    description: Text | None = None
    applies_to: list[InstitutionType] = Field(min_length=1)
    grade_bands: list[GradeBand] = Field(min_length=1)
    sections: list[Section] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Checklist:
        problems = cross_field_problems(self.model_dump())
        if problems:
            raise PydanticCustomError(
                "checklist_rules",
                "{details}",
                {
                    "details": "；".join(
                        f"{format_path(loc)}: {message}" for loc, message in problems
                    )
                },
            )
        return self

    def all_items(self) -> list[tuple[Section, Item]]:
        """All items with their section, in file order."""
        return [(section, item) for section in self.sections for item in section.items]


def format_path(loc: Sequence[str | int]) -> str:
    """Write a location as authors read it: ``("sections", 2, "items")`` -> ``sections[2].items``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def cross_field_problems(data: object) -> list[tuple[Loc, str]]:
    """Check the rules that span several fields, on raw parsed data.

    Parts of the data with the wrong shape are skipped silently: the schema reports those, and
    this function must not crash on them, so that one pass reports every problem.

    Args:
        data: the parsed checklist (normally a dict from YAML).

    Returns:
        ``(location, message)`` pairs, in file order.
    """
    if not isinstance(data, Mapping):
        return []
    problems: list[tuple[Loc, str]] = []
    problems += _applies_to_problems(data.get("applies_to"))
    problems += _band_problems(data.get("grade_bands"))
    problems += _section_problems(data.get("sections"))
    return problems


def _applies_to_problems(types: object) -> list[tuple[Loc, str]]:
    if not isinstance(types, list):
        return []
    problems: list[tuple[Loc, str]] = []
    seen: set[object] = set()
    for index, kind in enumerate(types):
        if isinstance(kind, str) and kind in seen:
            problems.append(
                (("applies_to", index), f"机构类型 '{kind}' 重复列出；每种机构类型只应写一次")
            )
        seen.add(kind)
    return problems


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _band_problems(bands: object) -> list[tuple[Loc, str]]:
    if not isinstance(bands, list):
        return []
    problems: list[tuple[Loc, str]] = []
    first_grade_at: dict[str, int] = {}
    previous_min: int | float | None = None
    for index, band in enumerate(bands):
        if not isinstance(band, Mapping):
            continue
        grade = band.get("grade")
        if isinstance(grade, str):
            if grade in first_grade_at:
                problems.append(
                    (
                        ("grade_bands", index, "grade"),
                        f"等级 '{grade}' 重复（首次出现在 grade_bands[{first_grade_at[grade]}]）；"
                        "每个等级只应有一个分档",
                    )
                )
            else:
                first_grade_at[grade] = index
        minimum = band.get("min")
        if _is_number(minimum):
            if previous_min is not None and not minimum < previous_min:
                problems.append(
                    (
                        ("grade_bands", index, "min"),
                        "评级分档应按 min 从高到低严格递减："
                        f"{_show_number(minimum)} 排在了 {_show_number(previous_min)} 之后",
                    )
                )
            previous_min = minimum
    if bands and isinstance(bands[-1], Mapping):
        last_min = bands[-1].get("min")
        if _is_number(last_min) and last_min != 0:
            problems.append(
                (
                    ("grade_bands", len(bands) - 1, "min"),
                    f"最后一个评级分档的 min 应为 0，实际为 {_show_number(last_min)}"
                    "（这样任何总分都能得到等级）",
                )
            )
    return problems


def _section_problems(sections: object) -> list[tuple[Loc, str]]:
    if not isinstance(sections, list):
        return []
    problems: list[tuple[Loc, str]] = []
    first_section_at: dict[str, Loc] = {}
    first_item_at: dict[str, Loc] = {}
    for s_index, section in enumerate(sections):
        if not isinstance(section, Mapping):
            continue
        section_loc: Loc = ("sections", s_index)
        problems += _duplicate_id(section.get("id"), section_loc, first_section_at, "检查部分")
        items = section.get("items")
        if not isinstance(items, list):
            continue
        for i_index, item in enumerate(items):
            if not isinstance(item, Mapping):
                continue
            item_loc: Loc = (*section_loc, "items", i_index)
            problems += _duplicate_id(item.get("id"), item_loc, first_item_at, "检查项")
            problems += _mode_problems(item, item_loc)
    return problems


def _duplicate_id(
    value: object, loc: Loc, first_at: dict[str, Loc], kind: str
) -> list[tuple[Loc, str]]:
    if not isinstance(value, str):
        return []
    if value in first_at:
        return [
            (
                (*loc, "id"),
                f"{kind} id '{value}' 重复（首次出现在 {format_path(first_at[value])}）；"
                "id 在检查表内应唯一",
            )
        ]
    first_at[value] = loc
    return []


def _mode_problems(item: Mapping[str, object], loc: Loc) -> list[tuple[Loc, str]]:
    mode = item.get("mode")
    has_per_occurrence = item.get("per_occurrence") is not None
    problems = _sample_key_problems(item, loc, mode)
    if mode == "deduct" and not has_per_occurrence:
        problems.append(
            (
                (*loc, "per_occurrence"),
                "deduct（按处扣分）模式必须填写 per_occurrence（每处扣分）",
            )
        )
    elif mode in ("pass_fail", "sample") and has_per_occurrence:
        problems.append(
            (
                (*loc, "per_occurrence"),
                f"per_occurrence 只用于 deduct 模式；请从这个 {mode} 模式的检查项中删除",
            )
        )
    return problems


def _sample_key_problems(
    item: Mapping[str, object], loc: Loc, mode: object
) -> list[tuple[Loc, str]]:
    """``min_sampled`` and ``critical_share`` mean something only for a sample item, and a
    share threshold on an item that is already a 否决项 on any failure would never apply."""
    problems: list[tuple[Loc, str]] = []
    if not isinstance(mode, str) or mode == "sample":
        if item.get("critical_share") is not None and item.get("critical") is True:
            problems.append(
                (
                    (*loc, "critical_share"),
                    "critical: true 时任何不符合都是否决项，critical_share 不起作用；"
                    "两者只应填写一个",
                )
            )
        return problems
    for key in ("min_sampled", "critical_share"):
        if item.get(key) is not None:
            problems.append(
                ((*loc, key), f"{key} 只用于 sample（抽查）模式；请从这个 {mode} 模式的检查项中删除")
            )
    return problems


def _show_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _canonical(value: object) -> object:
    # 5 and 5.0 are the same content; folding them also keeps the hash reproducible in
    # JavaScript, whose JSON.stringify cannot tell them apart.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def canonical_json(data: object) -> str:
    """The canonical JSON text of parsed checklist data, the input of :func:`content_hash`.

    Keys sorted, no insignificant whitespace, UTF-8 text kept as is, integral floats written as
    integers. Values that JSON has no type for (YAML dates) are written as their ``str``; a valid
    checklist has none.
    """
    return json.dumps(
        _canonical(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )


def hash_data(data: object) -> str:
    """The content hash of already parsed checklist data (see :func:`content_hash`)."""
    return "sha256:" + hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def content_hash(raw_text: str) -> str:
    """The hash an inspection pins: ``"sha256:" + hex`` of the canonical JSON of the parsed YAML.

    It hashes the parsed data, not the bytes of the file: re-indenting, reordering keys, switching
    between block and flow style or editing a comment leaves it unchanged, while any change of a
    value (a word of an item text, a weight, a band) changes it. So a cosmetic clean-up does not
    make past inspections look as if they used another checklist, and ``hash_data`` of the same
    data stored as JSON (in the database, on the tablet) gives the same hash.

    Args:
        raw_text: the YAML text of a checklist file; it must parse.

    Returns:
        ``"sha256:<64 hex digits>"``.
    """
    return hash_data(yaml.safe_load(raw_text))
