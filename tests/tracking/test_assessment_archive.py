"""机构档案 with the year's physician points and 年度考核, and the assessment export (XLSX and CSV):
scores, grades and amounts checked against totals set here, exact to the fen."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from openpyxl import load_workbook

from backend.inspections.tables import Inspection
from backend.institutions.tables import Physician
from backend.rules.tables import PhysicianPointEvent
from tests.tracking.helpers import MILD, City, inspect, make_city

YEAR = 2017  # a past year of its own (read on its 31 December): nothing else falls in it


@pytest.fixture(scope="module")
async def world(client: httpx.AsyncClient, login) -> City:
    city = await make_city(client, login)
    a0, a1 = city.institutions["a"][0], city.institutions["a"][1]
    ids = [await inspect(client, city, "a", a0, MILD), await inspect(client, city, "a", a0, {}),
           await inspect(client, city, "a", a1, MILD)]
    # Official totals and the year set here: a0 averages 94.95 → 95.0 (+500), a1 64.9 (−1500).
    for inspection_id, total in zip(ids, ("94.9", "95.0", "64.9"), strict=True):
        await Inspection.update({Inspection.score_total: Decimal(total),
                                 Inspection.submitted_at: datetime(YEAR, 5, 1, 2, tzinfo=UTC)}).where(
            Inspection.id == inspection_id)
    # a0's physicians: one suspended (9 points), one cancelled (12), one untouched.
    doctors = [Physician(id=uuid.uuid4(), institution=a0["id"], name=f"档案医师{n}",
                         department="内科", certificate_no=f"A{uuid.uuid4().hex[:14]}") for n in range(3)]
    await Physician.insert(*doctors)
    for doctor, points in ((doctors[0], 9), (doctors[1], 12)):
        await PhysicianPointEvent(
            id=uuid.uuid4(), physician=doctor.id, institution=a0["id"], inspection=ids[0],
            finding_id=uuid.uuid4(), item_id="records.rx-retention", points=points, year=YEAR,
            occurred_on=date(YEAR, 5, 1), effective_on=date(YEAR, 5, 2),
        ).save()
    city.inspections = ids
    return city


async def test_archive_shows_points_and_the_assessment(client: httpx.AsyncClient, world: City) -> None:
    inst = world.institutions["a"][0]
    response = await client.get(f"/api/institutions/{inst['id']}/archive", params={"year": YEAR},
                                headers=world.headers["a"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["year"] == YEAR
    people = {p["name"]: p for p in body["physicians"]}
    assert (people["档案医师0"]["deducted"], people["档案医师0"]["year_points"]) == (9, 3)
    # A past year is read on its 31 December: the 3-month suspension has ended by then.
    assert people["档案医师0"]["status"] == "active"
    cancelled = people["档案医师1"]
    assert (cancelled["status"], cancelled["year_points"]) == ("cancelled", 0)
    assert cancelled["reapply_after"] == f"{YEAR + 2}-05-02"
    assert (people["档案医师2"]["deducted"], people["档案医师2"]["year_points"]) == (0, 12)
    assert body["physicians"][0]["name"] == "档案医师1"  # fewest points first
    a = body["assessment"]
    assert Decimal(str(a["score"])) == Decimal("95.0") and Decimal(str(a["amount"])) == Decimal("500")
    assert a["inspections"] == 2 and a["grade"]
    assert a["credit_rating_excluded"] is True and f"{YEAR}年度信用等级评定" in a["reasons"][0]
    # Another year: no deduction, no assessment.
    other = (await client.get(f"/api/institutions/{inst['id']}/archive", params={"year": YEAR - 1},
                              headers=world.headers["a"])).json()
    assert other["assessment"]["score"] is None and other["assessment"]["amount"] is None
    assert {p["deducted"] for p in other["physicians"]} == {0}
    bad = await client.get(f"/api/institutions/{inst['id']}/archive", params={"year": 1900},
                           headers=world.headers["a"])
    assert bad.status_code in (400, 422) and "年份" in bad.json()["detail"]


async def test_assessment_exports(client: httpx.AsyncClient, world: City) -> None:
    a0, a1 = world.institutions["a"][0], world.institutions["a"][1]
    xlsx = await client.get("/api/exports/assessments.xlsx", params={"region": world.city, "year": YEAR},
                            headers=world.headers["city"])
    assert xlsx.status_code == 200, xlsx.text
    assert f"assessments-{YEAR}.xlsx" in xlsx.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    col = {name: n for n, name in enumerate(header)}
    by_code = {r[col["机构编码"]]: r for r in rows[1:]}
    # Every institution of the city, those without an inspection that year too.
    assert set(by_code) == {i["code"] for i in world.all_institutions()}
    first = by_code[a0["code"]]
    assert first[col["考核得分"]] == 95.0 and first[col["金额（元）"]] == 500
    assert first[col["奖惩"]] == "奖励" and first[col["信用等级评定"]] == "不参加"
    assert first[col["受扣分处理医师数"]] == 2 and "信用等级评定" in first[col["不参加原因"]]
    second = by_code[a1["code"]]
    assert second[col["考核得分"]] == 64.9 and second[col["金额（元）"]] == -1500
    assert second[col["奖惩"]] == "扣罚" and second[col["信用等级评定"]] == "参加"
    money = next(ws.iter_rows(min_row=2, max_row=2))[col["金额（元）"]]
    assert money.number_format == "0.00"
    none = by_code[world.institutions["b"][0]["code"]]
    assert none[col["考核得分"]] is None and none[col["计入检查数"]] == 0

    csv_response = await client.get("/api/exports/assessments.csv", params={"region": world.counties["a"], "year": YEAR},
                                    headers=world.headers["city"])
    assert csv_response.status_code == 200
    assert csv_response.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(csv_response.content[3:].decode("utf-8"))))
    col = {name: n for n, name in enumerate(lines[0])}
    found = {r[col["机构编码"]]: r for r in lines[1:]}
    assert set(found) == {i["code"] for i in world.institutions["a"]}  # the county only
    assert (found[a0["code"]][col["考核得分"]], found[a0["code"]][col["金额（元）"]]) == ("95.0", "500.00")
    assert (found[a1["code"]][col["考核得分"]], found[a1["code"]][col["金额（元）"]]) == ("64.9", "-1500.00")

    # The filters' rules: a county outside the caller's scope is 404, a bad year a Chinese 4xx,
    # an inspector is refused.
    hidden = await client.get("/api/exports/assessments.csv", params={"region": world.counties["b"]},
                              headers=world.headers["a"])
    assert hidden.status_code == 404
    bad = await client.get("/api/exports/assessments.xlsx", params={"year": 99},
                           headers=world.headers["city"])
    assert bad.status_code in (400, 422) and "年份" in bad.json()["detail"]
    assert (await client.get("/api/exports/assessments.csv", headers=world.headers["ia"])).status_code == 403
