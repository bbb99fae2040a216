"""Authentication: JWT access tokens, device-bound refresh credentials, the current user.

An access token (short-lived JWT) names the user and the device session it was issued to. Every
authenticated request re-checks that session and the user in the database, so disabling a user
or revoking a device takes effect at the next request, even while tokens are unexpired. A tablet
keeps working offline for days with its refresh credential: an opaque random token, stored only
as a SHA-256 hash, bound to the device id, renewed on each use.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token

from backend.accounts.tables import DeviceSession, Role, User
from backend.audit.services import Actor
from backend.db import read_row
from backend.institutions.tables import Region
from backend.settings import Settings

# Public: liveness, the OpenAPI documents, logging in, refreshing and the public verification
# pages. The app's static files are public too, through their routers' ``exclude_from_auth`` opt.
PUBLIC_PATHS = [
    r"^/health$",
    r"^/schema(/|$)",
    r"^/api/auth/login$",
    r"^/api/auth/refresh$",
    r"^/api/public/",
    r"^/verify/",
]


@dataclass(frozen=True)
class CurrentUser:
    """The authenticated caller and their scope.

    ``region_ids`` holds the caller's region and the regions under it (a city covers its
    counties); it is ``None`` for an admin (everything) and empty for a manager.
    """

    id: UUID
    username: str
    display_name: str
    role: Role
    region_id: UUID | None
    institution_id: UUID | None
    region_ids: frozenset[UUID] | None
    session_id: UUID
    device_id: str

    @property
    def actor(self) -> Actor:
        """This user as the actor of audit events."""
        return Actor(
            id=str(self.id), username=self.username, role=self.role.value, device_id=self.device_id
        )


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def hash_refresh_token(token: str) -> str:
    """The stored form of a refresh token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token() -> str:
    """A fresh refresh credential (256 bits)."""
    return secrets.token_urlsafe(32)


# Every authenticated request needs its caller's region scope. Regions change only when an
# administrator loads them (demo data, a deployment's set-up), so each worker keeps the scopes it
# computed for a short while instead of walking the region tree on every request.
REGION_SCOPE_TTL_S = 30.0
_region_scopes: dict[UUID, tuple[float, frozenset[UUID]]] = {}


async def region_scope(region_id: UUID) -> frozenset[UUID]:
    """A region and every region below it (cached per worker for ``REGION_SCOPE_TTL_S``)."""
    cached = _region_scopes.get(region_id)
    if cached is not None and time.monotonic() - cached[0] < REGION_SCOPE_TTL_S:
        return cached[1]
    scope = await _walk_regions(region_id)
    _region_scopes[region_id] = (time.monotonic(), scope)
    return scope


def forget_region_scopes() -> None:
    """Drop this worker's cached scopes (after a region is added; other workers catch up within
    ``REGION_SCOPE_TTL_S``)."""
    _region_scopes.clear()


async def _walk_regions(region_id: UUID) -> frozenset[UUID]:
    scope = {region_id}
    frontier = [region_id]
    while frontier:
        children = await Region.select(Region.id).where(Region.parent.is_in(frontier))
        frontier = [c["id"] for c in children if c["id"] not in scope]
        scope.update(frontier)
    return frozenset(scope)


_SESSION_SQL = (
    "SELECT s.device_id, s.revoked_at, s.expires_at, u.id AS user_id, u.username,"
    " u.display_name, u.role, u.region, u.institution, u.is_active"
    f' FROM {DeviceSession._meta.tablename} s JOIN {User._meta.tablename} u ON u.id = s."user"'
    " WHERE s.id = $1"
)


async def load_current_user(user_id: str, session_id: str) -> CurrentUser | None:
    """The user of a live session, or None when the session is revoked or expired, or the user
    disabled."""
    try:
        sid = UUID(session_id)
        uid = UUID(user_id)
    except (TypeError, ValueError):
        return None
    # Checked on every request, so in one statement without the ORM's per-query work (and on
    # SQLite without opening a connection per request): see ``db.read_row``.
    row = await read_row(_SESSION_SQL, sid)
    if (
        row is None
        or row["user_id"] != uid
        or row["revoked_at"] is not None
        or row["expires_at"] < now()
        or not row["is_active"]
    ):
        return None
    role = Role(row["role"])
    region_id = row["region"]
    if role == Role.admin:
        region_ids: frozenset[UUID] | None = None
    elif role == Role.manager or region_id is None:
        region_ids = frozenset()
    else:
        region_ids = await region_scope(region_id)
    return CurrentUser(
        id=uid,
        username=row["username"],
        display_name=row["display_name"],
        role=role,
        region_id=region_id,
        institution_id=row["institution"],
        region_ids=region_ids,
        session_id=sid,
        device_id=row["device_id"],
    )


async def _retrieve_user(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    return await load_current_user(token.sub, str(token.extras.get("sid", "")))


def make_jwt_auth(settings: Settings) -> JWTAuth[CurrentUser, Token]:
    """The JWT configuration: every route needs a valid token except :data:`PUBLIC_PATHS`."""
    return JWTAuth[CurrentUser, Token](
        token_secret=settings.secret_key,
        retrieve_user_handler=_retrieve_user,
        exclude=PUBLIC_PATHS,
        default_token_expiration=timedelta(minutes=settings.access_token_minutes),
        openapi_security_scheme_name="BearerToken",
        description="登录后获得的访问令牌：Authorization: Bearer <access_token>",
    )


class TokenIssuer:
    """Signs access tokens with the app's JWT configuration (injected into the auth routes)."""

    def __init__(self, jwt_auth: JWTAuth[CurrentUser, Token]) -> None:
        self._jwt_auth = jwt_auth

    def access_token(self, user_id: UUID, session_id: UUID, role: str) -> str:
        """A signed access token for one session."""
        return self._jwt_auth.create_token(
            identifier=str(user_id),
            token_unique_jwt_id=secrets.token_hex(8),
            token_extras={"sid": str(session_id), "role": role},
        )


async def user_by_username(username: str) -> dict[str, Any] | None:
    """A user row by username (with the password hash), or None."""
    return await User.select().where(User.username == username).first()
