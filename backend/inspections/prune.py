"""``yibao photos prune --days N``: photos of drafts that were never submitted.

Tablets send a draft's photos while the visit goes on. When that draft is never submitted (the
inspection abandoned, the tablet lost, the assignment cancelled), its photos would stay on the
server for good; this command removes those older than N days — rows and files, each removal
audited (``photo.prune``) and printed. A photo counts as abandoned when it was uploaded more than N
days ago and its assignment has no inspection, or only a draft not changed for N days; a submitted
inspection's photos are never touched.

Exit codes as every ``yibao`` command: 0 all holds, 1 a photo could not be removed (its id named on
stdout), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.audit.services import Actor, record
from backend.db import write_transaction
from backend.inspections.photos import remove_unused_files, removed_photo_view
from backend.inspections.tables import Inspection, InspectionStatus, Photo
from backend.storage import FileStore, validate_key

DEFAULT_DAYS = 30


@dataclass
class PruneReport:
    """What one prune removed, and what it could not."""

    removed: list[dict[str, Any]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (photo id, why)

    @property
    def ok(self) -> bool:
        return not self.failed


async def abandoned_photos(days: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """Photo rows older than ``days`` whose assignment's inspection is absent or a stale draft."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    inspections = {
        r["assignment"]: r
        for r in await Inspection.select(
            Inspection.assignment, Inspection.status, Inspection.updated_at
        )
    }
    stale: list[dict[str, Any]] = []
    for row in await Photo.select().where(Photo.created_at < cutoff).order_by(Photo.created_at):
        inspection = inspections.get(row["assignment"])
        if inspection is not None and (
            inspection["status"] == InspectionStatus.submitted.value
            or inspection["updated_at"] >= cutoff
        ):
            continue
        stale.append(row)
    return stale


async def prune_photos(
    days: int, store: FileStore, actor: Actor, now: datetime | None = None
) -> PruneReport:
    """Remove the abandoned draft photos (see the module's docstring), one transaction each."""
    report = PruneReport()
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    for row in await abandoned_photos(days, now):
        try:
            # A key the store refuses is named before anything changes (the row stays).
            validate_key(row["storage_key"])
            validate_key(row["thumbnail_key"])
            async with write_transaction():
                # Again inside the transaction: the draft may have been submitted meanwhile.
                if await Inspection.exists().where(
                    (Inspection.assignment == row["assignment"])
                    & (
                        (Inspection.status == InspectionStatus.submitted.value)
                        | (Inspection.updated_at >= cutoff)
                    )
                ):
                    continue
                await Photo.delete().where(Photo.id == row["id"])
                await record(
                    actor,
                    "photo.prune",
                    "photo",
                    row["id"],
                    before=removed_photo_view(row),
                    after={"days": days},
                )
            await remove_unused_files(store, row)
        except Exception as exc:  # noqa: BLE001 - named on stdout, the others still go
            report.failed.append((str(row["id"]), str(exc) or type(exc).__name__))
            continue
        report.removed.append(row)
    return report


def cmd_prune(args: argparse.Namespace) -> int:
    """Remove the photos of drafts never submitted, older than ``--days``; audited."""
    from backend.cli import _run_db, _settings_or_exit
    from backend.storage import get_file_store

    settings = _settings_or_exit()
    if args.days < 0:
        print("error: --days 不能为负数")
        return 2

    async def work() -> int:
        report = await prune_photos(
            args.days, get_file_store(settings), Actor.system("yibao photos prune")
        )
        for row in report.removed:
            print(
                f"removed photo {row['id']} ({row['kind']}) of assignment {row['assignment']},"
                f" uploaded {row['created_at']:%Y-%m-%d}"
            )
        for photo_id, why in report.failed:
            print(f"failed photo {photo_id}: {why}")
        print(
            f"{len(report.removed)} photos of drafts not submitted within {args.days} days removed"
            + (f"; {len(report.failed)} could not be removed" if report.failed else "")
        )
        return 0 if report.ok else 1

    return _run_db(work)


def add_photos_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``yibao photos ...``."""
    photos = sub.add_parser("photos", help="photos on the server")
    photos_sub = photos.add_subparsers(dest="photos_command", required=True)
    prune = photos_sub.add_parser(
        "prune", help="remove the photos of drafts never submitted, older than --days (audited)"
    )
    prune.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, help=f"age in days (default {DEFAULT_DAYS})"
    )
    prune.set_defaults(func=cmd_prune)
