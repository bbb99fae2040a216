"""No login: the audit chain's signed checkpoints, for anyone to keep and compare later.

An insider who rewrote the whole audit log with fresh hashes could not produce a chain whose
head at an old checkpoint's sequence number has the hash that checkpoint signed: whoever kept a
copy of this page (or its JSON) can show the rewrite. docs/audit-chain.md says how to check one.
"""

from __future__ import annotations

import html
from datetime import datetime

from litestar import Controller, Response, get
from litestar.enums import MediaType
from pydantic import BaseModel

from backend.audit.chain import checkpoint_message, time_text
from backend.audit.tables import AuditCheckpoint
from backend.china_time import CHINA_TZ
from backend.settings import get_settings

LIMIT = 1000


class CheckpointOut(BaseModel):
    """One signed chain head. ``signed_message`` is exactly the UTF-8 text the signature covers."""

    seq: int
    head_hash: str
    at: str
    key_id: str
    algorithm: str
    signature: str
    signed_message: str


class CheckpointList(BaseModel):
    """The newest checkpoints first, and the public key that verifies them."""

    key_id: str
    algorithm: str
    public_key_pem: str
    checkpoints: list[CheckpointOut]


async def _checkpoints() -> CheckpointList:
    from backend.records.keys import signing_key

    key = signing_key(get_settings())
    rows = await (
        AuditCheckpoint.select().order_by(AuditCheckpoint.id, ascending=False).limit(LIMIT)
    )
    return CheckpointList(
        key_id=key.key_id,
        algorithm="Ed25519",
        public_key_pem=key.public_key_pem,
        checkpoints=[
            CheckpointOut(
                seq=r["seq"],
                head_hash=r["head_hash"],
                at=time_text(r["at"]),
                key_id=r["key_id"],
                algorithm=r["algorithm"],
                signature=r["signature"],
                signed_message=checkpoint_message(
                    r["seq"], r["head_hash"], r["at"], r["key_id"]
                ).decode(),
            )
            for r in rows
        ],
    )


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>审计日志检查点</title>
<style>body{{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",
sans-serif;max-width:72em;margin:2em auto;padding:0 1em;color:#111;line-height:1.6;font-size:16px}}
h1{{font-size:1.4em;margin-bottom:.2em}} code,pre{{font-size:.9em;word-break:break-all;white-space:pre-wrap}}
.wrap{{overflow-x:auto}} table{{border-collapse:collapse;width:100%;font-size:14px}}
th,td{{border:1px solid #ccc;padding:.35em .5em;text-align:left;vertical-align:top}}
th{{background:#f3f5f7;position:sticky;top:0;white-space:nowrap}} td.n{{white-space:nowrap}} td.n{{font-variant-numeric:tabular-nums}} .muted{{color:#555}}
</style></head><body>{body}</body></html>"""


def _page(data: CheckpointList) -> str:
    rows = []
    for cp in data.checkpoints:

        local = datetime.fromisoformat(cp.at.replace("Z", "+00:00")).astimezone(CHINA_TZ)
        rows.append(
            "<tr>"
            f'<td class="n">{local:%Y-%m-%d %H:%M:%S}</td>'
            f'<td class="n">{cp.seq}</td>'
            f"<td><code>{html.escape(cp.head_hash)}</code></td>"
            f"<td><code>{html.escape(cp.signature)}</code></td>"
            "</tr>"
        )
    table = (
        '<div class="wrap"><table><thead><tr><th>签署时间</th><th>链序号</th><th>链头哈希（SHA-256）</th>'
        "<th>签名（Ed25519，Base64）</th></tr></thead><tbody>"
        + ("".join(rows) or '<tr><td colspan="4" class="muted">尚无检查点</td></tr>')
        + "</tbody></table></div>"
    )
    body = (
        "<h1>审计日志检查点</h1>"
        '<p class="muted">系统的每条审计事件都链接前一事件的哈希；检查点是本系统对链头的签名，'
        "至少每天一次。请保存一份：日后若审计日志被整体改写，链头将与您保存的检查点不符。"
        '机器可读版本：<a href="/public/audit/checkpoints.json">checkpoints.json</a>。</p>'
        f"<p>签名密钥编号 <code>{html.escape(data.key_id)}</code>（Ed25519），公钥：</p>"
        f"<pre>{html.escape(data.public_key_pem)}</pre>"
        "<p class=\"muted\">每个检查点签署的内容为 UTF-8 JSON（键排序、无空白）："
        '<code>{"algorithm":"Ed25519","at":"…","head_hash":"…","key_id":"…","seq":…,'
        '"type":"yibao.audit.checkpoint"}</code></p>'
        + table
    )
    return _PAGE.format(body=body)


class PublicAuditController(Controller):
    """No login: the signed checkpoints of the audit chain, as HTML and JSON."""

    path = "/public/audit"
    tags = ["审计"]
    opt = {"exclude_from_auth": True}

    @get("/checkpoints", summary="审计日志检查点（HTML）", media_type=MediaType.HTML)
    async def page(self) -> Response[str]:
        """The newest 1000 checkpoints, newest first, with the public key that verifies them."""
        return Response(
            _page(await _checkpoints()),
            media_type=MediaType.HTML,
            headers={"Cache-Control": "no-cache"},
        )

    @get("/checkpoints.json", summary="审计日志检查点（JSON）")
    async def as_json(self) -> Response[CheckpointList]:
        """The same as JSON: ``key_id``, ``algorithm``, ``public_key_pem`` and ``checkpoints``
        (``seq``, ``head_hash``, ``at``, ``key_id``, ``algorithm``, ``signature``,
        ``signed_message``)."""
        return Response(await _checkpoints(), headers={"Cache-Control": "no-cache"})
