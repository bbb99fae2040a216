"""Loading checklist files into the database, and reading loaded versions back.

A loaded version never changes: inspections pin it by id, version and content hash. Loading is
idempotent (the same file loads once), and a file whose content changed while its version did not
is refused, because that would silently change what past inspections were scored against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.audit.services import Actor, record
from backend.checklists.schema import Checklist
from backend.checklists.tables import ChecklistVersion
from backend.checklists.validation import ChecklistInvalid, LoadedChecklist, load_checklist
from backend.db import write_transaction


@dataclass
class LoadReport:
    """What a load did, file by file."""

    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was refused."""
        return not self.refused


def checklist_files(paths: list[Path]) -> list[Path]:
    """The YAML files named, or found (sorted) in the folders named."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"}))
        else:
            files.append(path)
    return files


@dataclass
class StoreResult:
    """What storing one valid checklist did: ``loaded`` (new version stored), ``unchanged``
    (the same content is loaded already) or ``refused`` (the version is loaded with other
    content: a loaded version never changes)."""

    outcome: str
    version_id: Any
    existing_hash: str | None = None


async def store_checklist(loaded: LoadedChecklist, source_file: str, actor: Actor) -> StoreResult:
    """Store a validated checklist version unless that version is loaded already.

    The same content again changes nothing; other content under a loaded version is refused,
    because past inspections are scored against the loaded one. Audited as ``checklist.load``.
    """
    checklist = loaded.checklist
    async with write_transaction():
        existing = (
            await ChecklistVersion.select(ChecklistVersion.id, ChecklistVersion.content_hash)
            .where(
                (ChecklistVersion.checklist_id == checklist.id)
                & (ChecklistVersion.version == checklist.version)
            )
            .first()
        )
        if existing is not None:
            if existing["content_hash"] == loaded.content_hash:
                return StoreResult("unchanged", existing["id"])
            return StoreResult("refused", existing["id"], existing["content_hash"])
        row = ChecklistVersion(
            checklist_id=checklist.id,
            version=checklist.version,
            title=checklist.title,
            applies_to=list(checklist.applies_to),
            content_hash=loaded.content_hash,
            content=checklist.model_dump(mode="json"),
            source_text=loaded.raw_text,
            source_file=source_file,
            item_count=sum(len(s.items) for s in checklist.sections),
        )
        await row.save()
        await record(
            actor,
            "checklist.load",
            "checklist_version",
            row.id,
            after={
                "checklist_id": checklist.id,
                "version": checklist.version,
                "content_hash": loaded.content_hash,
                "file": source_file,
            },
        )
    return StoreResult("loaded", row.id)


async def load_file(path: Path, actor: Actor) -> tuple[str, str]:
    """Load one checklist file.

    Returns:
        ``("loaded" | "unchanged" | "refused", message)``.
    """
    try:
        loaded: LoadedChecklist = load_checklist(path)
    except ChecklistInvalid as exc:
        problems = "\n  ".join(str(p) for p in exc.problems)
        return "refused", f"{path}: 检查表有误，未载入：\n  {problems}"
    checklist = loaded.checklist
    label = f"{checklist.id} v{checklist.version}"
    result = await store_checklist(loaded, path.name, actor)
    if result.outcome == "unchanged":
        return "unchanged", f"{path}: {label} 已载入，内容未变"
    if result.outcome == "refused":
        return "refused", (
            f"{path}: {label} 已以不同内容载入（已载入 {result.existing_hash}，文件为 "
            f"{loaded.content_hash}）；已载入的版本不可更改，因为以往的检查按它评分："
            f"请把 version 改为 {checklist.version + 1} 或更大后再载入新内容"
        )
    items = sum(len(s.items) for s in checklist.sections)
    return "loaded", f"{path}: {label} 已载入（{items} 个检查项）"


async def load_paths(paths: list[Path], actor: Actor) -> LoadReport:
    """Load every checklist file named or found in the folders named; report each file."""
    report = LoadReport()
    for path in checklist_files(paths):
        outcome, message = await load_file(path, actor)
        getattr(report, outcome).append(message)
    return report


async def get_version(checklist_id: str, version: int) -> dict[str, Any] | None:
    """A loaded checklist version as a row (content parsed), or None."""
    return (
        await ChecklistVersion.select()
        .where(
            (ChecklistVersion.checklist_id == checklist_id) & (ChecklistVersion.version == version)
        )
        .output(load_json=True)
        .first()
    )


async def latest_versions() -> list[dict[str, Any]]:
    """The newest loaded version of each checklist, without content."""
    rows = (
        await ChecklistVersion.select(
            ChecklistVersion.id,
            ChecklistVersion.checklist_id,
            ChecklistVersion.version,
            ChecklistVersion.title,
            ChecklistVersion.applies_to,
            ChecklistVersion.content_hash,
            ChecklistVersion.item_count,
        )
        .order_by(ChecklistVersion.checklist_id)
        .order_by(ChecklistVersion.version, ascending=False)
        .output(load_json=True)
    )
    newest: dict[str, dict[str, Any]] = {}
    for row in rows:
        newest.setdefault(row["checklist_id"], row)
    return list(newest.values())


def checklist_from_row(row: dict[str, Any]) -> Checklist:
    """Rebuild the checklist model from a loaded version's stored content."""
    return Checklist.model_validate(row["content"])


async def list_versions() -> list[dict[str, Any]]:
    """Every loaded version, without its content: by checklist, newest version first."""
    return (
        await ChecklistVersion.select(
            ChecklistVersion.id,
            ChecklistVersion.checklist_id,
            ChecklistVersion.version,
            ChecklistVersion.title,
            ChecklistVersion.applies_to,
            ChecklistVersion.content_hash,
            ChecklistVersion.item_count,
            ChecklistVersion.source_file,
            ChecklistVersion.loaded_at,
        )
        .order_by(ChecklistVersion.checklist_id)
        .order_by(ChecklistVersion.version, ascending=False)
        .output(load_json=True)
    )


async def version_by_id(version_id: Any) -> dict[str, Any] | None:
    """One loaded version with its parsed content and source text, or None."""
    return (
        await ChecklistVersion.select()
        .where(ChecklistVersion.id == version_id)
        .output(load_json=True)
        .first()
    )
