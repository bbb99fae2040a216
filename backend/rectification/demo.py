"""Demo rectifications, so that a new user finds the bureau's desk with work on it: submitted
inspections with notices whose tasks wait for 验收, an open objection, and an overdue notice.

Everything goes through the real services (planning, photo upload, sync push with its scoring
and issuing, the manager's photos, answers and objection), as a tablet and a manager would. The
one liberty taken is time: the overdue notice is moved back a month after it is issued, as if
it had been issued then, because nothing else makes a deadline pass.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from PIL import Image, ImageDraw

from backend.accounts.auth import CurrentUser, now, region_scope
from backend.accounts.tables import Role, User
from backend.checklists.tables import ChecklistVersion
from backend.inspections import photos, sync
from backend.inspections.assignments import create_assignment
from backend.inspections.images import ImageLimits
from backend.inspections.schemas import AssignmentCreate, PushRequest
from backend.inspections.tables import AssignmentKind, PhotoKind
from backend.institutions.tables import Institution
from backend.rectification import attachments, deadlines, tasks
from backend.rectification.reading import overdue_tasks
from backend.rectification.tables import RectificationNotice, RectificationTask
from backend.storage import FileStore

DEVICE = "demo-tablet"


@dataclass(frozen=True)
class DemoCase:
    """One demo inspection and what its institution's manager does with the notice."""

    institution: str
    manager: str
    checklist_id: str
    fails: tuple[str, ...]
    answered: tuple[int, ...] = ()  # task numbers answered (waiting for 验收)
    objected: tuple[int, ...] = ()  # task numbers objected to (pending)
    issued_days_ago: int = 0  # > 0: the notice is moved back, its open tasks overdue


CASES = (
    DemoCase(
        "环翠区仁和诊所",
        "manager.clinic",
        "clinic-routine",
        ("signage.complaint", "price-posting.service-prices", "records.outpatient-log"),
        answered=(1, 2),
        objected=(3,),
    ),
    DemoCase(
        "威海海滨人民医院",
        "manager",
        "hospital-routine",
        (),  # the first two photo_on_fail items of the hospital checklist (see _fails)
        issued_days_ago=45,
    ),
)


def _jpeg(seed: int, label: str = "") -> bytes:
    """A plain photo-like image (a coloured scene with a few shapes)."""
    image = Image.new("RGB", (960, 720), (200 - seed * 13 % 90, 190, 170 + seed * 7 % 60))
    draw = ImageDraw.Draw(image)
    draw.rectangle((80, 120, 880, 600), outline=(60, 60, 60), width=8)
    draw.rectangle((140 + seed * 20 % 200, 200, 420 + seed * 20 % 200, 520), fill=(120, 90, 60))
    draw.ellipse((560, 220, 780, 440), fill=(240, 240, 235))
    if label:
        draw.text((100, 640), label, fill=(20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _signature(seed: int) -> bytes:
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(40 + x * 26, 100 + ((x * (seed + 3)) % 7 - 3) * 12) for x in range(21)]
    draw.line(points, fill=(0, 0, 0, 255), width=5)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def _as_user(username: str) -> CurrentUser:
    row = await User.select().where(User.username == username).first()
    assert row is not None, username
    role = Role(row["role"])
    region_ids = await region_scope(row["region"]) if row["region"] else frozenset()
    return CurrentUser(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=role,
        region_id=row["region"],
        institution_id=row["institution"],
        region_ids=None if role == Role.admin else region_ids,
        session_id=uuid.uuid4(),
        device_id=DEVICE,
    )


def _fails(case: DemoCase, items: list[Any]) -> tuple[str, ...]:
    if case.fails:
        return case.fails
    # Items with short deadlines, so that they are well overdue on the moved-back notice.
    return tuple(
        i.id
        for _, i in items
        if i.evidence == "photo_on_fail" and i.mode != "sample" and 0 < i.deadline_days <= 15
    )[:2]


async def _inspect(
    case: DemoCase, store: FileStore, limits: ImageLimits, today: date
) -> dict[str, Any] | None:
    """Plan, inspect and submit; returns the notice row issued for it."""
    version = (
        await ChecklistVersion.select(ChecklistVersion.id)
        .where(ChecklistVersion.checklist_id == case.checklist_id)
        .order_by(ChecklistVersion.version, ascending=False)
        .first()
    )
    institution = (
        await Institution.select(Institution.id).where(Institution.name == case.institution).first()
    )
    if version is None or institution is None:
        return None
    supervisor = await _as_user("supervisor")
    inspector = await _as_user("inspector")
    partner = await _as_user("inspector2")
    start = today - timedelta(days=case.issued_days_ago + 2)
    assignment = await create_assignment(
        supervisor,
        AssignmentCreate(
            institution_id=institution["id"],
            checklist_id=case.checklist_id,
            window_start=start,
            window_end=start + timedelta(days=3),
            inspector_ids=[inspector.id, partner.id],
            kind=AssignmentKind.routine,
            note="演示数据",
        ),
    )
    checklist = await sync.checklist_model(assignment.checklist.version_id)
    items = checklist.all_items()
    failing = set(_fails(case, items))
    inspection_id = uuid.uuid4()

    async def upload(data: bytes, kind: PhotoKind, **extra: Any) -> uuid.UUID:
        photo_id = uuid.uuid4()
        await photos.receive_photo(
            inspector,
            photos.PhotoUpload(
                id=photo_id,
                sha256=hashlib.sha256(data).hexdigest(),
                assignment_id=assignment.id,
                inspection_id=inspection_id,
                kind=kind,
                captured_at=now(),
                **extra,
            ),
            data,
            store,
            limits,
        )
        return photo_id

    findings = []
    for n, (_, item) in enumerate(items):
        failed = item.id in failing
        finding: dict[str, Any] = {
            "id": uuid.uuid4(),
            "item": item.id,
            "result": "fail" if failed else "pass",
            "client_updated_at": now(),
            "client_revision": 1,
        }
        if item.mode == "sample":
            finding.update(sampled=20, failed=3 if failed else 0)
        if item.mode == "deduct" and failed:
            finding["occurrences"] = 2
        if failed:
            finding["note"] = "现场检查发现该项不符合要求，已拍照留存。"
        if item.evidence == "photo_always" or (item.evidence == "photo_on_fail" and failed):
            finding["photo_ids"] = [await upload(_jpeg(n), PhotoKind.evidence, item_id=item.id)]
        findings.append(finding)
    signatures = [
        {
            "photo_id": await upload(_signature(1), PhotoKind.signature, signer="representative"),
            "signer": "representative",
            "name": "被检查单位负责人",
        },
        {
            "photo_id": await upload(_signature(2), PhotoKind.signature, signer="inspector"),
            "signer": "inspector",
            "name": inspector.display_name,
            "user_id": inspector.id,
        },
        {
            "photo_id": await upload(_signature(3), PhotoKind.signature, signer="inspector"),
            "signer": "inspector",
            "name": partner.display_name,
            "user_id": partner.id,
        },
    ]
    request = PushRequest.model_validate(
        {
            "device_id": DEVICE,
            "inspections": [
                {
                    "id": inspection_id,
                    "assignment_id": assignment.id,
                    "checklist_id": assignment.checklist.checklist_id,
                    "checklist_version": assignment.checklist.version,
                    "checklist_hash": assignment.checklist.content_hash,
                    "client_updated_at": now(),
                    "started_at": now() - timedelta(hours=2),
                    "representative_name": "被检查单位负责人",
                    "signatures": signatures,
                    "findings": findings,
                    "submit": True,
                }
            ],
        }
    )
    results = await sync.push(inspector, request)
    if results[0].status != "accepted":  # pragma: no cover - the demo's own data is complete
        raise RuntimeError(f"demo inspection refused: {results[0].message} {results[0].problems}")
    return (
        await RectificationNotice.select()
        .where(RectificationNotice.inspection == inspection_id)
        .first()
    )


async def _move_back(notice_id: uuid.UUID, days: int) -> None:
    """As if the notice had been issued ``days`` ago: its dates and deadlines move back."""
    issued_at = now() - timedelta(days=days)
    issue_day = deadlines.today_in_china(issued_at)
    await RectificationNotice.update(
        {
            RectificationNotice.issued_at: issued_at,
            RectificationNotice.objection_deadline: deadlines.add_working_days(issue_day, 10),
        }
    ).where(RectificationNotice.id == notice_id)
    notice = (
        await RectificationNotice.select(RectificationNotice.deadline_basis)
        .where(RectificationNotice.id == notice_id)
        .first()
    )
    assert notice is not None
    for task in await RectificationTask.select(
        RectificationTask.id, RectificationTask.deadline_days
    ).where(RectificationTask.notice == notice_id):
        await RectificationTask.update(
            {
                RectificationTask.deadline: deadlines.deadline(
                    issue_day, task["deadline_days"], notice["deadline_basis"]
                )
            }
        ).where(RectificationTask.id == task["id"])


async def create_demo_rectifications(store: FileStore, today: date) -> int:
    """Create the demo inspections, notices, answers and objection; returns how many notices."""
    limits = ImageLimits.from_env()
    made = 0
    for case in CASES:
        notice = await _inspect(case, store, limits, today)
        if notice is None:
            continue
        made += 1
        manager = await _as_user(case.manager)
        rows = await RectificationTask.select(RectificationTask.id, RectificationTask.seq).where(
            RectificationTask.notice == notice["id"]
        )
        by_seq = {r["seq"]: r["id"] for r in rows}
        for seq in case.answered:
            data = _jpeg(40 + seq, "after")
            photo_id = uuid.uuid4()
            await attachments.receive_attachment(
                manager,
                by_seq[seq],
                photo_id,
                hashlib.sha256(data).hexdigest(),
                data,
                store,
                limits,
                now(),
            )
            await tasks.answer_task(
                manager,
                by_seq[seq],
                "已按要求完成整改：相关公示内容已重新制作并张贴在显著位置，附整改后照片。",
                [photo_id],
            )
        for seq in case.objected:
            await tasks.object_to_task(
                manager,
                by_seq[seq],
                "检查当日门诊日志已登记完整，检查人员查看的是备用登记本，现提交原始日志复印件。",
            )
        if case.issued_days_ago:
            await _move_back(notice["id"], case.issued_days_ago)
    # The first listing records and announces overdue tasks: let that be the demo's own.
    await overdue_tasks(await _as_user("admin"))
    return made
