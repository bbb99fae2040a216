"""What is new for a manager since their last visit."""

from __future__ import annotations

import httpx

from tests.rectification.helpers import make_tenant, notice_of, submit


async def test_updates_since_last_visit(client: httpx.AsyncClient, login) -> None:
    tenant = await make_tenant(client, login)
    first = (await client.get("/api/rectification/updates", headers=tenant.manager)).json()
    assert first["events"] == [] and first["since"] is None
    result = await submit(client, login, tenant, fails={"signage.complaint": {}})
    notice = await notice_of(client, tenant.manager, result["inspection_id"])
    news = (await client.get("/api/rectification/updates", headers=tenant.manager)).json()
    assert [e["kind"] for e in news["events"]] == ["issued"]  # the draft step is not news
    assert news["events"][0]["notice_number"] == notice["number"]

    seen = await client.post(
        "/api/rectification/updates/seen", json={"at": news["server_time"]}, headers=tenant.manager
    )
    assert seen.status_code == 200
    assert (await client.get("/api/rectification/updates", headers=tenant.manager)).json()[
        "events"
    ] == []

    task = notice["tasks"][0]["id"]
    await client.post(
        f"/api/rectification/tasks/{task}/answer", json={"report": "已公示"}, headers=tenant.manager
    )
    await client.post(
        f"/api/rectification/tasks/{task}/reject",
        json={"comment": "位置不显眼"},
        headers=tenant.inspector,
    )
    later = (await client.get("/api/rectification/updates", headers=tenant.manager)).json()
    # The manager's own answer is not news to them; the reviewer's send-back is.
    assert [(e["kind"], e["task_seq"]) for e in later["events"]] == [("reject", 1)]
    assert (
        later["events"][0]["text"] == "位置不显眼" and later["events"][0]["label"] == "退回重新整改"
    )
    explicit = (
        await client.get(
            "/api/rectification/updates",
            params={"since": news["server_time"]},
            headers=tenant.manager,
        )
    ).json()
    assert len(explicit["events"]) == 1
    # The reviewer, for their part, sees the answer and not their own send-back.
    staff = (
        await client.get(
            "/api/rectification/updates",
            params={"since": news["server_time"]},
            headers=tenant.inspector,
        )
    ).json()
    assert [e["kind"] for e in staff["events"] if e["task_id"] == task] == ["answer"]

    # Another manager sees none of it.
    other = await make_tenant(client, login, county="371003")
    assert (await client.get("/api/rectification/updates", headers=other.manager)).json()[
        "events"
    ] == []
