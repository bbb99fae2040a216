"""医保医师记分告知书: the printable notice to the institution of the points its physicians lost
through one 整改通知书 (威海办法第十五条: 经办机构对医保医师考核扣分的，应当书面告知其所属定点医疗
机构; 医保医师有异议的，可在接到书面通知后 10 个工作日内通过所属单位向属地经办机构提出书面意见).

One document per notice (the deductions it caused form one group): the physicians named, per
deduction the item, its basis and the points, each physician's points remaining in that year and
their status, and the objection route with its deadline (the notice's objection window, counted
from its 送达). HTML and PDF share their wording; the PDF reuses the notice document's font and
page helpers (:mod:`backend.rectification.documents`).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from backend.rectification import documents
from backend.rectification.documents import _HTML_STYLE, _date  # the notice's own look
from backend.rectification.schemas import NoticeDetail
from backend.rules import points
from backend.rules.policy import get_policy
from backend.rules.tables import PhysicianPointEvent

# How the rule is cited on the document: the mechanics of the Weihai measures (their articles
# 12–18) and the national scheme; the measures themselves expired in 2020, so they are named as
# the model the bureau's policy follows, never as the sole legal basis.
BASIS = (
    "医疗保障定点服务协议及本局医保医师记分规则（参照《关于建立定点医药机构相关人员医保支付资格"
    "管理制度的指导意见》（医保发〔2024〕23号）及《威海市医保医师管理暂行办法》第十二条至第十八条）"
)


@dataclass
class DeductionLine:
    """One deduction: the physician, the problem it comes from, the points."""

    seq: int | None
    item_text: str
    basis: str
    points: int
    effective_on: date
    reversed_on: date | None


@dataclass
class PhysicianBlock:
    """One physician named on the notice, with their year's standing."""

    id: UUID
    name: str
    department: str
    certificate_no: str
    year: int
    lines: list[DeductionLine] = field(default_factory=list)
    initial: int = 12
    deducted: int = 0
    remaining: int = 12
    status: str = "active"
    suspended_until: date | None = None
    reapply_after: date | None = None

    @property
    def points(self) -> int:
        """Points this notice deducts and that stand (reversed ones left out)."""
        return sum(line.points for line in self.lines if line.reversed_on is None)

    def status_text(self) -> str:
        """The status in words, with its dates."""
        if self.status == "suspended":
            return f"暂停医保医师资格至 {_date(self.suspended_until)}（期满自动恢复）"
        if self.status == "cancelled":
            bar = f"，{_date(self.reapply_after)}前不得重新申请" if self.reapply_after else ""
            return f"取消医保医师资格{bar}"
        return "正常"


@dataclass
class PointsDocument:
    """Everything the 记分告知书 shows."""

    notice: NoticeDetail
    physicians: list[PhysicianBlock]
    objection_days: int


async def deductions(notice_id: UUID) -> list[dict[str, Any]]:
    """The deductions the notice caused (reversed ones included), with the physician's name."""
    return await PhysicianPointEvent.select(
        PhysicianPointEvent.all_columns(),
        PhysicianPointEvent.physician.name.as_alias("physician_name"),
        PhysicianPointEvent.physician.department.as_alias("department"),
        PhysicianPointEvent.physician.certificate_no.as_alias("certificate_no"),
    ).where(PhysicianPointEvent.notice_id == notice_id).order_by(
        PhysicianPointEvent.physician.name
    )


async def gather(
    notice: NoticeDetail, objection_days: int, on: date | None = None
) -> PointsDocument:
    """The document's data for a notice the caller may see (``notice`` read through its
    tenancy rules already). Each physician's standing is the one of the deductions' year, on
    ``on`` (default today; a past year on its 31 December)."""
    tasks = {str(t.id): t for t in notice.tasks}
    blocks: dict[UUID, PhysicianBlock] = {}
    for r in await deductions(notice.id):
        block = blocks.get(r["physician"])
        if block is None:
            block = blocks[r["physician"]] = PhysicianBlock(
                id=r["physician"],
                name=r["physician_name"] or "",
                department=r["department"] or "",
                certificate_no=r["certificate_no"] or "",
                year=r["year"],
            )
        task = tasks.get(str(r["task_id"])) if r["task_id"] else None
        block.lines.append(
            DeductionLine(
                seq=task.seq if task else None,
                item_text=task.item_text if task else r["item_id"],
                basis=task.basis if task else "",
                points=r["points"],
                effective_on=r["effective_on"],
                reversed_on=r["reversed_on"],
            )
        )
    for block in blocks.values():
        block.lines.sort(key=lambda line: (line.seq or 0, line.item_text))
        standing = await points.points_of(block.id, block.year, on)
        block.initial, block.deducted = standing["initial"], standing["deducted"]
        block.remaining, block.status = standing["remaining"], standing["status"]
        block.suspended_until = standing["suspended_until"]
        block.reapply_after = standing["reapply_after"]
    return PointsDocument(notice, list(blocks.values()), objection_days)


def summary(doc: PointsDocument) -> dict[str, Any]:
    """The document as JSON (the desk and the manager's screen decide from it whether to link)."""
    n = doc.notice
    return {
        "notice_id": n.id,
        "notice_number": n.number,
        "objection_deadline": n.objection_deadline,
        "objection_provisional": n.objection_provisional,
        "document_url": f"/api/rectification/notices/{n.id}/physician-points",
        "pdf_url": f"/api/rectification/notices/{n.id}/physician-points.pdf",
        "physicians": [
            {
                "id": b.id,
                "name": b.name,
                "department": b.department,
                "certificate_no": b.certificate_no,
                "year": b.year,
                "points": b.points,
                "initial": b.initial,
                "deducted": b.deducted,
                "remaining": b.remaining,
                "status": b.status,
                "status_text": b.status_text(),
                "suspended_until": b.suspended_until,
                "reapply_after": b.reapply_after,
                "deductions": [
                    {
                        "seq": line.seq,
                        "item_text": line.item_text,
                        "basis": line.basis,
                        "points": line.points,
                        "effective_on": line.effective_on,
                        "reversed_on": line.reversed_on,
                    }
                    for line in b.lines
                ],
            }
            for b in doc.physicians
        ],
    }


def _paragraphs(doc: PointsDocument) -> dict[str, str]:
    """The fixed wording, shared by HTML and PDF."""
    n = doc.notice
    policy = get_policy().physician_points
    names = "、".join(b.name for b in doc.physicians) or "—"
    provisional = "（暂定，待当年法定节假日安排载入后确定）" if n.objection_provisional else ""
    served = _date(n.served_on) if n.served_on else "送达之日"
    rules = [f"每名医保医师每个自然年度初始分值 {policy.initial} 分，按自然年度累计，不跨年度结转"]
    if policy.suspend_at:
        rules.append(
            f"一个自然年度内累计扣分达到 {policy.suspend_at} 分的，暂停医保医师资格 "
            f"{policy.suspend_months} 个月"
        )
    if policy.cancel_at:
        rules.append(f"累计扣分达到 {policy.cancel_at} 分的，取消医保医师资格")
    if policy.suspensions_to_cancel:
        rules.append(f"第 {policy.suspensions_to_cancel} 次被暂停资格的，取消医保医师资格")
    if policy.reapply_bar_years:
        rules.append(f"被取消资格的，{policy.reapply_bar_years} 年内不得重新申请")
    return {
        "title": "医保医师记分告知书",
        "number": f"关联整改通知书：{n.number or '（草稿，尚未签发）'}",
        "to": f"{n.institution.name}（定点机构编码：{n.institution.code}）：",
        "intro": (
            f"根据{_date(n.inspection_date)}对你单位开展的{n.inspection_kind}及整改通知书"
            f"（{n.number or '草稿'}）认定的问题，依据{BASIS}，对你单位下列医保医师予以记分"
            f"（共 {len(doc.physicians)} 人：{names}）。现书面告知你单位，请及时转告本人。"
        ),
        "rules": "；".join(rules) + "。",
        "objection": (
            f"医保医师对记分有异议的，可自本告知书（随整改通知书）送达之日（{served}）起 "
            f"{doc.objection_days} 个工作日内，即 {_date(n.objection_deadline)}前{provisional}，"
            f"通过你单位向{n.bureau}提出书面意见并附证明材料（由你单位医保负责人在医保现场检查系统中"
            "对相应整改事项提出申诉）；经核实异议成立的，撤销相应记分（参照《威海市医保医师管理暂行办法》"
            "第十五条）。"
        ),
        "contact": f"联系人：{n.contact or '—'}（{n.bureau}）",
        "bureau": n.bureau,
        "date": _date(n.issue_date),
    }


def _line_text(line: DeductionLine) -> str:
    head = f"问题{line.seq}：" if line.seq else ""
    reversed_ = f"（已于{_date(line.reversed_on)}因异议成立撤销）" if line.reversed_on else ""
    return f"{head}{line.item_text}{reversed_}"


def _standing(block: PhysicianBlock) -> str:
    return (
        f"{block.year}年度：初始 {block.initial} 分，已扣 {block.deducted} 分，"
        f"剩余 {block.remaining} 分；状态：{block.status_text()}"
    )


_EXTRA_STYLE = """
table.points { width: 100%; border-collapse: collapse; margin: 4px 0 8px; font-size: 14px; }
table.points th, table.points td { border: 1px solid #999; padding: 3px 6px; text-align: left;
  vertical-align: top; }
table.points td.num { text-align: right; white-space: nowrap; }
.physician { padding: 6px 0; page-break-inside: avoid; }
.physician h3 { margin: 0 0 4px; font-size: 16px; }
.standing { margin: 0; }
.reversed { color: #666; text-decoration: line-through; }
"""


def render_html(doc: PointsDocument) -> str:
    """The 记分告知书 as a printable A4 HTML page."""
    p = {k: html.escape(v) for k, v in _paragraphs(doc).items()}
    blocks = []
    for b in doc.physicians:
        rows = "".join(
            f'<tr{" class=reversed" if line.reversed_on else ""}>'
            f"<td>{html.escape(_line_text(line))}</td><td>{html.escape(line.basis or '—')}</td>"
            f'<td class="num">{line.points} 分</td><td>{_date(line.effective_on)}</td></tr>'
            for line in b.lines
        )
        who = "，".join(x for x in (b.department, f"执业证书编码 {b.certificate_no}" if b.certificate_no else "") if x)
        blocks.append(
            f'<section class="physician" data-physician="{b.id}">'
            f"<h3>{html.escape(b.name)}{f'（{html.escape(who)}）' if who else ''}："
            f"本次记 {b.points} 分</h3>"
            '<table class="points"><thead><tr><th>问题</th><th>依据</th><th>记分</th>'
            f"<th>生效日期</th></tr></thead><tbody>{rows}</tbody></table>"
            f'<p class="standing">{html.escape(_standing(b))}</p></section>'
        )
    body = "".join(blocks) or "<p>本通知书未对医保医师记分。</p>"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{p["title"]}</title><style>{_HTML_STYLE}{_EXTRA_STYLE}</style></head>
<body>
<div class="bureau-head">{p["bureau"]}</div>
<h1>{p["title"]}</h1>
<p class="number">{p["number"]}</p>
<p>{p["to"]}</p>
<p>{p["intro"]}</p>
{body}
<h3>记分规则</h3><p>{p["rules"]}</p>
<h3>异议</h3><p>{p["objection"]}</p>
<p>{p["contact"]}</p>
<div class="foot"><div></div><div class="sign"><div>{p["bureau"]}</div><div>{p["date"]}</div></div></div>
</body></html>"""


def render_pdf(doc: PointsDocument) -> bytes:
    """The 记分告知书 as an A4 PDF in the notice's embedded CJK font (CPU-bound: run in a thread).

    Raises:
        documents.FontMissing: no embeddable CJK font is installed.
    """
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    with documents._font_lock:
        documents._register_font()
    font = documents.PDF_FONT_NAME
    p = _paragraphs(doc)
    base = ParagraphStyle("base", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    head = ParagraphStyle("head", parent=base, fontSize=16, leading=22, alignment=TA_CENTER,
                          textColor=colors.HexColor("#b00000"))
    title = ParagraphStyle("title", parent=head, fontSize=20, leading=28)
    center = ParagraphStyle("center", parent=base, alignment=TA_CENTER)
    section = ParagraphStyle("section", parent=base, fontSize=12, leading=18, spaceBefore=6)
    right = ParagraphStyle("right", parent=base, alignment=TA_RIGHT)

    def para(text: str, style: ParagraphStyle = base) -> Paragraph:
        return Paragraph(html.escape(text), style)

    story: list = [para(p["bureau"], head), para(p["title"], title), para(p["number"], center),
                   Spacer(1, 4 * mm), para(p["to"]), para(p["intro"])]
    for b in doc.physicians:
        rows = [[para("问题"), para("依据"), para("记分"), para("生效日期")]]
        rows += [
            [para(_line_text(line)), para(line.basis or "—"), para(f"{line.points} 分"),
             para(_date(line.effective_on))]
            for line in b.lines
        ]
        table = Table(rows, colWidths=[72 * mm, 58 * mm, 16 * mm, 28 * mm], repeatRows=1,
                      style=TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                                        ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        who = "，".join(x for x in (b.department, f"执业证书编码 {b.certificate_no}" if b.certificate_no else "") if x)
        story.append(KeepTogether([
            para(f"{b.name}{f'（{who}）' if who else ''}：本次记 {b.points} 分", section),
            table, para(_standing(b)),
        ]))
    if not doc.physicians:
        story.append(para("本通知书未对医保医师记分。"))
    story += [para("记分规则", section), para(p["rules"]), para("异议", section)]
    story.append(KeepTogether([para(p["objection"]), para(p["contact"]), Spacer(1, 8 * mm),
                               para(p["bureau"], right), para(p["date"], right)]))
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=16 * mm, title=f"医保医师记分告知书 {doc.notice.number or ''}",
        author=doc.notice.bureau, subject=doc.notice.institution.name,
    ).build(story)
    return buffer.getvalue()

