"""医保医师记分告知书 through the real API: a notice that deducts points from two physicians has a
printable document (HTML and PDF) naming them with the item, its basis, the points, the year's
remaining points and status and the objection deadline; the region's staff and the institution's
own manager read it, anyone else gets 404."""

from __future__ import annotations

import subprocess
import uuid
from datetime import date

import httpx

from backend.rules.tables import PhysicianPointEvent
from tests.inspections.helpers import push
from tests.rectification.helpers import PASSWORD, notice_of
from tests.rectification.test_documents import _need
from tests.rules.test_points_api import ITEM, _clinic, _record


async def _manager(client: httpx.AsyncClient, login, code: str) -> dict[str, str]:
    username = f"mgr{uuid.uuid4().hex[:8]}"
    created = await client.post("/api/admin/users", headers=await login("admin"), json={
        "username": username, "password": PASSWORD, "role": "manager",
        "institution_code": code, "display_name": "负责人"})
    assert created.status_code == 201, created.text
    return await login(username, PASSWORD)


async def test_points_document_content_and_scopes(client: httpx.AsyncClient, login, tmp_path) -> None:
    institution_id, code, doctors = await _clinic(2)
    inspector, record = await _record(client, login, code, {ITEM: {"physician_ids": doctors}})
    result = (await push(client, inspector, [record])).json()["results"][0]
    assert result["inspection_status"] == "submitted", result
    supervisor = await login("supervisor")
    notice = await notice_of(client, supervisor, record["id"])
    task = next(t for t in notice["tasks"] if t["item_id"] == ITEM)
    # A third deduction of the year on the first physician (another inspection) brings them to
    # the suspension threshold: the document shows the year's standing, not only this notice's.
    first = await PhysicianPointEvent.select().where(
        PhysicianPointEvent.physician == doctors[0]).first()
    await PhysicianPointEvent(
        id=uuid.uuid4(), physician=doctors[0], institution=institution_id,
        inspection=first["inspection"], finding_id=uuid.uuid4(), item_id="other.item", points=7,
        year=first["year"], occurred_on=first["occurred_on"], effective_on=first["effective_on"],
    ).save()

    summary = await client.get(f"/api/rectification/notices/{notice['id']}/deductions", headers=supervisor)
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert body["notice_number"] == notice["number"]
    assert body["objection_deadline"] == notice["objection_deadline"]
    people = {p["id"]: p for p in body["physicians"]}
    assert set(people) == set(doctors)
    assert [(d["seq"], d["points"], d["item_text"]) for d in people[doctors[1]]["deductions"]] == [
        (task["seq"], 2, task["item_text"])]
    assert (people[doctors[1]]["points"], people[doctors[1]]["remaining"], people[doctors[1]]["status"]) == (2, 10, "active")
    suspended = people[doctors[0]]
    assert (suspended["points"], suspended["deducted"], suspended["remaining"]) == (2, 9, 3)
    assert suspended["status"] == "suspended" and suspended["suspended_until"]
    assert suspended["status_text"].startswith("暂停医保医师资格至")

    page = await client.get(body["document_url"], headers=supervisor)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "医保医师记分告知书" in text and notice["number"] in text
    assert notice["institution"]["name"] in text
    assert "医师0" in text and "医师1" in text
    assert task["item_text"] in text and task["basis"] in text
    assert "本次记 2 分" in text
    assert "剩余 10 分" in text and "剩余 3 分" in text and "暂停医保医师资格至" in text
    deadline = date.fromisoformat(notice["objection_deadline"])
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日前" in text
    assert "10 个工作日" in text and "通过你单位" in text

    pdf = await client.get(body["pdf_url"], headers=supervisor)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "points.pdf"
    path.write_bytes(pdf.content)
    words = subprocess.run([_need("pdftotext"), "-enc", "UTF-8", str(path), "-"],
                           capture_output=True, text=True, check=True).stdout.replace("\n", "")
    assert "医保医师记分告知书" in words and "医师1" in words and "剩余 10 分" in words

    # The institution's own manager reads it; another institution's manager and a foreign
    # county's staff get 404, as for a notice that does not exist.
    manager = await _manager(client, login, code)
    assert (await client.get(body["document_url"], headers=manager)).status_code == 200
    assert (await client.get(f"/api/rectification/notices/{notice['id']}/deductions",
                             headers=manager)).json()["physicians"]
    for outsider in ("manager.wendeng", "inspector3"):
        hidden = await client.get(body["document_url"], headers=await login(outsider))
        assert hidden.status_code == 404 and "管辖范围" in hidden.json()["detail"]

    # Once the objection is upheld the deduction shows as withdrawn and no longer counts.
    objected = await client.post(f"/api/rectification/tasks/{task['id']}/objection",
                                 json={"reason": "处方已签名"}, headers=manager)
    assert objected.status_code in (200, 201), objected.text
    decided = await client.post(f"/api/rectification/tasks/{task['id']}/objection/decision",
                                json={"decision": "upheld", "comment": "属实"}, headers=supervisor)
    assert decided.status_code in (200, 201), decided.text
    after = (await client.get(f"/api/rectification/notices/{notice['id']}/deductions",
                              headers=supervisor)).json()
    second = next(p for p in after["physicians"] if p["id"] == doctors[1])
    assert (second["points"], second["remaining"]) == (0, 12)
    assert second["deductions"][0]["reversed_on"]
    assert "因异议成立撤销" in (await client.get(body["document_url"], headers=supervisor)).text


async def test_a_notice_without_deductions_has_an_empty_document(client: httpx.AsyncClient, login) -> None:
    _, code, _ = await _clinic(1)
    inspector, record = await _record(client, login, code, {"physicians.unqualified": {}})
    assert (await push(client, inspector, [record])).json()["results"][0]["inspection_status"] == "submitted"
    supervisor = await login("supervisor")
    notice = await notice_of(client, supervisor, record["id"])
    body = (await client.get(f"/api/rectification/notices/{notice['id']}/deductions", headers=supervisor)).json()
    assert body["physicians"] == []
    page = await client.get(body["document_url"], headers=supervisor)
    assert page.status_code == 200 and "本通知书未对医保医师记分" in page.text
    missing = await client.get(f"/api/rectification/notices/{uuid.uuid4()}/physician-points", headers=supervisor)
    assert missing.status_code == 404
