"""The readable history of notices and tasks (``rectification_event``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from piccolo.utils.encoding import dump_json

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import User
from backend.db import run_many
from backend.rectification.tables import TaskEvent

#: What each kind of event is called in the history (Chinese, for people).
EVENT_LABELS = {
    "drafted": "生成通知书草稿",
    "issued": "签发整改通知书",
    "served": "登记送达",
    "answer": "提交整改报告",
    "accept": "验收通过",
    "reject": "退回重新整改",
    "comment": "留言",
    "objection": "提出申诉",
    "objection_upheld": "申诉成立，撤销该事项",
    "objection_dismissed": "申诉不成立，继续整改",
    "overdue": "逾期未完成整改",
    "escalation": "采取处理措施",
    "reinspection_planned": "安排复查",
    "reinspection_pass": "复查合格",
    "reinspection_fail": "复查仍不符合",
    "closed": "整改通知书办结",
    "reopened": "整改通知书重新开启",
}


@dataclass(frozen=True)
class EventActor:
    """Who an event is by, as the history shows it (None id: the system)."""

    id: UUID | None
    name: str
    role: str | None

    @classmethod
    def of(cls, user: CurrentUser) -> EventActor:
        return cls(id=user.id, name=user.display_name or user.username, role=user.role.value)

    @classmethod
    async def by_id(cls, user_id: UUID | None) -> EventActor:
        if user_id is None:
            return SYSTEM
        row = (
            await User.select(User.display_name, User.username, User.role)
            .where(User.id == user_id)
            .first()
        )
        if row is None:
            return SYSTEM
        return cls(id=user_id, name=row["display_name"] or row["username"], role=row["role"])


SYSTEM = EventActor(id=None, name="系统", role=None)


async def add_event(
    notice_id: UUID,
    kind: str,
    actor: EventActor,
    *,
    task_id: UUID | None = None,
    text: str = "",
    photo_ids: Sequence[UUID | str] = (),
    status_after: str | None = None,
    at: datetime | None = None,
) -> None:
    """Append one history entry (inside the transaction of the change it describes)."""
    event = TaskEvent(
        notice=notice_id,
        task=task_id,
        kind=kind,
        text=text,
        photo_ids=[str(p) for p in photo_ids],
        status_after=status_after,
        actor=actor.id,
        actor_name=actor.name[:64],
        actor_role=actor.role,
    )
    if at is not None:
        event.at = at
    await event.save()


def event_values(
    notice_id: UUID,
    kind: str,
    actor: EventActor,
    *,
    task_id: UUID | None = None,
    text: str = "",
    photo_ids: Sequence[UUID | str] = (),
    status_after: str | None = None,
    at: datetime | None = None,
) -> tuple[Any, ...]:
    """One history entry as :func:`add_events` writes it: the values :func:`add_event` stores
    (its time, when not given, is taken now, as the column default would)."""
    return (
        notice_id,
        task_id,
        kind,
        text,
        dump_json([str(p) for p in photo_ids]),  # JSON as text, as the ORM sends it
        status_after,
        actor.id,
        actor.name[:64],
        actor.role,
        datetime.now(UTC) if at is None else at,
    )


async def add_events(events: Sequence[tuple[Any, ...]]) -> None:
    """Append several history entries (from :func:`event_values`) in one statement and in the
    order given, inside the transaction of the change they describe (it needs one).

    For the hot path of a submission that issues a notice: building an ORM statement per entry
    costs far more than the database does.
    """
    await run_many(_INSERT_EVENT, list(events))


_EVENT_COLUMNS = (
    "notice", "task", "kind", "text", "photo_ids", "status_after", "actor", "actor_name",
    "actor_role", "at",
)  # fmt: skip
_INSERT_EVENT = "INSERT INTO {} ({}) VALUES ({})".format(
    TaskEvent._meta.tablename,
    ", ".join(f'"{c}"' for c in _EVENT_COLUMNS),
    ", ".join(f"${i + 1}" for i in range(len(_EVENT_COLUMNS))),
)
