"""The task tally behind the 看板's 整改事项 numbers (tasks, open, overdue, tasks by status).

Counting the tasks of a period's notices against the overdue rule reads every task of the period
(~120,000 a year for a province: ~240 ms whatever the index, see docs/tracking.md). The tally
holds, per China day of issue, region, institution type, notice status, task status, deadline
and "answered after its deadline", how many tasks there are; overdue is then "deadline before
today" over a few thousand rows.

It is kept by triggers on ``rectification_task`` (insert, delete, a change of status, deadline,
answer time or notice) and ``rectification_notice`` (a change of status, issue time or
institution), created by the migration ``tracking_2026_12_07t04_00_00``: in the transaction of
every write that changes a task or a notice, whichever code path makes it, on both engines.
Each trigger is one ``INSERT … ON CONFLICT`` of the keys a row leaves (-1) and enters (+1),
netted and in key order, so two writers never take tally rows in opposite orders.
"""

from __future__ import annotations

TABLE = (
    'CREATE TABLE IF NOT EXISTS "task_tally" ("day" DATE NOT NULL, "region" UUID NOT NULL,'
    ' "type" VARCHAR(16) NOT NULL, "notice_status" VARCHAR(16) NOT NULL,'
    ' "task_status" VARCHAR(16) NOT NULL, "deadline" DATE NOT NULL,'
    ' "answered_late" INTEGER NOT NULL, "tasks" INTEGER NOT NULL DEFAULT 0,'
    ' PRIMARY KEY ("day", "region", "type", "notice_status", "task_status", "deadline",'
    ' "answered_late"))'
)
KEY = "day, region, type, notice_status, task_status, deadline, answered_late"
# Each trigger writes one statement: the keys it leaves (-1) and enters (+1), netted and in key
# order, so that two writers never lock two tally rows in opposite orders.
UPSERT = (
    f"INSERT INTO task_tally ({KEY}, tasks) SELECT {KEY}, SUM(delta) FROM ({{rows}}) k"
    f" WHERE 1 = 1 GROUP BY {KEY} HAVING SUM(delta) <> 0 ORDER BY {KEY}"
    f" ON CONFLICT ({KEY}) DO UPDATE SET tasks = task_tally.tasks + excluded.tasks"
)


def _row(engine: str, n: str, t: str, delta: int, task_from: str = "") -> str:
    """The tally key of task ``t`` of notice ``n`` (``OLD``/``NEW`` or table aliases)."""
    if engine == "sqlite":
        day, answered = f"date({n}.issued_at, '+8 hours')", f"date({t}.answered_at, '+8 hours')"
    else:
        day = f"({n}.issued_at AT TIME ZONE 'Asia/Shanghai')::date"
        answered = f"({t}.answered_at AT TIME ZONE 'Asia/Shanghai')::date"
    return (
        f"SELECT {day} AS day, i.region AS region, i.type AS type, {n}.status AS notice_status,"
        f" {t}.status AS task_status, {t}.deadline AS deadline, CASE WHEN {t}.answered_at IS NULL"
        f" OR {answered} > {t}.deadline THEN 1 ELSE 0 END AS answered_late, {delta} AS delta"
        f" FROM institution i {task_from}"
    )


def _task_rows(engine: str, record: str, delta: int) -> str:
    """A task row (``OLD``/``NEW``) with its notice as it stands now."""
    return (
        _row(engine, "n", record, delta, "JOIN rectification_notice n ON n.institution = i.id")
        + f" WHERE n.id = {record}.notice AND n.issued_at IS NOT NULL"
    )


def _notice_rows(engine: str, record: str, delta: int) -> str:
    """Every task of a notice row (``OLD``/``NEW``)."""
    return (
        _row(engine, record, "t", delta, f"JOIN rectification_task t ON t.notice = {record}.id")
        + f" WHERE i.id = {record}.institution AND {record}.issued_at IS NOT NULL"
    )


def refill_sql(engine: str) -> list[str]:
    """Empty the task tally and count every task of every issued notice again."""
    rows = _row(
        engine,
        "n",
        "t",
        1,
        "JOIN rectification_notice n ON n.institution = i.id"
        " JOIN rectification_task t ON t.notice = n.id",
    )
    return ["DELETE FROM task_tally", UPSERT.format(rows=rows + " WHERE n.issued_at IS NOT NULL")]


def _sqlite() -> list[str]:
    both = " UNION ALL ".join
    return [
        TABLE,
        "CREATE TRIGGER IF NOT EXISTS task_tally_task_insert AFTER INSERT ON rectification_task"
        f" BEGIN {UPSERT.format(rows=_task_rows('sqlite', 'NEW', 1))}; END",
        "CREATE TRIGGER IF NOT EXISTS task_tally_task_delete AFTER DELETE ON rectification_task"
        f" BEGIN {UPSERT.format(rows=_task_rows('sqlite', 'OLD', -1))}; END",
        "CREATE TRIGGER IF NOT EXISTS task_tally_task_update AFTER UPDATE OF status, deadline,"
        " answered_at, notice ON rectification_task BEGIN"
        f" {UPSERT.format(rows=both([_task_rows('sqlite', 'OLD', -1), _task_rows('sqlite', 'NEW', 1)]))};"
        " END",
        "CREATE TRIGGER IF NOT EXISTS task_tally_notice_update AFTER UPDATE OF status, issued_at,"
        " institution ON rectification_notice BEGIN"
        f" {UPSERT.format(rows=both([_notice_rows('sqlite', 'OLD', -1), _notice_rows('sqlite', 'NEW', 1)]))};"
        " END",
        *refill_sql("sqlite"),
    ]


def _postgres() -> list[str]:
    both = " UNION ALL ".join
    task = both([_task_rows("pg", "OLD", -1), _task_rows("pg", "NEW", 1)])
    notice = both([_notice_rows("pg", "OLD", -1), _notice_rows("pg", "NEW", 1)])
    return [
        TABLE,
        # OLD is NULL in an INSERT trigger and NEW in a DELETE one: their rows simply find nothing.
        "CREATE OR REPLACE FUNCTION task_tally_task() RETURNS trigger AS $$ BEGIN"
        f" {UPSERT.format(rows=task)}; RETURN NULL; END $$ LANGUAGE plpgsql",
        "CREATE OR REPLACE FUNCTION task_tally_notice() RETURNS trigger AS $$ BEGIN"
        f" {UPSERT.format(rows=notice)}; RETURN NULL; END $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS task_tally_task ON rectification_task",
        "CREATE TRIGGER task_tally_task AFTER INSERT OR DELETE OR UPDATE OF status, deadline,"
        " answered_at, notice ON rectification_task FOR EACH ROW EXECUTE FUNCTION task_tally_task()",
        "DROP TRIGGER IF EXISTS task_tally_notice ON rectification_notice",
        "CREATE TRIGGER task_tally_notice AFTER UPDATE OF status, issued_at, institution"
        " ON rectification_notice FOR EACH ROW EXECUTE FUNCTION task_tally_notice()",
        *refill_sql("pg"),
    ]


SQLITE = _sqlite()
POSTGRES = _postgres()
