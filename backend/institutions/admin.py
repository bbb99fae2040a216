"""The administrator's management of institutions and regions: creating an institution, bulk
import, the region tree with its issuing offices, and a county's posters as one PDF.

Every write checks everything first, then stores and audits in one transaction.
"""

from __future__ import annotations

import io
import re
from typing import Any
from uuid import UUID

from backend.accounts import auth
from backend.audit.services import Actor, record, record_many
from backend.db import write_transaction
from backend.errors import Conflict, InvalidInput, NotFound
from backend.institutions import importing, qr
from backend.institutions.services import ServiceUnavailable, poster_fields
from backend.institutions.tables import Institution, Region, new_qr_token

REGION_CODE_RE = re.compile(r"^[0-9]{6,12}$")


async def region_ids_by_code() -> dict[str, UUID]:
    """Every region's id by its code."""
    return {r["code"]: r["id"] for r in await Region.select(Region.code, Region.id)}


def _institution_row(values: dict[str, Any]) -> Institution:
    return Institution(
        code=values["code"],
        name=values["name"],
        type=values["type"],
        level=values["level"],
        region=values["region"],
        address=values["address"],
        contact_name=values["contact_name"],
        contact_phone=values["contact_phone"],
        qr_token=new_qr_token(),
    )


def _audit_after(values: dict[str, Any], region_code: str) -> dict[str, Any]:
    return {**{k: v for k, v in values.items() if k != "region"}, "region": region_code}


async def create_institution(values: dict[str, str], actor: Actor) -> UUID:
    """Create one institution from the create form's texts (the same rules as the import).

    Returns:
        The new institution's id.

    Raises:
        InvalidInput: a value is not allowed (all problems in the message and ``details``).
        Conflict: the code is taken.
    """
    ready, problems = importing.check_values(values, await region_ids_by_code())
    if problems:
        raise InvalidInput("；".join(problems), details={"problems": problems})
    async with write_transaction():
        if await Institution.exists().where(Institution.code == ready["code"]):
            raise Conflict(f"机构编码“{ready['code']}”已存在", details={"field": "code"})
        row = _institution_row(ready)
        await row.save()
        await record(
            actor, "institution.create", "institution", row.id,
            after=_audit_after(ready, values.get("region", "")),
        )
    return row.id


async def import_institutions(filename: str, content: bytes, actor: Actor) -> int:
    """Import every institution of a file, or none.

    The rows are checked first (columns, values, regions, codes repeated in the file); the codes
    already in the database are checked inside the write transaction, so two imports racing
    cannot both store the same code.

    Returns:
        The number of institutions imported.

    Raises:
        InvalidInput / PayloadTooLarge: the file itself is unusable.
        importing.ImportRefused: some rows are bad (every one of them listed); nothing stored.
    """
    rows = importing.parse_file(filename, content)
    regions = await region_ids_by_code()
    codes = [r.values.get("code", "").strip() for r in rows]
    async with write_transaction():
        existing = {
            r["code"]
            for r in await Institution.select(Institution.code).where(
                Institution.code.is_in([c for c in codes if c] or [""])
            )
        }
        ready, bad = importing.check_rows(rows, regions, existing)
        if bad:
            raise importing.ImportRefused(bad)
        institutions = [_institution_row(values) for values in ready]
        await Institution.insert(*institutions)
        await record_many(
            actor,
            "institution.create",
            "institution",
            [
                (inst.id, _audit_after(values, row.values["region"].strip()))
                for inst, values, row in zip(institutions, ready, rows, strict=True)
            ],
        )
        await record(
            actor,
            "institution.import",
            "institution_import",
            filename[:64],
            after={"file": filename, "imported": len(institutions), "codes": codes},
        )
    return len(institutions)


# --------------------------------------------------------------------------------------------
# Regions and their issuing offices
# --------------------------------------------------------------------------------------------


async def region_tree() -> list[dict[str, Any]]:
    """Every region as a tree (cities at the top, counties under them), by code, each with its
    number of institutions and of users."""
    rows = await Region.select(
        Region.id, Region.code, Region.name, Region.office_short_name, Region.parent,
        Region.parent.code.as_alias("parent_code"), Region.created_at,
    ).order_by(Region.code)
    from backend.accounts.tables import User

    inst_counts: dict[Any, int] = {}
    for r in await Institution.select(Institution.region):
        inst_counts[r["region"]] = inst_counts.get(r["region"], 0) + 1
    user_counts: dict[Any, int] = {}
    for r in await User.select(User.region).where(User.region.is_not_null()):
        user_counts[r["region"]] = user_counts.get(r["region"], 0) + 1
    nodes = {
        r["id"]: {
            "code": r["code"],
            "name": r["name"],
            "office_short_name": r["office_short_name"],
            "parent_code": r["parent_code"],
            "institution_count": inst_counts.get(r["id"], 0),
            "user_count": user_counts.get(r["id"], 0),
            "children": [],
        }
        for r in rows
    }
    roots = []
    for r in rows:
        node = nodes[r["id"]]
        parent = nodes.get(r["parent"]) if r["parent"] else None
        (parent["children"] if parent else roots).append(node)
    return roots


def _region_texts(name: str | None, office: str | None) -> dict[str, str]:
    values: dict[str, str] = {}
    if name is not None:
        text = name.strip()
        if not text or len(text) > 64:
            raise InvalidInput("地区名称须为 1–64 个字", details={"field": "name"})
        if not text.isprintable():
            raise InvalidInput("地区名称不能包含控制字符", details={"field": "name"})
        values["name"] = text
    if office is not None:
        text = office.strip()
        if not text or len(text) > 16:
            raise InvalidInput(
                "签发机关简称须为 1–16 个字（用于通知书编号，如“威”医保整改〔2026〕17号）",
                details={"field": "office_short_name"},
            )
        if re.search(r"[\s〔〕\[\]]", text) or not text.isprintable():
            raise InvalidInput(
                "签发机关简称不能包含空格、括号或控制字符", details={"field": "office_short_name"}
            )
        values["office_short_name"] = text
    return values


async def _refuse_shared_office_name(text: str | None, region_id: UUID | None = None) -> None:
    """Refuse a short name another region already has. Any region's bureau may issue notices
    (the organiser's, or the one ``YIBAO_NOTICE_OFFICE`` names), each numbering its own, so two
    offices with one short name would give two notices the same number."""
    if text is None:
        return
    query = Region.select(Region.code, Region.name).where(Region.office_short_name == text)
    if region_id is not None:
        query = query.where(Region.id != region_id)
    other = await query.first()
    if other is not None:
        raise Conflict(
            f"签发机关简称“{text}”已由{other['name']}（{other['code']}）使用；"
            "通知书编号以简称区分签发机关，请换一个",
            details={"field": "office_short_name"},
        )


async def create_region(
    code: str, name: str, office_short_name: str, parent_code: str | None, actor: Actor
) -> None:
    """Add a region (a city when it has no parent, else a county under ``parent_code``).

    Raises:
        InvalidInput: a value is not allowed.
        NotFound: the parent does not exist.
        Conflict: the code or the office short name is taken.
    """
    code = code.strip()
    if not REGION_CODE_RE.match(code):
        raise InvalidInput("地区代码须为 6–12 位数字（行政区划代码）", details={"field": "code"})
    values = _region_texts(name, office_short_name)
    async with write_transaction():
        parent_id = None
        if parent_code:
            parent = await Region.select(Region.id).where(Region.code == parent_code).first()
            if parent is None:
                raise NotFound(f"上级地区 {parent_code} 不存在", details={"field": "parent_code"})
            parent_id = parent["id"]
        if await Region.exists().where(Region.code == code):
            raise Conflict(f"地区代码 {code} 已存在", details={"field": "code"})
        await _refuse_shared_office_name(values["office_short_name"])
        region = Region(code=code, parent=parent_id, **values)
        await region.save()
        await record(
            actor, "region.create", "region", region.id,
            after={"code": code, "parent": parent_code, **values},
        )
    # The scopes of users of the parent region now include the new one.
    auth.forget_region_scopes()


async def update_region(
    code: str, actor: Actor, *, name: str | None = None, office_short_name: str | None = None
) -> None:
    """Rename a region or change its issuing office's short name (used by notices numbered
    from now on; numbers already issued keep theirs).

    Raises:
        NotFound: no such region.
        InvalidInput: nothing to change or a value not allowed.
        Conflict: another region has the office short name.
    """
    values = _region_texts(name, office_short_name)
    if not values:
        raise InvalidInput("没有需要修改的内容")
    async with write_transaction():
        row = await Region.select().where(Region.code == code).first()
        if row is None:
            raise NotFound(f"地区 {code} 不存在")
        changed = {k: v for k, v in values.items() if row[k] != v}
        if not changed:
            return
        await _refuse_shared_office_name(changed.get("office_short_name"), row["id"])
        await Region.update({getattr(Region, k): v for k, v in changed.items()}).where(
            Region.id == row["id"]
        )
        await record(
            actor, "region.update", "region", row["id"],
            before={k: row[k] for k in changed}, after=changed,
        )


# --------------------------------------------------------------------------------------------
# A county's posters as one PDF
# --------------------------------------------------------------------------------------------


async def region_poster_fields(code: str, base_url: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The poster fields of every institution of a region (its sub-regions included), by code.

    Returns:
        The region's name and the fields, one per institution.

    Raises:
        NotFound: no such region.
        InvalidInput: the region has no institutions.
    """
    region = await Region.select(Region.id, Region.name).where(Region.code == code).first()
    if region is None:
        raise NotFound(f"地区 {code} 不存在")
    scope = await auth.region_scope(region["id"])
    from backend.institutions.services import _COLUMNS  # the columns poster_fields expects

    rows = await Institution.select(*_COLUMNS).where(
        Institution.region.is_in(list(scope))
    ).order_by(Institution.code)
    if not rows:
        raise InvalidInput(f"{region['name']}没有定点医药机构，无可打印的海报")
    return region["name"], [await poster_fields(r, base_url) for r in rows]


def posters_pdf(all_fields: list[dict[str, Any]], title: str) -> bytes:
    """One A4 page per poster: each page is the poster image drawn by :func:`qr.poster_png`
    (the same drawing and CJK font as the single poster), filling the page.

    CPU-bound (≈ 0.1–0.3 s a poster): call it from a worker thread.

    Raises:
        ServiceUnavailable: no CJK font is installed on the server.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(title)
    pdf.setAuthor(all_fields[0]["issued_by"] if all_fields else "")
    width, height = A4
    try:
        font = qr.find_cjk_font()
    except qr.FontMissing:
        raise ServiceUnavailable(
            "服务器未安装中文字体，暂时无法生成海报。请系统管理员安装中文字体"
            "（如 fonts-wqy-microhei 或 fonts-noto-cjk）。"
        ) from None
    for fields in all_fields:
        png = qr.poster_png(**fields, font=font)
        pdf.drawImage(ImageReader(io.BytesIO(png)), 0, 0, width=width, height=height)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
