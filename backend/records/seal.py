"""Sealing: the canonical record of a submitted inspection, its digest and signature, stored.

Called in the transaction that submits an inspection (one record build, one canonicalisation,
one signature, one insert) and by any later change to a submitted inspection (:func:`reseal`),
which appends a new seal and keeps the earlier ones.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from uuid import UUID

import anyio.to_thread

from backend import db
from backend.accounts.auth import now
from backend.audit.services import Actor
from backend.audit.services import record as audit
from backend.audit.services import record_events as audit_events
from backend.records.canonical import build_record, canonical_bytes, digest_of
from backend.records.keys import ALGORITHM, signing_key
from backend.records.tables import RecordSeal
from backend.settings import Settings, get_settings
from backend.storage import get_file_store


def _sha256_file(path: Any) -> str | None:
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


async def stored_file_hash(settings: Settings, photo: dict[str, Any]) -> str | None:
    """SHA-256 of a photo's stored file (None when it is missing)."""
    store = get_file_store(settings)
    path = store.path_for(photo["storage_key"])
    if path is not None:
        return await anyio.to_thread.run_sync(_sha256_file, path)
    try:
        return hashlib.sha256(await store.get(photo["storage_key"])).hexdigest()
    except FileNotFoundError:
        return None


def _sha256_files(paths: dict[str, Any]) -> dict[str, str | None]:
    return {photo_id: _sha256_file(path) for photo_id, path in paths.items()}


async def stored_file_hashes(
    settings: Settings, photos: list[dict[str, Any]]
) -> dict[str, str | None]:
    """SHA-256 of each photo's stored file by photo id as text (None when it is missing).

    The files are read now, every time: the record promises the hash of the file as stored
    at sealing (a missing or damaged file shows in the record). The photo row's ``sha256`` cannot
    stand in for it: it is the hash of the bytes the tablet uploaded (checked on receipt), while
    the store keeps a re-encoded image without metadata, whose hash differs. Files on local disk
    are hashed together on one worker thread (a thread trip per photo cost more than hashing a
    photo).
    """
    store = get_file_store(settings)
    local: dict[str, Any] = {}
    out: dict[str, str | None] = {}
    for photo in photos:
        path = store.path_for(photo["storage_key"])
        if path is not None:
            local[str(photo["id"])] = path
        else:
            out[str(photo["id"])] = await stored_file_hash(settings, photo)
    if local:
        out.update(await anyio.to_thread.run_sync(_sha256_files, local))
    return out


async def seal_inspection(
    inspection_id: UUID, *, reason: str = "submit", at: datetime | None = None
) -> dict[str, Any]:
    """Build, sign and store the inspection's record; returns the new seal row.

    Call inside the transaction of the change, so the seal and the change commit together.
    """
    settings = get_settings()
    key = signing_key(settings)

    async def file_hashes(photos: list[dict[str, Any]]) -> dict[str, str | None]:
        return await stored_file_hashes(settings, photos)

    record = await build_record(inspection_id, file_hashes=file_hashes)
    if record is None:
        raise LookupError(f"inspection {inspection_id} does not exist")
    data = canonical_bytes(record)
    seal: dict[str, Any] = {
        "inspection": inspection_id,
        "digest": digest_of(data),
        "signature": key.sign(data),
        "key_id": key.key_id,
        "algorithm": ALGORITHM,
        "reason": reason,
        "sealed_at": at or now(),
        "record": data.decode("utf-8"),
    }
    # The digest also goes into the audit log (chained there), so a seal row replaced later
    # with one over changed content no longer matches what the log recorded at the time.
    audit_after = {"digest": seal["digest"], "key_id": key.key_id, "reason": reason}
    if db.engine().current_transaction.get() is not None:
        # Plain statements on the transaction's connection (the submission's hot path), with
        # the values the ORM would send.
        inserted = await db.read_row(_INSERT_SEAL, *(seal[c] for c in _SEAL_COLUMNS))
        if inserted is None:  # pragma: no cover - INSERT … RETURNING gives its row
            raise RuntimeError("the seal was not stored")
        await audit_events(
            Actor.system("records"),
            "inspection",
            inspection_id,
            [("record.seal", None, audit_after)],
        )
        return {"id": inserted["id"], **seal}
    row = RecordSeal(**seal)
    await row.save()
    await audit(
        Actor.system("records"), "record.seal", "inspection", inspection_id, after=audit_after
    )
    return row.to_dict()


# The seal's columns, in the order of the table (and of the row returned, as ``to_dict``).
_SEAL_COLUMNS = (
    "inspection", "digest", "signature", "key_id", "algorithm", "reason", "sealed_at", "record",
)  # fmt: skip
_INSERT_SEAL = "INSERT INTO {} ({}) VALUES ({}) RETURNING id".format(
    RecordSeal._meta.tablename,
    ", ".join(_SEAL_COLUMNS),
    ", ".join(f"${i + 1}" for i in range(len(_SEAL_COLUMNS))),
)


async def reseal(inspection_id: UUID, *, at: datetime | None = None) -> dict[str, Any]:
    """Seal a submitted inspection again after a change (the earlier seals stay)."""
    return await seal_inspection(inspection_id, reason="change", at=at)


async def latest_seal(inspection_id: UUID, *, with_record: bool = True) -> dict[str, Any] | None:
    """The inspection's current seal (the latest), or None when it was never sealed."""
    columns = (
        [] if with_record else [c for c in RecordSeal.all_columns() if c._meta.name != "record"]
    )
    return (
        await RecordSeal.select(*columns)
        .where(RecordSeal.inspection == inspection_id)
        .order_by(RecordSeal.id, ascending=False)
        .first()
    )


async def latest_seals(inspection_ids: list[UUID]) -> dict[str, dict[str, Any]]:
    """The current seal of each of these inspections (by id as text)."""
    if not inspection_ids:
        return {}
    out: dict[str, dict[str, Any]] = {}
    rows = (
        await RecordSeal.select()
        .where(RecordSeal.inspection.is_in(inspection_ids))
        .order_by(RecordSeal.id)
    )
    for r in rows:  # ascending: the last one wins
        out[str(r["inspection"])] = r
    return out


def seal_out(row: dict[str, Any]) -> dict[str, Any]:
    """A seal as the API shows it (the contract's fields, plus the short digest)."""
    return {
        "digest": row["digest"],
        "short_digest": row["digest"][:16],
        "signature": row["signature"],
        "key_id": row["key_id"],
        "algorithm": row["algorithm"],
        "sealed_at": row["sealed_at"],
    }


async def reseal_affected(
    *, institution_id: UUID | None = None, user_id: UUID | None = None
) -> int:
    """Append a seal to every submitted inspection whose record names this institution (its
    name changed) or this person (an inspector or the submitter whose name changed), inside the
    caller's transaction. Returns how many were sealed again; the earlier seals stay."""
    from backend.inspections.tables import AssignmentInspector, Inspection, InspectionStatus

    where = Inspection.status == InspectionStatus.submitted.value
    if institution_id is not None:
        where &= Inspection.institution == institution_id
    if user_id is not None:
        teams = [
            r["assignment"]
            for r in await AssignmentInspector.select(AssignmentInspector.assignment).where(
                AssignmentInspector.inspector == user_id
            )
        ]
        named = Inspection.submitted_by == user_id
        where &= (Inspection.assignment.is_in(teams) | named) if teams else named
    ids = [r["id"] for r in await Inspection.select(Inspection.id).where(where)]
    for inspection_id in ids:
        await reseal(inspection_id)
    return len(ids)
