"""The institutions API: tenancy per role, filters, physicians, QR code and posters, token
rotation, scan resolution, and the admin's audited changes.

The database is shared by the whole run: tests that change an institution use one that no other
test touches, and tests that read count only what the demo data guarantees.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image

from backend.accounts.tables import User
from backend.audit.services import Actor, history
from backend.checklists.tables import ChecklistVersion
from backend.db import write_transaction
from backend.demo import INSTITUTIONS
from backend.inspections.tables import Assignment, AssignmentInspector, AssignmentStatus
from backend.institutions import qr, services
from backend.institutions.tables import Institution

NOT_VISIBLE = "机构不存在或不在您的管辖范围内"
COUNTIES = {"371002", "371003", "371082"}
HUANCUI = {name for name, _kind, _level, county in INSTITUTIONS if county == "371002"}
ALL_DEMO = {name for name, *_ in INSTITUTIONS}


async def _institution(name: str) -> dict[str, Any]:
    row = await Institution.select().where(Institution.name == name).first()
    assert row is not None, name
    return row


async def _list(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict:
    response = await client.get(
        "/api/institutions", params={"limit": 500, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def _decode(png: bytes) -> str:
    codes = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)).convert("L"), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert len(codes) == 1
    return codes[0].text


async def test_every_route_needs_a_token(client: httpx.AsyncClient, demo: None) -> None:
    inst = await _institution("威海海滨人民医院")
    base = f"/api/institutions/{inst['id']}"
    for method, path in [
        ("GET", "/api/institutions"),
        ("GET", base),
        ("GET", f"{base}/physicians"),
        ("GET", f"{base}/qr.png"),
        ("GET", f"{base}/poster"),
        ("GET", f"{base}/poster.png"),
        ("POST", f"{base}/qr-token/rotate"),
        ("GET", f"/api/institutions/by-qr/{inst['qr_token']}"),
        ("PATCH", base),
    ]:
        response = await client.request(
            method, path, json={"level": "一级"} if method == "PATCH" else None
        )
        assert response.status_code == 401, (method, path)
        assert response.json()["detail"] == "未登录或登录已失效，请重新登录"
    assert (await _institution("威海海滨人民医院"))["level"] == "三级甲等"


async def test_inspector_sees_only_their_county(client: httpx.AsyncClient, login) -> None:
    page = await _list(client, await login("inspector"))
    items = page["items"]
    assert {i["region_code"] for i in items} == {"371002"}
    assert {i["region_name"] for i in items} == {"环翠区"}
    assert HUANCUI <= {i["name"] for i in items}
    assert page["total"] == len(items)
    hospital = next(i for i in items if i["name"] == "威海海滨人民医院")
    assert hospital["code"] == "H37100200001"
    assert hospital["type"] == "hospital" and hospital["type_label"] == "定点医院"
    assert hospital["level"] == "三级甲等"
    assert hospital["agreement_status"] == "normal"
    assert hospital["agreement_status_label"] == "正常"
    assert hospital["address"].startswith("山东省威海市环翠区")
    assert hospital["contact_name"] and hospital["contact_phone"].startswith("0631-")
    assert hospital["updated_at"]
    assert hospital["qr_token"] == (await _institution("威海海滨人民医院"))["qr_token"]


async def test_supervisors_see_their_region_and_the_counties_under_it(
    client: httpx.AsyncClient, login
) -> None:
    city = await _list(client, await login("supervisor"))
    assert {i["region_code"] for i in city["items"]} == COUNTIES
    assert ALL_DEMO <= {i["name"] for i in city["items"]}
    assert all(i["qr_token"] for i in city["items"])
    county = await _list(client, await login("supervisor.huancui"))
    assert {i["region_code"] for i in county["items"]} == {"371002"}
    wendeng = await _list(client, await login("inspector3"))
    assert {i["region_code"] for i in wendeng["items"]} == {"371003"}


async def test_a_manager_sees_exactly_their_own_institution_without_its_token(
    client: httpx.AsyncClient, login
) -> None:
    for username, name in [("manager", "威海海滨人民医院"), ("manager.wendeng", "文登区利民药店")]:
        headers = await login(username)
        page = await _list(client, headers)
        assert [i["name"] for i in page["items"]] == [name] and page["total"] == 1
        assert page["items"][0]["qr_token"] is None
        own = await _institution(name)
        one = await client.get(f"/api/institutions/{own['id']}", headers=headers)
        assert one.status_code == 200 and one.json()["qr_token"] is None
        assert own["qr_token"] not in one.text and own["qr_token"] not in str(page)
    other = await _institution("环翠区康宁骨科医院")
    response = await client.get(f"/api/institutions/{other['id']}", headers=await login("manager"))
    assert response.status_code == 404 and response.json()["detail"] == NOT_VISIBLE


async def test_the_admin_sees_every_institution(client: httpx.AsyncClient, login) -> None:
    page = await _list(client, await login("admin"))
    assert ALL_DEMO <= {i["name"] for i in page["items"]}
    assert page["total"] == await Institution.count()
    assert COUNTIES <= {i["region_code"] for i in page["items"]}


async def test_filters_and_pages(client: httpx.AsyncClient, login) -> None:
    inspector, supervisor = await login("inspector"), await login("supervisor")
    pharmacies = await _list(client, inspector, type="pharmacy")
    assert pharmacies["items"] and {i["type"] for i in pharmacies["items"]} == {"pharmacy"}
    assert {i["type_label"] for i in pharmacies["items"]} == {"定点零售药店"}
    assert {i["region_code"] for i in pharmacies["items"]} == {"371002"}

    wendeng = await _list(client, supervisor, region="371003")
    assert wendeng["items"] and {i["region_code"] for i in wendeng["items"]} == {"371003"}
    whole_city = await _list(client, supervisor, region="371000")
    assert {i["region_code"] for i in whole_city["items"]} == COUNTIES
    # Another region than one's own filters down to nothing, it does not widen the tenancy.
    assert (await _list(client, inspector, region="371003"))["items"] == []

    by_name = await _list(client, supervisor, q="仁和")
    assert {i["name"] for i in by_name["items"]} == {"环翠区仁和诊所"}
    by_code = await _list(client, supervisor, q="h37100200001")  # case does not matter
    assert [i["code"] for i in by_code["items"]] == ["H37100200001"]
    assert (await _list(client, supervisor, q="%"))["items"] == []  # taken literally
    assert (await _list(client, supervisor, q="_"))["items"] == []
    clinics = await _list(client, supervisor, type="tcm_clinic", region="371082", q="杏春")
    assert [i["name"] for i in clinics["items"]] == ["荣成市杏春中医诊所"]
    normal = await _list(client, supervisor, agreement_status="normal")
    assert normal["items"] and {i["agreement_status"] for i in normal["items"]} == {"normal"}

    first = await _list(client, supervisor, limit=5)
    second = await _list(client, supervisor, limit=5, offset=5)
    assert len(first["items"]) == len(second["items"]) == 5
    assert first["total"] == second["total"] >= 30
    assert first["limit"] == 5 and second["offset"] == 5
    codes = [i["code"] for i in first["items"] + second["items"]]
    assert codes == sorted(codes) and len(set(codes)) == 10
    default = await client.get("/api/institutions", headers=supervisor)
    assert default.json()["limit"] == 100

    for params, field in [
        ({"type": "hotel"}, "type"),
        ({"agreement_status": "closed"}, "agreement_status"),
        ({"region": "999999"}, "region"),
        ({"limit": 501}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
    ]:
        response = await client.get("/api/institutions", params=params, headers=supervisor)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["extra"] == {"field": field}
        assert response.json()["detail"]
    hotel = await client.get("/api/institutions", params={"type": "hotel"}, headers=supervisor)
    assert "机构类型" in hotel.json()["detail"] and "pharmacy" in hotel.json()["detail"]
    malformed = await client.get("/api/institutions", params={"limit": "many"}, headers=supervisor)
    assert malformed.status_code == 400


async def test_one_institution_within_the_tenancy_only(client: httpx.AsyncClient, login) -> None:
    inspector = await login("inspector")
    own = await _institution("威海海滨人民医院")
    response = await client.get(f"/api/institutions/{own['id']}", headers=inspector)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "威海海滨人民医院" and body["physician_count"] == 6
    assert body["qr_token"] == own["qr_token"] and body["region_name"] == "环翠区"

    foreign = await _institution("文登区第二人民医院")
    outside = await client.get(f"/api/institutions/{foreign['id']}", headers=inspector)
    unknown = await client.get(f"/api/institutions/{uuid.uuid4()}", headers=inspector)
    assert outside.status_code == unknown.status_code == 404
    assert outside.json() == unknown.json()
    assert outside.json()["detail"] == NOT_VISIBLE
    city = await client.get(f"/api/institutions/{foreign['id']}", headers=await login("supervisor"))
    assert city.status_code == 200 and city.json()["region_code"] == "371003"
    assert (await client.get("/api/institutions/not-a-uuid", headers=inspector)).status_code in (
        400,
        404,
    )


async def test_physicians_of_an_institution(client: httpx.AsyncClient, login) -> None:
    hospital = await _institution("威海海滨人民医院")
    response = await client.get(
        f"/api/institutions/{hospital['id']}/physicians", headers=await login("manager")
    )
    assert response.status_code == 200, response.text
    physicians = response.json()
    assert len(physicians) == 6
    first = physicians[0]
    assert set(first) >= {
        "id",
        "name",
        "certificate_no",
        "insurance_code",
        "title",
        "department",
        "status",
        "status_label",
        "year_points",
        "registered_on",
    }
    assert all(
        p["certificate_no"] and p["insurance_code"].startswith("D371002") for p in physicians
    )
    assert {p["status"] for p in physicians} == {"active"}
    assert {p["status_label"] for p in physicians} == {"正常"}
    assert {p["year_points"] for p in physicians} == {12}

    pharmacy = await _institution("环翠区安和药店")
    none = await client.get(
        f"/api/institutions/{pharmacy['id']}/physicians", headers=await login("inspector")
    )
    assert none.status_code == 200 and none.json() == []
    foreign = await client.get(
        f"/api/institutions/{hospital['id']}/physicians", headers=await login("inspector3")
    )
    assert foreign.status_code == 404 and foreign.json()["detail"] == NOT_VISIBLE


async def test_the_qr_code_holds_the_institutions_token(client: httpx.AsyncClient, login) -> None:
    inst = await _institution("环翠区杏林口腔诊所")
    path = f"/api/institutions/{inst['id']}/qr.png"
    for username in ("inspector", "supervisor", "admin"):
        response = await client.get(path, headers=await login(username))
        assert response.status_code == 200, (username, response.text)
        assert response.headers["content-type"] == "image/png"
        assert response.headers["cache-control"] == "no-store"
        text = _decode(response.content)
        assert text == f"http://testserver/s/{inst['qr_token']}"
        assert qr.parse_qr_payload(text) == inst["qr_token"]
    manager = await client.get(path, headers=await login("manager.clinic"))
    assert manager.status_code == 403 and "仅限" in manager.json()["detail"]
    foreign = await client.get(path, headers=await login("inspector5"))
    assert foreign.status_code == 404 and foreign.json()["detail"] == NOT_VISIBLE


async def test_the_html_poster(client: httpx.AsyncClient, login) -> None:
    inst = await _institution("环翠区海岸社区诊所")
    path = f"/api/institutions/{inst['id']}/poster"
    response = await client.get(path, headers=await login("inspector2"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "环翠区海岸社区诊所" in page and inst["code"] in page
    assert "威海市医疗保障局" in page and "定点诊所" in page and "环翠区" in page
    today = services.today_in_china()
    assert f"{today.year}年{today.month}月{today.day}日" in page
    assert "data:image/png;base64," in page
    assert (await client.get(path, headers=await login("manager"))).status_code == 403
    assert (await client.get(path, headers=await login("inspector3"))).status_code == 404


async def test_the_png_poster(client: httpx.AsyncClient, login, monkeypatch) -> None:
    inst = await _institution("荣成市同心全科诊所")
    path = f"/api/institutions/{inst['id']}/poster.png"
    headers = await login("inspector6")
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == qr.POSTER_SIZE_PX
    assert qr.parse_qr_payload(_decode(response.content)) == inst["qr_token"]
    assert (await client.get(path, headers=await login("manager"))).status_code == 403

    monkeypatch.setenv("YIBAO_CJK_FONT", "/nonexistent/font.ttc")
    missing = await client.get(path, headers=headers)
    assert missing.status_code == 503
    assert "中文字体" in missing.json()["detail"]


async def test_rotating_the_qr_token(client: httpx.AsyncClient, login) -> None:
    inst = await _institution("荣成市天润大药房")
    old = inst["qr_token"]
    scanner = await login("inspector5")
    assert (await client.get(f"/api/institutions/by-qr/{old}", headers=scanner)).status_code == 200
    path = f"/api/institutions/{inst['id']}/qr-token/rotate"
    for username in ("supervisor", "inspector5", "manager"):
        refused = await client.post(path, headers=await login(username))
        assert refused.status_code == 403, username
    assert (await _institution("荣成市天润大药房"))["qr_token"] == old

    response = await client.post(path, headers=await login("admin"))
    assert response.status_code == 200, response.text
    new = response.json()["qr_token"]
    assert new and new != old and qr.is_valid_token(new)
    after = await _institution("荣成市天润大药房")
    assert after["qr_token"] == new and after["updated_at"] > inst["updated_at"]

    gone = await client.get(f"/api/institutions/by-qr/{old}", headers=scanner)
    assert gone.status_code == 404 and gone.json()["detail"] == NOT_VISIBLE
    found = await client.get(f"/api/institutions/by-qr/{new}", headers=scanner)
    assert found.status_code == 200 and found.json()["id"] == str(inst["id"])
    png = await client.get(f"/api/institutions/{inst['id']}/qr.png", headers=scanner)
    assert qr.parse_qr_payload(_decode(png.content)) == new

    events = [
        e
        for e in await history("institution", inst["id"])
        if e["action"] == "institution.rotate_qr"
    ]
    assert len(events) == 1
    event = events[0]
    assert event["actor_username"] == "admin"
    assert event["before"]["qr_token_sha256"] != event["after"]["qr_token_sha256"]
    assert old not in str(event) and new not in str(event)

    unknown = await client.post(
        f"/api/institutions/{uuid.uuid4()}/qr-token/rotate", headers=await login("admin")
    )
    assert unknown.status_code == 404


@pytest.fixture
async def scan_assignments(demo: None) -> AsyncIterator[dict[str, Any]]:
    """Assignments of 环翠区德仁堂药店 (no other test uses it): one planned for inspector and
    inspector2, one cancelled for both, one in progress for inspector2 alone; removed after."""
    inst = await _institution("环翠区德仁堂药店")
    inspector = await User.select(User.id).where(User.username == "inspector").first()
    inspector2 = await User.select(User.id).where(User.username == "inspector2").first()
    checklist = (
        await ChecklistVersion.select(ChecklistVersion.id, ChecklistVersion.version)
        .where(ChecklistVersion.checklist_id == "pharmacy-routine")
        .first()
    )
    created: list[Any] = []

    async def assignment(status: AssignmentStatus, team: list[dict[str, Any]]) -> Any:
        row = Assignment(
            institution=inst["id"],
            checklist=checklist["id"],
            window_start=date.today(),
            window_end=date.today() + timedelta(days=5),
            status=status.value,
        )
        await row.save()
        created.append(row.id)
        for member in team:
            await AssignmentInspector(assignment=row.id, inspector=member["id"]).save()
        return row.id

    try:
        yield {
            "institution": inst,
            "checklist_version": checklist["version"],
            "planned": await assignment(AssignmentStatus.planned, [inspector, inspector2]),
            "cancelled": await assignment(AssignmentStatus.cancelled, [inspector, inspector2]),
            "others": await assignment(AssignmentStatus.in_progress, [inspector2]),
        }
    finally:
        await AssignmentInspector.delete().where(AssignmentInspector.assignment.is_in(created))
        await Assignment.delete().where(Assignment.id.is_in(created))


async def test_resolving_a_scanned_code(
    client: httpx.AsyncClient, login, scan_assignments: dict[str, Any]
) -> None:
    inst = scan_assignments["institution"]
    planned, others = scan_assignments["planned"], scan_assignments["others"]
    today = date.today()

    path = f"/api/institutions/by-qr/{inst['qr_token']}"
    response = await client.get(path, headers=await login("inspector"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == str(inst["id"]) and body["name"] == "环翠区德仁堂药店"
    assert body["qr_token"] == inst["qr_token"] and body["physician_count"] == 0
    assert body["type_label"] == "定点零售药店"
    # Other tests may plan assignments here too (the suite shares one database): look at ours.
    ids = [a["id"] for a in body["open_assignments"]]
    assert str(planned) in ids
    assert str(others) not in ids and str(scan_assignments["cancelled"]) not in ids
    opened = next(a for a in body["open_assignments"] if a["id"] == str(planned))
    assert opened["checklist_id"] == "pharmacy-routine"
    assert opened["checklist_version"] == scan_assignments["checklist_version"]
    assert opened["status"] == "planned" and opened["window_start"] == today.isoformat()
    second = (await client.get(path, headers=await login("inspector2"))).json()
    assert {str(planned), str(others)} <= {a["id"] for a in second["open_assignments"]}

    unknown = await client.get(
        f"/api/institutions/by-qr/{'A' * 32}", headers=await login("inspector")
    )
    foreign = await client.get(path, headers=await login("inspector3"))
    malformed = await client.get("/api/institutions/by-qr/abc", headers=await login("inspector"))
    bad_chars = await client.get(
        "/api/institutions/by-qr/" + "a" * 20 + "%21", headers=await login("inspector")
    )
    for answer in (unknown, foreign, malformed, bad_chars):
        assert answer.status_code == 404
        assert answer.json() == {"status_code": 404, "detail": NOT_VISIBLE}
    for username in ("manager.pharmacy", "supervisor", "supervisor.huancui", "admin"):
        refused = await client.get(path, headers=await login(username))
        assert refused.status_code == 403, username
        assert "检查人员" in refused.json()["detail"]


async def test_the_admin_changes_an_institution_audited(client: httpx.AsyncClient, login) -> None:
    inst = await _institution("文登区颐和堂大药房")
    path = f"/api/institutions/{inst['id']}"
    admin = await login("admin")

    async def events() -> list[dict[str, Any]]:
        return await history("institution", inst["id"])

    for username in ("supervisor", "inspector3", "manager.wendeng"):
        refused = await client.patch(
            path, json={"agreement_status": "suspended"}, headers=await login(username)
        )
        assert refused.status_code == 403, username

    suspended = await client.patch(
        path, json={"agreement_status": "suspended", "reason": "逾期未整改"}, headers=admin
    )
    assert suspended.status_code == 200, suspended.text
    body = suspended.json()
    assert body["agreement_status"] == "suspended" and body["agreement_status_label"] == "中止"
    assert datetime.fromisoformat(body["updated_at"]) > inst["updated_at"]
    [event] = await events()
    assert event["action"] == "institution.set_agreement_status"
    assert event["actor_username"] == "admin" and event["actor_role"] == "admin"
    assert event["before"] == {"agreement_status": "normal"}
    assert event["after"] == {"agreement_status": "suspended", "reason": "逾期未整改"}
    listed = await _list(client, admin, agreement_status="suspended")
    assert str(inst["id"]) in {i["id"] for i in listed["items"]}

    before = await _institution("文登区颐和堂大药房")
    for payload, field in [
        ({"agreement_status": "closed"}, "agreement_status"),
        ({"agreement_status": "normal", "address": "x" * 257}, "address"),
        ({"address": "新地址", "contact_phone": "call me"}, "contact_phone"),
        ({"level": "级" * 33}, "level"),
        ({"reason": "无状态变更"}, "reason"),
        ({"agreement_status": "terminated", "reason": "理" * 501}, "reason"),
    ]:
        response = await client.patch(path, json=payload, headers=admin)
        assert response.status_code == 422, (payload, response.text)
        assert response.json()["extra"] == {"field": field}
    empty = await client.patch(path, json={}, headers=admin)
    assert empty.status_code == 422 and empty.json()["detail"] == "没有需要修改的内容"
    for malformed in ({"name": "改名"}, {"level": 3}, "not json"):
        response = await client.patch(path, json=malformed, headers=admin)
        assert response.status_code == 400, malformed
    assert await _institution("文登区颐和堂大药房") == before
    assert len(await events()) == 1

    changed = await client.patch(
        path,
        json={
            "address": " 山东省威海市文登区龙山路1号 ",
            "contact_name": "李华",
            "contact_phone": "0631-8123456",
            "level": "",
        },
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["address"] == "山东省威海市文登区龙山路1号"
    update = (await events())[-1]
    assert update["action"] == "institution.update"
    assert update["before"] == {
        "address": before["address"],
        "contact_name": before["contact_name"],
        "contact_phone": before["contact_phone"],
    }
    assert update["after"] == {
        "address": "山东省威海市文登区龙山路1号",
        "contact_name": "李华",
        "contact_phone": "0631-8123456",
    }
    # The same values again: nothing changes, nothing is recorded.
    again = await client.patch(
        path, json={"contact_name": "李华", "agreement_status": "suspended"}, headers=admin
    )
    assert again.status_code == 200 and len(await events()) == 2

    restored = await client.patch(
        path, json={"agreement_status": "normal", "reason": "整改完成"}, headers=admin
    )
    assert restored.status_code == 200 and restored.json()["agreement_status_label"] == "正常"
    assert [e["action"] for e in await events()][-1] == "institution.set_agreement_status"
    unknown = await client.patch(
        f"/api/institutions/{uuid.uuid4()}", json={"agreement_status": "normal"}, headers=admin
    )
    assert unknown.status_code == 404 and unknown.json()["detail"] == NOT_VISIBLE


async def test_set_agreement_status_joins_the_callers_transaction(
    database: None, demo: None
) -> None:
    inst = await _institution("荣成市康源大药房")
    actor = Actor.system("tests")
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await services.set_agreement_status(inst["id"], "terminated", actor, "逾期未整改")
            raise RuntimeError("the escalation failed after the status change")
    assert (await _institution("荣成市康源大药房"))["agreement_status"] == "normal"
    assert await history("institution", inst["id"]) == []

    async with write_transaction():
        row = await services.set_agreement_status(inst["id"], "suspended", actor, "暂停结算")
    assert row["agreement_status"] == "suspended"
    row = await services.set_agreement_status(inst["id"], "normal", actor, "恢复")
    assert (await _institution("荣成市康源大药房"))["agreement_status"] == "normal"
    assert [e["after"]["agreement_status"] for e in await history("institution", inst["id"])] == [
        "suspended",
        "normal",
    ]
    with pytest.raises(services.InvalidInput):
        await services.set_agreement_status(inst["id"], "closed", actor)
    with pytest.raises(services.NotFound):
        await services.set_agreement_status(uuid.uuid4(), "normal", actor)
