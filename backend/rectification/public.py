"""The public verification of a notice: what its QR code opens, without login.

Shows only the number, the institution's name, the issue date and the status; a forged, altered
or unknown token gets 404 with a plain message (see :mod:`backend.rectification.verification`).
"""

from __future__ import annotations

import html
from typing import Any

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath

from backend.errors import NotFound
from backend.rectification import verification
from backend.rectification.schemas import VerificationOut
from backend.rectification.tables import NOTICE_STATUS_LABELS, NoticeStatus
from backend.settings import Settings

_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>body{{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",
sans-serif;max-width:34em;margin:2em auto;padding:0 1em;color:#111;line-height:1.7;font-size:17px}}
h1{{font-size:1.4em}} .ok{{color:#0a6b2d}} .bad{{color:#b00}} dt{{color:#555}} dd{{margin:0 0 .6em}}
</style></head><body>{body}</body></html>"""

NOT_GENUINE = "未能核验：该二维码或链接无效，不是本系统签发的整改通知书，或已失效。"


async def _record_digest(secret_key: str, token: str) -> str | None:
    """The first 16 hex characters of the sealed inspection record behind a notice, so that a
    printed notice can be matched with the record (and its evidence ZIP)."""
    from backend.records.seal import latest_seal
    from backend.rectification.tables import RectificationNotice

    parsed = verification.parse_token(secret_key, token)
    if parsed is None:
        return None
    row = (
        await RectificationNotice.select(RectificationNotice.inspection)
        .where(RectificationNotice.id == parsed[0])
        .first()
    )
    seal = await latest_seal(row["inspection"], with_record=False) if row else None
    return seal["digest"][:16] if seal else None


def _verify_page(found: dict[str, Any] | None, digest: str | None = None) -> Response[str]:
    if found is None:
        body = f'<h1 class="bad">核验失败</h1><p>{NOT_GENUINE}</p>'
        return Response(
            _PAGE.format(title="核验失败", body=body),
            status_code=404,
            media_type=MediaType.HTML,
            headers={"Cache-Control": "no-store"},
        )
    rows = [
        ("通知书编号", found["number"]),
        ("被检查单位", found["institution_name"]),
        ("签发日期", f"{found['issue_date']:%Y年%m月%d日}"),
        ("办理状态", NOTICE_STATUS_LABELS[NoticeStatus(found["status"])]),
    ]
    if digest:
        rows.append(("检查记录摘要", digest))
    cells = "".join(f"<dt>{k}</dt><dd>{html.escape(str(v))}</dd>" for k, v in rows)
    body = (
        '<h1 class="ok">✔ 整改通知书真实有效</h1>'
        "<p>以下为医疗保障部门签发的整改通知书的核验信息：</p>"
        f"<dl>{cells}</dl>"
    )
    return Response(
        _PAGE.format(title="整改通知书核验", body=body),
        media_type=MediaType.HTML,
        headers={"Cache-Control": "no-store"},
    )


class PublicVerificationController(Controller):
    """No login: what the notice's QR code opens. Shows only number, institution, date and
    status; a forged, altered or unknown token gets 404 with a plain message."""

    path = "/"
    tags = ["公开核验"]

    @get("/verify/{token:str}", summary="整改通知书核验页", media_type=MediaType.HTML)
    async def page(
        self, token: FromPath[str], settings: NamedDependency[Settings]
    ) -> Response[str]:
        """The public verification page (HTML, Chinese)."""
        found = await verification.lookup(settings.secret_key, token)
        digest = await _record_digest(settings.secret_key, token) if found else None
        return _verify_page(found, digest)

    @get("/api/public/notices/verify/{token:str}", summary="整改通知书核验（JSON）")
    async def json(
        self, token: FromPath[str], settings: NamedDependency[Settings]
    ) -> VerificationOut:
        """The same as JSON: 404 ``{"detail": …}`` for a token that is not genuine."""
        found = await verification.lookup(settings.secret_key, token)
        if found is None:
            raise NotFound(NOT_GENUINE)
        return VerificationOut(
            genuine=True,
            number=str(found["number"]),
            institution_name=str(found["institution_name"]),
            issue_date=found["issue_date"],  # type: ignore[arg-type]
            status=str(found["status"]),
            status_label=NOTICE_STATUS_LABELS[NoticeStatus(str(found["status"]))],
        )
