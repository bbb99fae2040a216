"""Inspector–institution relations (回避) and 双随机 draws with their drawn institutions."""

from piccolo.columns import JSONB, UUID, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.inspections.tables import Assignment
from backend.institutions.tables import Institution, Region


class InspectorRelation(Table, tablename="inspector_relation"):
    """A recorded relation between an inspector and an institution (kin, former employment, any
    reason): the inspector is never drawn for that institution. ``(inspector, institution)`` is
    unique (an index created in the migrations)."""

    id = UUID(primary_key=True)
    inspector = ForeignKey(User, null=False, on_delete=OnDelete.restrict, index=True)
    institution = ForeignKey(Institution, null=False, on_delete=OnDelete.restrict, index=True)
    reason = Text(default="")
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class Draw(Table, tablename="draw"):
    """One saved 双随机 draw: what was asked (``criteria``), the seed, and the pool and roster it
    was drawn from (``pool``: institution codes; ``roster``: usernames with their region codes),
    so that anyone can re-run it (see docs/draws.md)."""

    id = UUID(primary_key=True)
    title = Varchar(length=200)  # 抽查事项
    region = ForeignKey(Region, null=False, on_delete=OnDelete.restrict, index=True)
    criteria = JSONB(default={})
    seed = Varchar(length=128)
    algorithm = Varchar(length=32, default="v1")
    window_start = Date()
    window_end = Date()
    pool = JSONB(default=[])
    roster = JSONB(default=[])
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class DrawItem(Table, tablename="draw_item"):
    """One institution drawn: staffed (an assignment of kind ``random``) or left unassigned with
    the reason (no valid pair of inspectors, no checklist)."""

    id = UUID(primary_key=True)
    draw = ForeignKey(Draw, null=False, on_delete=OnDelete.restrict, index=True)
    seq = Integer(default=0)  # the order of the draw
    institution = ForeignKey(Institution, null=False, on_delete=OnDelete.restrict)
    assignment = ForeignKey(Assignment, null=True, default=None, on_delete=OnDelete.restrict)
    reason = Text(default="")  # why it was left unassigned
