"""The answer tallies behind the most-failed items: written with each submission, equal to the
answers counted here from the raw rows (the demo data's included), whatever the period's shape,
and rebuilt identically by ``yibao tracking rebuild``."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from backend.audit.services import Actor
from backend.audit.tables import AuditEvent
from backend.checklists.tables import ChecklistVersion
from backend.china_time import today_in_china
from backend.inspections.tables import Finding, Inspection
from backend.institutions.tables import Institution
from backend.rectification.tables import RectificationNotice, RectificationTask
from backend.tracking.sql import Query
from backend.tracking.tally import rebuild, split_period
from tests.cli_helpers import run_yibao
from tests.tracking.helpers import BAD, CRITICAL, MILD, City, inspect, make_city, tasks_of

ONE_MORE = {"signage.designated-sign": {"note": "未悬挂定点标识"}}


@pytest.fixture(scope="module")
async def city(client: httpx.AsyncClient, login, demo: None) -> City:
    # Earlier tests move submission days straight in the tables (time passing): recount once,
    # as an operator does after a repair, so that what follows checks the submissions' own writes.
    await rebuild(Actor.system("test"))
    world = await make_city(client, login)
    a, b = world.institutions["a"], world.institutions["b"]
    for county, inst, fail in (
        ("a", a[0], BAD),
        ("a", a[1], CRITICAL),
        ("a", a[2], {**BAD, **ONE_MORE}),
        ("a", a[0], {}),
        ("b", b[0], MILD),
        ("b", b[1], {**MILD, **ONE_MORE}),
    ):
        await inspect(client, world, county, inst, fail)
    return world


def _china_day(at: Any) -> date:
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return (at.astimezone(UTC) + timedelta(hours=8)).date()


async def _raw_answers(inspection_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Every 符合/不符合 answer of submitted inspections, with its China day, region, type and
    checklist, read with the ORM (not the tallies' SQL)."""
    query = Inspection.select(
        Inspection.id, Inspection.institution, Inspection.submitted_at, Inspection.checklist
    ).where(Inspection.status == "submitted")
    if inspection_ids is not None:
        query = query.where(Inspection.id.is_in(inspection_ids))
    inspections = {str(x["id"]): x for x in await query}
    institutions = {
        str(i["id"]): i
        for i in await Institution.select(Institution.id, Institution.region, Institution.type)
    }
    checklists = {
        str(v["id"]): v["checklist_id"]
        for v in await ChecklistVersion.select(ChecklistVersion.id, ChecklistVersion.checklist_id)
    }
    out = []
    for f in await Finding.select(Finding.inspection, Finding.item_id, Finding.result).where(
        Finding.result.is_in(["pass", "fail"])
    ):
        x = inspections.get(str(f["inspection"]))
        if x is None:
            continue
        inst = institutions[str(x["institution"])]
        out.append(
            {
                "day": _china_day(x["submitted_at"]),
                "region": str(inst["region"]),
                "type": inst["type"],
                "checklist_id": checklists[str(x["checklist"])],
                "item_id": f["item_id"],
                "failed": f["result"] == "fail",
            }
        )
    return out


def _top(answers: list[dict[str, Any]], limit: int = 10) -> list[tuple[str, int, int]]:
    """(item, failed, answered) of the most-failed items, as the dashboard orders them."""
    failed: Counter[tuple[str, str]] = Counter()
    answered: Counter[tuple[str, str]] = Counter()
    for a in answers:
        key = (a["checklist_id"], a["item_id"])
        answered[key] += 1
        failed[key] += a["failed"]
    keys = sorted((k for k in answered if failed[k] > 0), key=lambda k: (-failed[k], k))
    return [(f"{k[0]}:{k[1]}", failed[k], answered[k]) for k in keys[:limit]]


async def _dashboard_top(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list:
    response = await client.get("/api/dashboard/details", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [(r["item"], r["failed"], r["answered"]) for r in response.json()["failed_items"]]


async def test_most_failed_items_equal_the_answers_counted_from_the_rows(
    client: httpx.AsyncClient, city: City
) -> None:
    answers = await _raw_answers(city.inspections)
    assert sum(a["failed"] for a in answers) >= 10
    today = today_in_china()
    month_start = today.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    periods = {
        "the current year (whole months)": {},
        "today only (days)": {"from": str(today), "to": str(today)},
        "the current month (one whole month)": {"from": str(month_start), "to": str(month_end)},
        "40 days either side (days, months, days)": {
            "from": str(today - timedelta(days=40)),
            "to": str(today + timedelta(days=40)),
        },
    }
    for name, period in periods.items():
        got = await _dashboard_top(client, city.headers["city"], **period)
        assert got == _top(answers), name
    # A period without submissions has no failed items.
    assert (
        await _dashboard_top(
            client, city.headers["city"], **{"from": "2020-01-01", "to": "2020-12-31"}
        )
        == []
    )

    # Region and type scopes read only their rows.
    county_b = await _raw_answers(city.inspections[4:])  # the two inspections in county b
    assert await _dashboard_top(client, city.headers["b"]) == _top(county_b)
    assert await _dashboard_top(client, city.headers["city"], type="pharmacy") == _top(
        [a for a in answers if a["type"] == "pharmacy"]
    )
    assert await _dashboard_top(client, city.headers["city"], type="hospital") == []


async def _tally_rows(table: str, when: str) -> Counter:
    rows = await Query(
        f"SELECT {when} AS at, region, type, checklist_id, item_id, failed, answered FROM {table}"
    ).rows()
    out: Counter = Counter()
    for r in rows:
        key = (str(r["at"])[:10], str(r["region"]), r["type"], r["checklist_id"], r["item_id"])
        out[(*key, "failed")] += int(r["failed"])
        out[(*key, "answered")] += int(r["answered"])
    return +out


def _expected_rows(answers: list[dict[str, Any]], month: bool) -> Counter:
    out: Counter = Counter()
    for a in answers:
        day = a["day"].replace(day=1) if month else a["day"]
        key = (day.isoformat(), a["region"], a["type"], a["checklist_id"], a["item_id"])
        out[(*key, "failed")] += a["failed"]
        out[(*key, "answered")] += 1
    return +out


async def test_tallies_equal_the_answers_of_every_submitted_inspection(city: City) -> None:
    """Every answer in this database (the demo data's, the other tests', this city's, counted
    here from the raw rows) is in the tallies, once."""
    answers = await _raw_answers()
    assert len(answers) > 100
    assert await _tally_rows("finding_tally_day", "day") == _expected_rows(answers, month=False)
    assert await _tally_rows("finding_tally_month", "month") == _expected_rows(answers, month=True)


async def _inspection_tally_rows(table: str, when: str) -> Counter:
    rows = await Query(
        f"SELECT {when} AS at, region, type, grade, band, inspections, scored, score_sum FROM {table}"
    ).rows()
    out: Counter = Counter()
    for r in rows:
        key = (str(r["at"])[:10], str(r["region"]), r["type"], r["grade"], int(r["band"]))
        out[(*key, "inspections")] += int(r["inspections"])
        out[(*key, "scored")] += int(r["scored"])
        out[(*key, "score_sum")] += Decimal(str(r["score_sum"]))
    return +out


async def _expected_inspection_rows(month: bool) -> Counter:
    institutions = {
        str(i["id"]): i
        for i in await Institution.select(Institution.id, Institution.region, Institution.type)
    }
    out: Counter = Counter()
    for x in await Inspection.select(
        Inspection.institution, Inspection.submitted_at, Inspection.score_total, Inspection.grade
    ).where(Inspection.status == "submitted"):
        day = _china_day(x["submitted_at"])
        day = day.replace(day=1) if month else day
        total = x["score_total"]
        band = -1 if total is None else min(90, int(Decimal(str(total)) // 10 * 10))
        inst = institutions[str(x["institution"])]
        key = (day.isoformat(), str(inst["region"]), inst["type"], x["grade"] or "", band)
        out[(*key, "inspections")] += 1
        out[(*key, "scored")] += total is not None
        out[(*key, "score_sum")] += Decimal(str(total or 0))
    return +out


async def test_inspection_tallies_equal_the_submitted_inspections(city: City) -> None:
    """Counts, grades, score bands and score sums of every submitted inspection in the database,
    by day and by month, as counted here from the raw rows."""
    got = await _inspection_tally_rows("inspection_tally_day", "day")
    assert got == await _expected_inspection_rows(month=False)
    got = await _inspection_tally_rows("inspection_tally_month", "month")
    assert got == await _expected_inspection_rows(month=True)


async def test_rebuild_from_the_command_line_recounts_the_same_rows(city: City) -> None:
    inspections = await _inspection_tally_rows("inspection_tally_month", "month")
    day, month = (
        await _tally_rows("finding_tally_day", "day"),
        await _tally_rows("finding_tally_month", "month"),
    )
    audited = await AuditEvent.count().where(AuditEvent.action == "tracking.tally_rebuild")
    result = run_yibao("tracking", "rebuild")
    assert result.returncode == 0, result.stderr
    assert "看板统计已重建" in result.stdout
    assert await _tally_rows("finding_tally_day", "day") == day
    assert await _tally_rows("finding_tally_month", "month") == month
    assert await _inspection_tally_rows("inspection_tally_month", "month") == inspections
    assert (
        await AuditEvent.count().where(AuditEvent.action == "tracking.tally_rebuild") == audited + 1
    )


@pytest.mark.parametrize(
    ("start", "end", "months", "edges"),
    [
        ("2026-01-01", "2026-12-31", ("2026-01-01", "2027-01-01"), []),
        ("2026-03-15", "2026-03-20", None, [("2026-03-15", "2026-03-20")]),
        (
            "2026-03-15",
            "2026-06-10",
            ("2026-04-01", "2026-06-01"),
            [("2026-03-15", "2026-03-31"), ("2026-06-01", "2026-06-10")],
        ),
        ("2026-03-01", "2026-03-31", ("2026-03-01", "2026-04-01"), []),
        ("2026-03-02", "2026-04-30", ("2026-04-01", "2026-05-01"), [("2026-03-02", "2026-03-31")]),
        ("2025-12-31", "2026-01-01", None, [("2025-12-31", "2026-01-01")]),
    ],
)
def test_a_period_splits_into_whole_months_and_days(start, end, months, edges) -> None:
    d = date.fromisoformat
    got_months, got_edges = split_period(d(start), d(end))
    assert got_months == (tuple(map(d, months)) if months else None)
    assert got_edges == [(d(a), d(b)) for a, b in edges]


async def _task_tally_rows() -> Counter:
    rows = await Query(
        "SELECT day, region, type, notice_status, task_status, deadline, answered_late, tasks"
        " FROM task_tally"
    ).rows()
    out: Counter = Counter()
    for r in rows:
        key = (
            str(r["day"])[:10],
            str(r["region"]),
            r["type"],
            r["notice_status"],
            r["task_status"],
            str(r["deadline"])[:10],
            int(r["answered_late"]),
        )
        out[key] += int(r["tasks"])
    return +out


async def _expected_task_rows() -> Counter:
    """Every task of every issued notice, keyed as the task tally keys it, from the raw rows."""
    institutions = {
        str(i["id"]): i
        for i in await Institution.select(Institution.id, Institution.region, Institution.type)
    }
    notices = {
        str(n["id"]): n
        for n in await RectificationNotice.select(
            RectificationNotice.id,
            RectificationNotice.institution,
            RectificationNotice.status,
            RectificationNotice.issued_at,
        ).where(RectificationNotice.issued_at.is_not_null())
    }
    out: Counter = Counter()
    for t in await RectificationTask.select(
        RectificationTask.notice,
        RectificationTask.status,
        RectificationTask.deadline,
        RectificationTask.answered_at,
    ):
        n = notices.get(str(t["notice"]))
        if n is None:
            continue  # a draft notice: not issued, not counted
        inst = institutions[str(n["institution"])]
        deadline = (
            t["deadline"]
            if isinstance(t["deadline"], date)
            else date.fromisoformat(str(t["deadline"]))
        )
        late = t["answered_at"] is None or _china_day(t["answered_at"]) > deadline
        key = (
            _china_day(n["issued_at"]).isoformat(),
            str(inst["region"]),
            inst["type"],
            n["status"],
            t["status"],
            deadline.isoformat(),
            int(late),
        )
        out[key] += 1
    return +out


async def test_task_tally_follows_every_change_of_tasks_and_notices(city: City) -> None:
    """The triggers keep the task tally equal to the raw rows whatever writes them: the sync's
    notices and tasks, the other tests' rectification flows, and changes made straight here."""
    assert await _task_tally_rows() == await _expected_task_rows()
    tasks = await tasks_of(city.inspections)
    assert len(tasks) >= 4
    today = today_in_china()
    # Time passes, a report arrives late, a task is accepted, a notice is closed.
    await RectificationTask.update({RectificationTask.deadline: today - timedelta(days=3)}).where(
        RectificationTask.id == tasks[0]["id"]
    )
    await RectificationTask.update(
        {RectificationTask.status: "answered", RectificationTask.answered_at: datetime.now(UTC)}
    ).where(RectificationTask.id == tasks[1]["id"])
    await RectificationTask.update({RectificationTask.status: "accepted"}).where(
        RectificationTask.id == tasks[2]["id"]
    )
    await RectificationNotice.update({RectificationNotice.status: "closed"}).where(
        RectificationNotice.id == tasks[3]["notice"]
    )
    assert await _task_tally_rows() == await _expected_task_rows()
