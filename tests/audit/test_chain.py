"""The chained audit log: sealing, ``yibao audit verify`` against an insider's edits, the
database rules, and the public checkpoints.

Tampering is done the way an insider with database access would: switch the append-only
triggers off, change rows with SQL, switch them back on.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from backend.audit import chain
from backend.audit.commands import verify_command
from backend.audit.sealer import interval_seconds, seal
from backend.audit.services import Actor, record
from backend.audit.tables import AuditCheckpoint, AuditEvent
from backend.db import engine, is_sqlite
from tests.cli_helpers import run_yibao

OLD = importlib.import_module("backend.audit.piccolo_migrations.audit_2026_11_22t19_50_00_000000")
NEW = importlib.import_module("backend.audit.piccolo_migrations.audit_2026_12_07t01_00_01_000000")
COLUMNS = (
    "id", "at", "actor_id", "actor_username", "actor_role", "device_id", "action", "entity_type",
    "entity_id", "before", "after", "request_id", "mac", "seq", "prev_hash", "hash",
)


@asynccontextmanager
async def triggers_off() -> AsyncIterator[None]:
    """What an insider with administrator access to the database can do."""
    db = engine()
    if is_sqlite():
        await db.run_ddl("DROP TRIGGER audit_event_no_update")
        await db.run_ddl("DROP TRIGGER audit_event_no_delete")
    else:
        await db.run_ddl("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change")
    try:
        yield
    finally:
        if is_sqlite():
            await db.run_ddl(OLD.SQLITE[1])  # the delete trigger, as first installed
            await db.run_ddl(NEW.SQLITE[2])  # the update trigger that lets the sealer fill once
        else:
            await db.run_ddl("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change")


async def sql(statement: str, *args: Any) -> Any:
    """Raw SQL with ``{}`` placeholders, outside the application's services."""
    return await AuditEvent.raw(statement, *args)


async def insert_row(row: dict[str, Any]) -> None:
    """Put a row back exactly as it was (every column, the id included)."""
    values = [
        json.dumps(row[c]) if c in ("before", "after") and row[c] is not None else row[c]
        for c in COLUMNS
    ]
    holders = ", ".join("{}::jsonb" if c in ("before", "after") and not is_sqlite() else "{}"
                        for c in COLUMNS)
    await sql(f"INSERT INTO audit_event ({', '.join(COLUMNS)}) VALUES ({holders})", *values)


async def verify_output(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``yibao audit verify``'s own function, in this process: exit code and what it printed."""
    capsys.readouterr()
    code = await verify_command()
    return code, capsys.readouterr().out


async def three_sealed_events() -> list[dict[str, Any]]:
    """Three fresh events, sealed, oldest first."""
    tag = uuid.uuid4().hex[:12]
    actor = Actor(id=None, username="chain-test", role="admin")
    for n in range(3):
        await record(actor, "test.chain", "chain-test", tag, after={"n": n, "amount": "12.50"})
    await seal()
    rows = await (
        AuditEvent.select().where(AuditEvent.entity_id == tag).order_by(AuditEvent.id)
        .output(load_json=True)
    )
    assert [r["seq"] is not None for r in rows] == [True, True, True]
    return rows


@pytest.fixture
async def clean(capsys: pytest.CaptureFixture[str]) -> None:
    """A sealed chain that verifies, before each tampering test."""
    await seal()
    code, out = await verify_output(capsys)
    assert code == 0, out


async def test_sealer_chains_every_pending_event_and_signs_a_checkpoint(
    database: None, capsys: pytest.CaptureFixture[str]
) -> None:
    actor = Actor(id=None, username="chain-test")
    await record(actor, "test.chain", "chain-test", "pending", after={"x": 1.0, "big": 1e16})
    pending = await AuditEvent.count().where(AuditEvent.seq.is_null())
    assert pending >= 1
    report = await seal()
    assert report.sealed == pending and not report.skipped
    assert await AuditEvent.count().where(AuditEvent.seq.is_null()) == 0
    head = await AuditEvent.select().order_by(AuditEvent.seq, ascending=False).first()
    assert report.head_seq == head["seq"] == await AuditEvent.count()
    # The default period keeps every event within 60 s of being chained.
    assert 0 < interval_seconds() <= 30
    code, out = await verify_output(capsys)
    assert code == 0 and "审计链完好" in out, out

    # A checkpoint when new events were sealed, but at most one a minute.
    last = await AuditCheckpoint.select().order_by(AuditCheckpoint.id, ascending=False).first()
    assert last is not None
    await record(actor, "test.chain", "chain-test", "later")
    soon = await seal(now=last["at"] + timedelta(seconds=30))
    assert soon.sealed == 1 and not soon.checkpoint
    later = await seal(now=last["at"] + timedelta(seconds=61))
    assert later.sealed == 0 and later.checkpoint
    newest = await AuditCheckpoint.select().order_by(AuditCheckpoint.id, ascending=False).first()
    assert newest["seq"] == later.head_seq
    # Nothing new and not a day old: no checkpoint.
    assert not (await seal(now=newest["at"] + timedelta(hours=2))).checkpoint


async def test_verify_does_not_write_and_reports_unsealed_events(
    database: None, clean: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await record(Actor(id=None, username="chain-test"), "test.chain", "chain-test", "unsealed")
    code, out = await verify_output(capsys)
    assert code == 0 and "1 个事件尚未封存" in out, out
    assert await AuditEvent.count().where(AuditEvent.seq.is_null()) == 1


async def test_changed_event_is_named_and_putting_it_back_passes(
    database: None, clean: None, capsys: pytest.CaptureFixture[str]
) -> None:
    target = (await three_sealed_events())[1]
    async with triggers_off():
        await sql("UPDATE audit_event SET entity_type = {} WHERE id = {}", "forged", target["id"])
    code, out = await verify_output(capsys)
    assert code == 1, out
    assert out.startswith(f"审计链断裂：第一个断点为 审计事件 #{target['id']}（{chain.time_text(target['at'])}）")
    async with triggers_off():
        await sql("UPDATE audit_event SET entity_type = {} WHERE id = {}", "chain-test", target["id"])
    assert (await verify_output(capsys))[0] == 0


async def test_changed_json_even_with_rehashed_chain_is_caught_by_the_mac(
    database: None, clean: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # An insider who also recomputes the event's hash (no key needed) still fails the MAC.
    target = (await three_sealed_events())[2]
    forged = {**target, "after": {"n": 2, "amount": "1.50"}}
    new_hash = chain.event_hash(forged, target["seq"], target["prev_hash"])
    async with triggers_off():
        await sql(
            "UPDATE audit_event SET after = {}, hash = {} WHERE id = {}",
            json.dumps(forged["after"]), new_hash, target["id"],
        )
    code, out = await verify_output(capsys)
    assert code == 1 and f"审计事件 #{target['id']}" in out.splitlines()[0], out
    assert "校验码" in out.splitlines()[0]
    async with triggers_off():
        await sql(
            "UPDATE audit_event SET after = {}, hash = {} WHERE id = {}",
            json.dumps(target["after"]), target["hash"], target["id"],
        )
    assert (await verify_output(capsys))[0] == 0


async def test_deleted_event_is_named_and_putting_it_back_passes(
    database: None, clean: None, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = await three_sealed_events()
    gone, after = rows[1], rows[2]
    async with triggers_off():
        await sql("DELETE FROM audit_event WHERE id = {}", gone["id"])
    code, out = await verify_output(capsys)
    assert code == 1, out
    first = out.splitlines()[0]
    assert f"审计事件 #{after['id']}" in first and f"缺失的应为审计事件 #{gone['id']}" in first, out
    async with triggers_off():
        await insert_row(gone)
    assert (await verify_output(capsys))[0] == 0


async def test_inserted_event_is_named_and_removing_it_passes(
    database: None, clean: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await three_sealed_events()
    rows = await sql(
        "INSERT INTO audit_event (at, action, entity_type, entity_id, actor_username) "
        "VALUES ({}, 'inspection.update', 'inspection', 'forged', 'someone') RETURNING id",
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    forged_id = rows[0]["id"]
    code, out = await verify_output(capsys)
    assert code == 1 and f"审计事件 #{forged_id}" in out.splitlines()[0], out
    async with triggers_off():
        await sql("DELETE FROM audit_event WHERE id = {}", forged_id)
    assert (await verify_output(capsys))[0] == 0


async def test_the_command_exits_1_naming_the_event_then_0(
    database: None, clean: None
) -> None:
    target = (await three_sealed_events())[0]
    async with triggers_off():
        await sql("UPDATE audit_event SET actor_username = 'x' WHERE id = {}", target["id"])
    broken = run_yibao("audit", "verify")
    assert broken.returncode == 1 and f"#{target['id']}" in broken.stdout, broken
    async with triggers_off():
        await sql("UPDATE audit_event SET actor_username = 'chain-test' WHERE id = {}", target["id"])
    fine = run_yibao("audit", "verify")
    assert fine.returncode == 0 and "审计链完好" in fine.stdout, fine


async def test_database_refuses_every_change_but_the_sealers_one(database: None) -> None:
    await record(Actor(id=None, username="chain-test"), "test.chain", "chain-test", "rules")
    row = await AuditEvent.select().where(AuditEvent.entity_id == "rules").first()
    # Filling the chain columns while changing anything else: refused.
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.update(
            {AuditEvent.seq: 10**12, AuditEvent.prev_hash: "a" * 64, AuditEvent.hash: "b" * 64,
             AuditEvent.action: "changed"}
        ).where(AuditEvent.id == row["id"])
    # Only part of the chain columns: refused.
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.update({AuditEvent.hash: "b" * 64}).where(AuditEvent.id == row["id"])
    await seal()
    # Once sealed: no second sealing, no change, no delete.
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.update({AuditEvent.hash: "c" * 64}).where(AuditEvent.id == row["id"])
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.update({AuditEvent.entity_id: "x"}).where(AuditEvent.id == row["id"])
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.delete().where(AuditEvent.id == row["id"])
    with pytest.raises(Exception, match="append-only"):
        await AuditCheckpoint.delete().where(AuditCheckpoint.id > 0)
    with pytest.raises(Exception, match="append-only"):
        await AuditCheckpoint.update({AuditCheckpoint.seq: 1}).where(AuditCheckpoint.id > 0)


async def test_public_checkpoints_page_and_json(database: None, client: httpx.AsyncClient) -> None:
    await record(Actor(id=None, username="chain-test"), "test.chain", "chain-test", "public")
    await seal()
    last = await AuditCheckpoint.select().order_by(AuditCheckpoint.id, ascending=False).first()
    assert last is not None
    response = await client.get("/public/audit/checkpoints.json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"key_id", "algorithm", "public_key_pem", "checkpoints"}
    assert body["algorithm"] == "Ed25519"
    newest = body["checkpoints"][0]
    assert set(newest) == {"seq", "head_hash", "at", "key_id", "algorithm", "signature",
                           "signed_message"}
    assert newest["seq"] == last["seq"] and newest["head_hash"] == last["head_hash"]
    # Anyone can check it with the published key alone.
    public = load_pem_public_key(body["public_key_pem"].encode())
    public.verify(base64.b64decode(newest["signature"]), newest["signed_message"].encode())
    message = json.loads(newest["signed_message"])
    assert message["head_hash"] == newest["head_hash"] and message["seq"] == newest["seq"]
    page = await client.get("/public/audit/checkpoints")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "审计日志检查点" in page.text and newest["head_hash"] in page.text


async def test_sealers_running_at_once_build_one_chain(
    database: None, clean: None, capsys: pytest.CaptureFixture[str]
) -> None:
    actor = Actor(id=None, username="chain-test")
    for n in range(30):
        await record(actor, "test.chain", "chain-test", "concurrent", after={"n": n})
    reports = await asyncio.gather(seal(batch=7), seal(batch=7), seal(batch=7))
    assert sum(r.sealed for r in reports) == 30
    assert await AuditEvent.count().where(AuditEvent.seq.is_null()) == 0
    assert await AuditEvent.count() == max(r.head_seq for r in reports)
    assert (await verify_output(capsys))[0] == 0


async def test_a_rewritten_chain_is_caught_by_an_older_checkpoint(
    database: None, clean: None, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = await three_sealed_events()
    last = await AuditCheckpoint.select().order_by(AuditCheckpoint.id, ascending=False).first()
    assert (await seal(now=last["at"] + timedelta(minutes=2))).checkpoint
    signed = await AuditCheckpoint.select().order_by(AuditCheckpoint.id, ascending=False).first()
    assert signed["seq"] == rows[2]["seq"]
    # An insider holding even the MAC key rewrites event 2 and re-hashes the rest of the chain.
    key = chain.mac_key()
    originals = await (
        AuditEvent.select().where(AuditEvent.seq >= rows[1]["seq"]).order_by(AuditEvent.seq)
        .output(load_json=True)
    )
    prev = rows[0]["hash"]
    async with triggers_off():
        for n, row in enumerate(originals):
            if n == 0:
                row = {**row, "entity_type": "forged"}
                row["mac"] = chain.make_mac(row, key)
            new_hash = chain.event_hash(row, row["seq"], prev)
            await sql(
                "UPDATE audit_event SET entity_type = {}, mac = {}, prev_hash = {}, hash = {} "
                "WHERE id = {}", row["entity_type"], row["mac"], prev, new_hash, row["id"],
            )
            prev = new_hash
    code, out = await verify_output(capsys)
    assert code == 1, out
    assert f"审计事件 #{rows[2]['id']}" in out and "链被改写" in out, out
    async with triggers_off():
        for row in originals:
            await sql(
                "UPDATE audit_event SET entity_type = {}, mac = {}, prev_hash = {}, hash = {} "
                "WHERE id = {}", row["entity_type"], row["mac"], row["prev_hash"], row["hash"],
                row["id"],
            )
    assert (await verify_output(capsys))[0] == 0
