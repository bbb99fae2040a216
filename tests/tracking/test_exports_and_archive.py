"""Exports (XLSX through openpyxl, CSV through csv) and the 机构档案 / history, on rows made here."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import httpx
import pytest
from openpyxl import load_workbook

from backend.china_time import today_in_china
from backend.inspections.tables import Finding
from tests.tracking.helpers import BAD, MILD, City, inspect, make_city, tasks_of


@pytest.fixture(scope="module")
async def city(client: httpx.AsyncClient, login) -> City:
    world = await make_city(client, login)
    a, b = world.institutions["a"], world.institutions["b"]
    await inspect(client, world, "a", a[0], {})
    await inspect(client, world, "a", a[0], BAD)
    await inspect(client, world, "b", b[0], MILD)
    return world


async def _download(client: httpx.AsyncClient, world: City, name: str, **params) -> httpx.Response:
    params.setdefault("region", world.city)
    response = await client.get(f"/api/exports/{name}", params=params, headers=world.headers["city"])
    assert response.status_code == 200, response.text
    return response


def _csv_rows(response: httpx.Response) -> list[list[str]]:
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with the UTF-8 BOM"
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))


def _sheet(response: httpx.Response):
    assert response.content[:2] == b"PK"
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    return book.worksheets[0]


async def test_inspection_exports(client: httpx.AsyncClient, city: City) -> None:
    ws = _sheet(await _download(client, city, "inspections.xlsx"))
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    for column in ("机构编码", "机构名称", "检查日期", "检查方式", "得分", "等级"):
        assert column in header
    assert len(rows) == 1 + 3
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["B"].width >= 20
    col = {name: n for n, name in enumerate(header)}
    codes = {r[col["机构编码"]] for r in rows[1:]}
    assert codes == {city.institutions["a"][0]["code"], city.institutions["b"][0]["code"]}
    for r in rows[1:]:
        assert isinstance(r[col["检查日期"]], datetime)  # a date cell (openpyxl reads datetimes)
        assert r[col["检查日期"]].date() == today_in_china()
        assert isinstance(r[col["得分"]], int | float)  # a number (100.0 reads back as 100)
        assert r[col["等级"]] in {"优秀", "良好", "合格", "不合格"}
        assert r[col["检查方式"]] == "日常检查"
    perfect = [r for r in rows[1:] if r[col["得分"]] == 100.0]
    assert len(perfect) == 1 and perfect[0][col["等级"]] == "优秀"

    table = _csv_rows(await _download(client, city, "inspections.csv"))
    assert table[0] == list(header)
    assert len(table) == 1 + 3
    assert {r[0] for r in table[1:]} == codes
    assert all(float(r[col["得分"]]) >= 0 for r in table[1:])
    # The filters apply: county B only, and a period without inspections.
    assert len(_csv_rows(await _download(client, city, "inspections.csv", region=city.counties["b"]))) == 2
    past = _csv_rows(await _download(client, city, "inspections.csv", **{"from": "2001-01-01", "to": "2001-12-31"}))
    assert past == [list(header)]


async def test_findings_export_has_every_answer_and_no_formula(client: httpx.AsyncClient, city: City) -> None:
    expected = await Finding.count().where(Finding.inspection.is_in(city.inspections))
    ws = _sheet(await _download(client, city, "findings.xlsx"))
    rows = list(ws.iter_rows())
    header = [c.value for c in rows[0]]
    assert len(rows) == 1 + expected
    col = {name: n for n, name in enumerate(header)}
    results = [r[col["结果"]].value for r in rows[1:]]
    assert set(results) == {"符合", "不符合"}  # passed answers are exported too
    assert results.count("不符合") == len(BAD) + len(MILD)
    notes = [r[col["说明"]] for r in rows[1:] if r[col["说明"]].value]
    risky = [c for c in notes if "HYPERLINK" in str(c.value)]
    assert len(risky) == 1
    assert risky[0].data_type == "s" and risky[0].value.startswith("'=")
    counts = [r[col["发现处数"]].value for r in rows[1:] if r[col["发现处数"]].value is not None]
    assert 3 in counts and all(isinstance(v, int) for v in counts)

    table = _csv_rows(await _download(client, city, "findings.csv"))
    assert table[0] == header and len(table) == 1 + expected
    note_at = header.index("说明")
    assert [r[note_at] for r in table if "HYPERLINK" in r[note_at]] == ["'=HYPERLINK(\"http://x\")"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in table for cell in r)


async def test_task_exports(client: httpx.AsyncClient, city: City) -> None:
    tasks = await tasks_of(city.inspections)
    ws = _sheet(await _download(client, city, "rectification-tasks.xlsx"))
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 1 + len(tasks)
    header = rows[0]
    col = {name: n for n, name in enumerate(header)}
    assert all(isinstance(r[col["整改期限"]], datetime) for r in rows[1:])
    assert all(isinstance(r[col["序号"]], int) for r in rows[1:])
    assert {r[col["状态"]] for r in rows[1:]} == {"待整改"}
    table = _csv_rows(await _download(client, city, "rectification-tasks.csv", state="open"))
    assert len(table) == 1 + len(tasks)
    none = _csv_rows(await _download(client, city, "rectification-tasks.csv", state="overdue"))
    assert len(none) == 1
    bad = await client.get("/api/exports/rectification-tasks.csv", params={"state": "later"},
                           headers=city.headers["city"])
    assert bad.status_code == 422 and "state" in bad.json()["detail"]


async def test_archive_and_history(client: httpx.AsyncClient, city: City, login) -> None:
    inst = city.institutions["a"][0]
    response = await client.get(f"/api/institutions/{inst['id']}/archive", headers=city.headers["a"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["institution"]["code"] == inst["code"]
    assert body["institution"]["agreement_status_label"] == "正常"
    assert len(body["inspections"]) == 2
    assert [x["id"] for x in body["inspections"]] == list(reversed(city.inspections[:2]))  # newest first
    assert body["inspections"][0]["score_total"] < 100 <= body["inspections"][1]["score_total"]
    assert len(body["notices"]) == 1 and len(body["notices"][0]["tasks"]) == len(BAD)
    assert body["notices"][0]["status_label"] == "整改中"
    assert body["yearly"][0]["inspections"] == 2
    assert body["agreement_history"] == [] and body["escalations"] == []

    history = (await client.get(f"/api/institutions/{inst['id']}/history", headers=city.headers["a"])).json()
    assert [x["id"] for x in history["inspections"]] == [x["id"] for x in body["inspections"]]
    first = history["inspections"][0]
    assert set(first) >= {"id", "date", "kind", "total", "grade"}
    assert first["date"] == today_in_china().isoformat()
    assert [n["id"] for n in history["notices"]] == [body["notices"][0]["id"]]
    assert history["notices"][0]["number"] and history["notices"][0]["status"] == "issued"

    # Outside the caller's county: 404, the same as a missing institution; staff only.
    for path in ("archive", "history"):
        hidden = await client.get(f"/api/institutions/{inst['id']}/{path}", headers=city.headers["b"])
        assert hidden.status_code == 404 and "管辖范围" in hidden.json()["detail"]
        refused = await client.get(f"/api/institutions/{inst['id']}/{path}", headers=city.headers["ia"])
        assert refused.status_code == 403


async def test_archive_shows_agreement_history_after_an_escalation(client: httpx.AsyncClient, city: City) -> None:
    inst = city.institutions["a"][0]
    archive = (await client.get(f"/api/institutions/{inst['id']}/archive", headers=city.headers["city"])).json()
    notice_id = archive["notices"][0]["id"]
    response = await client.post(f"/api/rectification/notices/{notice_id}/escalations",
                                 json={"step": "suspend_agreement", "note": "逾期未整改"},
                                 headers=city.headers["city"])
    assert response.status_code in (200, 201), response.text
    archive = (await client.get(f"/api/institutions/{inst['id']}/archive", headers=city.headers["city"])).json()
    assert archive["institution"]["agreement_status_label"] == "中止"
    assert [e["step_label"] for e in archive["escalations"]] == ["中止协议"]
    assert archive["escalations"][0]["notice_number"] == archive["notices"][0]["number"]
    change = archive["agreement_history"][-1]
    assert (change["from_label"], change["to_label"]) == ("正常", "中止")
