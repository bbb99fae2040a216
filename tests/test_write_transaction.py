"""The write transaction's promises, on the engine under test.

On SQLite the kept-connection transaction sends ``BEGIN`` and the writes of ``run_many`` together
with the next read or with ``COMMIT`` (backend/db.py); these tests hold it to what a plain
transaction promises: a read sees the writes before it, a failing write anywhere undoes the
whole transaction (whether the error comes at the next read or at ``COMMIT``), and the next
transaction starts clean.
"""

from __future__ import annotations

import pytest

from backend.db import read_row, read_rows, run_many, write_transaction

pytestmark = pytest.mark.usefixtures("database")

INSERT = "INSERT INTO tx_probe (id, note) VALUES ($1, $2)"


async def _fresh_table() -> None:
    async with write_transaction():
        await read_rows("DROP TABLE IF EXISTS tx_probe")
        await read_rows("CREATE TABLE tx_probe (id INTEGER PRIMARY KEY, note TEXT NOT NULL)")


async def _stored() -> list[tuple[int, str]]:
    async with write_transaction():
        rows = await read_rows("SELECT id, note FROM tx_probe ORDER BY id")
    return [(r["id"], r["note"]) for r in rows]


async def test_a_read_sees_the_writes_before_it_and_others_see_them_after_commit() -> None:
    await _fresh_table()
    async with write_transaction():
        await run_many(INSERT, [(1, "甲"), (2, "乙")])
        await run_many("UPDATE tx_probe SET note = $1 WHERE id = $2", [("丙", 2)])
        assert await read_row("SELECT note FROM tx_probe WHERE id = $1", 2) == {"note": "丙"}
        await run_many(INSERT, [(3, "丁")])
    # Outside any transaction (on SQLite, the reader connection): the committed rows.
    assert await read_row("SELECT count(*) AS n FROM tx_probe") == {"n": 3}
    assert await _stored() == [(1, "甲"), (2, "丙"), (3, "丁")]


async def test_a_failing_write_found_at_the_next_read_undoes_the_whole_transaction() -> None:
    await _fresh_table()
    await _write([(1, "已有")])
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        async with write_transaction():
            await run_many(INSERT, [(2, "先写的")])
            await run_many(INSERT, [(1, "重复")])
            await read_rows("SELECT id FROM tx_probe")
    assert await _stored() == [(1, "已有")]
    await _write([(2, "之后")])  # the next transaction starts clean
    assert await _stored() == [(1, "已有"), (2, "之后")]


async def test_a_failing_write_found_at_commit_undoes_the_whole_transaction() -> None:
    await _fresh_table()
    await _write([(1, "已有")])
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        async with write_transaction():
            await run_many(INSERT, [(2, "先写的")])
            await run_many(INSERT, [(1, "重复")])
    assert await _stored() == [(1, "已有")]
    await _write([(3, "之后")])
    assert await _stored() == [(1, "已有"), (3, "之后")]


async def test_an_error_of_the_caller_after_writes_stores_nothing() -> None:
    await _fresh_table()
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await run_many(INSERT, [(1, "甲")])
            assert await read_row("SELECT note FROM tx_probe WHERE id = $1", 1) == {"note": "甲"}
            await run_many(INSERT, [(2, "乙")])
            raise RuntimeError("the service failed after writing")
    assert await _stored() == []


async def test_a_transaction_that_writes_nothing_commits() -> None:
    await _fresh_table()
    async with write_transaction():
        pass
    await _write([(1, "甲")])
    assert await _stored() == [(1, "甲")]


async def _write(rows: list[tuple[int, str]]) -> None:
    async with write_transaction():
        await run_many(INSERT, rows)
