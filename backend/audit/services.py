"""Writing and reading the append-only audit log.

Callers write the event inside the same transaction as the change it records, so that a change
and its audit event commit together or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.utils.encoding import dump_json

from backend.audit.chain import mac_key, make_mac
from backend.audit.tables import AuditEvent
from backend.db import run_many


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user (with the device they act from), or the system itself."""

    id: str | None
    username: str
    role: str | None = None
    device_id: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """An actor for changes made by the system or an administrator's CLI session."""
        return cls(id=None, username=name, role=None)


def _jsonable(value: Any) -> Any:
    # Round-trip through JSON so dates, UUIDs and Decimals are stored as plain text values.
    return None if value is None else json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _event_values(
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object,
    before: Any,
    after: Any,
    request_id: str | None,
    key: bytes,
) -> dict[str, Any]:
    # The time is set here, not by the column default, because the MAC written with the event
    # covers it; the chain columns stay empty until the sealer fills them (docs/audit-chain.md).
    values: dict[str, Any] = {
        "at": datetime.now(UTC),
        "actor_id": None if actor.id is None else str(actor.id),
        "actor_username": actor.username,
        "actor_role": actor.role,
        "device_id": actor.device_id,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "before": _jsonable(before),
        "after": _jsonable(after),
        "request_id": request_id,
    }
    return {**values, "mac": make_mac(values, key)}


async def record(
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object,
    *,
    before: Any = None,
    after: Any = None,
    request_id: str | None = None,
) -> None:
    """Append one audit event. Call it inside the transaction of the change it records.

    Args:
        actor: who made the change.
        action: a dotted verb, e.g. ``checklist.load`` or ``inspection.submit``.
        entity_type: the kind of record changed, e.g. ``inspection``.
        entity_id: the id of the record changed.
        before: the relevant state before the change, where it matters.
        after: the relevant state after the change.
        request_id: the HTTP request id, when the change came through the API.
    """
    await AuditEvent.insert(
        AuditEvent(
            **_event_values(
                actor, action, entity_type, entity_id, before, after, request_id, mac_key()
            )
        )
    )


async def record_many(
    actor: Actor,
    action: str,
    entity_type: str,
    events: list[tuple[object, Any]],
    *,
    request_id: str | None = None,
) -> None:
    """Append one event per ``(entity_id, after)`` pair in one statement (bulk imports). Call it
    inside the transaction of the change it records."""
    if not events:
        return
    key = mac_key()
    await AuditEvent.insert(
        *[
            AuditEvent(
                **_event_values(actor, action, entity_type, entity_id, None, after, request_id, key)
            )
            for entity_id, after in events
        ]
    )


async def record_events(
    actor: Actor,
    entity_type: str,
    entity_id: object,
    events: list[tuple[str, Any, Any]],
    *,
    request_id: str | None = None,
) -> None:
    """Append several events of one record, ``(action, before, after)`` each, in one statement
    and in the order given (a sync push: created, updated, submitted). Call it inside the
    transaction of the changes they record (it needs one)."""
    if not events:
        return
    key = mac_key()
    rows = [
        _event_values(actor, action, entity_type, entity_id, before, after, request_id, key)
        for action, before, after in events
    ]
    # One statement without the ORM (a sync push writes its events on the hot path); JSON goes
    # as text, as the ORM sends it.
    await run_many(
        _INSERT_EVENT,
        [
            tuple(
                (None if row[c] is None else dump_json(row[c])) if c in _JSON else row[c]
                for c in _EVENT_COLUMNS
            )
            for row in rows
        ],
    )


_EVENT_COLUMNS = (
    "at", "actor_id", "actor_username", "actor_role", "device_id", "action", "entity_type",
    "entity_id", "before", "after", "request_id", "mac",
)  # fmt: skip
_JSON = ("before", "after")
_INSERT_EVENT = "INSERT INTO {} ({}) VALUES ({})".format(
    AuditEvent._meta.tablename,
    ", ".join(_EVENT_COLUMNS),
    ", ".join(f"${i + 1}" for i in range(len(_EVENT_COLUMNS))),
)


async def history(entity_type: str, entity_id: object) -> list[dict[str, Any]]:
    """All audit events of one record, oldest first."""
    return (
        await AuditEvent.select()
        .where((AuditEvent.entity_type == entity_type) & (AuditEvent.entity_id == str(entity_id)))
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )
