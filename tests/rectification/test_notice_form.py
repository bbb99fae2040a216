"""The notice's legal form through the real API and PDF: two inspectors with their 执法证号, the
rights and their sources, amounts per problem and in total to the fen, 立即整改, the fraud
referral, 送达 recorded by a supervisor; the money and two-signature rules of a push."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.audit.services import Actor
from backend.checklists.services import load_paths
from backend.china_time import today_in_china
from backend.rectification.tables import RectificationNotice
from tests.inspections.helpers import complete_inspection, new_assignment, push, user_id
from tests.rectification.helpers import PASSWORD, make_institution, notice_of
from tests.rectification.test_documents import _need

CHECKLIST = Path(__file__).parent / "data" / "notice-form.v1.yaml"
FAILS = {
    "money.overbilling": {"amount": "1234.5"},
    "money.swap": {"amount": "2000"},
    "manage.card": {"amount": "0.10"},
    "manage.notice": {},
}


async def _inspector(client: httpx.AsyncClient, login, name: str, cert: str) -> dict[str, str]:
    username = f"insp{uuid.uuid4().hex[:8]}"
    created = await client.post(
        "/api/admin/users",
        json={
            "username": username,
            "password": PASSWORD,
            "role": "inspector",
            "region_code": "371002",
            "display_name": name,
            "enforcement_cert_no": cert,
        },
        headers=await login("admin"),
    )
    assert created.status_code == 201, created.text
    assert created.json()["enforcement_cert_no"] == cert
    return await login(username, PASSWORD)


@pytest.fixture(scope="module")
async def world(client: httpx.AsyncClient, login) -> dict[str, Any]:
    report = await load_paths([CHECKLIST], Actor.system("test"))
    assert not report.refused, report.refused
    _, code, name = await make_institution()
    a = await _inspector(client, login, "王执法", "37100099001")
    b = await _inspector(client, login, "李执法", "37100099002")
    team = [await user_id(client, a), await user_id(client, b)]
    manager = f"mgr{uuid.uuid4().hex[:8]}"
    made = await client.post(
        "/api/admin/users",
        json={"username": manager, "password": PASSWORD, "role": "manager", "institution_code": code},
        headers=await login("admin"),
    )
    assert made.status_code == 201, made.text
    return {"code": code, "name": name, "a": a, "team": team, "manager": await login(manager, PASSWORD)}


async def _record(client, login, world, fails=None) -> dict[str, Any]:
    assignment = await new_assignment(
        client, await login("supervisor"), world["code"], world["team"], "notice-form-test"
    )
    return await complete_inspection(
        client, world["a"], assignment, fail=FAILS if fails is None else fails
    )


def _answer(record: dict[str, Any], item: str) -> dict[str, Any]:
    return next(f for f in record["findings"] if f["item"] == item)


@pytest.fixture(scope="module")
async def notice(client: httpx.AsyncClient, login, world) -> dict[str, Any]:
    record = await _record(client, login, world)
    response = await push(client, world["a"], [record])
    result = response.json()["results"][0]
    assert result["inspection_status"] == "submitted", result
    return await notice_of(client, world["manager"], result["inspection_id"])


async def test_the_notice_carries_amounts_deadlines_and_team(notice: dict[str, Any]) -> None:
    tasks = {t["item_id"]: t for t in notice["tasks"]}
    assert tasks["money.overbilling"]["amount"] == "1234.50"
    assert tasks["money.swap"]["amount"] == "2000.00" and tasks["money.swap"]["fraud"] is True
    assert tasks["manage.card"]["amount"] == "0.10"
    assert tasks["manage.notice"]["amount"] is None
    assert notice["amount_total"] == "3234.60"
    served = notice["served_on"]
    assert served == notice["issue_date"] and notice["service_method"] == "electronic"
    assert tasks["manage.card"]["deadline_days"] == 0
    assert tasks["manage.card"]["deadline"] == served  # 立即整改: the serving day
    assert tasks["manage.notice"]["deadline_basis"] == "working"
    assert tasks["money.overbilling"]["deadline_basis"] == "calendar"
    assert all(t["deadline_provisional"] in (True, False) for t in tasks.values())
    assert {(p["name"], p["enforcement_cert_no"]) for p in notice["inspector_details"]} == {
        ("王执法", "37100099001"),
        ("李执法", "37100099002"),
    }
    assert notice["bureau"] == "威海市医疗保障局" and notice["contact"]


async def test_pdf_text_has_the_legal_elements(
    client: httpx.AsyncClient, login, notice: dict[str, Any], tmp_path: Path
) -> None:
    pdftotext = _need("pdftotext")
    response = await client.get(notice["pdf_url"], headers=await login("supervisor"))
    assert response.status_code == 200, response.text
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(
        [pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(text.split())
    # Two inspectors with their 执法证号.
    assert "王执法（执法证号：37100099001）" in flat and "李执法（执法证号：37100099002）" in flat
    # The notice's own basis, the rights with their sources, not the physician rule.
    assert "《医疗保障基金使用监督管理条例》（国务院令第735号）第二十七条" in flat
    assert "医疗保障定点服务协议" in flat
    assert "陈述、申辩" in flat and "第三十一条" in flat and "申诉" in flat
    assert "行政复议" in flat and "行政诉讼" in flat
    assert "医保医师管理暂行办法" not in flat
    # Amounts per problem and in total, to the fen; 立即整改; the referral; the contact.
    for amount in ("1,234.50元", "2,000.00元", "0.10元", "3,234.60元"):
        assert amount in flat, amount
    assert "立即整改" in flat and "移送" in flat and "联系人" in flat
    assert "送达" in flat and "10个工作日" in flat
    # The penalty for the violation apart from the steps for not rectifying.
    assert "违规处理" in flat and "违约金" in flat and "未按期整改的处理" in flat
    # The QR code never alone on the last page: the signature block and text are with it.
    last_page = text.split("\f")[-2] if text.endswith("\f") else text.split("\f")[-1]
    assert "扫描二维码" in last_page and "联系人" in "".join(last_page.split())


async def test_html_document_has_the_same_elements(
    client: httpx.AsyncClient, login, notice: dict[str, Any]
) -> None:
    response = await client.get(notice["document_url"], headers=await login("supervisor"))
    assert response.status_code == 200
    for text in ("37100099001", "3,234.60 元", "立即整改", "行政复议", "移送"):
        assert text in response.text, text


async def test_a_supervisor_records_a_later_paper_service(
    client: httpx.AsyncClient, login, world
) -> None:
    record = await _record(client, login, world, fails={"manage.notice": {}})
    result = (await push(client, world["a"], [record])).json()["results"][0]
    detail = await notice_of(client, world["manager"], result["inspection_id"])
    url = f"/api/rectification/notices/{detail['id']}/service"
    # Issued five days ago (moved back in the database), served on paper three days ago.
    issued = datetime.now(UTC) - timedelta(days=5)
    await RectificationNotice.update({RectificationNotice.issued_at: issued}).where(
        RectificationNotice.id == detail["id"]
    )
    supervisor = await login("supervisor")
    today = today_in_china()
    for bad in (today + timedelta(days=1), today_in_china(issued) - timedelta(days=1)):
        refused = await client.post(url, json={"served_on": str(bad)}, headers=supervisor)
        assert refused.status_code == 422, refused.text
        assert any("\u4e00" <= c <= "\u9fff" for c in refused.json()["detail"])
    assert (await client.post(url, json={"served_on": str(today)}, headers=world["a"])).status_code == 403
    served_on = today - timedelta(days=3)
    response = await client.post(
        url, json={"served_on": str(served_on), "method": "paper", "note": "签收人 张三"},
        headers=supervisor,
    )
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["served_on"] == str(served_on) and after["service_method"] == "paper"
    from backend.rectification import deadlines, holidays

    calendar = await holidays.current()
    assert after["objection_deadline"] == str(deadlines.add_working_days(served_on, 10, calendar))
    task = after["tasks"][0]
    assert task["deadline"] == str(deadlines.add_working_days(served_on, 10, calendar))
    assert any(e["kind"] == "served" for e in after["history"])


@pytest.mark.parametrize(
    ("item", "answer", "words"),
    [
        ("manage.notice", {"amount": "5.00"}, "不涉及违规金额"),
        ("money.overbilling", {"amount": "12.345"}, "最多两位小数"),
        ("money.overbilling", {"amount": "-1"}, "不小于 0"),
        ("money.overbilling", {"amount": "1e3"}, "最多两位小数"),
    ],
)
async def test_bad_amounts_are_refused_in_chinese(
    client: httpx.AsyncClient, login, world, item: str, answer: dict[str, Any], words: str
) -> None:
    record = await _record(client, login, world, fails={item: answer})
    result = (await push(client, world["a"], [record])).json()["results"][0]
    assert result["status"] == "rejected" and result["http_status"] == 422
    assert any(words in p for p in result["problems"]), result["problems"]


async def test_an_amount_on_a_passed_item_and_a_float_are_refused(
    client: httpx.AsyncClient, login, world
) -> None:
    record = await _record(client, login, world, fails={})
    _answer(record, "money.overbilling")["amount"] = "10.00"
    result = (await push(client, world["a"], [record])).json()["results"][0]
    assert result["http_status"] == 422 and any("只有不符合" in p for p in result["problems"])
    _answer(record, "money.overbilling")["amount"] = 10.5  # a JSON number: never a float
    response = await push(client, world["a"], [record])
    assert response.status_code in (400, 422)


async def test_submission_needs_two_inspectors_of_the_team(
    client: httpx.AsyncClient, login, world
) -> None:
    record = await _record(client, login, world, fails={})
    inspectors = [s for s in record["signatures"] if s["signer"] == "inspector"]
    assert len(inspectors) == 2
    # One inspector's signature only: refused, citing 条例第二十九条.
    one = {**record, "signatures": [s for s in record["signatures"] if s is not inspectors[1]]}
    result = (await push(client, world["a"], [one])).json()["results"][0]
    assert result["status"] == "rejected" and result["code"] == "incomplete"
    assert any("第二十九条" in p for p in result["problems"]), result["problems"]
    # A second signature by someone outside the team does not count.
    outsider = {**inspectors[1], "user_id": await user_id(client, await login("inspector3"))}
    wrong = {**record, "signatures": [*one["signatures"], outsider]}
    result = (await push(client, world["a"], [wrong])).json()["results"][0]
    assert result["status"] == "rejected" and any("第二十九条" in p for p in result["problems"])
    # Both of the team: submitted.
    result = (await push(client, world["a"], [record])).json()["results"][0]
    assert result["inspection_status"] == "submitted", result
