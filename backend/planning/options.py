"""What the planning screens offer to choose from: the regions one plans in, the inspectors who
may be put on a team there, and the loaded checklist versions."""

from __future__ import annotations

from typing import Any

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role, User
from backend.checklists.tables import ChecklistVersion
from backend.institutions.tables import Region


async def planning_options(user: CurrentUser) -> dict[str, Any]:
    """``regions`` (code, name, parent_code; the caller's region and those under it),
    ``inspectors`` (username, display_name, region_code, is_active: those of these regions and of
    the regions above the caller's, e.g. the city's for a county supervisor) and ``checklists``
    (checklist_id, version, title, applies_to; newest version first)."""
    rows = await Region.select(Region.id, Region.code, Region.name, Region.parent)
    by_id = {r["id"]: r for r in rows}
    if user.role == Role.admin:
        scope = set(by_id)
        above: set[Any] = set()
    else:
        scope = set(user.region_ids or ())
        above = set()
        current = by_id.get(user.region_id) if user.region_id else None
        while current is not None and current["parent"] is not None:
            above.add(current["parent"])
            current = by_id.get(current["parent"])
    regions = [
        {
            "code": r["code"],
            "name": r["name"],
            "parent_code": by_id[r["parent"]]["code"] if r["parent"] in by_id else None,
        }
        for r in sorted(rows, key=lambda r: r["code"])
        if r["id"] in scope
    ]
    inspectors = [
        {
            "id": str(r["id"]),
            "username": r["username"],
            "display_name": r["display_name"],
            "region_code": by_id[r["region"]]["code"],
            "region_name": by_id[r["region"]]["name"],
            "is_active": r["is_active"],
        }
        for r in await User.select(
            User.id, User.username, User.display_name, User.region, User.is_active
        ).where(User.role == Role.inspector.value)
        if r["region"] in scope or r["region"] in above
    ]
    inspectors.sort(key=lambda i: (i["region_code"], i["username"]))
    checklists = await ChecklistVersion.select(
        ChecklistVersion.id,
        ChecklistVersion.checklist_id,
        ChecklistVersion.version,
        ChecklistVersion.title,
        ChecklistVersion.applies_to,
    ).output(load_json=True)
    checklists.sort(key=lambda c: (c["checklist_id"], -c["version"]))
    return {
        "regions": regions,
        "inspectors": inspectors,
        "checklists": [{**c, "version_id": str(c.pop("id"))} for c in checklists],
    }
