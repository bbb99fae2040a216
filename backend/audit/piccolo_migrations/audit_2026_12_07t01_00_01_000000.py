"""The audit chain's rules in the database, on both engines.

- ``seq`` is unique (two events can't share a place in the chain).
- audit_event stays append-only, except that the chain columns (seq, prev_hash, hash) may be set
  once, all three together, from null to a value, with every other column unchanged — the
  sealer's one write. Anything else (a changed field, a second sealing, a DELETE) is refused.
- audit_checkpoint is append-only.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.migration_sql import run_sql

ID = "2026-12-07T01:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "The audit chain: unique seq, the sealer's one update, append-only checkpoints."

_SQLITE_SAME = " AND ".join(
    f"NEW.{c} IS OLD.{c}"
    for c in (
        "id", "at", "actor_id", "actor_username", "actor_role", "device_id", "action",
        "entity_type", "entity_id", "before", "after", "request_id", "mac",
    )
)

SQLITE = [
    "CREATE UNIQUE INDEX IF NOT EXISTS audit_event_seq_unique ON audit_event (seq)",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    WHEN NOT (OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
              AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
              AND {_SQLITE_SAME})
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END""",
]
POSTGRES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS audit_event_seq_unique ON audit_event (seq)",
    # The existing trigger (BEFORE UPDATE OR DELETE) calls this function: replacing it is enough.
    """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE'
           AND OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
           AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
           AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash')
               = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash') THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_event is append-only';
    END; $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION audit_checkpoint_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'audit_checkpoint is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_checkpoint_no_change BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_append_only()""",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    async def run() -> None:
        await run_sql(SQLITE, POSTGRES)

    manager.add_raw(run)
    return manager
