"""Creating institutions and importing them in bulk (XLSX and CSV): all or nothing, every bad
line reported with its number and its problems in Chinese, the template round-trips."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable

import httpx
from openpyxl import Workbook, load_workbook

from backend.audit.tables import AuditEvent
from backend.institutions.tables import Institution
from tests.admin.conftest import unique_code

IMPORT = "/api/admin/institutions/import"
HEADER_CN = ["机构编码", "机构名称", "机构类型", "等级", "所属地区", "地址"]


def csv_bytes(rows: list[list[str]], bom: bool = True) -> bytes:
    text = "\r\n".join(",".join(cells) for cells in rows) + "\r\n"
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def _import(client: httpx.AsyncClient, admin: dict[str, str], name: str, content: bytes):
    return await client.post(IMPORT, files={"file": (name, content)}, headers=admin)


async def _count(codes: list[str]) -> int:
    return await Institution.count().where(Institution.code.is_in(codes))


async def test_csv_with_chinese_header_imports_every_row(
    client: httpx.AsyncClient, admin: dict[str, str], new_county: Callable[[], Awaitable[str]]
) -> None:
    county = await new_county()
    codes = [unique_code("P"), unique_code("H"), unique_code("C")]
    rows = [
        HEADER_CN,
        [codes[0], "测试大药房", "定点零售药店", "", county, "测试路 1 号"],
        [codes[1], "测试医院", "hospital", "二级甲等", county, ""],
        ["", "", "", "", "", ""],  # an empty line is skipped
        [codes[2], "测试中医诊所", "中医诊所", "未定级", county, "测试路 3 号"],
    ]
    response = await _import(client, admin, "机构.csv", csv_bytes(rows))
    assert response.status_code == 200, response.text
    assert response.json() == {"imported": 3}
    stored = {
        r["code"]: r
        for r in await Institution.select(
            Institution.code, Institution.type, Institution.level, Institution.region.code,
            Institution.qr_token,
        ).where(Institution.code.is_in(codes))
    }
    assert stored[codes[0]]["type"] == "pharmacy"
    assert stored[codes[1]]["type"] == "hospital" and stored[codes[1]]["level"] == "二级甲等"
    assert stored[codes[2]]["type"] == "tcm_clinic"
    assert {r["region.code"] for r in stored.values()} == {county}
    assert len({r["qr_token"] for r in stored.values()}) == 3  # each gets its own QR token
    events = await AuditEvent.select(AuditEvent.after).where(
        AuditEvent.action == "institution.create"
    ).output(load_json=True).order_by(AuditEvent.id, ascending=False).limit(3)
    assert {e["after"]["code"] for e in events} == set(codes)
    summary = await AuditEvent.select(AuditEvent.after).where(
        AuditEvent.action == "institution.import"
    ).order_by(AuditEvent.id, ascending=False).output(load_json=True).first()
    assert summary["after"]["imported"] == 3 and summary["after"]["file"] == "机构.csv"


async def test_any_bad_row_imports_nothing_and_every_bad_row_is_reported(
    client: httpx.AsyncClient, admin: dict[str, str], new_county: Callable[[], Awaitable[str]]
) -> None:
    county = await new_county()
    taken = unique_code("P")
    first = await _import(
        client, admin, "a.csv", csv_bytes([HEADER_CN, [taken, "已有药房", "pharmacy", "", county, ""]])
    )
    assert first.status_code == 200, first.text
    good, dup = unique_code("P"), unique_code("P")
    rows = [
        ["code", "name", "type", "level", "region", "address"],  # keys work as well as labels
        [good, "好的药房", "pharmacy", "", county, ""],  # line 2: fine
        [dup, "重复一", "pharmacy", "", county, ""],  # line 3: fine by itself
        [dup, "重复二", "pharmacy", "", county, ""],  # line 4: repeats line 3
        [taken, "已存在", "pharmacy", "", county, ""],  # line 5: in the database already
        ["", "", "", "", "", ""],  # line 6: empty, skipped
        [unique_code("X"), "", "卫生院", "", "999999", ""],  # line 7: three problems
    ]
    response = await _import(client, admin, "bad.csv", csv_bytes(rows, bom=False))
    assert response.status_code == 422, response.text
    body = response.json()
    assert [r["row"] for r in body["rows"]] == [4, 5, 7]
    by_row = {r["row"]: r["problems"] for r in body["rows"]}
    assert by_row[4] == [f"机构编码“{dup}”与第 3 行重复"]
    assert by_row[5] == [f"机构编码“{taken}”已存在于系统中"]
    assert "机构名称不能为空" in by_row[7]
    assert any(p.startswith("机构类型“卫生院”无效") for p in by_row[7])
    assert "所属地区代码“999999”不存在" in by_row[7]
    assert "未导入" in body["detail"]
    assert await _count([good, dup]) == 0  # not even the good lines


async def test_xlsx_imports_and_reports_lines_of_the_sheet(
    client: httpx.AsyncClient, admin: dict[str, str], new_county: Callable[[], Awaitable[str]]
) -> None:
    county = await new_county()
    code = unique_code("H")
    numeric = str(8_800_000_000 + int(county[-6:]))  # a code typed as a number in Excel
    bad = xlsx_bytes(
        [
            HEADER_CN,
            [code, "表格医院", "定点医院", "一级", int(county), None],
            [None, None, None, None, None, None],
            [numeric, "表格药店", "药店", None, county, "地址" * 200],
        ]
    )
    response = await _import(client, admin, "机构.XLSX", bad)
    assert response.status_code == 422, response.text
    assert response.json()["rows"] == [
        {"row": 4, "problems": ["地址不能超过 256 个字（现有 400 个）"]}
    ]
    assert await _count([code, numeric]) == 0

    good = xlsx_bytes(
        [
            HEADER_CN,
            [code, "表格医院", "定点医院", "一级", int(county), None],
            [int(numeric), "表格药店", "药店", None, county, "地址"],
        ]
    )
    response = await _import(client, admin, "机构.xlsx", good)
    assert response.status_code == 200, response.text
    assert response.json() == {"imported": 2}
    assert await _count([code, numeric]) == 2


async def test_template_has_the_labels_and_round_trips(
    client: httpx.AsyncClient, admin: dict[str, str], new_county: Callable[[], Awaitable[str]]
) -> None:
    county = await new_county()
    response = await client.get("/api/admin/institutions/import-template.xlsx", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:6] == HEADER_CN
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= 20
    example = [c.value for c in sheet[2]]
    assert example[0] and example[1] and example[2]
    # The admin replaces the example with a real line and imports the file as it is.
    code = unique_code("P")
    sheet["A2"], sheet["B2"], sheet["E2"] = code, "模板导入药房", county
    buffer = io.BytesIO()
    book.save(buffer)
    imported = await _import(client, admin, "模板.xlsx", buffer.getvalue())
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"imported": 1}


async def test_unusable_files_are_refused_with_a_reason(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    before = await Institution.count()
    cases = [
        ("a.xls", b"\xd0\xcf\x11\xe0 old excel", 422, "仅支持"),
        ("a.txt", b"code,name", 422, "仅支持"),
        ("a.csv", b"", 422, "空"),
        ("a.csv", "机构编码,机构名称".encode("gbk"), 422, "UTF-8"),
        ("a.xlsx", b"PK\x03\x04 not really a zip", 422, "无法读取"),
        ("a.xlsx", b"plain text", 422, "无法读取"),
        ("a.csv", b"x" * (2 * 1024 * 1024 + 1), 413, "过大"),
    ]
    for name, content, status, words in cases:
        response = await _import(client, admin, name, content)
        assert response.status_code == status, (name, response.text)
        assert words in response.json()["detail"], (name, response.json())
    missing = await client.post(IMPORT, data={"other": "x"}, headers=admin)
    assert missing.status_code == 400, missing.text
    assert await Institution.count() == before


async def test_header_problems_are_reported_as_line_one(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await _import(client, admin, "h.csv", csv_bytes([["机构编码", "名字", "机构编码"], ["A1", "x", "y"]]))
    assert response.status_code == 422
    rows = response.json()["rows"]
    assert [r["row"] for r in rows] == [1]
    problems = rows[0]["problems"]
    assert "第 2 列的列名“名字”无法识别" in problems
    assert "列“机构编码”出现了不止一次" in problems
    assert any(p.startswith("缺少必填列：") and "机构名称" in p and "所属地区" in p for p in problems)

    only_header = await _import(client, admin, "h.csv", csv_bytes([HEADER_CN]))
    assert only_header.status_code == 422
    assert only_header.json()["rows"] == [{"row": 2, "problems": ["文件中只有表头，没有机构数据"]}]


async def test_create_checks_like_the_import_and_is_audited(
    client: httpx.AsyncClient, admin: dict[str, str], new_county: Callable[[], Awaitable[str]]
) -> None:
    county = await new_county()
    code = unique_code("H")
    body = {"code": code, "name": "新建医院", "type": "定点医院", "level": "二级", "region_code": county}
    response = await client.post("/api/admin/institutions", json=body, headers=admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["type"] == "hospital" and created["region_code"] == county
    assert created["agreement_status"] == "normal" and created["qr_token"]
    event = await AuditEvent.select(AuditEvent.action, AuditEvent.after).where(
        AuditEvent.entity_id == created["id"]
    ).output(load_json=True).first()
    assert event["action"] == "institution.create" and event["after"]["code"] == code

    again = await client.post("/api/admin/institutions", json=body, headers=admin)
    assert again.status_code == 409 and "已存在" in again.json()["detail"]

    bad = {**body, "code": "有 空格", "type": "shop", "region_code": "000000"}
    refused = await client.post("/api/admin/institutions", json=bad, headers=admin)
    assert refused.status_code == 422
    problems = refused.json()["extra"]["problems"]
    assert len(problems) == 3 and "所属地区代码“000000”不存在" in problems
    assert await Institution.count().where(Institution.name == "新建医院") == 1


async def test_edit_name_and_agreement_status_with_reason(
    client: httpx.AsyncClient, admin: dict[str, str], new_county: Callable[[], Awaitable[str]]
) -> None:
    county = await new_county()
    body = {"code": unique_code("P"), "name": "改名前", "type": "pharmacy", "region_code": county}
    created = (await client.post("/api/admin/institutions", json=body, headers=admin)).json()
    response = await client.patch(
        f"/api/admin/institutions/{created['id']}",
        json={"name": "改名后", "agreement_status": "suspended", "reason": "违规未整改"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "改名后"
    assert response.json()["agreement_status"] == "suspended"
    events = await AuditEvent.select(AuditEvent.action, AuditEvent.after).where(
        AuditEvent.entity_id == created["id"]
    ).order_by(AuditEvent.id).output(load_json=True)
    assert [e["action"] for e in events] == [
        "institution.create", "institution.update", "institution.set_agreement_status"
    ]
    assert events[2]["after"]["reason"] == "违规未整改"
    empty = await client.patch(f"/api/admin/institutions/{created['id']}", json={"name": " "}, headers=admin)
    assert empty.status_code == 422 and empty.json()["detail"] == "机构名称不能为空"
