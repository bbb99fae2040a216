"""The append-only audit log.

Actors and subjects are stored as plain values, not foreign keys: an audit event must outlive
anything it mentions and never cascade away. Database triggers (see the migrations) refuse
UPDATE and DELETE on this table on both engines.
"""

from piccolo.columns import JSONB, BigSerial, Timestamptz, Varchar
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
