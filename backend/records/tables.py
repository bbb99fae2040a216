"""The seals of submitted inspections: one row per sealing, never updated or deleted."""

from piccolo.columns import BigSerial, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.inspections.tables import Inspection


class RecordSeal(Table, tablename="record_seal"):
    """The canonical ``record.json`` of an inspection as it stood at one moment, its SHA-256 and
    the deployment's Ed25519 signature over the same bytes. A later change to the inspection adds
    a row (the earlier ones stay: they are what was shown, printed and exported at the time); the
    latest row is the inspection's seal."""

    id = BigSerial(primary_key=True)
    inspection = ForeignKey(Inspection, null=False, on_delete=OnDelete.restrict, index=True)
    digest = Varchar(length=64)  # SHA-256 hex of ``record``'s UTF-8 bytes
    signature = Text()  # base64 of the Ed25519 signature over the same bytes
    key_id = Varchar(length=32)
    algorithm = Varchar(length=16, default="Ed25519")
    reason = Varchar(length=32, default="submit")  # submit | change | backfill
    sealed_at = Timestamptz(default=TimestamptzNow())
    # The signed bytes themselves (UTF-8 text), so the export and the checks use exactly them.
    record = Text()
