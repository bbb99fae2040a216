"""The canonical form of a submitted inspection: the bytes of ``record.json``.

UTF-8 JSON, keys sorted, no insignificant whitespace (separators ``,`` and ``:``), non-ASCII
characters written as themselves, decimals as strings (never a float), times in UTC as
``YYYY-MM-DDTHH:MM:SS.ffffffZ``, lists in a fixed order (findings by item, inspectors and photos
by id). The same database rows always give the same bytes, on SQLite and on PostgreSQL, so the
record can be rebuilt at any time and compared with what was signed.

Photos are named by the SHA-256 of the file kept on the server (the file a ZIP export carries as
``photos/<sha256>.<ext>``); ``upload_sha256`` is the hash the tablet computed of what it sent
(the server keeps a re-encoded image without metadata, so the two differ).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from piccolo.utils.encoding import load_json

from backend import db
from backend.inspections.tables import Inspection

FORMAT = "yibao-record/1"

# Given a photo row, the SHA-256 of its stored file (None when the file is missing).
FileHash = Callable[[dict[str, Any]], Awaitable[str | None]]
# Given photo rows, the SHA-256 of each one's stored file by photo id as text, all at once (one
# trip to a worker thread for the whole record rather than one per photo).
FileHashes = Callable[[list[dict[str, Any]]], Awaitable[dict[str, str | None]]]


def canonical_bytes(record: dict[str, Any]) -> bytes:
    """The exact bytes of ``record.json`` for a record dict."""
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest_of(data: bytes) -> str:
    """SHA-256 hex of the bytes."""
    return hashlib.sha256(data).hexdigest()


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # stored in UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _decimal(value: Any, places: int) -> str | None:
    if value is None:
        return None
    return f"{Decimal(str(value)):.{places}f}"


def _id(value: Any) -> str | None:
    return str(value) if value is not None else None


# The record's reads, as plain SQL: the seal runs inside the submission's write transaction,
# where building each statement in the ORM cost more than running it. One query gives the
# inspection with everything it names (institution, checklist, assignment, submitter) and its
# team, one row per inspector; one gives the answers; one the assignment's photos. Only the
# columns the record shows are read (the stored score breakdown, history and timestamps are not).
_INSPECTION_SQL = (
    "SELECT x.id, x.status, x.representative_name, x.signature_refused_reason, x.note,"
    " x.institution, x.assignment, x.checklist, x.checklist_hash, x.signatures, x.started_at,"
    " x.submitted_at, x.score_total, x.grade,"
    " i.code AS institution_code, i.name AS institution_name,"
    " cv.checklist_id AS checklist_key, cv.version AS checklist_version,"
    " a.kind AS a_kind, a.window_start AS a_start, a.window_end AS a_end,"
    " s.username AS submitter_username,"
    " t.id AS team_row, u.id AS inspector_id, u.username AS inspector_username,"
    " u.display_name AS inspector_display_name"
    " FROM inspection x"
    " LEFT JOIN institution i ON i.id = x.institution"
    " LEFT JOIN checklist_version cv ON cv.id = x.checklist"
    " LEFT JOIN assignment a ON a.id = x.assignment"
    " LEFT JOIN app_user s ON s.id = x.submitted_by"
    " LEFT JOIN assignment_inspector t ON t.assignment = x.assignment"
    " LEFT JOIN app_user u ON u.id = t.inspector"
    " WHERE x.id = $1"
)
_FINDINGS_SQL = (
    "SELECT id, item_id, result, occurrences, sampled, failed, population, amount, note,"
    " physician, physician_ids, photo_ids FROM finding WHERE inspection = $1"
)
# storage_key: where the file is, for its hash.
_PHOTOS_SQL = "SELECT id, kind, content_type, sha256, storage_key FROM photo WHERE assignment = $1"
_PLACEHOLDER = re.compile(r"\$\d+")


async def _rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    """The rows of a read: on the write transaction's connection when there is one (the seal),
    else through the ORM's raw query (``yibao records verify`` reads outside a transaction).
    Both give the values the ORM's selects gave (the same connections and type converters)."""
    if db.engine().current_transaction.get() is not None:
        return await db.read_rows(sql, *args)
    return await Inspection.raw(_PLACEHOLDER.sub("{}", sql), *args)


def _json(value: Any) -> Any:
    # As the ORM's load_json output: JSON columns come back as text from a raw read.
    return None if value is None else load_json(value)


def _json_values(values: list[Any]) -> list[Any]:
    """Each JSON text parsed (None stays None), as :func:`_json` one by one would."""
    if not all(isinstance(v, str) for v in values if v is not None):
        return [_json(v) for v in values]
    # Each text is one JSON value, so joined they are one array (SQL NULL as JSON null).
    return list(load_json("[" + ",".join("null" if v is None else v for v in values) + "]"))


async def build_record(
    inspection_id: UUID, file_hash: FileHash | None = None, *, file_hashes: FileHashes | None = None
) -> dict[str, Any] | None:
    """The record dict of an inspection as the database holds it now (None: no such
    inspection). ``file_hash`` gives each referenced photo's stored-file hash, one photo at a
    time; ``file_hashes``, when given instead, gives them all in one call."""
    rows = await _rows(_INSPECTION_SQL, inspection_id)
    if not rows:
        return None
    row = rows[0]
    signature_list = _json(row["signatures"]) or []
    team = [r for r in rows if r["team_row"] is not None]
    findings = await _rows(_FINDINGS_SQL, inspection_id)
    # Two JSON lists per answer: parsed in one call rather than a hundred.
    lists = _json_values([v for f in findings for v in (f["physician_ids"], f["photo_ids"])])
    for n, f in enumerate(findings):
        f["physician_ids"], f["photo_ids"] = lists[2 * n], lists[2 * n + 1]
    photo_rows = {str(p["id"]): p for p in await _rows(_PHOTOS_SQL, row["assignment"])}
    # Each referenced photo that exists is hashed once, however often the record names it.
    named = [str(p) for f in findings for p in f["photo_ids"] or []]
    named += [str(s.get("photo_id")) for s in signature_list]
    referenced = [photo_rows[i] for i in dict.fromkeys(named) if i in photo_rows]
    if file_hashes is not None:
        hashes = await file_hashes(referenced)
    else:
        assert file_hash is not None, "build_record needs file_hash or file_hashes"
        hashes = {str(p["id"]): await file_hash(p) for p in referenced}

    def photo(photo_id: str) -> dict[str, Any]:
        p = photo_rows.get(str(photo_id))
        if p is None:
            return {"id": str(photo_id), "sha256": None, "upload_sha256": None}
        return {
            "id": str(p["id"]),
            "kind": p["kind"],
            "content_type": p["content_type"],
            "sha256": hashes.get(str(p["id"])),
            "upload_sha256": p["sha256"],
        }

    finding_list = []
    for f in sorted(findings, key=lambda f: f["item_id"]):
        physicians = f.get("physician_ids") or ([str(f["physician"])] if f["physician"] else [])
        finding_list.append(
            {
                "id": str(f["id"]),
                "item": f["item_id"],
                "result": f["result"],
                "occurrences": f["occurrences"],
                "sampled": f["sampled"],
                "failed": f["failed"],
                "population": f["population"],
                "amount": f.get("amount"),
                "note": f["note"],
                "physician_ids": [str(p) for p in physicians],
                "photos": [photo(p) for p in f["photo_ids"] or []],
            }
        )
    signatures = []
    for s in signature_list:
        entry = photo(s.get("photo_id"))
        signatures.append(
            {
                "signer": s.get("signer"),
                "name": s.get("name"),
                "user_id": _id(s.get("user_id")),
                "photo": entry,
            }
        )
    return {
        "format": FORMAT,
        "inspection": {
            "id": str(row["id"]),
            "status": row["status"],
            "representative_name": row["representative_name"],
            "signature_refused_reason": row["signature_refused_reason"],
            "note": row["note"],
            "submitted_by": row["submitter_username"],
        },
        "institution": {
            "id": str(row["institution"]),
            "code": row["institution_code"],
            "name": row["institution_name"],
        },
        "assignment": {
            "id": str(row["assignment"]),
            "kind": row["a_kind"],
            "window_start": _date(row["a_start"]),
            "window_end": _date(row["a_end"]),
        },
        "checklist": {
            "id": row["checklist_key"],
            "version": row["checklist_version"],
            "version_id": str(row["checklist"]),
            "content_hash": row["checklist_hash"],
        },
        "findings": finding_list,
        "signatures": signatures,
        "times": {
            "started_at": _time(row["started_at"]),
            "submitted_at": _time(row["submitted_at"]),
        },
        "inspectors": sorted(
            (
                {
                    "id": str(t["inspector_id"]),
                    "username": t["inspector_username"],
                    "display_name": t["inspector_display_name"],
                }
                for t in team
            ),
            key=lambda t: t["id"],
        ),
        "score": {
            "total": _decimal(row["score_total"], 1),
            "grade": row["grade"],
        },
    }


def photo_hashes(record: dict[str, Any]) -> dict[str, str | None]:
    """Every photo the record names (evidence and signatures): id → stored-file SHA-256."""
    found: dict[str, str | None] = {}
    for f in record.get("findings", []):
        for p in f.get("photos", []):
            found[p["id"]] = p.get("sha256")
    for s in record.get("signatures", []):
        p = s.get("photo") or {}
        if "id" in p:
            found[p["id"]] = p.get("sha256")
    return found


def differences(stored: Any, rebuilt: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Where two record dicts differ: (readable path such as ``findings[item-id].result``,
    the stored value, the rebuilt value)."""
    if isinstance(stored, dict) and isinstance(rebuilt, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(stored) | set(rebuilt)):
            sub = f"{path}{key}" if key.startswith("[") else (f"{path}.{key}" if path else key)
            out.extend(differences(stored.get(key), rebuilt.get(key), sub))
        return out
    if isinstance(stored, list) and isinstance(rebuilt, list):
        keyed = _keyed(stored), _keyed(rebuilt)
        if keyed[0] is not None and keyed[1] is not None:
            return differences(keyed[0], keyed[1], path)
        if len(stored) == len(rebuilt):
            out = []
            for i, (a, b) in enumerate(zip(stored, rebuilt, strict=True)):
                out.extend(differences(a, b, f"{path}[{i}]"))
            return out
    return [] if stored == rebuilt else [(path, stored, rebuilt)]


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    """A list of dicts keyed by ``item`` (findings) or ``id``, as ``[key]`` paths."""
    for field in ("item", "id"):
        if items and all(isinstance(i, dict) and field in i for i in items):
            keys = [str(i[field]) for i in items]
            if len(set(keys)) == len(keys):
                return {f"[{k}]": i for k, i in zip(keys, items, strict=True)}
    return None
