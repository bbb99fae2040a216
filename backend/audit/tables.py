"""The append-only, hash-chained audit log and its signed checkpoints.

Actors and subjects are stored as plain values, not foreign keys: an audit event must outlive
anything it mentions and never cascade away. Database triggers (see the migrations) refuse
UPDATE and DELETE on these tables on both engines, except the sealer's one-time filling of an
event's chain columns (``seq``, ``prev_hash``, ``hash``: null → value). See docs/audit-chain.md.
"""

from piccolo.columns import JSONB, BigInt, BigSerial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AuditEvent(Table, tablename="audit_event"):
    """One change of state: who did what to which record, from which device, before and after."""

    id = BigSerial(primary_key=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
    actor_id = Varchar(length=36, null=True, default=None, index=True)
    actor_username = Varchar(length=64, null=True, default=None)
    actor_role = Varchar(length=16, null=True, default=None)
    device_id = Varchar(length=64, null=True, default=None)
    action = Varchar(length=64, index=True)
    entity_type = Varchar(length=32)
    entity_id = Varchar(length=64, index=True)
    before = JSONB(null=True, default=None)
    after = JSONB(null=True, default=None)
    request_id = Varchar(length=64, null=True, default=None)
    # "<nonce>.<HMAC-SHA256>" over the event's content, written with it by the application
    # (null only on events written before the chain existed).
    mac = Varchar(length=96, null=True, default=None)
    # Filled once by the sealer: the event's place in the chain (unique; a unique index is made
    # by a raw migration because SQLite can't add a UNIQUE column), the previous event's hash and
    # this event's hash over its canonical form.
    seq = BigInt(null=True, default=None)
    prev_hash = Varchar(length=64, null=True, default=None)
    hash = Varchar(length=64, null=True, default=None)


class AuditCheckpoint(Table, tablename="audit_checkpoint"):
    """A signed chain head: anyone who kept it can later tell whether the chain was rewritten."""

    id = BigSerial(primary_key=True)
    seq = BigInt()
    head_hash = Varchar(length=64)
    at = Timestamptz(default=TimestamptzNow(), index=True)
    key_id = Varchar(length=64)
    algorithm = Varchar(length=16, default="Ed25519")
    # Base64 Ed25519 signature over checkpoint_message(seq, head_hash, at, key_id).
    signature = Text()
