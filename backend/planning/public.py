"""The public page (公示) of a draw and its CSV, without login.

They show what the 双随机一公开 rules ask to publish: 抽查事项, the institutions drawn (code, name,
type), the dates, the seed and the pool so that anyone can re-run the draw, and later the results
(inspection date, grade). Nothing private: no phone numbers, no user accounts; inspectors' names
only when ``YIBAO_DRAW_PUBLISH_INSPECTORS=true``.
"""

from __future__ import annotations

import csv
import html
import io
import os
from typing import Any
from uuid import UUID

from litestar import Controller, Response, get
from litestar.enums import MediaType
from litestar.params import FromPath

from backend.china_time import CHINA_TZ
from backend.errors import NotFound
from backend.institutions.tables import INSTITUTION_TYPE_LABELS, InstitutionType
from backend.planning.draws import read_draw

NOT_FOUND = "未找到该抽查公示：链接有误，或该抽取记录不存在。"
_TRUE = {"1", "true", "yes", "on"}


def publish_inspectors() -> bool:
    """Whether the public page names the inspectors (``YIBAO_DRAW_PUBLISH_INSPECTORS``)."""
    return os.environ.get("YIBAO_DRAW_PUBLISH_INSPECTORS", "").strip().lower() in _TRUE


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",
sans-serif;max-width:64em;margin:2em auto;padding:0 1em;color:#111;line-height:1.6;font-size:16px}}
h1{{font-size:1.4em;margin-bottom:.2em}} dl{{display:grid;grid-template-columns:max-content 1fr;
gap:.3em 1em}} dt{{color:#555}} dd{{margin:0}} code{{font-size:.95em;word-break:break-all}}
.wrap{{overflow-x:auto}} table{{border-collapse:collapse;width:100%;font-size:15px}}
th,td{{border:1px solid #ccc;padding:.35em .5em;text-align:left;vertical-align:top}}
th{{background:#f3f5f7}} td.n{{font-variant-numeric:tabular-nums}} .muted{{color:#555}}
</style></head><body>{body}</body></html>"""


def _type_label(kind: str) -> str:
    try:
        return INSTITUTION_TYPE_LABELS[InstitutionType(kind)]
    except ValueError:
        return kind


def _rows(found: dict[str, Any]) -> list[dict[str, str]]:
    """One row per drawn institution, in the order of the draw."""
    draw = found["draw"]
    results = {r.institution_id: r for r in found["results"]}
    window = f"{draw['window_start']} 至 {draw['window_end']}"
    rows = []
    for pick in found["picks"]:
        result = results.get(pick.institution_id)
        rows.append(
            {
                "code": pick.institution_code,
                "name": pick.institution_name,
                "type": _type_label(pick.institution_type),
                "region": pick.region_name,
                "window": window,
                "inspectors": "、".join(pick.inspector_names),
                "inspected_on": str(result.inspected_on) if result and result.inspected_on else "",
                "grade": (result.grade or "") if result else "",
                "status": result.assignment_status if result else "",
            }
        )
    for gap in found["unassigned"]:
        rows.append(
            {
                "code": gap.institution_code,
                "name": gap.institution_name,
                "type": "",
                "region": "",
                "window": "另行安排",
                "inspectors": "",
                "inspected_on": "",
                "grade": "",
                "status": "未能组成检查组，另行安排",
            }
        )
    return rows


def _page(found: dict[str, Any]) -> str:
    draw = found["draw"]
    names = publish_inspectors()
    created = draw["created_at"].astimezone(CHINA_TZ)
    criteria = draw["criteria"] or {}
    types = "、".join(_type_label(t) for t in criteria.get("institution_types", []))
    facts = [
        ("抽查事项", draw["title"]),
        ("抽查地区", draw["region.name"]),
        ("机构类型", types),
        ("检查时间", f"{draw['window_start']:%Y年%m月%d日} 至 {draw['window_end']:%Y年%m月%d日}"),
        ("抽取时间", f"{created:%Y年%m月%d日 %H:%M}"),
        (
            "抽取结果",
            f"从 {len(draw['pool'] or [])} 家机构中抽取 {len(found['picks']) + len(found['unassigned'])} 家",
        ),
    ]
    cells = "".join(f"<dt>{k}</dt><dd>{html.escape(str(v))}</dd>" for k, v in facts)
    cells += f"<dt>随机种子</dt><dd><code>{html.escape(draw['seed'])}</code></dd>"
    head = ["序号", "机构编码", "机构名称", "机构类型", "所在地区", "检查时间"]
    if names:
        head.append("检查人员")
    head += ["检查日期", "检查等级", "状态"]
    body_rows = []
    for n, row in enumerate(_rows(found), start=1):
        values = [str(n), row["code"], row["name"], row["type"], row["region"], row["window"]]
        if names:
            values.append(row["inspectors"])
        values += [row["inspected_on"] or "—", row["grade"] or "—", row["status"]]
        body_rows.append("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in values) + "</tr>")
    table = (
        '<div class="wrap"><table><thead><tr>'
        + "".join(f"<th>{h}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(body_rows)
        + "</tbody></table></div>"
    )
    pool = html.escape("、".join(draw["pool"] or []))
    return _PAGE.format(
        title=html.escape(f"双随机抽查公示：{draw['title']}"),
        body=(
            "<h1>双随机抽查结果公示</h1>"
            f'<p class="muted">{html.escape(draw["region.name"])}医疗保障部门 · 双随机、一公开</p>'
            f"<dl>{cells}</dl>{table}"
            f'<p><a href="/public/draws/{draw["id"]}.csv">下载 CSV（Excel 可直接打开）</a></p>'
            "<h2>复核方法</h2>"
            "<p>抽取按公开的算法进行（算法版本 "
            f"{html.escape(draw['algorithm'])}）：以随机种子为密钥，对机构池中每家机构的编码计算 "
            "HMAC-SHA256，按结果从小到大排序后取前若干家。任何人可用上述随机种子和下列机构池重新计算，"
            "得到相同的抽中机构。检查人员在负责该机构所在地区的在岗人员中随机选派，两人一组，"
            "工作量均衡，与机构有利害关系的人员一律回避；监督部门可按抽取时登记的检查人员名册复核。</p>"
            f"<details><summary>机构池（{len(draw['pool'] or [])} 家，按机构编码）</summary>"
            f"<p><code>{pool}</code></p></details>"
        ),
    )


def _csv(found: dict[str, Any]) -> bytes:
    draw = found["draw"]
    names = publish_inspectors()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    head = [
        "抽查事项",
        "随机种子",
        "序号",
        "机构编码",
        "机构名称",
        "机构类型",
        "所在地区",
        "检查开始日期",
        "检查结束日期",
    ]
    if names:
        head.append("检查人员")
    head += ["检查日期", "检查等级", "状态"]
    writer.writerow(head)
    for n, row in enumerate(_rows(found), start=1):
        values = [
            draw["title"],
            draw["seed"],
            n,
            row["code"],
            row["name"],
            row["type"],
            row["region"],
            draw["window_start"],
            draw["window_end"],
        ]
        if names:
            values.append(row["inspectors"])
        values += [row["inspected_on"], row["grade"], row["status"]]
        writer.writerow(values)
    # The BOM lets Excel recognise UTF-8 (without it, Chinese opens as mojibake).
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _not_found() -> Response[str]:
    body = f"<h1>未找到</h1><p>{NOT_FOUND}</p>"
    return Response(
        _PAGE.format(title="未找到抽查公示", body=body),
        status_code=404,
        media_type=MediaType.HTML,
    )


class PublicDrawController(Controller):
    """No login: the 公示 of a draw (HTML, Chinese) and its CSV (``…/{id}.csv``)."""

    path = "/public/draws"
    tags = ["双随机公示"]
    opt = {"exclude_from_auth": True}

    @get("/{ref:str}", summary="双随机抽查公示（HTML；加 .csv 为 CSV）")
    async def page(self, ref: FromPath[str]) -> Response[Any]:
        """The public page of a draw; ``{id}.csv`` gives the same as CSV (UTF-8 with BOM)."""
        as_csv = ref.endswith(".csv")
        try:
            draw_id = UUID(ref.removesuffix(".csv"))
        except ValueError:
            draw_id = None
        found = await read_draw(draw_id) if draw_id else None
        if found is None:
            if as_csv:
                raise NotFound(NOT_FOUND)
            return _not_found()
        headers = {"Cache-Control": "no-cache"}  # results appear as inspections are submitted
        if as_csv:
            return Response(
                _csv(found),
                media_type="text/csv; charset=utf-8",
                headers={
                    **headers,
                    "Content-Disposition": f'attachment; filename="draw-{draw_id}.csv"',
                },
            )
        return Response(_page(found), media_type=MediaType.HTML, headers=headers)
