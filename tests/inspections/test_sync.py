"""Pushing inspections: a whole inspection, idempotent retries, locking, merging two tablets."""

from __future__ import annotations

import asyncio
import copy
import uuid

import httpx
import yaml

from backend.checklists.schema import Checklist
from backend.checklists.scoring import Answer, score
from backend.inspections.tables import Finding, FindingRevision, Inspection
from backend.settings import REPO_ROOT
from tests.inspections.helpers import (
    answer,
    bundle_checklist,
    complete_inspection,
    items_of,
    new_assignment,
    now_iso,
    push,
    user_id,
)

PHARMACY = "P37100200001"  # 环翠区, a pharmacy of the demo data


async def _team(client: httpx.AsyncClient, login) -> tuple[dict, dict, list[str]]:
    a, b = await login("inspector"), await login("inspector2")
    return a, b, [await user_id(client, a), await user_id(client, b)]


async def test_a_whole_inspection_is_stored_and_scored(client: httpx.AsyncClient, login) -> None:
    a, _, team = await _team(client, login)
    assignment = await new_assignment(client, await login("supervisor"), PHARMACY, team)
    fails = {
        "price-posting.price-tags": {"occurrences": 3},
        "records.rx-retention": {"sampled": 20, "failed": 2},
        "signage.complaint": {},
    }
    record = await complete_inspection(client, a, assignment, fail=fails, na={"systems.cameras"})
    response = await push(client, a, [record])
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["status"] == "accepted" and result["http_status"] == 201
    assert result["inspection_status"] == "submitted"

    # The official score is the engine's on the same answers.
    checklist = Checklist.model_validate(
        yaml.safe_load((REPO_ROOT / "checklists/pharmacy-routine.v2.yaml").read_text())
    )
    expected = score(
        checklist,
        [Answer(item=f["item"], result=f["result"], occurrences=f.get("occurrences"),
                sampled=f.get("sampled"), failed=f.get("failed")) for f in record["findings"]],
    )
    assert result["score"]["total"] == float(expected.total)
    assert result["score"]["grade"] == expected.grade
    assert set(result["score"]["failed_items"]) == set(fails)

    stored = (await client.get(f"/api/inspections/{record['id']}", headers=a)).json()
    assert stored["status"] == "submitted"
    assert stored["score_total"] == float(expected.total)
    assert len(stored["findings"]) == len(record["findings"])
    assert {s["signer"] for s in stored["signatures"]} == {"representative", "inspector"}
    photo_ids = {p for f in record["findings"] for p in f.get("photo_ids", [])}
    assert photo_ids <= {p["id"] for p in stored["photos"]}
    assignment_after = (await client.get(f"/api/assignments/{assignment['id']}", headers=a)).json()
    assert assignment_after["status"] == "done"


async def test_the_same_push_three_times_stores_one(client: httpx.AsyncClient, login) -> None:
    a, _, team = await _team(client, login)
    assignment = await new_assignment(client, await login("supervisor"), PHARMACY, team)
    record = await complete_inspection(client, a, assignment)
    statuses = []
    for _ in range(3):
        response = await push(client, a, [record])
        assert response.status_code == 200, response.text
        statuses.append(response.json()["results"][0]["status"])
    assert statuses == ["accepted", "unchanged", "unchanged"]
    assert await Inspection.count().where(Inspection.assignment == assignment["id"]) == 1
    assert await Finding.count().where(Finding.inspection == record["id"]) == len(record["findings"])
    again = (await push(client, a, [record])).json()["results"][0]
    assert again["score"]["total"] is not None  # a resend gets the stored official score


async def test_drafts_accumulate_then_submission_locks(client: httpx.AsyncClient, login) -> None:
    a, _, team = await _team(client, login)
    assignment = await new_assignment(client, await login("supervisor"), PHARMACY, team)
    full = await complete_inspection(client, a, assignment)
    first_half = {**full, "findings": full["findings"][:20], "submit": False}
    response = await push(client, a, [first_half])
    assert response.json()["results"][0]["inspection_status"] == "draft"
    assert await Finding.count().where(Finding.inspection == full["id"]) == 20

    submitted = await push(client, a, [full])
    assert submitted.json()["results"][0]["inspection_status"] == "submitted"

    edit = copy.deepcopy(full)
    edit["submit"] = False
    edit["findings"][0].update(result="fail", note="改判", client_updated_at=now_iso(), client_revision=9)
    before = await Finding.select(Finding.result, Finding.note).where(Finding.id == edit["findings"][0]["id"])
    locked = await push(client, a, [edit])
    assert locked.status_code == 409
    result = locked.json()["results"][0]
    assert result["code"] == "locked" and "锁定" in result["message"]
    after = await Finding.select(Finding.result, Finding.note).where(Finding.id == edit["findings"][0]["id"])
    assert after == before


async def test_two_tablets_fill_different_sections_of_one_inspection(client: httpx.AsyncClient, login) -> None:
    a, b, team = await _team(client, login)
    assignment = await new_assignment(client, await login("supervisor"), PHARMACY, team)
    full = await complete_inspection(client, a, assignment, submit=False)
    half = len(full["findings"]) // 2
    record_a = {**full, "findings": full["findings"][:half]}
    # Tablet B started the same assignment offline with its own inspection id.
    record_b = {**full, "id": str(uuid.uuid4()), "findings": copy.deepcopy(full["findings"][half:])}
    shared = copy.deepcopy(full["findings"][0])  # both answer the first item, B later
    shared.update(id=str(uuid.uuid4()), note="B 的判定", client_updated_at=now_iso(5))
    record_b["findings"].append(shared)

    ra = (await push(client, a, [record_a], device="tablet-A")).json()["results"][0]
    rb = (await push(client, b, [record_b], device="tablet-B")).json()["results"][0]
    assert ra["status"] == "accepted"
    assert rb["status"] == "merged" and rb["inspection_id"] == full["id"]
    assert rb["finding_ids"][shared["item"]] == full["findings"][0]["id"]  # B re-keys to A's finding

    stored = (await client.get(f"/api/inspections/{full['id']}", headers=a)).json()
    assert len(stored["findings"]) == len(full["findings"])
    first = next(f for f in stored["findings"] if f["item"] == shared["item"])
    assert first["note"] == "B 的判定"  # the later answer wins
    writes = await FindingRevision.select().where(
        (FindingRevision.inspection == full["id"]) & (FindingRevision.item_id == shared["item"])
    )
    assert len(writes) == 2  # both answers are in the history

    # A resends its older answer for that item: it loses, is told so, and is kept in the history.
    stale = copy.deepcopy(record_a)
    stale["findings"][0]["note"] = "A 的旧判定"
    ra2 = (await push(client, a, [stale], device="tablet-A")).json()["results"][0]
    assert ra2["status"] == "merged"
    assert [c["item"] for c in ra2["conflicts"]] == [shared["item"]]
    assert ra2["conflicts"][0]["kept"]["note"] == "B 的判定"
    assert await FindingRevision.count().where(
        (FindingRevision.inspection == full["id"]) & (FindingRevision.outcome == "superseded")
    ) == 1

    history = (await client.get(f"/api/inspections/{full['id']}/history", headers=await login("supervisor"))).json()
    actions = [e["action"] for e in history]
    assert "inspection.create" in actions and "inspection.merge" in actions
    assert actions.count("finding.superseded") == 1


async def test_a_submission_is_scored_on_the_answers_kept_not_the_answers_pushed(
    client: httpx.AsyncClient, login
) -> None:
    """The score of a submission is worked out before its transaction on the pushed answers; when
    another tablet's later answer wins over a pushed one, the score is that of the answers kept."""
    a, b, team = await _team(client, login)
    assignment = await new_assignment(client, await login("supervisor"), PHARMACY, team)
    full = await complete_inspection(client, a, assignment)  # every item 符合
    content = (await bundle_checklist(client, a, assignment["checklist"]["version_id"]))["content"]
    item = next(
        i
        for i in items_of(content)
        if i["mode"] == "pass_fail"
        and i.get("evidence", "none") == "none"
        and not i.get("critical")
        and not i.get("monetary")
    )
    pushed = next(f for f in full["findings"] if f["item"] == item["id"])
    later = {
        **copy.deepcopy(pushed),
        "id": str(uuid.uuid4()),
        "result": "fail",
        "note": "B 发现问题",
        "client_updated_at": now_iso(5),
    }
    record_b = {**full, "id": str(uuid.uuid4()), "findings": [later], "submit": False}
    assert (await push(client, b, [record_b], device="tablet-B")).json()["results"][0]["status"] == "accepted"

    response = await push(client, a, [full], device="tablet-A")
    result = response.json()["results"][0]
    assert result["inspection_status"] == "submitted", result
    assert [c["item"] for c in result["conflicts"]] == [item["id"]]  # A's 符合 lost to B's later 不符合
    assert result["score"]["failed_items"] == [item["id"]]
    kept = [
        Answer(**{k: f.get(k) for k in ("item", "result", "occurrences", "sampled", "failed", "population")})
        for f in full["findings"]
        if f["item"] != item["id"]
    ] + [Answer(item=item["id"], result="fail")]
    expected = score(Checklist.model_validate(content), kept)
    assert result["score"]["total"] == float(expected.total) < 100
    stored = await Inspection.select(Inspection.score_total, Inspection.grade).where(Inspection.id == record_b["id"]).first()
    assert stored["score_total"] == expected.total and stored["grade"] == expected.grade


async def test_concurrent_pushes_from_two_devices_merge(database: None, demo: None, login, client) -> None:
    from backend.app import create_app

    a, b, team = await _team(client, login)
    assignment = await new_assignment(client, await login("supervisor"), PHARMACY, team)
    full = await complete_inspection(client, a, assignment, submit=False)
    half = len(full["findings"]) // 2
    contested = copy.deepcopy(full["findings"][0])
    contested.update(id=str(uuid.uuid4()), note="B", client_updated_at=now_iso(10))
    record_a = {**full, "findings": full["findings"][:half]}
    record_b = {**full, "id": str(uuid.uuid4()), "findings": full["findings"][half:] + [contested]}

    # A second app instance on the same database: two "workers" answering at the same moment.
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        ra, rb = await asyncio.gather(
            push(client, a, [record_a], device="tablet-A"), push(other, b, [record_b], device="tablet-B")
        )
    results = [ra.json()["results"][0], rb.json()["results"][0]]
    assert {r["status"] for r in results} <= {"accepted", "merged"}
    assert await Inspection.count().where(Inspection.assignment == assignment["id"]) == 1
    kept = await Inspection.select(Inspection.id).where(Inspection.assignment == assignment["id"]).first()
    assert await Finding.count().where(Finding.inspection == kept["id"]) == len(full["findings"])
    contested_row = await Finding.select(Finding.note).where(
        (Finding.inspection == kept["id"]) & (Finding.item_id == contested["item"])
    ).first()
    assert contested_row["note"] == "B"  # the later answer, whichever arrived first
    assert await FindingRevision.count().where(
        (FindingRevision.inspection == kept["id"]) & (FindingRevision.item_id == contested["item"])
    ) == 2


async def test_checklist_items_and_counts_are_checked(client: httpx.AsyncClient, login) -> None:
    a, _, team = await _team(client, login)
    assignment = await new_assignment(client, await login("supervisor"), PHARMACY, team)
    checklist = await bundle_checklist(client, a, assignment["checklist"]["version_id"])
    items = {i["id"]: i for i in items_of(checklist["content"])}
    base = {
        "id": str(uuid.uuid4()),
        "assignment_id": assignment["id"],
        "checklist_id": checklist["checklist_id"],
        "checklist_version": checklist["version"],
        "client_updated_at": now_iso(),
        "findings": [],
    }
    sample = next(i for i in items.values() if i["mode"] == "sample")
    pass_fail = next(i for i in items.values() if i["mode"] == "pass_fail")
    cases = [
        ({**base, "checklist_version": 99}, 422, "checklist_mismatch", "第 2 版"),
        ({**base, "checklist_hash": "sha256:0"}, 422, "checklist_mismatch", "pharmacy-routine"),
        ({**base, "findings": [{**answer(pass_fail, "pass"), "item": "no.such-item"}]}, 422, "invalid", "no.such-item"),
        ({**base, "findings": [answer(sample, "fail", sampled=3, failed=5)]}, 422, "invalid", sample["id"]),
        ({**base, "findings": [answer(pass_fail, "fail", occurrences=2)]}, 422, "invalid", pass_fail["id"]),
        ({**base, "findings": [answer(sample, "pass", sampled=-1, failed=0)]}, 422, "invalid", sample["id"]),
        ({**base, "submit": True, "findings": [answer(pass_fail, "pass")]}, 422, "incomplete", "尚未作答"),
        ({**base, "assignment_id": str(uuid.uuid4())}, 404, "not_found", "检查任务"),
    ]
    counts = (await Inspection.count(), await Finding.count(), await FindingRevision.count())
    for record, status, code, words in cases:
        response = await push(client, a, [record])
        assert response.status_code == status, (code, response.text)
        result = response.json()["results"][0]
        assert result["code"] == code, response.text
        assert words in result["message"] + " ".join(result["problems"]), response.text
    assert (await Inspection.count(), await Finding.count(), await FindingRevision.count()) == counts


async def test_required_photos_and_signatures_hold_the_submission(client: httpx.AsyncClient, login) -> None:
    a, _, team = await _team(client, login)
    assignment = await new_assignment(client, await login("supervisor"), PHARMACY, team)
    record = await complete_inspection(client, a, assignment, fail={"signage.complaint": {}})
    no_photo = copy.deepcopy(record)
    finding = next(f for f in no_photo["findings"] if f["item"] == "signage.complaint")
    finding["photo_ids"] = []
    missing = copy.deepcopy(record)
    missing["findings"][0]["photo_ids"] = [str(uuid.uuid4())]  # declared, never uploaded
    unsigned = {**copy.deepcopy(record), "signatures": []}
    for bad, code, words in (
        (no_photo, "photos_missing", "signage.complaint"),
        (missing, "photos_missing", "尚未上传"),
        (unsigned, "incomplete", "签字"),
    ):
        response = await push(client, a, [bad])
        assert response.status_code == 422, response.text
        result = response.json()["results"][0]
        assert result["code"] == code
        assert words in " ".join(result["missing_photos"] + result["problems"]), result
        assert not await Inspection.exists().where(Inspection.id == record["id"])
    assert (await push(client, a, [record])).status_code == 200


async def test_who_may_push(client: httpx.AsyncClient, login) -> None:
    a, _, team = await _team(client, login)
    assignment = await new_assignment(client, await login("supervisor"), PHARMACY, team)
    record = await complete_inspection(client, a, assignment, submit=False)
    outsider = await push(client, await login("inspector3"), [record])  # another county's inspector
    assert outsider.status_code == 404
    for role in ("supervisor", "manager", "admin"):
        response = await push(client, await login(role), [record])
        assert response.status_code == 403, role
    assert (await client.post("/api/sync", json={"device_id": "x"}, headers=a)).status_code == 400
    assert (await client.post("/api/sync", content=b"{not json", headers=a)).status_code == 400
    too_many = [dict(record, id=str(uuid.uuid4())) for _ in range(51)]
    assert (await push(client, a, too_many)).status_code == 400
    assert not await Inspection.exists().where(Inspection.assignment == assignment["id"])


async def test_a_mixed_batch_answers_207(client: httpx.AsyncClient, login) -> None:
    a, _, team = await _team(client, login)
    assignment = await new_assignment(client, await login("supervisor"), PHARMACY, team)
    good = await complete_inspection(client, a, assignment, submit=False)
    bad = {**good, "id": str(uuid.uuid4()), "assignment_id": str(uuid.uuid4())}
    response = await push(client, a, [good, bad])
    assert response.status_code == 207
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "rejected"]


async def test_refusals_speak_chinese_and_name_the_item(client: httpx.AsyncClient, login) -> None:
    a, _, team = await _team(client, login)
    assignment = await new_assignment(client, await login("supervisor"), PHARMACY, team)
    checklist = await bundle_checklist(client, a, assignment["checklist"]["version_id"])
    sample = next(i for i in items_of(checklist["content"]) if i["mode"] == "sample")
    record = {
        "id": str(uuid.uuid4()),
        "assignment_id": assignment["id"],
        "checklist_id": checklist["checklist_id"],
        "checklist_version": checklist["version"],
        "client_updated_at": now_iso(),
        "findings": [answer(sample, "fail", sampled=3, failed=5)],
    }
    result = (await push(client, a, [record])).json()["results"][0]
    assert result["problems"] == [
        f"检查项「{sample['text'][:24]}{'…' if len(sample['text']) > 24 else ''}」（{sample['id']}）："
        "不符合数（5）不能大于抽查数（3）"
    ]
