"""Loaded checklist versions. A version is immutable once loaded: inspections pin it."""

from piccolo.columns import JSONB, UUID, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ChecklistVersion(Table, tablename="checklist_version"):
    """One version of one checklist, as parsed from its YAML file.

    ``(checklist_id, version)`` is unique (an index created in the migrations).
    """

    id = UUID(primary_key=True)
    checklist_id = Varchar(length=64, index=True)
    version = Integer()
    title = Varchar(length=128)
    applies_to = JSONB(default=[])
    content_hash = Varchar(length=80)
    content = JSONB()  # the validated checklist as JSON
    source_text = Text()  # the YAML exactly as loaded, for the record
    source_file = Varchar(length=256, default="")
    item_count = Integer(default=0)
    loaded_at = Timestamptz(default=TimestamptzNow())
