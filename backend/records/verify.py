"""Checking seals: every submitted record against the database and the file store
(``yibao records verify``), and an exported ZIP on its own (``yibao records check``)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from backend.inspections.tables import Inspection, InspectionStatus, Photo
from backend.records.canonical import build_record, differences, digest_of, photo_hashes
from backend.records.keys import key_id_of, signing_key, verify_signature
from backend.records.seal import stored_file_hash
from backend.records.tables import RecordSeal
from backend.settings import Settings


@dataclass
class Report:
    """What a check found: how many records were checked and each problem, one line each."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.problems


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


async def verify_records(settings: Settings, only: set[str] | None = None) -> Report:
    """Rebuild every submitted (or ever sealed) inspection's record from the database and check
    it against its latest seal: the digest, the signature and, field by field, the content; then
    check every photo file the record names against its SHA-256. ``only`` limits the check to
    these inspection ids."""
    key = signing_key(settings)
    report = Report()
    submitted = {
        str(r["id"])
        for r in await Inspection.select(Inspection.id).where(
            Inspection.status == InspectionStatus.submitted.value
        )
    }
    sealed_ids = {
        str(r["inspection"]) for r in await RecordSeal.select(RecordSeal.inspection).distinct()
    }
    ids = submitted | sealed_ids
    if only is not None:
        ids &= only
    for inspection_id in sorted(ids):
        report.checked += 1
        seal = (
            await RecordSeal.select()
            .where(RecordSeal.inspection == UUID(inspection_id))
            .order_by(RecordSeal.id, ascending=False)
            .first()
        )
        where = f"inspection {inspection_id}"
        if seal is None:
            report.problems.append(f"{where}: submitted but never sealed (run `yibao records seal`)")
            continue
        data = seal["record"].encode("utf-8")
        if digest_of(data) != seal["digest"]:
            report.problems.append(
                f"{where}: the stored record no longer matches its digest {seal['digest'][:16]}"
            )
        if seal["key_id"] != key.key_id:
            report.problems.append(
                f"{where}: sealed with key {seal['key_id']}, not this deployment's key {key.key_id}"
            )
        elif not verify_signature(key.public, data, seal["signature"]):
            report.problems.append(f"{where}: the signature does not verify over the stored record")
        try:
            stored = json.loads(data)
        except ValueError:
            report.problems.append(f"{where}: the stored record is not valid JSON")
            continue
        known = photo_hashes(stored)

        async def file_hash(photo: dict[str, Any], known: dict[str, Any] = known) -> str | None:
            # The file hash as sealed: the files themselves are checked separately below, so a
            # flipped byte is reported as the photo's fault, not as a changed record.
            if str(photo["id"]) in known:
                return known[str(photo["id"])]
            return await stored_file_hash(settings, photo)

        rebuilt = await build_record(UUID(inspection_id), file_hash)
        for path, was, now_ in differences(stored, rebuilt or {}):
            report.problems.append(
                f"{where}: field {path} changed after sealing: sealed {_short(was)}, "
                f"database now {_short(now_)}"
            )
        await _check_photo_files(settings, where, known, report)
    return report


async def _check_photo_files(
    settings: Settings, where: str, known: dict[str, Any], report: Report
) -> None:
    if not known:
        return
    rows = {
        str(r["id"]): r
        for r in await Photo.select(Photo.id, Photo.storage_key).where(
            Photo.id.is_in([UUID(i) for i in known])
        )
    }
    for photo_id, expected in sorted(known.items()):
        row = rows.get(photo_id)
        if row is None:
            continue  # reported as a changed field of the record
        actual = await stored_file_hash(settings, row)
        if actual is None:
            report.problems.append(
                f"photo {photo_id} ({where}): file {row['storage_key']} is missing"
            )
        elif actual != expected:
            report.problems.append(
                f"photo {photo_id} ({where}): file {row['storage_key']} has SHA-256 "
                f"{actual[:16]}…, sealed as {str(expected)[:16]}… (changed or damaged)"
            )


def check_zip(path: Path, public: Ed25519PublicKey) -> Report:
    """Check an exported evidence ZIP offline: ``record.json`` against ``signature.json`` (the
    digest and the Ed25519 signature with the given published key), and every photo the record
    names against its SHA-256."""
    report = Report()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.problems.append(f"{path}: not a readable ZIP file ({exc})")
        return report
    with archive:
        names = set(archive.namelist())
        for needed in ("record.json", "signature.json"):
            if needed not in names:
                report.problems.append(f"{needed}: missing from the ZIP")
        if report.problems:
            return report
        data = archive.read("record.json")
        try:
            sig = json.loads(archive.read("signature.json"))
            record = json.loads(data)
        except ValueError as exc:
            report.problems.append(f"record.json or signature.json: not valid JSON ({exc})")
            return report
        report.checked = 1
        actual = digest_of(data)
        if actual != sig.get("digest"):
            report.problems.append(
                f"record.json: SHA-256 is {actual}, signature.json says {sig.get('digest')}"
            )
        key_id = key_id_of(public)
        if sig.get("key_id") != key_id:
            report.problems.append(
                f"signature.json: key_id {sig.get('key_id')} is not the given key's id {key_id}"
            )
        if not verify_signature(public, data, str(sig.get("signature", ""))):
            report.problems.append(
                "signature.json: the signature does not verify over record.json with the "
                f"published key {key_id} (record.json was changed, or signed by another key)"
            )
        by_hash = {
            n.split("/", 1)[1].split(".", 1)[0]: n for n in names if n.startswith("photos/")
        }
        for photo_id, expected in sorted(photo_hashes(record).items()):
            name = by_hash.get(str(expected))
            if name is None:
                report.problems.append(
                    f"photos/{expected}.*: photo {photo_id} named in record.json is missing"
                )
                continue
            got = hashlib.sha256(archive.read(name)).hexdigest()
            if got != expected:
                report.problems.append(
                    f"{name}: SHA-256 is {got}, record.json says {expected} (photo {photo_id})"
                )
    return report
