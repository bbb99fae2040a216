"""Receiving what tablets push: idempotent, merged by a documented rule, validated, scored.

Each pushed inspection is handled in its own transaction, so a batch cut off half-way (a dropped
connection, a killed server) leaves every inspection either whole or absent, and the retried
batch completes it. See ``docs/sync-protocol.md`` for the rules in prose.

The conflict rule, per finding (one answer to one checklist item): the answer with the later
``client_updated_at`` (the moment the inspector tapped it on the tablet; never later than the
server's clock) wins; ties go to the higher ``client_revision``, then to the device id. The
losing write is kept in ``finding_revision`` and returned to the tablet in ``conflicts``;
nothing is dropped silently. One assignment has one inspection: a second tablet's inspection
with another id is merged into the first.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from piccolo.utils.encoding import dump_json

from backend.accounts.auth import CurrentUser, now
from backend.accounts.tables import Role
from backend.audit.services import Actor, record_events
from backend.checklists.schema import Checklist
from backend.checklists.scoring import Answer, ScoreResult, score, validate_answers
from backend.checklists.tables import ChecklistVersion
from backend.db import is_sqlite, read_row, read_rows, run_many, write_transaction
from backend.errors import Conflict as DomainConflict
from backend.errors import NotFound
from backend.inspections.assignments import visible_assignment
from backend.inspections.messages import zh_problem
from backend.inspections.schemas import (
    Conflict,
    FindingPush,
    InspectionPush,
    PushRequest,
    RecordResult,
)
from backend.inspections.tables import (
    AssignmentStatus,
    InspectionStatus,
    PhotoKind,
    WriteOutcome,
)
from backend.institutions.tables import Physician
from backend.records.seal import seal_inspection
from backend.rectification.issuing import on_inspection_submitted
from backend.tracking.tally import record_submission

_checklists: dict[UUID, Checklist] = {}


async def checklist_model(version_id: UUID) -> Checklist:
    """A loaded checklist version as a model (cached: versions never change once loaded)."""
    if version_id not in _checklists:
        row = (
            await ChecklistVersion.select(ChecklistVersion.content)
            .where(ChecklistVersion.id == version_id)
            .output(load_json=True)
            .first()
        )
        _checklists[version_id] = Checklist.model_validate(row["content"])
    return _checklists[version_id]


# Per checklist model: its items by id and their titles (what every push looks up).
_item_maps: dict[int, tuple[Checklist, dict[str, Any], dict[str, str]]] = {}


def _items_and_titles(checklist: Checklist) -> tuple[dict[str, Any], dict[str, str]]:
    cached = _item_maps.get(id(checklist))
    if cached is None or cached[0] is not checklist:
        items = {item.id: item for _, item in checklist.all_items()}
        # The model itself is kept in the entry, so that its id() is never reused meanwhile.
        cached = (checklist, items, {item_id: item.text for item_id, item in items.items()})
        _item_maps[id(checklist)] = cached
    return cached[1], cached[2]


class Rejected(Exception):
    """A pushed inspection is refused as a whole; its transaction rolls back."""

    def __init__(
        self,
        http_status: int,
        code: str,
        message: str,
        *,
        problems: list[str] | None = None,
        missing_photos: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.problems = problems or []
        self.missing_photos = missing_photos or []


def _push_hash(rec: InspectionPush) -> str:
    # Needed only when submitting or meeting a submitted inspection, so computed only then.
    return _hash(rec.model_dump(mode="json"))


# json.dumps with these options would build a new encoder at every call (dozens per push).
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)


def _json_and_hash(data: Any) -> tuple[str, str]:
    """The JSON text :func:`_hash` hashes, and the hash (the text is also what is stored)."""
    text = _CANONICAL_JSON.encode(data)
    return text, hashlib.sha256(text.encode()).hexdigest()


def _hash(data: Any) -> str:
    return hashlib.sha256(_CANONICAL_JSON.encode(data).encode()).hexdigest()


def named_physicians(f: FindingPush | dict[str, Any]) -> list[str]:
    """The physicians a pushed finding or a stored row names, as sorted unique id strings
    (``physician_id`` of older apps and ``physician_ids`` together)."""
    if isinstance(f, FindingPush):
        ids = {str(p) for p in f.physician_ids}
        if f.physician_id:
            ids.add(str(f.physician_id))
    else:
        ids = {str(p) for p in f.get("physician_ids") or []}
        if f.get("physician"):
            ids.add(str(f["physician"]))
    return sorted(ids)


def _physician_content(ids: list[str]) -> dict[str, Any]:
    # One physician keeps the answer's old form, so that a finding stored before several could
    # be named hashes as before and a resend is still recognised as a duplicate.
    content: dict[str, Any] = {"physician_id": ids[0] if ids else None}
    if len(ids) > 1:
        content["physician_ids"] = ids
    return content


_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")


def normal_amount(raw: str | None) -> str | None:
    """An amount of yuan as an exact string with two decimals ("1234.5" -> "1234.50"), or None
    when it is not a plain non-negative decimal with at most two decimals (no float involved)."""
    if raw is None or not _AMOUNT.match(raw.strip()):
        return None
    return str(Decimal(raw.strip()).quantize(Decimal("0.01")))


def amount_problem(f: FindingPush, item: Any) -> str | None:
    """Why a pushed finding's ``amount`` is refused, in Chinese, or None when it is fine."""
    if f.amount is None:
        return None
    if not getattr(item, "monetary", False):
        return f"检查项 {f.item}：该项不涉及违规金额，不能填写金额"
    if f.result != "fail":
        return f"检查项 {f.item}：只有不符合的检查项才能填写违规金额"
    if normal_amount(f.amount) is None:
        return (
            f"检查项 {f.item}：违规金额须为不小于 0 的金额（元），最多两位小数，"
            f'如 "1234.50"，收到 {f.amount!r}'
        )
    return None


def finding_content(f: FindingPush | dict[str, Any]) -> dict[str, Any]:
    """The part of a finding that is the inspector's answer (what conflicts are about)."""
    if isinstance(f, FindingPush):
        # Built step by step: this runs for every answer of every push.
        content: dict[str, Any] = {
            "result": f.result,
            "occurrences": f.occurrences,
            "sampled": f.sampled,
            "failed": f.failed,
            "note": f.note,
            "photo_ids": sorted(str(p) for p in f.photo_ids) if f.photo_ids else [],
        }
        # Only when given, so that answers stored before it existed hash as before.
        if f.population is not None:
            content["population"] = f.population
        if f.physician_ids or f.physician_id:
            content.update(_physician_content(named_physicians(f)))
        else:
            content["physician_id"] = None
        # Only when given, so that answers stored before amounts existed hash as before.
        if f.amount is not None:
            content["amount"] = normal_amount(f.amount)
        return content
    return {
        "result": f["result"],
        "occurrences": f["occurrences"],
        "sampled": f["sampled"],
        "failed": f["failed"],
        **({"population": f["population"]} if f.get("population") is not None else {}),
        "note": f["note"],
        **_physician_content(named_physicians(f)),
        "photo_ids": sorted(str(p) for p in f["photo_ids"] or []),
        **({"amount": f["amount"]} if f.get("amount") is not None else {}),
    }


@dataclass(frozen=True)
class _PushedAnswer:
    """A pushed finding with its answer's content, JSON text and hash (the text is what the
    history row stores, the hash what recognises a resend)."""

    finding: FindingPush
    content: dict[str, Any]
    text: str
    hash: str

    @classmethod
    def of(cls, f: FindingPush) -> _PushedAnswer:
        content = finding_content(f)
        return cls(f, content, *_json_and_hash(content))


_INSPECTION_SQL = "SELECT * FROM inspection WHERE assignment = $1 OR id = $2"
_INSPECTION_JSON = ("signatures", "score_detail")
_FINDINGS_SQL = "SELECT * FROM finding WHERE inspection = $1"
_FINDING_JSON = ("physician_ids", "photo_ids")


def _with_json(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of a raw read with their JSON columns decoded (both engines give them as text)."""
    for row in rows:
        for column in columns:
            if isinstance(row[column], str):
                row[column] = json.loads(row[column])
    return rows


async def _update_inspection(inspection_id: UUID, values: dict[str, Any]) -> None:
    """Set columns of an inspection (by name; JSON values as the ORM would send them)."""
    names = list(values)
    await run_many(
        "UPDATE inspection SET {} WHERE id = ${}".format(
            ", ".join(f"{name} = ${i + 1}" for i, name in enumerate(names)), len(names) + 1
        ),
        [
            tuple(
                dump_json(values[n])
                if n in _INSPECTION_JSON and values[n] is not None
                else values[n]
                for n in names
            )
            + (inspection_id,)
        ],
    )


def _order_key(updated_at: datetime | None, revision: int, device_id: str) -> tuple[Any, ...]:
    return (updated_at.timestamp() if updated_at else 0.0, revision, device_id)


@dataclass
class _Outcome:
    created: bool = False
    merged_into: UUID | None = None
    applied: int = 0
    superseded: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    finding_ids: dict[str, UUID] = field(default_factory=dict)


async def push(user: CurrentUser, request: PushRequest) -> list[RecordResult]:
    """Apply a batch, one inspection (and one transaction) at a time."""
    return [await push_one(user, request.device_id, rec) for rec in request.inspections]


async def push_one(user: CurrentUser, device_id: str, rec: InspectionPush) -> RecordResult:
    """Apply one pushed inspection and say what happened to it."""
    actor = Actor(
        id=str(user.id), username=user.username, role=user.role.value, device_id=device_id
    )
    try:
        return await _apply(user, actor, device_id, rec)
    except Rejected as exc:
        return RecordResult(
            id=rec.id,
            status="rejected",
            http_status=exc.http_status,
            code=exc.code,
            message=exc.message,
            problems=exc.problems,
            missing_photos=exc.missing_photos,
        )
    except DomainConflict as exc:
        # Refused by another domain inside the push's transaction (a notice number another
        # office already has: rectification.numbering.take_number). Nothing of the push stays;
        # the tablet keeps the record as refused, with the message, and the batch goes on.
        return RecordResult(
            id=rec.id,
            status="rejected",
            http_status=409,
            code="conflict",
            message=exc.message,
        )


# What a push needs of its assignment, for an inspector on its team: one lookup by key, where
# the general scope query would first list every assignment of the inspector (which grows with
# the years). Only inspectors push (the route's guard); other roles take the general path.
_PUSHED_ASSIGNMENT_SQL = (
    'SELECT a.status, i.id AS "institution.id", i.code AS "institution.code",'
    ' c.id AS "checklist.id", c.checklist_id AS "checklist.checklist_id",'
    ' c.version AS "checklist.version", c.title AS "checklist.title",'
    ' c.content_hash AS "checklist.content_hash"'
    " FROM assignment a JOIN institution i ON i.id = a.institution"
    " JOIN checklist_version c ON c.id = a.checklist"
    " WHERE a.id = $1 AND EXISTS (SELECT 1 FROM assignment_inspector t"
    " WHERE t.assignment = a.id AND t.inspector = $2)"
)
# On PostgreSQL the same read takes the assignment's row lock: every push for an assignment is
# serialised, so two tablets of a team pushing at once merge one after the other instead of
# racing (SQLite's writes are serialised already).
_PUSHED_ASSIGNMENT_LOCKED_SQL = _PUSHED_ASSIGNMENT_SQL + " FOR UPDATE OF a"


async def _pushed_assignment(user: CurrentUser, assignment_id: UUID) -> dict[str, Any] | None:
    """The pushed inspection's assignment if the user may push to it, else None."""
    if user.role == Role.inspector:
        sql = _PUSHED_ASSIGNMENT_SQL if is_sqlite() else _PUSHED_ASSIGNMENT_LOCKED_SQL
        return await read_row(sql, assignment_id, user.id)
    try:
        found = await visible_assignment(user, assignment_id)
    except NotFound:
        return None
    if not is_sqlite():
        await read_row("SELECT id FROM assignment WHERE id = $1 FOR UPDATE", assignment_id)
    return found


# (checklist id, version) -> the version's key, for checking a push's answers before its
# transaction (versions never change once loaded).
_version_keys: dict[tuple[str, int], UUID] = {}


@dataclass(frozen=True)
class _Precheck:
    """A push's answers checked against the checklist version the push names, before the
    transaction; the transaction uses it once it has found that version to be the assignment's.

    ``problems``: as a draft's answers, in Chinese. For a submission whose answers are complete
    and valid, also the answers by item (``scored_answers``) and their score with its breakdown,
    used when the inspection is left with exactly these answers (the usual case: a tablet
    submits the whole inspection), so the score is not worked out again under the write lock.
    """

    version_id: UUID
    problems: list[str]
    scored_answers: dict[str, Answer] | None = None
    result: ScoreResult | None = None
    detail: dict[str, Any] | None = None

    def score_of(self, answers: list[Answer]) -> tuple[ScoreResult, dict[str, Any]] | None:
        """The score worked out before the transaction, if ``answers`` are the ones it scored."""
        if self.result is None or self.detail is None or self.scored_answers is None:
            return None
        if self.scored_answers != {a.item: a for a in answers}:
            return None
        return self.result, self.detail


async def _precheck(rec: InspectionPush) -> _Precheck | None:
    """The push's answers against the checklist version it names; None when that version is
    unknown here (the transaction then checks the answers itself)."""
    key = (rec.checklist_id, rec.checklist_version)
    if key not in _version_keys:
        row = await read_row(
            "SELECT id FROM checklist_version WHERE checklist_id = $1 AND version = $2", *key
        )
        if row is None:
            return None
        _version_keys[key] = row["id"]
    version_id = _version_keys[key]
    checklist = await checklist_model(version_id)
    answers = _answers_of(rec)
    if rec.submit and not validate_answers(checklist, answers, require_complete=True):
        # Complete and valid, hence valid as a draft too (completeness only adds problems).
        result = score(checklist, answers, checked=True)
        by_item = {a.item: a for a in answers}
        return _Precheck(version_id, [], by_item, result, result.to_dict())
    return _Precheck(version_id, _problems_of(rec, checklist, answers))


def _answers_of(rec: InspectionPush) -> list[Answer]:
    return [
        Answer(
            item=f.item,
            result=f.result,
            occurrences=f.occurrences,
            sampled=f.sampled,
            failed=f.failed,
            population=f.population,
        )
        for f in rec.findings
    ]


def _problems_of(
    rec: InspectionPush, checklist: Checklist, answers: list[Answer] | None = None
) -> list[str]:
    _, titles = _items_and_titles(checklist)
    if answers is None:
        answers = _answers_of(rec)
    return [
        zh_problem(p, titles) for p in validate_answers(checklist, answers, require_complete=False)
    ]


async def _validate(
    rec: InspectionPush,
    assignment: dict[str, Any],
    checklist: Checklist,
    precheck: _Precheck | None,
) -> None:
    """The checklist version against the assignment's, then the answers (``precheck``: as
    found before the transaction against the assignment's version, or None)."""
    expected = (assignment["checklist.checklist_id"], assignment["checklist.version"])
    if (rec.checklist_id, rec.checklist_version) != expected or (
        rec.checklist_hash and rec.checklist_hash != assignment["checklist.content_hash"]
    ):
        raise Rejected(
            422,
            "checklist_mismatch",
            f"检查表版本不符：该任务使用「{assignment['checklist.title']}」"
            f"（{expected[0]} 第 {expected[1]} 版），提交的是 {rec.checklist_id} 第 "
            f"{rec.checklist_version} 版。请同步后按任务的检查表版本填写。",
        )
    items, _ = _items_and_titles(checklist)
    if precheck is not None:
        problems = list(precheck.problems)
    else:
        problems = _problems_of(rec, checklist)
    seen_ids: dict[UUID, str] = {}
    physician_ids = {UUID(p) for f in rec.findings for p in named_physicians(f)}
    physicians = set()
    if physician_ids:
        physicians = {
            str(r["id"])
            for r in await Physician.select(Physician.id).where(
                Physician.id.is_in(list(physician_ids))
                & (Physician.institution == assignment["institution.id"])
            )
        }
    for f in rec.findings:
        if f.id in seen_ids and seen_ids[f.id] != f.item:
            problems.append(f"记录编号 {f.id} 被用于两个检查项（{seen_ids[f.id]}、{f.item}）")
        seen_ids[f.id] = f.item
        item = items.get(f.item)
        if item is not None and (money := amount_problem(f, item)):
            problems.append(money)
        named = named_physicians(f)
        if named and item is not None:
            # Points are deducted only for a failed item that carries them (backend/rules).
            if item.physician_points <= 0:
                problems.append(f"检查项 {f.item}：该项不涉及医保医师记分，不能指定医师")
            elif f.result != "fail":
                problems.append(
                    f"检查项 {f.item}：只有不符合的检查项才能指定涉及的医师（该项为"
                    f"{'符合' if f.result == 'pass' else '不适用'}）"
                )
            elif any(p not in physicians for p in named):
                problems.append(f"检查项 {f.item}：所选医师不是本机构的医保医师")
    if problems:
        raise Rejected(
            422, "invalid", "提交的检查记录有误，未保存，请核对后重试", problems=problems
        )


async def _apply(
    user: CurrentUser, actor: Actor, device_id: str, rec: InspectionPush
) -> RecordResult:
    received = now()
    events: list[tuple[str, Any, Any]] = []  # this push's audit events, written at once
    # What depends on the push alone is worked out before the transaction: on SQLite the
    # transaction holds the process's write lock, which other pushes wait for meanwhile.
    answers = [_PushedAnswer.of(f) for f in rec.findings]
    push_hash = _push_hash(rec) if rec.submit else None
    precheck = await _precheck(rec)

    async with write_transaction():
        # The reads come inside the transaction too: on SQLite every query outside one opens a
        # connection of its own, which costs more than the query (a refused push rolls back
        # having written nothing).
        assignment = await _pushed_assignment(user, rec.assignment_id)
        if assignment is None:
            raise Rejected(404, "not_found", "检查任务不存在，或您不在该任务的检查组中")
        if assignment["status"] == AssignmentStatus.cancelled.value:
            raise Rejected(409, "cancelled", "该检查任务已取消，不能再提交检查记录")
        checklist = await checklist_model(assignment["checklist.id"])
        if precheck is not None and precheck.version_id != assignment["checklist.id"]:
            precheck = None  # checked against another version than the assignment's
        await _validate(rec, assignment, checklist, precheck)
        # The assignment's inspection, and whether the pushed id is taken, in one query.
        found = _with_json(
            await read_rows(_INSPECTION_SQL, rec.assignment_id, rec.id), _INSPECTION_JSON
        )
        inspection = next((r for r in found if r["assignment"] == rec.assignment_id), None)
        if inspection is None and found:
            raise Rejected(409, "id_conflict", "检查记录编号已被另一任务使用，请重新开始该检查")
        outcome = _Outcome()
        if inspection is None:
            inspection = await _create(user, device_id, rec, assignment, received)
            events.append(
                (
                    "inspection.create",
                    None,
                    {
                        "assignment": str(rec.assignment_id),
                        "institution": assignment["institution.code"],
                    },
                )
            )
            outcome.created = True
        elif inspection["id"] != rec.id:
            outcome.merged_into = inspection["id"]

        current = (
            {}
            if outcome.created
            else {
                r["item_id"]: r
                for r in _with_json(await read_rows(_FINDINGS_SQL, inspection["id"]), _FINDING_JSON)
            }
        )
        if inspection["status"] == InspectionStatus.submitted.value:
            return _after_submission(
                rec, push_hash or _push_hash(rec), inspection, current, answers
            )

        await _apply_findings(
            user, device_id, rec, answers, inspection["id"], current, received, outcome
        )
        # A new inspection was stored with its fields and revision 1 already.
        changed_fields = (
            {} if outcome.created else await _apply_inspection_fields(rec, inspection, received)
        )
        if not (outcome.created or outcome.applied or outcome.superseded or rec.submit) and (
            _same_fields(changed_fields, inspection)
        ):
            # A resend of what the server already has: answer without writing anything.
            return RecordResult(
                id=rec.id,
                inspection_id=inspection["id"],
                status="unchanged",
                http_status=200,
                code="duplicate",
                message="本次内容此前已收到",
                finding_ids=outcome.finding_ids,
                inspection_status=inspection["status"],
                revision=inspection["revision"],
            )
        revision = inspection["revision"]
        if not outcome.created:
            revision += 1
            await _update_inspection(
                inspection["id"], {"revision": revision, "updated_at": received, **changed_fields}
            )
            inspection = {**inspection, **changed_fields, "revision": revision}
        # (A submission sets the assignment's status itself.)
        if assignment["status"] == AssignmentStatus.planned.value and not rec.submit:
            await run_many(
                "UPDATE assignment SET status = $1, updated_at = $2 WHERE id = $3",
                [(AssignmentStatus.in_progress.value, received, rec.assignment_id)],
            )
        # One event for the whole push (how many answers it applied or lost), not one per
        # answer: each answer's own history is in finding_revision.
        events.append(
            (
                "inspection.merge" if outcome.merged_into else "inspection.update",
                None,
                {
                    "pushed_id": str(rec.id),
                    "revision": revision,
                    "findings_applied": outcome.applied,
                    "findings_superseded": outcome.superseded,
                },
            )
        )
        score_dict = None
        status = InspectionStatus.draft.value
        if rec.submit:
            score_dict = await _submit(
                user,
                actor,
                rec,
                push_hash or _push_hash(rec),
                inspection,
                current,
                checklist,
                received,
                events,
                precheck,
            )
            status = InspectionStatus.submitted.value
        else:
            await record_events(actor, "inspection", inspection["id"], events)

    merged = bool(
        outcome.merged_into
        or outcome.conflicts
        or any(
            outcome.finding_ids[f.item] != f.id
            for f in rec.findings
            if f.item in outcome.finding_ids
        )
    )
    if rec.submit:
        message = f"检查已提交，正式得分 {score_dict['total']}，等级 {score_dict['grade']}"
    elif merged:
        message = "已保存，并与检查组其他设备的记录合并"
    else:
        message = "已保存"
    return RecordResult(
        id=rec.id,
        inspection_id=inspection["id"],
        status="merged" if merged else "accepted",
        http_status=201 if outcome.created else 200,
        code="merged" if merged else "ok",
        message=message,
        conflicts=outcome.conflicts,
        finding_ids=outcome.finding_ids,
        inspection_status=status,
        revision=revision,
        score=score_dict,
    )


async def _create(
    user: CurrentUser,
    device_id: str,
    rec: InspectionPush,
    assignment: dict[str, Any],
    received: datetime,
) -> dict[str, Any]:
    """Store a new draft inspection with the push's fields, at revision 1 (the push's own);
    returns its row as a select would."""
    row: dict[str, Any] = {
        "id": rec.id,
        "assignment": rec.assignment_id,
        "institution": assignment["institution.id"],
        "checklist": assignment["checklist.id"],
        "checklist_hash": assignment["checklist.content_hash"],
        "status": InspectionStatus.draft.value,
        "started_at": min(rec.started_at, received) if rec.started_at else received,
        "submitted_at": None,
        "submitted_by": None,
        "representative_name": "",
        "signature_refused_reason": "",
        "signatures": [],
        "note": "",
        "score_total": None,
        "grade": None,
        "score_detail": None,
        "submitted_hash": None,
        "device_id": device_id,
        "client_updated_at": min(rec.client_updated_at, received),
        "revision": 0,
        "created_by": user.id,
        "created_at": received,
        "updated_at": received,
    }
    row.update(await _apply_inspection_fields(rec, row, received))
    row["revision"] = 1
    columns = [c for c in row if c != "score_detail"]
    await run_many(
        "INSERT INTO inspection ({}) VALUES ({})".format(
            ", ".join(columns), ", ".join(f"${i + 1}" for i in range(len(columns)))
        ),
        [tuple(dump_json(row[c]) if c == "signatures" else row[c] for c in columns)],
    )
    return row


# Columns written by a push, in the order of the rows built below (raw statements: the ORM's
# per-row work cost more than the database's for the dozens of answers of one push).
_FINDING_COLUMNS = (
    "id", "inspection", "item_id", "result", "occurrences", "sampled", "failed", "population",
    "note", "amount", "physician", "physician_ids", "photo_ids", "content_hash", "device_id",
    "client_updated_at", "revision", "updated_by", "created_at", "updated_at",
)  # fmt: skip
_INSERT_FINDING = "INSERT INTO finding ({}) VALUES ({})".format(
    ", ".join(_FINDING_COLUMNS), ", ".join(f"${i + 1}" for i in range(len(_FINDING_COLUMNS)))
)
# Every column but id, inspection, item_id and created_at, then the id.
_UPDATED_COLUMNS = _FINDING_COLUMNS[3:18] + _FINDING_COLUMNS[19:]
_UPDATE_FINDING = "UPDATE finding SET {} WHERE id = ${}".format(
    ", ".join(f"{c} = ${i + 1}" for i, c in enumerate(_UPDATED_COLUMNS)),
    len(_UPDATED_COLUMNS) + 1,
)
_REVISION_COLUMNS = (
    "inspection", "finding_id", "item_id", "payload", "outcome", "device_id", "user_id",
    "client_updated_at", "client_revision", "received_at",
)  # fmt: skip
_INSERT_REVISION = "INSERT INTO finding_revision ({}) VALUES ({})".format(
    ", ".join(_REVISION_COLUMNS), ", ".join(f"${i + 1}" for i in range(len(_REVISION_COLUMNS)))
)


def _finding_row(
    f: FindingPush,
    finding_id: UUID,
    inspection_id: UUID,
    content_hash: str,
    device_id: str,
    user: CurrentUser,
    client_time: datetime,
    created_at: datetime,
    received: datetime,
) -> dict[str, Any]:
    """A finding as stored (the same values the ORM would read back)."""
    named = named_physicians(f)
    return {
        "id": finding_id,
        "inspection": inspection_id,
        "item_id": f.item,
        "result": f.result,
        "occurrences": f.occurrences,
        "sampled": f.sampled,
        "failed": f.failed,
        "population": f.population,
        "note": f.note,
        "amount": normal_amount(f.amount),
        "physician": UUID(named[0]) if named else None,
        "physician_ids": named,
        "photo_ids": [str(p) for p in f.photo_ids],
        "content_hash": content_hash,
        "device_id": device_id,
        "client_updated_at": client_time,
        "revision": f.client_revision,
        "updated_by": user.id,
        "created_at": created_at,
        "updated_at": received,
    }


def _db_values(row: dict[str, Any], columns: tuple[str, ...]) -> tuple[Any, ...]:
    # JSON columns go as text, as the ORM sends them to both engines (a revision's payload is
    # text already).
    return tuple(
        _json_text(row[c]) if c in ("physician_ids", "photo_ids") else row[c] for c in columns
    )


def _json_text(value: Any) -> str:
    return "[]" if value == [] else dump_json(value)


async def _apply_findings(
    user: CurrentUser,
    device_id: str,
    rec: InspectionPush,
    answers: list[_PushedAnswer],
    inspection_id: UUID,
    current: dict[str, dict[str, Any]],
    received: datetime,
    outcome: _Outcome,
) -> None:
    """Merge the pushed answers into ``current`` (the stored findings by item, updated in place
    to what is stored after this push) and write them with their history rows."""
    history: list[dict[str, Any]] = []
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    # One query for every id that would be new here: an id already used elsewhere is a conflict.
    new_ids = [f.id for f in rec.findings if f.item not in current]
    taken = (
        {
            r["id"]
            for r in await read_rows(
                "SELECT id FROM finding WHERE id IN ({})".format(
                    ", ".join(f"${i + 1}" for i in range(len(new_ids)))
                ),
                *new_ids,
            )
        }
        if new_ids
        else set()
    )
    user_id = str(user.id)

    def revision(f: FindingPush, payload: str, result: WriteOutcome, client_time: datetime) -> None:
        history.append(
            {
                "inspection": inspection_id,
                "finding_id": f.id,
                "item_id": f.item,
                "payload": payload,  # the answer's JSON text, as hashed
                "outcome": result.value,
                "device_id": device_id,
                "user_id": user_id,
                "client_updated_at": client_time,
                "client_revision": f.client_revision,
                "received_at": received,
            }
        )

    for answer in answers:
        f, content, content_text, content_hash = (
            answer.finding,
            answer.content,
            answer.text,
            answer.hash,
        )
        client_time = min(f.client_updated_at, received)
        cur = current.get(f.item)
        if cur is None:
            if f.id in taken:
                raise Rejected(
                    409, "id_conflict", f"检查项 {f.item} 的记录编号已被使用，请重新填写该项"
                )
            row = _finding_row(
                f, f.id, inspection_id, content_hash, device_id, user, client_time, received,
                received,
            )  # fmt: skip
            new_rows.append(row)
            current[f.item] = row
            outcome.finding_ids[f.item] = f.id
            outcome.applied += 1
            revision(f, content_text, WriteOutcome.applied, client_time)
            continue
        outcome.finding_ids[f.item] = cur["id"]
        if cur["content_hash"] == content_hash:
            continue  # the same answer again: a retry, or both tablets agree
        incoming = _order_key(client_time, f.client_revision, device_id)
        existing = _order_key(cur["client_updated_at"], cur["revision"], cur["device_id"])
        if incoming > existing:
            row = _finding_row(
                f, cur["id"], inspection_id, content_hash, device_id, user, client_time,
                cur["created_at"], received,
            )  # fmt: skip
            changed_rows.append(row)
            current[f.item] = row
            outcome.applied += 1
            revision(f, content_text, WriteOutcome.applied, client_time)
        else:
            outcome.superseded += 1
            revision(f, content_text, WriteOutcome.superseded, client_time)
            same_device = cur["device_id"] == device_id
            outcome.conflicts.append(
                Conflict(
                    item=f.item,
                    finding_id=cur["id"],
                    kept=finding_content(cur),
                    yours=content,
                    reason=(
                        "本设备此前已提交了该项更新的答案，保留更新的答案"
                        if same_device
                        else f"检查组另一台设备于 {cur['client_updated_at']:%Y-%m-%d %H:%M:%S} "
                        "修改了该项，保留较新的答案；您的答案已记入历史"
                    ),
                )
            )
    await run_many(_INSERT_FINDING, [_db_values(r, _FINDING_COLUMNS) for r in new_rows])
    await run_many(
        _UPDATE_FINDING,
        [_db_values(r, _UPDATED_COLUMNS) + (r["id"],) for r in changed_rows],
    )
    await run_many(_INSERT_REVISION, [_db_values(r, _REVISION_COLUMNS) for r in history])


async def _apply_inspection_fields(
    rec: InspectionPush, inspection: dict[str, Any], received: datetime
) -> dict[Any, Any]:
    """Inspection-level fields follow the same rule (the later edit wins); signatures add up."""
    changes: dict[str, Any] = {}
    known = {s["photo_id"]: s for s in inspection["signatures"] or []}
    for s in rec.signatures:
        known.setdefault(str(s.photo_id), s.model_dump(mode="json"))
    if len(known) != len(inspection["signatures"] or []):
        changes["signatures"] = list(known.values())
    client_time = min(rec.client_updated_at, received)
    if inspection["client_updated_at"] is None or client_time >= inspection["client_updated_at"]:
        changes.update(
            {
                "representative_name": rec.representative_name or inspection["representative_name"],
                "signature_refused_reason": rec.signature_refused_reason,
                "note": rec.note,
                "client_updated_at": client_time,
            }
        )
    return changes


def _same_fields(changes: dict[str, Any], inspection: dict[str, Any]) -> bool:
    """Whether the field changes a push would make leave the inspection as it is."""
    return all(
        name == "client_updated_at" or inspection[name] == value for name, value in changes.items()
    )


def _after_submission(
    rec: InspectionPush,
    rec_hash: str,
    inspection: dict[str, Any],
    current: dict[str, dict[str, Any]],
    answers: list[_PushedAnswer],
) -> RecordResult:
    """A push for a submitted inspection: a resend is acknowledged, an edit refused."""
    unchanged_findings = all(
        a.finding.item in current and current[a.finding.item]["content_hash"] == a.hash
        for a in answers
    )
    if rec_hash == inspection["submitted_hash"] or (unchanged_findings and not rec.submit):
        return RecordResult(
            id=rec.id,
            inspection_id=inspection["id"],
            status="unchanged",
            http_status=200,
            code="duplicate",
            message="该检查已提交，本次内容此前已收到",
            finding_ids={item: row["id"] for item, row in current.items()},
            inspection_status=inspection["status"],
            revision=inspection["revision"],
            score=inspection["score_detail"],
        )
    submitted_at = inspection["submitted_at"]
    raise Rejected(
        409,
        "locked",
        f"该检查已于 {submitted_at:%Y-%m-%d %H:%M} 提交并锁定，不能再修改。"
        "如需更正，请联系监管人员。",
    )


async def _submit(
    user: CurrentUser,
    actor: Actor,
    rec: InspectionPush,
    rec_hash: str,
    inspection: dict[str, Any],
    current: dict[str, dict[str, Any]],
    checklist: Checklist,
    received: datetime,
    events: list[tuple[str, Any, Any]],
    precheck: _Precheck | None,
) -> dict[str, Any]:
    """Check that the inspection is complete with its evidence and signatures, then score it.

    ``inspection`` and ``current`` (its findings by item) are as this push left them; ``events``
    are the push's audit events so far, written here with the submission's; ``precheck``: the
    pushed answers checked, and scored, before the transaction (:class:`_Precheck`).
    """
    inspection_id = inspection["id"]
    findings = list(current.values())
    answers = [
        Answer(
            item=f["item_id"],
            result=f["result"],
            occurrences=f["occurrences"],
            sampled=f["sampled"],
            failed=f["failed"],
            population=f["population"],
        )
        for f in findings
    ]
    items, titles = _items_and_titles(checklist)
    # The inspection may hold exactly the answers scored before the transaction: complete,
    # valid, and scored already.
    scored = precheck.score_of(answers) if precheck is not None else None
    problems = (
        []
        if scored is not None
        else [
            zh_problem(p, titles)
            for p in validate_answers(checklist, answers, require_complete=True)
        ]
    )
    signatures = inspection["signatures"] or []
    if (
        not any(s["signer"] == "representative" for s in signatures)
        and not inspection["signature_refused_reason"].strip()
    ):
        problems.append("被检查单位负责人未签字，也未记录拒绝签字的原因")
    # 条例第二十九条: not fewer than two inspectors; each signs for themself (the tablet's sign
    # screen collects one signature per team member, with their user id).
    team = {
        str(r["inspector"])
        for r in await read_rows(
            "SELECT inspector FROM assignment_inspector WHERE assignment = $1", rec.assignment_id
        )
    }
    signed = {
        str(s.get("user_id"))
        for s in signatures
        if s["signer"] == "inspector" and str(s.get("user_id")) in team
    }
    if len(signed) < 2:
        problems.append(
            f"须由检查组至少两名检查人员分别签字（《医疗保障基金使用监督管理条例》第二十九条：检查人员"
            f"不得少于2人），现有 {len(signed)} 名检查人员签字"
        )
    if problems:
        raise Rejected(
            422, "incomplete", "检查尚未完成，不能提交：请补全以下内容", problems=problems
        )

    uploaded = {
        str(r["id"]): r
        for r in await read_rows(
            "SELECT id, kind, item_id FROM photo WHERE assignment = $1", rec.assignment_id
        )
    }
    missing: list[str] = []
    for f in findings:
        item = items[f["item_id"]]
        needs_photo = f["result"] != "na" and (
            item.evidence == "photo_always"
            or (item.evidence == "photo_on_fail" and f["result"] == "fail")
        )
        listed = [p for p in f["photo_ids"] or []]
        if needs_photo and not listed:
            missing.append(f"检查项 {f['item_id']}（{item.text[:20]}）须附佐证照片")
        for p in listed:
            if p not in uploaded:
                missing.append(f"检查项 {f['item_id']} 的照片 {p} 尚未上传")
    for s in signatures:
        if (
            s["photo_id"] not in uploaded
            or uploaded[s["photo_id"]]["kind"] != PhotoKind.signature.value
        ):
            missing.append(f"签字图片 {s['photo_id']} 尚未上传")
    if missing:
        raise Rejected(
            422,
            "photos_missing",
            "照片尚未全部上传，暂不能提交：请先上传以下照片再提交",
            missing_photos=missing,
        )

    if scored is None:
        result = score(checklist, answers, checked=True)
        scored = result, result.to_dict()
    result, detail = scored
    await _update_inspection(
        inspection_id,
        {
            "status": InspectionStatus.submitted.value,
            "submitted_at": received,
            "submitted_by": user.id,
            "submitted_hash": rec_hash,
            "score_total": Decimal(str(result.total)) if result.total is not None else None,
            "grade": result.grade,
            "score_detail": detail,
        },
    )
    await run_many(
        "UPDATE assignment SET status = $1, updated_at = $2 WHERE id = $3",
        [(AssignmentStatus.done.value, received, rec.assignment_id)],
    )
    events.append(
        (
            "inspection.submit",
            {"status": "draft"},
            {
                "status": "submitted",
                "total": detail["total"],
                "grade": detail["grade"],
                "critical_failures": detail["critical_failures"],
                "failed_items": detail["failed_items"],
            },
        )
    )
    await record_events(actor, "inspection", inspection_id, events)
    # The rectification notice (or its draft) for the failed items, in this same transaction.
    await on_inspection_submitted(actor, user.id, inspection_id, checklist, received)
    await record_submission(inspection_id)  # the 看板's answer tallies, same transaction
    # The sealed record (record.json, its digest and signature), committed with the submission.
    await seal_inspection(inspection_id, at=received)
    return detail
