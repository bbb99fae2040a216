"""The audit sealer: chains new audit events in batches and signs checkpoints of the head.

Writers never wait for the chain: an event is inserted with its MAC only, and the sealer later
gives it its place (``seq``), the previous hash and its own hash. One sealer works at a time —
on PostgreSQL under a transaction-level advisory lock (another worker's sealer skips its turn),
on SQLite inside the one IMMEDIATE write transaction — so every worker can run the loop and the
chain still has exactly one order. Events are taken in id order among those committed; an event
that commits late (a lower id than one already sealed) simply gets the next place.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from backend.audit.chain import GENESIS, checkpoint_message, event_hash, time_text
from backend.audit.tables import AuditCheckpoint, AuditEvent
from backend.db import engine, is_sqlite, write_transaction
from backend.settings import get_settings

log = logging.getLogger(__name__)

# A fixed 64-bit key of the PostgreSQL advisory lock ("yibao audit sealer").
ADVISORY_LOCK_KEY = 0x5942_4155_4449_5400 & 0x7FFF_FFFF_FFFF_FFFF
BATCH = 500
# Every event is in the chain within 60 s: the loop runs every 10 s by default.
DEFAULT_INTERVAL_S = 10.0
# A checkpoint whenever new events were sealed, at most one a minute; and one a day regardless.
CHECKPOINT_MIN_GAP = timedelta(minutes=1)
CHECKPOINT_MAX_GAP = timedelta(days=1)


@dataclass
class SealReport:
    """What one ``seal`` call did."""

    sealed: int = 0
    head_seq: int = 0
    checkpoint: bool = False
    skipped: bool = False  # another process held the sealer's lock
    seconds: float = 0.0


def interval_seconds() -> float:
    """The background loop's period: ``YIBAO_AUDIT_SEAL_SECONDS`` (0 turns the loop off, for a
    deployment that seals by cron with ``yibao audit seal``)."""
    try:
        return float(os.environ.get("YIBAO_AUDIT_SEAL_SECONDS", DEFAULT_INTERVAL_S))
    except ValueError:
        return DEFAULT_INTERVAL_S


@asynccontextmanager
async def _sealing() -> AsyncIterator[bool]:
    """A transaction in which this process is the only sealer; yields False if another is."""
    if is_sqlite():
        async with write_transaction():
            yield True
        return
    async with engine().transaction():
        rows = await AuditEvent.raw("SELECT pg_try_advisory_xact_lock({}) AS got", ADVISORY_LOCK_KEY)
        yield bool(rows[0]["got"])


async def _head() -> tuple[int, str]:
    rows = await (
        AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.seq.is_not_null())
        .order_by(AuditEvent.seq, ascending=False)
        .limit(1)
    )
    return (rows[0]["seq"], rows[0]["hash"]) if rows else (0, GENESIS)


async def _seal_batch(limit: int) -> tuple[int, int, bool]:
    """Chain up to ``limit`` pending events; returns (sealed, head seq, got the lock)."""
    async with _sealing() as got:
        if not got:
            return 0, 0, False
        seq, prev = await _head()
        pending = await (
            AuditEvent.select()
            .where(AuditEvent.seq.is_null())
            .order_by(AuditEvent.id)
            .limit(limit)
            .output(load_json=True)
        )
        for row in pending:
            seq += 1
            digest = event_hash(row, seq, prev)
            await AuditEvent.update(
                {AuditEvent.seq: seq, AuditEvent.prev_hash: prev, AuditEvent.hash: digest}
            ).where((AuditEvent.id == row["id"]) & AuditEvent.seq.is_null())
            prev = digest
        return len(pending), seq, True


async def _checkpoint(now: datetime) -> bool:
    """Sign the head if it moved and the last checkpoint is a minute old, or a day has passed."""
    from backend.records.keys import signing_key

    async with _sealing() as got:
        if not got:
            return False
        seq, head = await _head()
        if seq == 0:
            return False
        last = await AuditCheckpoint.select().order_by(AuditCheckpoint.id, ascending=False).first()
        if last is not None:
            age = now - last["at"]
            moved = last["seq"] != seq
            if not ((moved and age >= CHECKPOINT_MIN_GAP) or age >= CHECKPOINT_MAX_GAP):
                return False
        key = signing_key(get_settings())
        # Stored with the same microseconds the signature covers.
        at = datetime.fromisoformat(time_text(now).replace("Z", "+00:00"))
        await AuditCheckpoint.insert(
            AuditCheckpoint(
                seq=seq,
                head_hash=head,
                at=at,
                key_id=key.key_id,
                algorithm="Ed25519",
                signature=key.sign(checkpoint_message(seq, head, at, key.key_id)),
            )
        )
        return True


async def seal(*, batch: int = BATCH, now: datetime | None = None) -> SealReport:
    """Chain every pending audit event (in batches of ``batch``, each its own short transaction)
    and sign a checkpoint when due. Safe to run from several processes at once."""
    started = time.perf_counter()
    report = SealReport()
    while True:
        sealed, head, got = await _seal_batch(batch)
        if not got:
            report.skipped = True
            break
        report.sealed += sealed
        report.head_seq = head
        if sealed < batch:
            break
    if not report.skipped:
        report.checkpoint = await _checkpoint(now or datetime.now(UTC))
    report.seconds = time.perf_counter() - started
    return report


async def run_forever(period: float) -> None:
    """The background loop of every worker: seal, then sleep ``period`` seconds. Errors are
    logged and retried next period (the chain catches up; nothing is lost by waiting)."""
    while True:
        try:
            await seal()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed round must not stop the loop
            log.exception("audit sealing failed; retrying in %.0f s", period)
        await asyncio.sleep(period)


@asynccontextmanager
async def background_sealer() -> AsyncIterator[None]:
    """Run ``run_forever`` for the app's lifetime (off when the period is 0)."""
    period = interval_seconds()
    if period <= 0:
        yield
        return
    task = asyncio.create_task(run_forever(period), name="audit-sealer")
    try:
        yield
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
