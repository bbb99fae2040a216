"""User accounts with a role and a scope (a region, or one institution for managers)."""

from enum import StrEnum

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.institutions.tables import Institution, Region


class Role(StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    inspector = "inspector"
    manager = "manager"


ROLE_LABELS = {
    Role.admin: "系统管理员",
    Role.supervisor: "监管人员",
    Role.inspector: "检查人员",
    Role.manager: "机构医保负责人",
}


class User(Table, tablename="app_user"):
    """A person who logs in. Inspectors and supervisors are scoped to a region (a city covers its
    counties); managers to one institution; admins see everything."""

    id = UUID(primary_key=True)
    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=64, default="")
    password_hash = Varchar(length=256, secret=True)
    role = Varchar(length=16, choices=Role, index=True)
    region = ForeignKey(Region, null=True, default=None, on_delete=OnDelete.restrict)
    institution = ForeignKey(Institution, null=True, default=None, on_delete=OnDelete.restrict)
    phone = Varchar(length=32, default="")
    # 执法证号: the enforcement certificate number an inspector's name is printed with on notices.
    enforcement_cert_no = Varchar(length=32, default="")
    is_active = Boolean(default=True)
    failed_logins = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    last_login_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class DeviceSession(Table, tablename="device_session"):
    """A login on one device. Its refresh credential keeps a tablet usable offline for days; every
    request re-checks that the session is not revoked, so a lost tablet is cut off at its next
    contact."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.restrict, index=True)
    device_id = Varchar(length=64, index=True)
    device_name = Varchar(length=128, default="")
    refresh_hash = Varchar(length=64, unique=True)  # SHA-256 of the refresh token; never the token
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = Varchar(length=64, null=True, default=None)
    revoke_reason = Varchar(length=128, default="")
