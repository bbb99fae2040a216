"""Bulk import of designated institutions from a spreadsheet (XLSX) or CSV file, and its template.

The file is read whole and every row is checked before anything is stored: a file with any bad
row imports nothing and every bad row is reported with its line number (the header being line 1)
and its problems in Chinese, so that the bureau fixes the file once and imports it again.

The header row names the columns by key or by Chinese label (see :data:`COLUMNS`); ``code``,
``name``, ``type`` and ``region`` are required. Entirely empty rows are skipped (spreadsheets keep
them after deletions).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from backend.errors import DomainError, InvalidInput, PayloadTooLarge
from backend.institutions.tables import INSTITUTION_TYPE_LABELS, InstitutionType

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
# The template formats these columns as text for its first rows, so Excel keeps codes as typed.
TEXT_KEYS = ("code", "region", "contact_phone")
TEXT_FORMAT_ROWS = 500


@dataclass(frozen=True)
class Column:
    """One column of the import file: its key, its Chinese label, whether it must be present,
    its maximum length and an example value for the template."""

    key: str
    label: str
    required: bool
    max_length: int
    example: str
    width: int


COLUMNS: tuple[Column, ...] = (
    Column("code", "机构编码", True, 32, "P37100299001", 18),
    Column("name", "机构名称", True, 128, "环翠区示例大药房", 32),
    Column("type", "机构类型", True, 16, "定点零售药店", 16),
    Column("level", "等级", False, 32, "", 12),
    Column("region", "所属地区", True, 12, "371002", 12),
    Column("address", "地址", False, 256, "威海市环翠区示例路 1 号", 40),
    Column("contact_name", "联系人", False, 64, "", 12),
    Column("contact_phone", "联系电话", False, 32, "", 16),
)
_BY_NAME = {name: c for c in COLUMNS for name in (c.key, c.label)}

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
PHONE_RE = re.compile(r"^[0-9+()\- ]*$")

# What people write in the 机构类型 column: the code, the label, or the label without 定点.
TYPE_NAMES: dict[str, InstitutionType] = {}
for _kind, _label in INSTITUTION_TYPE_LABELS.items():
    TYPE_NAMES[_kind.value] = _kind
    TYPE_NAMES[_label] = _kind
    TYPE_NAMES[_label.removeprefix("定点")] = _kind
TYPE_NAMES.update(
    {"药店": InstitutionType.pharmacy, "药房": InstitutionType.pharmacy,
     "零售药店": InstitutionType.pharmacy, "中医": InstitutionType.tcm_clinic}
)


def type_hint() -> str:
    """The allowed 机构类型 values, for messages."""
    return "、".join(f"{label}（{kind.value}）" for kind, label in INSTITUTION_TYPE_LABELS.items())


@dataclass
class RowProblems:
    """The problems of one line of the file."""

    row: int
    problems: list[str] = field(default_factory=list)


class ImportRefused(DomainError):
    """Rows of the file are bad; nothing was imported. ``rows`` lists every bad row."""

    status_code = 422

    def __init__(self, rows: list[RowProblems]) -> None:
        count = len(rows)
        super().__init__(f"文件中有 {count} 行存在问题，未导入任何机构；请修改后重新导入")
        self.rows = rows


@dataclass
class ParsedRow:
    """One data line of the file: its line number and its values by column key."""

    row: int
    values: dict[str, str]


def cell_text(value: Any) -> str:
    """A cell's value as text: numbers without a trailing ``.0`` (Excel stores codes typed as
    digits as floats), ``None`` as empty, everything stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(filename: str, content: bytes) -> list[list[str]]:
    """The file's lines as lists of cell texts (line 1 first).

    Raises:
        InvalidInput: wrong extension, empty, unreadable or too many rows.
        PayloadTooLarge: over :data:`MAX_FILE_BYTES`.
    """
    name = (filename or "").lower()
    if not (name.endswith(".xlsx") or name.endswith(".csv")):
        raise InvalidInput("仅支持 .xlsx（Excel）或 .csv 文件", details={"field": "file"})
    if not content:
        raise InvalidInput("文件是空的", details={"field": "file"})
    if len(content) > MAX_FILE_BYTES:
        raise PayloadTooLarge(
            f"文件过大（上限 {MAX_FILE_BYTES // (1024 * 1024)} MB），请分批导入",
            details={"field": "file"},
        )
    rows = _xlsx_rows(content) if name.endswith(".xlsx") else _csv_rows(content)
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise InvalidInput("文件中没有任何内容", details={"field": "file"})
    if len(rows) > MAX_ROWS + 1:
        raise InvalidInput(f"一次最多导入 {MAX_ROWS} 行，请分批导入", details={"field": "file"})
    return rows


def _csv_rows(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError:
        raise InvalidInput(
            "CSV 文件不是 UTF-8 编码：请在 Excel 中“另存为”→“CSV UTF-8（逗号分隔）”后重新导入",
            details={"field": "file"},
        ) from None
    if "\x00" in text:
        raise InvalidInput("无法读取 CSV 文件：内容不是文本", details={"field": "file"})
    try:
        return [[cell.strip() for cell in line] for line in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise InvalidInput(f"无法读取 CSV 文件：{exc}", details={"field": "file"}) from None


def _xlsx_rows(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise InvalidInput(
            "无法读取 Excel 文件：请确认是 .xlsx 格式（不支持旧版 .xls）", details={"field": "file"}
        ) from exc
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise InvalidInput("无法读取 Excel 文件：文件已损坏", details={"field": "file"}) from exc
    try:
        sheet = book.worksheets[0]
        rows: list[list[str]] = []
        # Read-only sheets yield every row from line 1, so the index is the line number.
        for values in sheet.iter_rows(values_only=True):
            rows.append([cell_text(v) for v in values])
            if len(rows) > MAX_ROWS + 1 and any(rows[-1]):
                raise InvalidInput(
                    f"一次最多导入 {MAX_ROWS} 行，请分批导入", details={"field": "file"}
                )
        return rows
    finally:
        book.close()


def parse_file(filename: str, content: bytes) -> list[ParsedRow]:
    """Read the file and map its columns by the header (line 1).

    Returns:
        The non-empty data lines with their line numbers.

    Raises:
        InvalidInput / PayloadTooLarge: the file itself is unusable.
        ImportRefused: the header is wrong (reported as line 1), or there are no data lines.
    """
    table = _table(filename, content)
    header = table[0]
    problems: list[str] = []
    keys: list[str | None] = []
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            keys.append(None)
            continue
        column = _BY_NAME.get(name) or _BY_NAME.get(name.lower())
        if column is None:
            problems.append(f"第 {position} 列的列名“{name}”无法识别")
        elif column.key in seen:
            problems.append(f"列“{column.label}”出现了不止一次")
        else:
            seen.add(column.key)
        keys.append(column.key if column else None)
    missing = [c.label for c in COLUMNS if c.required and c.key not in seen]
    if missing:
        problems.append(f"缺少必填列：{'、'.join(missing)}")
    if problems:
        problems.append("可用列名：" + "、".join(f"{c.label}（{c.key}）" for c in COLUMNS))
        raise ImportRefused([RowProblems(1, problems)])

    rows: list[ParsedRow] = []
    for number, line in enumerate(table[1:], start=2):
        if not any(line):
            continue
        values = {c.key: "" for c in COLUMNS}
        extra = False
        for position, cell in enumerate(line):
            key = keys[position] if position < len(keys) else None
            if key is not None:
                values[key] = cell
            elif cell:
                extra = True
        if extra:
            values["__extra__"] = "1"
        rows.append(ParsedRow(number, values))
    if not rows:
        raise ImportRefused([RowProblems(2, ["文件中只有表头，没有机构数据"])])
    return rows


def check_values(
    values: dict[str, str], regions: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Check one institution's values (by column key) as the import and the create form give them.

    Args:
        values: texts by key (``code``, ``name``, ``type``, ``level``, ``region``, ``address``,
            ``contact_name``, ``contact_phone``); missing keys count as empty.
        regions: region code → region id, every region there is.

    Returns:
        The values ready to store (``type`` as its code, ``region`` as the region id) and the
        problems in Chinese (empty when the values are good).
    """
    problems: list[str] = []
    text = {c.key: (values.get(c.key) or "").strip() for c in COLUMNS}
    for column in COLUMNS:
        value = text[column.key]
        if column.required and not value:
            problems.append(f"{column.label}不能为空")
        elif len(value) > column.max_length:
            problems.append(f"{column.label}不能超过 {column.max_length} 个字（现有 {len(value)} 个）")
    if values.get("__extra__"):
        problems.append("表头以外的列中有内容（请删除或为该列填写列名）")
    code = text["code"]
    if code and len(code) <= 32 and not CODE_RE.match(code):
        problems.append(f"机构编码“{code}”只能包含字母、数字、下划线和连字符")
    kind = TYPE_NAMES.get(text["type"]) or TYPE_NAMES.get(text["type"].lower())
    if text["type"] and kind is None:
        problems.append(f"机构类型“{text['type']}”无效，可选：{type_hint()}")
    region_id = regions.get(text["region"])
    if text["region"] and region_id is None:
        problems.append(f"所属地区代码“{text['region']}”不存在")
    if text["contact_phone"] and not PHONE_RE.fullmatch(text["contact_phone"]):
        problems.append("联系电话只能包含数字、空格、“+”、“-”和括号")
    ready = {
        "code": code,
        "name": text["name"],
        "type": kind.value if kind else None,
        "level": text["level"],
        "region": region_id,
        "address": text["address"],
        "contact_name": text["contact_name"],
        "contact_phone": text["contact_phone"],
    }
    return ready, problems


def check_rows(
    rows: list[ParsedRow], regions: dict[str, Any], existing_codes: set[str]
) -> tuple[list[dict[str, Any]], list[RowProblems]]:
    """Check every row, including codes repeated in the file or already in the database.

    Returns:
        The values to store (one per row) and the bad rows with their problems.
    """
    first_line: dict[str, int] = {}
    ready: list[dict[str, Any]] = []
    bad: list[RowProblems] = []
    for row in rows:
        values, problems = check_values(row.values, regions)
        code = values["code"]
        if code:
            if code in existing_codes:
                problems.append(f"机构编码“{code}”已存在于系统中")
            if code in first_line:
                problems.append(f"机构编码“{code}”与第 {first_line[code]} 行重复")
            else:
                first_line[code] = row.row
        if problems:
            bad.append(RowProblems(row.row, problems))
        ready.append(values)
    return ready, bad


def template_xlsx(region_examples: list[tuple[str, str]]) -> bytes:
    """The import template: the header with Chinese labels (frozen, bold, widths set), one
    example row, and a second sheet explaining the columns with the allowed types and regions.

    Args:
        region_examples: (code, name) of the regions institutions may belong to.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "机构导入"
    sheet.append([c.label for c in COLUMNS])
    example = {c.key: c.example for c in COLUMNS}
    if region_examples:
        example["region"] = region_examples[0][0]
    sheet.append([example[c.key] for c in COLUMNS])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE7F5")
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
        sheet.column_dimensions[get_column_letter(index)].width = column.width
        if column.key in TEXT_KEYS:
            # Codes are text: Excel must not turn them into numbers or drop leading zeros.
            for row in range(2, TEXT_FORMAT_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"

    notes = book.create_sheet("填写说明")
    notes.append(["列名", "键名", "是否必填", "说明"])
    explain = {
        "code": "定点机构编码，全系统唯一，不能与已有机构或本文件其他行重复",
        "name": "机构全称",
        "type": "可填：" + type_hint(),
        "level": "如 三级甲等、一级、未定级；药店可留空",
        "region": "所属地区的行政区划代码，见下表",
        "address": "机构地址",
        "contact_name": "机构联系人",
        "contact_phone": "联系电话，只能包含数字、空格、“+”、“-”和括号",
    }
    for column in COLUMNS:
        notes.append([column.label, column.key, "必填" if column.required else "选填",
                      explain[column.key]])
    notes.append([])
    notes.append(["地区代码", "地区名称"])
    for code, name in region_examples:
        notes.append([code, name])
    for letter, width in zip("ABCD", (14, 14, 10, 70), strict=True):
        notes.column_dimensions[letter].width = width
    notes["A1"].font = bold

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
