"""Physician points and the annual assessment through the real API: a finding names two
physicians, the notice deducts from both, an upheld objection gives the points back, the 2% rule
and the assessment read from the database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx

from backend.inspections.tables import Inspection
from backend.institutions.tables import Institution, InstitutionType, Physician, Region
from backend.rules.points import credit_rating, points_of
from backend.rules.tables import PhysicianPointEvent
from tests.inspections.helpers import complete_inspection, new_assignment, push, user_id
from tests.rectification.helpers import PASSWORD, notice_of

ITEM = "physicians.rx-signature"  # clinic checklist, 2 points


async def _clinic(n_physicians: int = 2) -> tuple[str, str, list[str]]:
    region = await Region.select(Region.id).where(Region.code == "371002").first()
    code = f"R{uuid.uuid4().hex[:10].upper()}"
    inst = Institution(code=code, name=f"测试诊所{code[-4:]}", type=InstitutionType.clinic.value,
                       region=region["id"])
    await inst.save()
    rows = [
        Physician(id=uuid.uuid4(), institution=inst.id, name=f"医师{i}",
                  certificate_no=f"C{uuid.uuid4().hex[:14]}")
        for i in range(n_physicians)
    ]
    await Physician.insert(*rows)
    return str(inst.id), code, [str(p.id) for p in rows]


async def _record(client, login, code: str, fail: dict, **kw):
    inspector = await login("inspector")
    team = [await user_id(client, inspector), await user_id(client, await login("inspector2"))]
    assignment = await new_assignment(client, await login("supervisor"), code, team, "clinic-routine")
    return inspector, await complete_inspection(client, inspector, assignment, fail=fail, **kw)


async def test_naming_physicians_is_checked(client: httpx.AsyncClient, login) -> None:
    _, code, doctors = await _clinic()
    _, _, strangers = await _clinic(1)
    inspector, record = await _record(client, login, code, {}, submit=False)
    for finding in record["findings"]:
        if finding["item"] == ITEM:
            finding["physician_ids"] = [doctors[0]]  # on a passed item
        if finding["item"] == "physicians.unqualified":
            finding.update(result="fail", physician_ids=strangers)  # another clinic's physician
    result = (await push(client, inspector, [record])).json()["results"][0]
    assert result["http_status"] == 422, result
    problems = "\n".join(result["problems"])
    assert "只有不符合的检查项才能指定涉及的医师" in problems
    assert "所选医师不是本机构的医保医师" in problems


async def test_deductions_follow_the_notice_and_the_objection(
    client: httpx.AsyncClient, login
) -> None:
    institution_id, code, doctors = await _clinic()
    inspector, record = await _record(client, login, code, {ITEM: {"physician_ids": doctors}})
    result = (await push(client, inspector, [record])).json()["results"][0]
    assert result["inspection_status"] == "submitted", (result["message"], result["problems"], result["missing_photos"])
    year = date.today().year
    supervisor = await login("supervisor")
    for doctor in doctors:
        response = await client.get(f"/api/physicians/{doctor}/points", params={"year": year},
                                    headers=supervisor)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["initial"], body["deducted"], body["remaining"]) == (12, 2, 10)
        assert body["status"] == "active" and body["suspended_until"] is None
        assert [(e["points"], e["item_id"]) for e in body["events"]] == [(2, ITEM)]
        assert body["events"][0]["inspection_id"] == record["id"]
    # Another year shows nothing deducted.
    other = (await client.get(f"/api/physicians/{doctors[0]}/points", params={"year": year - 1},
                              headers=supervisor)).json()
    assert other["deducted"] == 0 and other["events"] == []

    # The manager objects, the supervisor upholds: both physicians get their points back.
    username = f"mgr{uuid.uuid4().hex[:8]}"
    created = await client.post("/api/admin/users", headers=await login("admin"), json={
        "username": username, "password": PASSWORD, "role": "manager",
        "institution_code": code, "display_name": "负责人"})
    assert created.status_code == 201, created.text
    manager = await login(username, PASSWORD)
    # A manager reads their own physicians; an outsider's physician is hidden (404).
    assert (await client.get(f"/api/physicians/{doctors[0]}/points", headers=manager)).status_code == 200
    _, _, foreign = await _clinic(1)
    assert (await client.get(f"/api/physicians/{foreign[0]}/points", headers=manager)).status_code == 404
    notice = await notice_of(client, supervisor, record["id"])
    task = next(t for t in notice["tasks"] if t["item_id"] == ITEM)
    objected = await client.post(f"/api/rectification/tasks/{task['id']}/objection",
                                 json={"reason": "处方已签名，系扫描遗漏"}, headers=manager)
    assert objected.status_code in (200, 201), objected.text
    decided = await client.post(f"/api/rectification/tasks/{task['id']}/objection/decision",
                                json={"decision": "upheld", "comment": "核实属实"}, headers=supervisor)
    assert decided.status_code in (200, 201), decided.text
    body = (await client.get(f"/api/physicians/{doctors[1]}/points", headers=supervisor)).json()
    assert (body["deducted"], body["remaining"], body["events"]) == (0, 12, [])


async def test_suspension_is_recorded_and_audited(database: None) -> None:
    _, _, doctors = await _clinic(1)
    institution = (await Physician.select(Physician.institution).where(
        Physician.id == doctors[0]).first())["institution"]
    inspection = await Inspection.select(Inspection.id).first()
    for points, day in ((5, date(2026, 3, 2)), (4, date(2026, 3, 9))):
        await PhysicianPointEvent(
            id=uuid.uuid4(), physician=doctors[0], institution=institution,
            inspection=inspection["id"], finding_id=uuid.uuid4(), item_id=ITEM, points=points,
            year=2026, occurred_on=day, effective_on=day,
        ).save()
    during = await points_of(uuid.UUID(doctors[0]), 2026, date(2026, 4, 1))
    assert (during["status"], during["suspended_until"]) == ("suspended", date(2026, 6, 8))
    row = await Physician.select(Physician.status, Physician.year_points).where(
        Physician.id == doctors[0]).first()
    assert row == {"status": "suspended", "year_points": 3}
    after = await points_of(uuid.UUID(doctors[0]), 2026, date(2026, 6, 9))
    assert after["status"] == "active"
    from backend.audit.tables import AuditEvent

    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.entity_id == doctors[0]).order_by(AuditEvent.id)]
    assert actions.count("physician.suspend") == 1 and actions.count("physician.restore") == 1


async def _penalise(institution: str, doctors: list[str], year: int) -> None:
    inspection = await Inspection.select(Inspection.id).first()
    for doctor in doctors:
        await PhysicianPointEvent(
            id=uuid.uuid4(), physician=doctor, institution=institution,
            inspection=inspection["id"], finding_id=uuid.uuid4(), item_id=ITEM, points=1,
            year=year, occurred_on=date(year, 5, 1), effective_on=date(year, 5, 1),
        ).save()


async def test_the_two_percent_rule_marks_exactly_the_right_institutions(database: None) -> None:
    small_one, _, small_one_docs = await _clinic(10)  # 1 penalised of 10: not above 1
    small_two, _, small_two_docs = await _clinic(10)  # 2 of 10: excluded
    big_two, _, big_two_docs = await _clinic(100)  # 2 of 100 = 2%: not above
    big_three, _, big_three_docs = await _clinic(100)  # 3 of 100: excluded
    await _penalise(small_one, small_one_docs[:1], 2031)
    await _penalise(small_two, small_two_docs[:2], 2031)
    await _penalise(big_two, big_two_docs[:2], 2031)
    await _penalise(big_three, big_three_docs[:3], 2031)
    await _penalise(small_one, small_one_docs[1:3], 2030)  # another year does not count
    got = {i: (await credit_rating(uuid.UUID(i), 2031))["excluded"]
           for i in (small_one, small_two, big_two, big_three)}
    assert got == {small_one: False, small_two: True, big_two: False, big_three: True}
    assert (await credit_rating(uuid.UUID(small_one), 2030))["excluded"] is True


async def test_assessment_mean_grade_amount_and_reinspections_excluded(
    client: httpx.AsyncClient, login
) -> None:
    institution_id, code, doctors = await _clinic(10)
    ids = []
    for _ in range(3):
        inspector, record = await _record(client, login, code, {})
        assert (await push(client, inspector, [record])).json()["results"][0]["inspection_status"] == "submitted"
        ids.append(record["id"])
    # Control the totals and the year (official totals are one decimal).
    for inspection_id, total in zip(ids, ("90.0", "90.1", "10.0"), strict=True):
        await Inspection.update({Inspection.score_total: Decimal(total),
                                 Inspection.submitted_at: datetime(2032, 3, 1, 2, tzinfo=UTC)}).where(
            Inspection.id == inspection_id)
    # The third is a 复查: not averaged.
    from backend.inspections.tables import Assignment

    third = await Inspection.select(Inspection.assignment).where(Inspection.id == ids[2]).first()
    await Assignment.update({Assignment.kind: "reinspection"}).where(
        Assignment.id == third["assignment"])
    await _penalise(institution_id, doctors[:2], 2032)
    response = await client.get(f"/api/institutions/{institution_id}/assessment",
                                params={"year": 2032}, headers=await login("supervisor"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert Decimal(str(body["score"])) == Decimal("90.1")  # 90.05 rounded half up
    assert body["grade"] == "优秀"
    assert Decimal(str(body["amount"])) == Decimal("100")
    assert body["credit_rating_excluded"] is True and "2032年度信用等级评定" in body["reasons"][0]
    bad = await client.get(f"/api/institutions/{institution_id}/assessment",
                           params={"year": 1800}, headers=await login("supervisor"))
    assert bad.status_code == 422 and "年份" in bad.json()["detail"]
    other = await client.get(f"/api/institutions/{institution_id}/assessment",
                             headers=await login("manager.wendeng"))
    assert other.status_code == 404  # another institution's manager: as if it did not exist
