"""Every route × every role × own and foreign tenant.

The matrix below names, for every route of the app, what each role gets on a record of its own
tenancy and on one of another: ``OK`` (let through: any answer but 401/403/404), ``403`` (the
role may never use the route) or ``404`` (outside one's tenancy, answered exactly as a missing
record). A route added to the app without a row here fails :func:`test_every_route_is_in_the_matrix`.

Own tenancy is 环翠区 and the pharmacy P37100200001; foreign is 文登区 and P37100300001. The
roles: admin; supervisor.huancui (环翠区 supervisor); inspector (环翠区); manager.pharmacy (the
manager of P37100200001).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar.handlers import HTTPRouteHandler

from backend.app import create_app
from backend.china_time import today_in_china
from backend.demo import demo_password
from backend.institutions.tables import Institution
from tests.inspections.helpers import (
    complete_inspection,
    institution_id,
    jpeg_bytes,
    new_assignment,
    now_iso,
    push,
    user_id,
)

OK, FORBIDDEN, HIDDEN = "ok", 403, 404
ROLES = ("admin", "supervisor.huancui", "inspector", "manager.pharmacy")
PUBLIC = {
    "GET /health",
    "POST /api/auth/login",
    "POST /api/auth/refresh",
    # The rectification notices' public verification (a signed token; see tests/rectification).
    "GET /verify/{token:str}",
    "GET /api/public/notices/verify/{token:str}",
    "GET /sw.js",
    "GET /s/{token:str}",
    # The 公示 of a 双随机 draw and its CSV (see tests/planning).
    "GET /public/draws/{ref:str}",
    # The key that signs sealed inspection records (see tests/records).
    "GET /public/signing-key",
    # The audit chain's signed checkpoints (see tests/audit).
    "GET /public/audit/checkpoints",
    "GET /public/audit/checkpoints.json",
}


def _public(key: str) -> bool:
    method, path = key.split(" ", 1)
    return key in PUBLIC or path.startswith("/schema") or path.startswith("/_assets") or path in {
        "/",
        "/{file_path:path}",
    }


def _app_routes() -> set[str]:
    keys = set()
    for route in create_app().routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler):
                for method in handler.http_methods:
                    if method not in {"OPTIONS", "HEAD"}:
                        keys.add(f"{method} {route.path}")
    return keys


@dataclass
class World:
    """Records of both tenancies, made once."""

    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]]
    inst: dict[str, str]
    assignment: dict[str, dict[str, Any]]
    inspection: dict[str, str]
    photo: dict[str, str]
    teams: dict[str, list[str]]

    async def fresh_assignment(self, tenant: str) -> dict[str, Any]:
        code = "P37100200003" if tenant == "own" else "P37100300003"
        return await new_assignment(self.client, self.headers["admin"], code, self.teams[tenant])


Call = Callable[[World, str, str], Awaitable[tuple[str, str, dict[str, Any]]]]


def simple(method: str, path: str, **kwargs: Any) -> Call:
    """A call whose path takes ``{inst}``, ``{assignment}``, ``{inspection}``, ``{photo}``."""

    async def call(world: World, role: str, tenant: str) -> tuple[str, str, dict[str, Any]]:
        url = path.format(
            inst=world.inst[tenant],
            assignment=world.assignment[tenant]["id"],
            inspection=world.inspection[tenant],
            photo=world.photo[tenant],
        )
        return method, url, dict(kwargs)

    return call


async def _create_assignment(world: World, role: str, tenant: str):
    code = "P37100200004" if tenant == "own" else "P37100300004"
    body = {
        "institution_id": await institution_id(code),
        "checklist_id": "pharmacy-routine",
        "window_start": "2026-12-01",
        "window_end": "2026-12-05",
        "inspector_ids": world.teams[tenant],
    }
    return "POST", "/api/assignments", {"json": body}


async def _cancel(world: World, role: str, tenant: str):
    fresh = await world.fresh_assignment(tenant)
    return "POST", f"/api/assignments/{fresh['id']}/cancel", {"json": {"reason": "矩阵测试"}}


async def _push(world: World, role: str, tenant: str):
    fresh = await world.fresh_assignment(tenant)
    record = {
        "id": str(uuid.uuid4()),
        "assignment_id": fresh["id"],
        "checklist_id": "pharmacy-routine",
        "checklist_version": fresh["checklist"]["version"],
        "client_updated_at": now_iso(),
        "findings": [],
    }
    return "POST", "/api/sync", {"json": {"device_id": "matrix", "inspections": [record]}}


async def _upload(world: World, role: str, tenant: str):
    fresh = await world.fresh_assignment(tenant)
    data = jpeg_bytes(7)
    import hashlib

    fields = {
        "id": str(uuid.uuid4()),
        "sha256": hashlib.sha256(data).hexdigest(),
        "assignment_id": fresh["id"],
        "inspection_id": str(uuid.uuid4()),
        "kind": "evidence",
    }
    return "POST", "/api/photos", {"data": fields, "files": {"file": ("p.jpg", data, "image/jpeg")}}


async def _draft_photo(world: World, role: str, tenant: str):
    """A photo sent during the visit (no inspection yet) by the tenant's team, to delete."""
    fresh = await world.fresh_assignment(tenant)
    method, url, kwargs = await _upload(world, role, tenant)
    kwargs["data"]["assignment_id"] = fresh["id"]
    inspector = "inspector" if tenant == "own" else "inspector3"
    sent = await world.client.post(url, headers=await _headers_of(world, inspector), **kwargs)
    assert sent.status_code == 201, sent.text
    return "DELETE", f"/api/photos/{sent.json()['id']}", {}


async def _by_qr(world: World, role: str, tenant: str):
    row = await Institution.select(Institution.qr_token).where(Institution.id == world.inst[tenant]).first()
    return "GET", f"/api/institutions/by-qr/{row['qr_token']}", {}


async def _rotate(world: World, role: str, tenant: str):
    code = "P37100200005" if tenant == "own" else "P37100300002"
    return "POST", f"/api/institutions/{await institution_id(code)}/qr-token/rotate", {}


async def _throwaway_user(world: World) -> str:
    username = f"m{uuid.uuid4().hex[:10]}"
    response = await world.client.post(
        "/api/admin/users",
        json={"username": username, "password": "a-good-password", "role": "inspector", "region_code": "371002"},
        headers=world.headers["admin"],
    )
    assert response.status_code == 201, response.text
    return username


async def _patch_user(world: World, role: str, tenant: str):
    return "PATCH", f"/api/admin/users/{await _throwaway_user(world)}", {"json": {"display_name": "改名"}}


async def _create_user(world: World, role: str, tenant: str):
    body = {"username": f"n{uuid.uuid4().hex[:10]}", "password": "a-good-password", "role": "inspector", "region_code": "371002"}
    return "POST", "/api/admin/users", {"json": body}


async def _revoke(world: World, role: str, tenant: str):
    username = await _throwaway_user(world)
    login = await world.client.post("/api/auth/login", json={"username": username, "password": "a-good-password"})
    return "POST", f"/api/admin/sessions/{login.json()['session_id']}/revoke", {}


async def _revoke_devices(world: World, role: str, tenant: str):
    return "POST", f"/api/admin/users/{await _throwaway_user(world)}/revoke-devices", {}


async def _checklist_version(world: World, role: str, tenant: str):
    from backend.checklists.tables import ChecklistVersion

    row = await ChecklistVersion.select(ChecklistVersion.id).first()
    return "GET", f"/api/admin/checklists/{row['id']}", {}


async def _upload_checklist(world: World, role: str, tenant: str):
    # The shipped file again: loaded already, so the admin's upload changes nothing.
    from backend.settings import REPO_ROOT

    data = (REPO_ROOT / "checklists" / "pharmacy-routine.v1.yaml").read_bytes()
    return "POST", "/api/admin/checklists", {"files": {"file": ("pharmacy-routine.v1.yaml", data)}}


# Admin writes below are sent with a bad value: let through (422), they store nothing.
_BAD_IMPORT = "机构编码,机构名称,机构类型,所属地区\r\nM1,矩阵,pharmacy,000000\r\n".encode()
_BAD_INSTITUTION = {"code": "M1", "name": "矩阵", "type": "pharmacy", "region_code": "000000"}


async def _logout(world: World, role: str, tenant: str):
    # With a token of its own, so that the role's shared token stays valid for the other rows.
    login = await world.client.post("/api/auth/login", json={"username": role, "password": demo_password()})
    return "POST", "/api/auth/logout", {"headers": {"Authorization": f"Bearer {login.json()['access_token']}"}}


# --- rectification: one notice per tenant (of P37100200001 / P37100300001), made on first use ---

_NOTICES: dict[str, dict[str, Any]] = {}
_TENANT_CODE = {"own": "P37100200001", "foreign": "P37100300001"}
_TENANT_USERS = {"own": ("inspector", "manager.pharmacy"), "foreign": ("inspector3", "manager.wendeng")}


async def _headers_of(world: World, username: str) -> dict[str, str]:
    login = await world.client.post("/api/auth/login", json={"username": username, "password": demo_password()})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def _notice(world: World, tenant: str) -> dict[str, Any]:
    """A notice with a task and a manager's photo, for the tenant's institution."""
    if tenant not in _NOTICES:
        inspector_name, manager_name = _TENANT_USERS[tenant]
        inspector = await _headers_of(world, inspector_name)
        a = await new_assignment(world.client, world.headers["admin"], _TENANT_CODE[tenant], world.teams[tenant])
        record = await complete_inspection(world.client, inspector, a, fail={"signage.complaint": {}})
        response = await push(world.client, inspector, [record])
        assert response.status_code == 200, response.text
        from backend.rectification.tables import RectificationNotice, RectificationTask

        notice = await RectificationNotice.select(RectificationNotice.id).where(
            RectificationNotice.inspection == record["id"]
        ).first()
        task = await RectificationTask.select(RectificationTask.id).where(
            RectificationTask.notice == notice["id"]
        ).first()
        manager = await _headers_of(world, manager_name)
        data = jpeg_bytes(11)
        photo = await world.client.post(
            f"/api/rectification/tasks/{task['id']}/photos",
            data={"id": str(uuid.uuid4())},
            files={"file": ("p.jpg", data, "image/jpeg")},
            headers=manager,
        )
        assert photo.status_code == 201, photo.text
        _NOTICES[tenant] = {"notice": str(notice["id"]), "task": str(task["id"]), "photo": photo.json()["id"]}
    return _NOTICES[tenant]


def rect(method: str, path: str, **kwargs: Any) -> Call:
    """A rectification call whose path takes ``{notice}``, ``{task}``, ``{rphoto}``."""

    async def call(world: World, role: str, tenant: str) -> tuple[str, str, dict[str, Any]]:
        ids = await _notice(world, tenant)
        url = path.format(notice=ids["notice"], task=ids["task"], rphoto=ids["photo"])
        return method, url, dict(kwargs)

    return call


async def _reinspection(world: World, role: str, tenant: str):
    ids = await _notice(world, tenant)
    body = {"window_start": "2026-12-01", "window_end": "2026-12-05", "inspector_ids": world.teams[tenant]}
    return "POST", f"/api/rectification/notices/{ids['notice']}/reinspection", {"json": body}


async def _rect_photo(world: World, role: str, tenant: str):
    ids = await _notice(world, tenant)
    return "POST", f"/api/rectification/tasks/{ids['task']}/photos", {
        "data": {"id": str(uuid.uuid4())},
        "files": {"file": ("p.jpg", jpeg_bytes(12), "image/jpeg")},
    }


# --- planning: relations (回避), draws, bulk routine plans --------------------------------------

_REGION = {"own": "371002", "foreign": "371003"}
_DRAWS: dict[str, str] = {}


def _pool_body(tenant: str, **extra: Any) -> dict[str, Any]:
    return {"region": _REGION[tenant], "institution_types": ["tcm_clinic"], "window_start": "2027-06-01",
            "window_end": "2027-06-05", "seed": "matrix", **extra}


async def _relation_create(world: World, role: str, tenant: str):
    from backend.planning.tables import InspectorRelation

    inspector, code = ("inspector", "H37100200004") if tenant == "own" else ("inspector3", "H37100300004")
    inst = await institution_id(code)
    await InspectorRelation.delete().where(InspectorRelation.institution == inst)
    return "POST", "/api/inspector-relations", {"json": {"inspector": inspector, "institution_id": inst, "reason": "矩阵测试"}}


async def _relation_delete(world: World, role: str, tenant: str):
    from backend.accounts.tables import User
    from backend.planning.tables import InspectorRelation

    username, code = ("inspector2", "H37100200005") if tenant == "own" else ("inspector4", "H37100300005")
    inst = await institution_id(code)
    user = await User.select(User.id).where(User.username == username).first()
    await InspectorRelation.delete().where(InspectorRelation.institution == inst)
    relation = InspectorRelation(inspector=user["id"], institution=inst, reason="矩阵测试")
    await relation.save()
    return "DELETE", f"/api/inspector-relations/{relation.id}", {}


def _draw_call(path: str, **extra: Any) -> Call:
    async def call(world: World, role: str, tenant: str) -> tuple[str, str, dict[str, Any]]:
        return "POST", path, {"json": _pool_body(tenant, **extra)}

    return call


async def _draw_get(world: World, role: str, tenant: str):
    if tenant not in _DRAWS:
        response = await world.client.post(
            "/api/draws", json=_pool_body(tenant, count=1, title="矩阵测试"), headers=world.headers["admin"]
        )
        assert response.status_code == 201, response.text
        _DRAWS[tenant] = response.json()["id"]
    return "GET", f"/api/draws/{_DRAWS[tenant]}", {}


def _tracking(path: str) -> Call:
    """A tracking route filtered to the tenant's county (a region outside the scope is 404)."""

    async def call(world: World, role: str, tenant: str) -> tuple[str, str, dict[str, Any]]:
        return "GET", path, {"params": {"region": "371002" if tenant == "own" else "371003"}}

    return call


async def _physician_of(world: World, tenant: str) -> str:
    """A physician of the tenant's pharmacy (made once: pharmacies have none in the demo)."""
    from backend.institutions.tables import Physician

    row = await Physician.select(Physician.id).where(
        Physician.institution == world.inst[tenant]
    ).first()
    if row is None:
        doctor = Physician(
            institution=world.inst[tenant], name="矩阵药师", certificate_no=f"M{uuid.uuid4().hex[:12]}"
        )
        await doctor.save()
        return str(doctor.id)
    return str(row["id"])


def _physician_call(method: str, suffix: str) -> Call:
    async def call(world: World, role: str, tenant: str) -> tuple[str, str, dict[str, Any]]:
        return method, f"/api/physicians/{await _physician_of(world, tenant)}/{suffix}", {}

    return call


def same(expect: Any) -> dict[str, tuple[Any, Any]]:
    return {role: (expect, expect) for role in ROLES}


def per_role(admin: tuple, supervisor: tuple, inspector: tuple, manager: tuple) -> dict[str, tuple]:
    return dict(zip(ROLES, (admin, supervisor, inspector, manager), strict=True))


ADMIN_ONLY = per_role((OK, OK), (FORBIDDEN,) * 2, (FORBIDDEN,) * 2, (FORBIDDEN,) * 2)
REGION_READ = per_role((OK, OK), (OK, HIDDEN), (OK, HIDDEN), (OK, HIDDEN))
REGION_STAFF = per_role((OK, OK), (OK, HIDDEN), (OK, HIDDEN), (FORBIDDEN,) * 2)
INSPECTOR_WRITE = per_role((FORBIDDEN,) * 2, (FORBIDDEN,) * 2, (OK, HIDDEN), (FORBIDDEN,) * 2)
PLANNERS = per_role((OK, OK), (OK, HIDDEN), (FORBIDDEN,) * 2, (FORBIDDEN,) * 2)
STAFF_LIST = per_role((OK, OK), (OK, OK), (OK, OK), (FORBIDDEN,) * 2)
PLANNER_LIST = per_role((OK, OK), (OK, OK), (FORBIDDEN,) * 2, (FORBIDDEN,) * 2)
MANAGER_WRITE = per_role((FORBIDDEN,) * 2, (FORBIDDEN,) * 2, (FORBIDDEN,) * 2, (OK, HIDDEN))

MATRIX: dict[str, tuple[Call, dict[str, tuple]]] = {
    "GET /api/auth/me": (simple("GET", "/api/auth/me"), same(OK)),
    "POST /api/auth/logout": (_logout, same(OK)),
    "GET /api/admin/users": (simple("GET", "/api/admin/users"), ADMIN_ONLY),
    "POST /api/admin/users": (_create_user, ADMIN_ONLY),
    "PATCH /api/admin/users/{username:str}": (_patch_user, ADMIN_ONLY),
    "GET /api/admin/sessions": (simple("GET", "/api/admin/sessions"), ADMIN_ONLY),
    "POST /api/admin/sessions/{session_id:uuid}/revoke": (_revoke, ADMIN_ONLY),
    "POST /api/admin/users/{username:str}/revoke-devices": (_revoke_devices, ADMIN_ONLY),
    "POST /api/admin/institutions": (
        simple("POST", "/api/admin/institutions", json=_BAD_INSTITUTION),
        ADMIN_ONLY,
    ),
    "PATCH /api/admin/institutions/{institution_id:uuid}": (
        simple("PATCH", "/api/admin/institutions/{inst}", json={"contact_phone": "0631-5200000"}),
        ADMIN_ONLY,
    ),
    "POST /api/admin/institutions/import": (
        simple("POST", "/api/admin/institutions/import", files={"file": ("m.csv", _BAD_IMPORT)}),
        ADMIN_ONLY,
    ),
    "GET /api/admin/institutions/import-template.xlsx": (
        simple("GET", "/api/admin/institutions/import-template.xlsx"),
        ADMIN_ONLY,
    ),
    "GET /api/admin/regions": (simple("GET", "/api/admin/regions"), ADMIN_ONLY),
    "POST /api/admin/regions": (
        simple("POST", "/api/admin/regions", json={"code": "x", "name": "矩阵", "office_short_name": "矩"}),
        ADMIN_ONLY,
    ),
    "PATCH /api/admin/regions/{code:str}": (
        simple("PATCH", "/api/admin/regions/371002", json={"office_short_name": "环翠"}),
        ADMIN_ONLY,
    ),
    "GET /api/admin/regions/{code:str}/posters.pdf": (
        simple("GET", "/api/admin/regions/371082/posters.pdf"),
        ADMIN_ONLY,
    ),
    "GET /api/admin/checklists": (simple("GET", "/api/admin/checklists"), ADMIN_ONLY),
    "GET /api/admin/checklists/{version_id:uuid}": (_checklist_version, ADMIN_ONLY),
    "POST /api/admin/checklists": (_upload_checklist, ADMIN_ONLY),
    "GET /api/admin/audit": (simple("GET", "/api/admin/audit"), ADMIN_ONLY),
    "GET /api/admin/audit/actions": (simple("GET", "/api/admin/audit/actions"), ADMIN_ONLY),
    "GET /api/assignments": (simple("GET", "/api/assignments"), STAFF_LIST),
    "POST /api/assignments": (_create_assignment, PLANNERS),
    "GET /api/assignments/{assignment_id:uuid}": (simple("GET", "/api/assignments/{assignment}"), REGION_STAFF),
    "POST /api/assignments/{assignment_id:uuid}/cancel": (_cancel, PLANNERS),
    "GET /api/sync/bundle": (simple("GET", "/api/sync/bundle"), STAFF_LIST),
    "POST /api/sync": (_push, INSPECTOR_WRITE),
    "GET /api/inspections": (simple("GET", "/api/inspections"), same(OK)),
    "GET /api/inspections/{inspection_id:uuid}": (simple("GET", "/api/inspections/{inspection}"), REGION_READ),
    "GET /api/inspections/{inspection_id:uuid}/evidence.zip": (
        simple("GET", "/api/inspections/{inspection}/evidence.zip"),
        REGION_READ,
    ),
    "GET /api/inspections/{inspection_id:uuid}/history": (
        simple("GET", "/api/inspections/{inspection}/history"),
        PLANNERS,
    ),
    "POST /api/photos": (_upload, INSPECTOR_WRITE),
    "DELETE /api/photos/{photo_id:uuid}": (_draft_photo, INSPECTOR_WRITE),
    "GET /api/photos/{photo_id:uuid}": (simple("GET", "/api/photos/{photo}"), REGION_READ),
    "GET /api/photos/{photo_id:uuid}/thumbnail": (simple("GET", "/api/photos/{photo}/thumbnail"), REGION_READ),
    "GET /api/institutions": (simple("GET", "/api/institutions"), same(OK)),
    "GET /api/institutions/{institution_id:uuid}": (simple("GET", "/api/institutions/{inst}"), REGION_READ),
    "GET /api/institutions/{institution_id:uuid}/physicians": (
        simple("GET", "/api/institutions/{inst}/physicians"),
        REGION_READ,
    ),
    "GET /api/institutions/{institution_id:uuid}/qr.png": (simple("GET", "/api/institutions/{inst}/qr.png"), REGION_STAFF),
    "GET /api/institutions/{institution_id:uuid}/poster": (simple("GET", "/api/institutions/{inst}/poster"), REGION_STAFF),
    "GET /api/institutions/{institution_id:uuid}/poster.png": (
        simple("GET", "/api/institutions/{inst}/poster.png"),
        REGION_STAFF,
    ),
    "POST /api/institutions/{institution_id:uuid}/qr-token/rotate": (_rotate, ADMIN_ONLY),
    "GET /api/institutions/by-qr/{token:str}": (
        _by_qr,
        per_role((FORBIDDEN,) * 2, (FORBIDDEN,) * 2, (OK, HIDDEN), (FORBIDDEN,) * 2),
    ),
    "PATCH /api/institutions/{institution_id:uuid}": (
        simple("PATCH", "/api/institutions/{inst}", json={"contact_phone": "0631-5200000"}),
        ADMIN_ONLY,
    ),
    "GET /api/rectification/notices": (simple("GET", "/api/rectification/notices"), same(OK)),
    "GET /api/rectification/notices/{notice_id:uuid}": (
        rect("GET", "/api/rectification/notices/{notice}"),
        REGION_READ,
    ),
    "GET /api/rectification/notices/{notice_id:uuid}/document": (
        rect("GET", "/api/rectification/notices/{notice}/document"),
        REGION_READ,
    ),
    "GET /api/rectification/notices/{notice_id:uuid}/document.pdf": (
        rect("GET", "/api/rectification/notices/{notice}/document.pdf"),
        REGION_READ,
    ),
    # 医保医师记分告知书 (tests/rules/test_notice_points.py): as the notice itself.
    "GET /api/rectification/notices/{notice_id:uuid}/deductions": (
        rect("GET", "/api/rectification/notices/{notice}/deductions"),
        REGION_READ,
    ),
    "GET /api/rectification/notices/{notice_id:uuid}/physician-points": (
        rect("GET", "/api/rectification/notices/{notice}/physician-points"),
        REGION_READ,
    ),
    "GET /api/rectification/notices/{notice_id:uuid}/physician-points.pdf": (
        rect("GET", "/api/rectification/notices/{notice}/physician-points.pdf"),
        REGION_READ,
    ),
    "POST /api/rectification/notices/{notice_id:uuid}/confirm": (
        rect("POST", "/api/rectification/notices/{notice}/confirm"),
        PLANNERS,
    ),
    "POST /api/rectification/notices/{notice_id:uuid}/service": (
        rect(
            "POST",
            "/api/rectification/notices/{notice}/service",
            json={"served_on": str(today_in_china()), "method": "paper"},
        ),
        PLANNERS,
    ),
    "POST /api/rectification/notices/{notice_id:uuid}/reinspection": (_reinspection, PLANNERS),
    "POST /api/rectification/notices/{notice_id:uuid}/escalations": (
        rect("POST", "/api/rectification/notices/{notice}/escalations", json={"step": "interview"}),
        PLANNERS,
    ),
    "GET /api/rectification/tasks/{task_id:uuid}": (rect("GET", "/api/rectification/tasks/{task}"), REGION_READ),
    "POST /api/rectification/tasks/{task_id:uuid}/photos": (_rect_photo, MANAGER_WRITE),
    "POST /api/rectification/tasks/{task_id:uuid}/answer": (
        rect("POST", "/api/rectification/tasks/{task}/answer", json={"report": "已整改"}),
        MANAGER_WRITE,
    ),
    "POST /api/rectification/tasks/{task_id:uuid}/accept": (
        rect("POST", "/api/rectification/tasks/{task}/accept", json={}),
        REGION_STAFF,
    ),
    "POST /api/rectification/tasks/{task_id:uuid}/reject": (
        rect("POST", "/api/rectification/tasks/{task}/reject", json={"comment": "退回"}),
        REGION_STAFF,
    ),
    "POST /api/rectification/tasks/{task_id:uuid}/comments": (
        rect("POST", "/api/rectification/tasks/{task}/comments", json={"text": "留言"}),
        REGION_READ,
    ),
    "POST /api/rectification/tasks/{task_id:uuid}/objection": (
        rect("POST", "/api/rectification/tasks/{task}/objection", json={"reason": "申诉理由"}),
        MANAGER_WRITE,
    ),
    "POST /api/rectification/tasks/{task_id:uuid}/objection/decision": (
        rect(
            "POST",
            "/api/rectification/tasks/{task}/objection/decision",
            json={"decision": "dismissed", "comment": "不成立"},
        ),
        PLANNERS,
    ),
    "GET /api/rectification/photos/{photo_id:uuid}": (rect("GET", "/api/rectification/photos/{rphoto}"), REGION_READ),
    "GET /api/rectification/photos/{photo_id:uuid}/thumbnail": (
        rect("GET", "/api/rectification/photos/{rphoto}/thumbnail"),
        REGION_READ,
    ),
    "GET /api/rectification/overdue": (simple("GET", "/api/rectification/overdue"), STAFF_LIST),
    "GET /api/rectification/queue": (
        simple("GET", "/api/rectification/queue", params={"kind": "answers"}),
        per_role((OK, OK), (OK, OK), (FORBIDDEN,) * 2, (FORBIDDEN,) * 2),
    ),
    "GET /api/desk/counts": (
        simple("GET", "/api/desk/counts"),
        per_role((OK, OK), (OK, OK), (FORBIDDEN,) * 2, (FORBIDDEN,) * 2),
    ),
    "GET /api/rectification/updates": (simple("GET", "/api/rectification/updates"), same(OK)),
    "POST /api/rectification/updates/seen": (simple("POST", "/api/rectification/updates/seen", json={}), same(OK)),
    "GET /api/rectification/escalation-ladder": (simple("GET", "/api/rectification/escalation-ladder"), same(OK)),
    # 看板, exports and 机构档案 (tests/tracking): own region 环翠区 (371002), foreign 文登区 (371003).
    "GET /api/dashboard/summary": (_tracking("/api/dashboard/summary"), PLANNERS),
    "GET /api/dashboard/details": (_tracking("/api/dashboard/details"), PLANNERS),
    "GET /api/dashboard/list/{what:str}": (_tracking("/api/dashboard/list/inspections"), PLANNERS),
    **{
        f"GET /api/exports/{name}": (_tracking(f"/api/exports/{name}"), PLANNERS)
        for name in (
            "inspections.xlsx",
            "inspections.csv",
            "findings.xlsx",
            "findings.csv",
            "rectification-tasks.xlsx",
            "rectification-tasks.csv",
            "assessments.xlsx",
            "assessments.csv",
        )
    },
    "GET /api/institutions/{institution_id:uuid}/archive": (
        simple("GET", "/api/institutions/{inst}/archive"),
        PLANNERS,
    ),
    "GET /api/institutions/{institution_id:uuid}/history": (
        simple("GET", "/api/institutions/{inst}/history"),
        PLANNERS,
    ),
    # 医保医师记分 and 年度考核 (tests/rules): region staff and the institution's own manager read.
    "GET /api/physicians/{physician_id:uuid}/points": (_physician_call("GET", "points"), REGION_READ),
    "POST /api/physicians/{physician_id:uuid}/reinstate": (
        _physician_call("POST", "reinstate"),
        PLANNERS,
    ),
    "GET /api/institutions/{institution_id:uuid}/assessment": (
        simple("GET", "/api/institutions/{inst}/assessment"),
        REGION_READ,
    ),
    "GET /api/inspector-relations": (simple("GET", "/api/inspector-relations"), PLANNER_LIST),
    "POST /api/inspector-relations": (_relation_create, PLANNERS),
    "DELETE /api/inspector-relations/{relation_id:uuid}": (_relation_delete, PLANNERS),
    "POST /api/draws/preview": (_draw_call("/api/draws/preview", count=1), PLANNERS),
    "POST /api/draws": (_draw_call("/api/draws", count=1, title="矩阵测试"), PLANNERS),
    "GET /api/draws": (simple("GET", "/api/draws"), PLANNER_LIST),
    "GET /api/planning/options": (simple("GET", "/api/planning/options"), PLANNER_LIST),
    "GET /api/planning/assignments": (simple("GET", "/api/planning/assignments"), PLANNER_LIST),
    "GET /api/draws/{draw_id:uuid}": (_draw_get, PLANNERS),
    "POST /api/assignments/bulk/preview": (_draw_call("/api/assignments/bulk/preview"), PLANNERS),
    "POST /api/assignments/bulk": (_draw_call("/api/assignments/bulk"), PLANNERS),
}


def test_every_route_is_in_the_matrix() -> None:
    routes = {key for key in _app_routes() if not _public(key)}
    missing = routes - MATRIX.keys()
    stale = MATRIX.keys() - routes
    assert not missing, f"routes without an authorization-matrix row: {sorted(missing)}"
    assert not stale, f"matrix rows for routes that no longer exist: {sorted(stale)}"


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}:]+:(uuid|str|path)\}", lambda m: str(uuid.uuid4()) if m.group(1) == "uuid" else "x", path)


@pytest.mark.parametrize("key", sorted(MATRIX))
async def test_route_refuses_missing_and_bad_tokens(client: httpx.AsyncClient, key: str) -> None:
    method, path = key.split(" ", 1)
    url = _concrete(path)
    for headers in ({}, {"Authorization": "Bearer forged.token.value"}):
        response = await client.request(method, url, headers=headers)
        assert response.status_code == 401, (key, headers, response.text)


@pytest.fixture(scope="module")
async def world(client: httpx.AsyncClient, login) -> World:
    headers = {role: await login(role) for role in ROLES}
    headers["supervisor"] = await login("supervisor")
    teams = {
        "own": [await user_id(client, await login("inspector")), await user_id(client, await login("inspector2"))],
        "foreign": [await user_id(client, await login("inspector3")), await user_id(client, await login("inspector4"))],
    }
    inst = {"own": await institution_id("P37100200001"), "foreign": await institution_id("P37100300001")}
    assignment, inspection, photo = {}, {}, {}
    for tenant, code, inspector in (("own", "P37100200001", "inspector"), ("foreign", "P37100300001", "inspector3")):
        a = await new_assignment(client, headers["supervisor"], code, teams[tenant])
        record = await complete_inspection(client, await login(inspector), a)
        response = await push(client, await login(inspector), [record])
        assert response.status_code == 200, response.text
        assignment[tenant], inspection[tenant] = a, record["id"]
        photo[tenant] = record["signatures"][0]["photo_id"]
    return World(client, headers, inst, assignment, inspection, photo, teams)


@pytest.mark.parametrize("key", sorted(MATRIX))
@pytest.mark.parametrize("role", ROLES)
async def test_route_answers_by_role_and_tenancy(world: World, key: str, role: str) -> None:
    call, expectations = MATRIX[key]
    for tenant, expected in zip(("own", "foreign"), expectations[role], strict=True):
        method, url, kwargs = await call(world, role, tenant)
        headers = kwargs.pop("headers", world.headers[role])
        response = await world.client.request(method, url, headers=headers, **kwargs)
        got = response.status_code
        if expected == OK:
            assert got not in {401, 403, 404} and got < 500, (key, role, tenant, got, response.text)
        else:
            assert got == expected, (key, role, tenant, got, response.text)
