"""The notice as a document: a printable HTML page and a PDF, both carrying the QR code that opens
the public verification page.

The PDF is drawn with reportlab in a CJK TrueType font that is embedded as a subset (so it reads
the same on any machine, and ``pdftotext`` gets the text back); the font is found like the
institution posters' (:func:`backend.institutions.qr.find_cjk_font`, ``YIBAO_CJK_FONT``), keeping to
TrueType files: reportlab can't embed the PostScript-outline OTFs of Noto CJK. Without one,
:class:`FontMissing` (the API answers 503 with what to install).
"""

from __future__ import annotations

import base64
import html
import io
import os
import threading
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from backend.inspections.tables import Photo
from backend.institutions import qr
from backend.rectification.schemas import NoticeDetail, TaskOut
from backend.storage import FileStore

PDF_FONT_NAME = "YibaoCJK"
MAX_PHOTOS_PER_PROBLEM = 3
OBJECTION_RULE = "参照《威海市医保医师管理暂行办法》（威人社发〔2018〕55号）第十五条"
ESCALATION_WARNING = (
    "逾期未整改或整改不到位的，医疗保障经办机构将依据医疗保障服务协议，视情节采取约谈、暂停结算、"
    "追回已支付的医保费用、要求支付违约金、中止直至解除医保协议等处理措施；涉嫌违反"
    "《医疗保障基金使用监督管理条例》的，移交医疗保障行政部门依法处理。"
)


class FontMissing(RuntimeError):
    """No TrueType CJK font that reportlab can embed is installed."""


@dataclass
class DocumentData:
    """Everything a notice document shows, gathered once for the HTML and the PDF."""

    notice: NoticeDetail
    verify_url: str | None
    qr_png: bytes | None
    evidence: dict[str, list[bytes]] = field(default_factory=dict)  # task id -> thumbnails
    objection_days: int = 10


def _date(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"


async def gather(notice: NoticeDetail, store: FileStore, objection_days: int = 10) -> DocumentData:
    """The document's data: the notice, its QR code and the evidence thumbnails."""
    verify_url = notice.verify_url
    png = qr.qr_png(verify_url, box_size=6, border=4) if verify_url else None
    evidence: dict[str, list[bytes]] = {}
    ids = [p.id for t in notice.tasks for p in t.found.photos[:MAX_PHOTOS_PER_PROBLEM]]
    keys = {}
    if ids:
        keys = {
            r["id"]: r["thumbnail_key"]
            for r in await Photo.select(Photo.id, Photo.thumbnail_key).where(Photo.id.is_in(ids))
        }
    for task in notice.tasks:
        images = []
        for photo in task.found.photos[:MAX_PHOTOS_PER_PROBLEM]:
            key = keys.get(photo.id)
            if key and await store.exists(key):
                images.append(await store.get(key))
        evidence[str(task.id)] = images
    return DocumentData(
        notice=notice,
        verify_url=verify_url,
        qr_png=png,
        evidence=evidence,
        objection_days=objection_days,
    )


def found_text(task: TaskOut) -> str:
    """What was found, in words: the note and the counts."""
    parts = []
    if task.found.occurrences is not None:
        parts.append(f"发现 {task.found.occurrences} 处")
    if task.found.sampled is not None:
        parts.append(f"抽查 {task.found.sampled} 份，不符合 {task.found.failed or 0} 份")
    if task.found.note.strip():
        parts.append(task.found.note.strip())
    if task.found.photos:
        parts.append(f"佐证照片 {len(task.found.photos)} 张")
    return "；".join(parts) or "现场检查认定不符合"


def _paragraphs(data: DocumentData) -> dict[str, str]:
    """The fixed wording of the notice, shared by HTML and PDF."""
    n = data.notice
    inspectors = "、".join(n.inspectors) or "—"
    score = f"{n.score_total:g} 分" if n.score_total is not None else "—"
    basis = (
        "整改期限按工作日计算（不含法定节假日，调休上班日计入）"
        if n.deadline_basis == "working"
        else "整改期限按自然日计算（最后一日为法定节假日或休息日的，顺延至其后第一个工作日）"
    )
    return {
        "title": "整改通知书",
        "number": n.number or "（草稿，尚未签发编号）",
        "to": f"{n.institution.name}（定点机构编码：{n.institution.code}）：",
        "intro": (
            f"{_date(n.inspection_date)}，我局检查人员{inspectors}对你单位开展了"
            f"{n.inspection_kind}（{n.checklist_title}）。检查得分 {score}，等级 {n.grade or '—'}。"
            f"检查发现以下 {n.task_count} 个问题，现责令你单位按下列要求限期整改："
        ),
        "reply": (
            "请于各问题的整改期限前，由机构医保负责人登录医保现场检查系统，逐项提交整改报告并上传"
            f"整改佐证照片；医疗保障部门将逐项验收，必要时安排现场复查。{basis}。"
        ),
        "objection": (
            f"如对认定的问题有异议，可在收到本通知书之日起 {data.objection_days} 个工作日内（即 "
            f"{_date(n.objection_deadline)}前）通过系统对相应问题提出书面申诉，说明理由并附证明材料"
            f"（{OBJECTION_RULE}）。申诉期间不停止整改。"
        ),
        "warning": ESCALATION_WARNING,
        "bureau": n.bureau,
        "date": _date(n.issue_date),
        "verify": "扫描二维码可核验本通知书真伪" if data.qr_png else "草稿未签发，暂无核验二维码",
    }


def _data_uri(png: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(png).decode()}"


def _image_mime(data: bytes) -> str:
    return "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"


_HTML_STYLE = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC",
  "WenQuanYi Micro Hei", sans-serif; color: #111; font-size: 15px; line-height: 1.7;
  max-width: 180mm; margin: 0 auto; padding: 8mm 0; }
h1 { text-align: center; color: #b00; font-size: 26px; letter-spacing: .4em; margin: 0; }
.bureau-head { text-align: center; color: #b00; font-size: 20px; font-weight: bold; }
.number { text-align: center; margin: 4px 0 16px; }
.problem { border-top: 1px solid #999; padding: 8px 0; page-break-inside: avoid; }
.problem h3 { margin: 0 0 4px; font-size: 16px; }
dl { display: grid; grid-template-columns: 6em 1fr; margin: 0; gap: 2px 8px; }
dt { color: #444; } dd { margin: 0; }
.photos img { height: 70px; margin: 4px 4px 0 0; border: 1px solid #ccc; }
.foot { display: flex; justify-content: space-between; align-items: flex-end; margin-top: 24px; }
.sign { text-align: right; }
.qr { text-align: center; font-size: 12px; color: #444; }
.qr img { width: 34mm; height: 34mm; image-rendering: pixelated; }
.draft { color: #b00; font-weight: bold; text-align: center; }
@media print { .noprint { display: none; } }
"""


def render_html(data: DocumentData) -> str:
    """The notice as a printable HTML page (A4)."""
    n = data.notice
    p = {k: html.escape(v) for k, v in _paragraphs(data).items()}
    problems = []
    for task in n.tasks:
        photos = "".join(
            f'<img alt="佐证照片" src="{_data_uri(img, _image_mime(img))}">'
            for img in data.evidence.get(str(task.id), [])
        )
        rows = [
            ("检查内容", task.item_text),
            ("判定标准", task.fail_when),
            ("检查发现", found_text(task)),
            ("依据", task.basis),
            ("整改要求", task.required_action),
            ("整改期限", f"{_date(task.deadline)}前"),
        ]
        cells = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows)
        problems.append(
            f'<section class="problem"><h3>问题{task.seq}：{html.escape(task.section_title)}</h3>'
            f'<dl>{cells}</dl><div class="photos">{photos}</div></section>'
        )
    qr_html = (
        f'<img alt="核验二维码" src="{_data_uri(data.qr_png)}"><div>{p["verify"]}</div>'
        if data.qr_png
        else f"<div>{p['verify']}</div>"
    )
    draft = '<p class="draft">草稿 · 未签发</p>' if n.status == "draft" else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{p["title"]} {p["number"]}</title><style>{_HTML_STYLE}</style></head>
<body>
<div class="bureau-head">{p["bureau"]}</div>
<h1>{p["title"]}</h1>
<p class="number">{p["number"]}</p>{draft}
<p>{p["to"]}</p>
<p>{p["intro"]}</p>
{"".join(problems)}
<h3>整改报告的提交</h3><p>{p["reply"]}</p>
<h3>申诉</h3><p>{p["objection"]}</p>
<h3>逾期处理</h3><p>{p["warning"]}</p>
<div class="foot"><div class="qr">{qr_html}</div>
<div class="sign"><div>{p["bureau"]}</div><div>{p["date"]}</div></div></div>
<p class="noprint"><button onclick="window.print()">打印</button></p>
</body></html>"""


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------

_font_lock = threading.Lock()


def _candidates() -> list[tuple[Path, int]]:
    override = os.environ.get("YIBAO_CJK_FONT")
    if override:
        return [(Path(override), 0)]
    found = []
    for name in qr.FONT_FILES:
        path = Path(name)
        if path.is_file() and path.suffix.lower() in (".ttf", ".ttc"):
            found.append((path, 0))
    try:
        font = qr.find_cjk_font()
        if font.path.suffix.lower() in (".ttf", ".ttc"):
            found.append((font.path, font.index))
    except qr.FontMissing:
        pass
    return found


@lru_cache(maxsize=1)
def _register_font() -> str:
    """Register the first embeddable CJK TrueType font with reportlab (once per process)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    for path, index in _candidates():
        try:
            pdfmetrics.registerFont(TTFont(PDF_FONT_NAME, str(path), subfontIndex=index))
        except (TTFError, OSError, ValueError):
            continue
        return str(path)
    raise FontMissing(
        "No TrueType CJK font for the notice PDF: install fonts-wqy-microhei "
        "(or set YIBAO_CJK_FONT to a .ttf/.ttc font file)"
    )


def render_pdf(data: DocumentData) -> bytes:
    """The notice as an A4 PDF with an embedded CJK font subset (CPU-bound: run in a thread).

    Raises:
        FontMissing: no embeddable CJK font is installed.
    """
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import (
        Image,
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    with _font_lock:
        _register_font()
    n = data.notice
    p = _paragraphs(data)
    base = ParagraphStyle("base", fontName=PDF_FONT_NAME, fontSize=10.5, leading=16, wordWrap="CJK")
    head = ParagraphStyle(
        "head",
        parent=base,
        fontSize=16,
        leading=22,
        alignment=TA_CENTER,
        textColor=colors.HexColor("#b00000"),
    )
    title = ParagraphStyle("title", parent=head, fontSize=22, leading=30)
    center = ParagraphStyle("center", parent=base, alignment=TA_CENTER)
    section = ParagraphStyle("section", parent=base, fontSize=12, leading=18, spaceBefore=6)
    small = ParagraphStyle("small", parent=base, fontSize=9, leading=12, alignment=TA_CENTER)
    right = ParagraphStyle("right", parent=base, alignment=TA_RIGHT)

    def para(text: str, style: ParagraphStyle = base) -> Paragraph:
        return Paragraph(html.escape(text), style)

    story: list = [
        para(p["bureau"], head),
        para(p["title"], title),
        para(p["number"], center),
    ]
    if n.status == "draft":
        story.append(para("草稿 · 未签发", head))
    story += [Spacer(1, 4 * mm), para(p["to"]), para(p["intro"]), Spacer(1, 2 * mm)]
    for task in n.tasks:
        rows = [
            ("检查内容", task.item_text),
            ("判定标准", task.fail_when),
            ("检查发现", found_text(task)),
            ("依据", task.basis),
            ("整改要求", task.required_action),
            ("整改期限", f"{_date(task.deadline)}前"),
        ]
        table = Table(
            [[para(k), para(v)] for k, v in rows],
            colWidths=[22 * mm, 150 * mm],
            style=TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#444444")),
                    ("LINEABOVE", (0, 0), (-1, 0), 0.5, colors.grey),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                ]
            ),
        )
        block: list = [para(f"问题{task.seq}：{task.section_title}", section), table]
        images = data.evidence.get(str(task.id), [])
        if images:
            cells = []
            for img in images:
                reader = ImageReader(io.BytesIO(img))
                w, h = reader.getSize()
                height = 22 * mm
                cells.append(Image(io.BytesIO(img), width=height * w / h, height=height))
            block.append(Table([cells], hAlign="LEFT"))
        story.append(KeepTogether(block))
    story += [
        para("整改报告的提交", section),
        para(p["reply"]),
        para("申诉", section),
        para(p["objection"]),
        para("逾期处理", section),
        para(p["warning"]),
        Spacer(1, 8 * mm),
    ]
    qr_cell: list = [para(p["verify"], small)]
    if data.qr_png:
        qr_cell.insert(0, Image(io.BytesIO(data.qr_png), width=34 * mm, height=34 * mm))
    footer = Table(
        [[qr_cell, [para(p["bureau"], right), para(p["date"], right)]]],
        colWidths=[50 * mm, 122 * mm],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM")]),
    )
    story.append(KeepTogether([footer]))

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"整改通知书 {n.number or '草稿'}",
        author=n.bureau,
        subject=n.institution.name,
    )
    doc.build(story)
    return buffer.getvalue()
