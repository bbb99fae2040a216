"""Exports of what the filters select: inspections, findings and rectification tasks, as XLSX
and CSV, written while they are read; and the 年度考核 of every institution in scope for a year.

The rows come from :mod:`backend.tracking.lists` in keyset batches. XLSX goes through openpyxl's
write-only mode (rows are written to a temporary file as they come, never held all at once),
then the finished file is sent in chunks and removed. CSV is UTF-8 with a BOM (so that Excel on
a Chinese Windows opens it as UTF-8) and is sent batch by batch.

A text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) gets a leading
apostrophe, so that no spreadsheet runs it as a formula (CSV/formula injection).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import quote
from uuid import UUID

from anyio import to_thread
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from backend.institutions.tables import INSTITUTION_TYPE_LABELS, InstitutionType
from backend.rules.assessment import assess_many
from backend.tracking import lists
from backend.tracking.dashboard import item_texts
from backend.tracking.filters import Filters
from backend.tracking.sql import Query, as_int, in_list

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 64 * 1024
RESULT_LABELS = {"pass": "符合", "fail": "不符合", "na": "不适用"}


@dataclass(frozen=True)
class Column:
    """One column of an export: its header, width (characters), value and kind."""

    header: str
    width: int
    value: Callable[[dict[str, Any]], Any]
    kind: str = "text"  # text | date | number | int | score | money


def safe_text(value: Any) -> Any:
    """A text value that no spreadsheet will take for a formula; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _get(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row.get(key)


INSPECTION_COLUMNS = (
    Column("机构编码", 16, _get("institution_code")),
    Column("机构名称", 30, _get("institution_name")),
    Column("机构类型", 12, _get("institution_type_label")),
    Column("所属地区", 10, _get("region_name")),
    Column("检查日期", 12, _get("date"), "date"),
    Column("检查方式", 11, _get("kind_label")),
    Column("检查表", 26, _get("checklist_title")),
    Column("得分", 8, _get("score_total"), "number"),
    Column("等级", 8, _get("grade")),
    Column("不符合项数", 10, _get("failed_items"), "int"),
    Column("整改通知书文号", 24, _get("notice_number")),
    Column("检查记录编号", 38, lambda r: str(r["id"])),
)

FINDING_COLUMNS = (
    Column("检查记录编号", 38, lambda r: str(r["inspection_id"])),
    Column("机构编码", 16, _get("institution_code")),
    Column("机构名称", 30, _get("institution_name")),
    Column("所属地区", 10, _get("region_name")),
    Column("检查日期", 12, _get("date"), "date"),
    Column("检查方式", 11, _get("kind_label")),
    Column("检查表", 26, _get("checklist_title")),
    Column("检查类别", 14, _get("section_title")),
    Column("检查项编号", 28, _get("item_id")),
    Column("检查内容", 40, _get("item_text")),
    Column("结果", 8, lambda r: RESULT_LABELS.get(r["result"], r["result"])),
    Column("发现处数", 9, _get("occurrences"), "int"),
    Column("抽查数", 8, _get("sampled"), "int"),
    Column("不符合数", 9, _get("failed"), "int"),
    Column("说明", 30, _get("note")),
    Column("涉及医师", 10, _get("physician_name")),
)

TASK_COLUMNS = (
    Column("整改通知书文号", 24, _get("notice_number")),
    Column("签发日期", 12, _get("issued_on"), "date"),
    Column("机构编码", 16, _get("institution_code")),
    Column("机构名称", 30, _get("institution_name")),
    Column("所属地区", 10, _get("region_name")),
    Column("序号", 6, _get("seq"), "int"),
    Column("检查类别", 14, _get("section_title")),
    Column("整改事项", 40, _get("item_text")),
    Column("依据", 30, _get("basis")),
    Column("整改期限", 12, _get("deadline"), "date"),
    Column("状态", 9, _get("status_label")),
    Column("是否逾期", 9, lambda r: "是" if r["overdue"] else "否"),
    Column("逾期天数", 9, _get("days_overdue"), "int"),
    Column("整改报告日期", 13, _get("answered_on"), "date"),
    Column("验收日期", 12, _get("reviewed_on"), "date"),
)

ASSESSMENT_COLUMNS = (
    Column("机构编码", 16, _get("institution_code")),
    Column("机构名称", 30, _get("institution_name")),
    Column("机构类型", 12, _get("institution_type_label")),
    Column("所属地区", 10, _get("region_name")),
    Column("考核年度", 9, _get("year"), "int"),
    Column("计入检查数", 10, _get("inspections"), "int"),
    Column("考核得分", 9, _get("score"), "score"),
    Column("等级", 8, _get("grade")),
    Column(
        "奖惩",
        6,
        lambda r: None if r["amount"] is None else ("奖励" if r["amount"] >= 0 else "扣罚"),
    ),
    Column("金额（元）", 12, _get("amount"), "money"),
    Column("医保医师数", 10, _get("physicians"), "int"),
    Column("受扣分处理医师数", 15, _get("penalised_physicians"), "int"),
    Column("信用等级评定", 12, lambda r: "不参加" if r["credit_rating_excluded"] else "参加"),
    Column("不参加原因", 50, lambda r: "；".join(r["reasons"])),
)


@dataclass(frozen=True)
class Export:
    """One export: what it is called, its list and columns."""

    name: str  # in URLs and file names: inspections, findings, rectification-tasks
    title: str  # the sheet's and the file's Chinese name
    columns: tuple[Column, ...]


EXPORTS = {
    "inspections": Export("inspections", "检查记录", INSPECTION_COLUMNS),
    "findings": Export("findings", "检查发现", FINDING_COLUMNS),
    "rectification-tasks": Export("rectification-tasks", "整改事项", TASK_COLUMNS),
    "assessments": Export("assessments", "年度考核", ASSESSMENT_COLUMNS),
}


def validate(export: Export, f: Filters, n: lists.Narrowing) -> None:
    """Check the narrowing before the answer starts (an error can't be sent mid-stream).

    Raises:
        InvalidInput: a bad narrowing value.
    """
    if export.name == "assessments":
        return  # filtered by region, type and year only
    what = "tasks" if export.name == "rectification-tasks" else "inspections"
    lists._from(what, f, n, date.today())


# The first batch is small so that the download starts at once (the time to first byte); later
# batches are large so that a whole file stays quick (findings: 50 answers per inspection).
FIRST_BATCH = 50


async def rows(
    export: Export, f: Filters, n: lists.Narrowing
) -> AsyncIterator[list[dict[str, Any]]]:
    """The export's rows, batch by batch."""
    if export.name == "inspections":
        async for batch in lists.batches("inspections", f, n, first=FIRST_BATCH):
            yield batch
    elif export.name == "rectification-tasks":
        async for batch in lists.batches("tasks", f, n, first=FIRST_BATCH):
            yield batch
    elif export.name == "assessments":
        async for batch in _assessments(f):
            yield batch
    else:
        async for batch in lists.batches("inspections", f, n, size=200, first=FIRST_BATCH // 5):
            yield await _findings_of(batch)


async def _findings_of(inspections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every answer of these inspections (passed ones included), in checklist order."""
    condition, args = in_list("f.inspection", [x["id"] for x in inspections])
    found = await Query(
        "SELECT f.inspection AS inspection_id, f.item_id AS item_id, f.result AS result,"
        " f.occurrences AS occurrences, f.sampled AS sampled, f.failed AS failed, f.note AS note,"
        " p.name AS physician_name FROM finding f LEFT JOIN physician p ON p.id = f.physician"
        f" WHERE {condition}",
        *args,
    ).rows()
    by_inspection: dict[str, list[dict[str, Any]]] = {}
    for r in found:
        by_inspection.setdefault(str(r["inspection_id"]), []).append(r)
    texts = await item_texts({x["checklist_version"] for x in inspections})
    out = []
    for x in inspections:
        items = texts.get(x["checklist_version"], {})
        order = {item_id: n for n, item_id in enumerate(items)}
        for r in sorted(
            by_inspection.get(str(x["id"]), []),
            key=lambda r: (order.get(r["item_id"], len(order)), r["item_id"]),
        ):
            section, text = items.get(r["item_id"], ("", r["item_id"]))
            out.append(
                {
                    **{k: x[k] for k in ("institution_code", "institution_name", "region_name")},
                    **{k: x[k] for k in ("date", "kind_label", "checklist_title")},
                    "inspection_id": x["id"],
                    "section_title": section,
                    "item_id": r["item_id"],
                    "item_text": text,
                    "result": r["result"],
                    "occurrences": None if r["occurrences"] is None else as_int(r["occurrences"]),
                    "sampled": None if r["sampled"] is None else as_int(r["sampled"]),
                    "failed": None if r["failed"] is None else as_int(r["failed"]),
                    "note": r["note"] or "",
                    "physician_name": r["physician_name"],
                }
            )
    return out


ASSESSMENT_BATCH = 500


async def _assessments(f: Filters) -> AsyncIterator[list[dict[str, Any]]]:
    """Every institution in the filters' region and type (by region, then code), with its
    assessment of the filters' year (``f.start.year``): those without an inspection that year
    too, with no score, so that the sheet lists the whole scope."""
    year = f.start.year
    after = ""
    while True:
        batch = await (
            Query(
                "SELECT i.id AS id, i.code AS code, i.name AS name, i.type AS type,"
                " r.name AS region_name FROM institution i JOIN region r ON r.id = i.region"
                " WHERE i.code > {}",
                after,
            )
            .extend(f.institution_scope("i"))
            .add("ORDER BY i.code LIMIT {}", ASSESSMENT_BATCH)
            .rows()
        )
        if not batch:
            return
        after = batch[-1]["code"]
        ids = [r["id"] if not isinstance(r["id"], str) else UUID(r["id"]) for r in batch]
        results = await assess_many(ids, year)
        yield [
            {
                "institution_code": r["code"],
                "institution_name": r["name"],
                "institution_type_label": INSTITUTION_TYPE_LABELS.get(
                    InstitutionType(r["type"]), r["type"]
                ),
                "region_name": r["region_name"],
                **results[key],
            }
            for r, key in zip(batch, ids, strict=True)
        ]
        if len(batch) < ASSESSMENT_BATCH:
            return


def file_name(export: Export, f: Filters, ext: str) -> tuple[str, str]:
    """(ASCII name, Chinese name) of the file, naming its region and period (the assessment:
    its year)."""
    if export.name == "assessments":
        parts = [export.title, f.region_name] + ([f.type_label] if f.type_label else [])
        parts.append(f"{f.start.year}年度")
        return f"assessments-{f.start.year}.{ext}", "_".join(parts) + f".{ext}"
    ascii_name = f"{export.name}-{f.start.isoformat()}-{f.end.isoformat()}.{ext}"
    parts = [export.title, f.region_name]
    if f.type_label:
        parts.append(f.type_label)
    parts.append(f"{f.start.isoformat()}至{f.end.isoformat()}")
    return ascii_name, "_".join(parts) + f".{ext}"


def content_disposition(export: Export, f: Filters, ext: str) -> str:
    """``attachment`` with an ASCII name and the Chinese one (RFC 5987)."""
    ascii_name, name = file_name(export, f, ext)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


# ---------------------------------------------------------------- CSV


def _csv_value(column: Column, row: dict[str, Any]) -> Any:
    value = column.value(row)
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if column.kind == "number" and isinstance(value, float):
        return f"{value:g}"
    if column.kind == "money":
        return f"{Decimal(value).quantize(Decimal('0.01'))}"  # exact: "-1500.00"
    if column.kind == "score":
        return f"{Decimal(value).quantize(Decimal('0.1'))}"
    return safe_text(value)


def _csv_lines(lines: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lines)
    return buffer.getvalue().encode("utf-8")


async def csv_stream(export: Export, f: Filters, n: lists.Narrowing) -> AsyncIterator[bytes]:
    """The CSV file in pieces: the BOM and header row, then one piece per batch of rows."""
    yield "\ufeff".encode() + _csv_lines([[c.header for c in export.columns]])
    async for batch in rows(export, f, n):
        yield _csv_lines([[_csv_value(c, r) for c in export.columns] for r in batch])


# ---------------------------------------------------------------- XLSX

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E8EEF5")
_WRAP = Alignment(vertical="top")


def _xlsx_cell(ws: Any, column: Column, row: dict[str, Any]) -> Any:
    value = column.value(row)
    if value is None:
        return None
    if column.kind == "date":
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if column.kind == "number":
        cell = WriteOnlyCell(ws, value=float(value))
        cell.number_format = "0.0"
        return cell
    if column.kind in ("money", "score"):
        # A number the spreadsheet can add up, shown with the decimals it was computed to.
        cell = WriteOnlyCell(ws, value=float(value))
        cell.number_format = "0.00" if column.kind == "money" else "0.0"
        return cell
    if column.kind == "int":
        return int(value)
    text = safe_text(str(value))
    # An explicit string cell: openpyxl would otherwise store any text starting with "=" as a
    # formula (the apostrophe above already prevents that; this keeps it so if it changes).
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    return cell


def _append(ws: Any, export: Export, batch: list[dict[str, Any]]) -> None:
    for row in batch:
        ws.append([_xlsx_cell(ws, c, row) for c in export.columns])


def _new_workbook(export: Export) -> tuple[Any, Any]:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=export.title)
    ws.freeze_panes = "A2"
    for n, column in enumerate(export.columns, start=1):
        ws.column_dimensions[get_column_letter(n)].width = column.width
    header = []
    for column in export.columns:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _WRAP
        header.append(cell)
    ws.append(header)
    return wb, ws


async def xlsx_stream(export: Export, f: Filters, n: lists.Narrowing) -> AsyncIterator[bytes]:
    """The XLSX file in chunks. Rows go to openpyxl's write-only sheet (a temporary file) batch
    by batch, off the event loop; the finished workbook is then sent and deleted."""
    wb, ws = _new_workbook(export)
    handle, path = tempfile.mkstemp(prefix="yibao-export-", suffix=".xlsx")
    os.close(handle)
    try:
        async for batch in rows(export, f, n):
            await to_thread.run_sync(partial(_append, ws, export, batch))
        await to_thread.run_sync(wb.save, path)
        with open(path, "rb") as file:
            while True:
                chunk = await to_thread.run_sync(file.read, CHUNK)
                if not chunk:
                    break
                yield chunk
    finally:
        os.unlink(path)
