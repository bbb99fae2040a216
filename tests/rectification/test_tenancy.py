"""Who may do what: a manager of institution A sees and touches nothing of B's (404), never
reviews (403), cannot answer a finished task (409); staff outside the region see nothing."""

from __future__ import annotations

import httpx

from backend.rectification.tables import RectificationNotice
from tests.inspections.helpers import (
    complete_inspection,
    institution_id,
    jpeg_bytes,
    new_assignment,
    push,
    user_id,
)
from tests.rectification.helpers import make_tenant, notice_of, submit, upload_photo


async def _demo_notice(client: httpx.AsyncClient, login, code: str, inspector: str, partner: str):
    """A notice of a demo institution (own: P37100200001, foreign: P37100300001)."""
    a, b = await login(inspector), await login(partner)
    team = [await user_id(client, a), await user_id(client, b)]
    assignment = await new_assignment(client, await login("supervisor"), code, team)
    record = await complete_inspection(client, a, assignment, fail={"signage.complaint": {}})
    response = await push(client, a, [record])
    assert response.status_code == 200, response.text
    return await notice_of(client, await login("supervisor"), record["id"])


async def test_managers_see_only_their_own(client: httpx.AsyncClient, login) -> None:
    own = await _demo_notice(client, login, "P37100200001", "inspector", "inspector2")
    foreign = await _demo_notice(client, login, "P37100300001", "inspector3", "inspector4")
    mine, theirs = await login("manager.pharmacy"), await login("manager.wendeng")
    own_task, foreign_task = own["tasks"][0]["id"], foreign["tasks"][0]["id"]

    listed = (await client.get("/api/rectification/notices", headers=mine)).json()["items"]
    assert own["id"] in {n["id"] for n in listed} and foreign["id"] not in {n["id"] for n in listed}
    assert {n["institution"]["code"] for n in listed} == {"P37100200001"}
    filtered = await client.get(
        "/api/rectification/notices",
        params={"institution_id": await institution_id("P37100300001")},
        headers=mine,
    )
    assert filtered.json()["items"] == []

    # Everything of the other institution answers 404, as if it did not exist.
    for method, url, kwargs in (
        ("GET", f"/api/rectification/notices/{foreign['id']}", {}),
        ("GET", f"/api/rectification/notices/{foreign['id']}/document", {}),
        ("GET", f"/api/rectification/notices/{foreign['id']}/document.pdf", {}),
        ("GET", f"/api/rectification/tasks/{foreign_task}", {}),
        ("POST", f"/api/rectification/tasks/{foreign_task}/answer", {"json": {"report": "x"}}),
        ("POST", f"/api/rectification/tasks/{foreign_task}/objection", {"json": {"reason": "x"}}),
        ("POST", f"/api/rectification/tasks/{foreign_task}/comments", {"json": {"text": "x"}}),
    ):
        response = await client.request(method, url, headers=mine, **kwargs)
        assert response.status_code == 404, (url, response.text)
        assert "不存在" in response.json()["detail"]
    photo = await upload_photo(client, mine, foreign_task)
    assert photo.status_code == 404
    # …and the other manager's photo of their own task is invisible to this one.
    theirs_photo = await upload_photo(client, theirs, foreign_task, seed=9)
    assert theirs_photo.status_code == 201
    assert (await client.get(theirs_photo.json()["url"], headers=mine)).status_code == 404

    # Staff of another region: 404 too.
    assert (
        await client.get(
            f"/api/rectification/notices/{foreign['id']}", headers=await login("inspector")
        )
    ).status_code == 404
    assert (
        await client.get(
            f"/api/rectification/notices/{foreign['id']}", headers=await login("supervisor.huancui")
        )
    ).status_code == 404
    # The city supervisor covers both.
    assert (
        await client.get(
            f"/api/rectification/notices/{foreign['id']}", headers=await login("supervisor")
        )
    ).status_code == 200

    # A manager never reviews, decides objections, escalates or plans (403), even their own.
    answered = await client.post(
        f"/api/rectification/tasks/{own_task}/answer", json={"report": "已整改"}, headers=mine
    )
    assert answered.status_code == 200, answered.text
    for url, body in (
        (f"/api/rectification/tasks/{own_task}/accept", {}),
        (f"/api/rectification/tasks/{own_task}/reject", {"comment": "x"}),
        (
            f"/api/rectification/tasks/{own_task}/objection/decision",
            {"decision": "upheld", "comment": "x"},
        ),
        (f"/api/rectification/notices/{own['id']}/escalations", {"step": "interview"}),
        (f"/api/rectification/notices/{own['id']}/confirm", {}),
    ):
        response = await client.post(url, json=body, headers=mine)
        assert response.status_code == 403, (url, response.text)
    assert (await client.get("/api/rectification/overdue", headers=mine)).status_code == 403
    task = (await client.get(f"/api/rectification/tasks/{own_task}", headers=mine)).json()
    assert task["status"] == "answered" and "accept" not in task["actions"]

    # Staff can't answer or object for the institution.
    for headers in (await login("inspector"), await login("supervisor")):
        r = await client.post(
            f"/api/rectification/tasks/{own_task}/answer", json={"report": "x"}, headers=headers
        )
        assert r.status_code == 403


async def test_finished_tasks_take_no_answer(client: httpx.AsyncClient, login) -> None:
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant, fails={"signage.complaint": {}})
    notice = await notice_of(client, await login("supervisor"), result["inspection_id"])
    task = notice["tasks"][0]["id"]
    url = f"/api/rectification/tasks/{task}"

    assert (
        await client.post(f"{url}/accept", json={}, headers=tenant.inspector)
    ).status_code == 409
    r = await client.post(f"{url}/answer", json={"report": "已整改"}, headers=tenant.manager)
    assert r.status_code == 200
    again = await client.post(f"{url}/answer", json={"report": "再次提交"}, headers=tenant.manager)
    assert again.status_code == 409 and "等待验收" in again.json()["detail"]
    rejected = await client.post(f"{url}/reject", json={"comment": ""}, headers=tenant.inspector)
    assert rejected.status_code == 422  # sending back needs a reason; nothing changed
    assert (await client.get(url, headers=tenant.manager)).json()["status"] == "answered"
    assert (
        await client.post(f"{url}/accept", json={}, headers=tenant.inspector)
    ).status_code == 200

    # The only task accepted: the notice is closed; answering it now is refused.
    closed = (
        await client.get(f"/api/rectification/notices/{notice['id']}", headers=tenant.manager)
    ).json()
    assert closed["status"] == "closed"
    late = await client.post(f"{url}/answer", json={"report": "再来"}, headers=tenant.manager)
    assert late.status_code == 409 and "办结" in late.json()["detail"]
    objection = await client.post(f"{url}/objection", json={"reason": "x"}, headers=tenant.manager)
    assert objection.status_code == 409
    photo = await upload_photo(client, tenant.manager, task)
    assert photo.status_code == 409
    assert (
        await client.post(f"{url}/accept", json={}, headers=tenant.inspector)
    ).status_code == 409


async def test_answer_photos_must_belong_to_the_task(client: httpx.AsyncClient, login) -> None:
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant)
    notice = await notice_of(client, await login("supervisor"), result["inspection_id"])
    first, second = notice["tasks"][0]["id"], notice["tasks"][1]["id"]
    photo = await upload_photo(client, tenant.manager, first)
    assert photo.status_code == 201
    repeat = await client.post(
        f"/api/rectification/tasks/{first}/photos",
        data={"id": photo.json()["id"]},
        files={"file": ("p.jpg", jpeg_bytes(5), "image/jpeg")},
        headers=tenant.manager,
    )
    assert repeat.status_code == 200  # the same upload again: stored once
    wrong = await client.post(
        f"/api/rectification/tasks/{second}/answer",
        json={"report": "已整改", "photo_ids": [photo.json()["id"]]},
        headers=tenant.manager,
    )
    assert wrong.status_code == 422 and wrong.json()["extra"]["missing"] == [photo.json()["id"]]
    assert (await client.get(f"/api/rectification/tasks/{second}", headers=tenant.manager)).json()[
        "status"
    ] == "open"
    not_image = await client.post(
        f"/api/rectification/tasks/{first}/photos",
        data={"id": "5d7c5b0e-0000-4000-8000-000000000001"},
        files={"file": ("x.jpg", b"not an image at all", "image/jpeg")},
        headers=tenant.manager,
    )
    assert not_image.status_code == 415


async def test_drafts_are_hidden_from_managers(
    client: httpx.AsyncClient, login, monkeypatch
) -> None:
    monkeypatch.setenv("YIBAO_NOTICE_MODE", "draft")
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant)
    supervisor = await login("supervisor")
    draft = await notice_of(client, supervisor, result["inspection_id"])
    assert draft["status"] == "draft" and draft["number"] is None and draft["verify_url"] is None
    assert (
        await client.get(f"/api/rectification/notices/{draft['id']}", headers=tenant.manager)
    ).status_code == 404
    assert (
        await client.get(
            f"/api/rectification/tasks/{draft['tasks'][0]['id']}", headers=tenant.manager
        )
    ).status_code == 404
    assert (await client.get("/api/rectification/notices", headers=tenant.manager)).json()[
        "items"
    ] == []
    html = await client.get(
        f"/api/rectification/notices/{draft['id']}/document", headers=supervisor
    )
    assert html.status_code == 200 and "草稿" in html.text
    # An inspector can't answer for a draft either: it is not issued.
    assert (
        await client.post(
            f"/api/rectification/tasks/{draft['tasks'][0]['id']}/accept",
            json={},
            headers=tenant.inspector,
        )
    ).status_code == 409

    # The supervisor confirms: numbered now; a second confirmation is refused.
    assert (
        await client.post(
            f"/api/rectification/notices/{draft['id']}/confirm", headers=tenant.inspector
        )
    ).status_code == 403
    confirmed = await client.post(
        f"/api/rectification/notices/{draft['id']}/confirm", headers=supervisor
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "issued" and confirmed.json()["number"].startswith(
        "威医保整改〔"
    )
    again = await client.post(
        f"/api/rectification/notices/{draft['id']}/confirm", headers=supervisor
    )
    assert again.status_code == 409
    row = (
        await RectificationNotice.select(RectificationNotice.issued_by)
        .where(RectificationNotice.id == draft["id"])
        .first()
    )
    assert row["issued_by"] is not None
    assert (
        await client.get(f"/api/rectification/notices/{draft['id']}", headers=tenant.manager)
    ).status_code == 200


async def test_the_same_photo_upload_at_once_stores_one(client: httpx.AsyncClient, login) -> None:
    import asyncio
    import uuid

    from backend.rectification.tables import Attachment

    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant, fails={"signage.complaint": {}})
    notice = await notice_of(client, tenant.manager, result["inspection_id"])
    task = notice["tasks"][0]["id"]
    photo_id = str(uuid.uuid4())
    data = jpeg_bytes(21)

    async def send() -> httpx.Response:
        return await client.post(
            f"/api/rectification/tasks/{task}/photos",
            data={"id": photo_id},
            files={"file": ("p.jpg", data, "image/jpeg")},
            headers=tenant.manager,
        )

    responses = await asyncio.gather(*(send() for _ in range(4)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert await Attachment.count().where(Attachment.id == photo_id) == 1
