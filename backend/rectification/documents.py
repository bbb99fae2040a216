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
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from backend.inspections.tables import Photo
from backend.institutions import qr
from backend.rectification.schemas import NoticeDetail, TaskOut
from backend.storage import FileStore

PDF_FONT_NAME = "YibaoCJK"
MAX_PHOTOS_PER_PROBLEM = 3
# The notice's own legal basis (why the bureau may order rectification at all).
LEGAL_BASIS = (
    "《医疗保障基金使用监督管理条例》（国务院令第735号）第二十七条及你单位与医疗保障经办机构"
    "签订的医疗保障定点服务协议"
)
# The institution's rights and their sources (see shared/domain/checklist-review.md): the
# agreement track (陈述、申辩; 申诉 within the window), and 复议/诉讼 where the notice carries
# an administrative decision (条例第三十一条).
RIGHTS_AGREEMENT = (
    "你单位对本通知书认定的问题享有陈述、申辩的权利（《医疗保障基金使用监督管理条例》第十三条、"
    "第三十一条；医疗保障定点服务协议的争议处理条款；零售药店并依《零售药店医疗保障定点管理暂行办法》"
    "（国家医保局令第3号）第四十二条）"
)
RIGHTS_ADMINISTRATIVE = (
    "本通知书载有或者据以作出行政处理决定的，你单位可以依法申请行政复议或者提起行政诉讼"
    "（《医疗保障基金使用监督管理条例》第三十一条；《中华人民共和国行政复议法》；"
    "《中华人民共和国行政诉讼法》）"
)
FRAUD_REFERRAL = (
    "该问题涉嫌以欺诈、伪造证明材料或者其他手段骗取医疗保障基金支出（《医疗保障基金使用监督管理条例》"
    "第四十条），本案移送医疗保障行政部门依法处理，涉嫌犯罪的依法移送公安机关，不按一般整改事项办理"
)


def escalation_warning(penalty_multiple: str) -> str:
    """逾期处理: the penalty for the violation kept apart from the steps for not rectifying."""
    return (
        "违规处理：对本通知书所列违规金额，医疗保障经办机构依据医疗保障定点服务协议予以追回，"
        f"并可按违规金额的 {penalty_multiple} 倍要求支付违约金；涉嫌违反《医疗保障基金使用监督"
        "管理条例》的，移交医疗保障行政部门依法处理。未按期整改的处理：逾期未整改或整改不到位的，"
        "医疗保障经办机构将依据医疗保障定点服务协议，视情节采取约谈、暂停结算、中止直至解除医保协议"
        "等处理措施（《医疗机构医疗保障定点管理暂行办法》第三十八条、《零售药店医疗保障定点管理暂行"
        "办法》第三十五条）。"
    )


def yuan(amount: str | None) -> str:
    """An amount as printed: 1,234.50 元 (exact, from its decimal string)."""
    if amount is None:
        return "—"
    return f"{Decimal(amount):,.2f} 元"


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
    # The first 16 hex characters of the sealed inspection record's SHA-256 (backend/records).
    record_digest: str | None = None


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
    from backend.records.seal import latest_seal

    seal = await latest_seal(notice.inspection_id, with_record=False)
    return DocumentData(
        record_digest=seal["digest"][:16] if seal else None,
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


def deadline_text(task: TaskOut) -> str:
    """整改期限 as printed: 立即整改, or the date (暂定 when counted on the fallback calendar)."""
    if task.deadline_days == 0:
        return "立即整改"
    unit = "工作日" if task.deadline_basis == "working" else "日"
    text = f"{_date(task.deadline)}前（送达之日起 {task.deadline_days} {unit}）"
    return text + "（暂定）" if task.deadline_provisional else text


def task_rows(task: TaskOut) -> list[tuple[str, str]]:
    """The rows of one problem, shared by HTML and PDF."""
    rows = [
        ("检查内容", task.item_text),
        ("判定标准", task.fail_when),
        ("检查发现", found_text(task)),
        ("依据", task.basis),
    ]
    if task.amount is not None:
        rows.append(("违规金额", f"{yuan(task.amount)}（予以追回）"))
    if task.fraud:
        rows.append(("移送处理", FRAUD_REFERRAL))
    else:
        rows.append(("整改要求", task.required_action))
    rows.append(("整改期限", deadline_text(task)))
    return rows


def _paragraphs(data: DocumentData) -> dict[str, str]:
    """The fixed wording of the notice, shared by HTML and PDF."""
    n = data.notice
    people = n.inspector_details or []
    inspectors = (
        "、".join(f"{p.name}（执法证号：{p.enforcement_cert_no or '未登记'}）" for p in people)
        or "、".join(n.inspectors)
        or "—"
    )
    score = f"{n.score_total:g} 分" if n.score_total is not None else "—"
    served = n.served_on
    method = "纸质送达" if n.service_method == "paper" else "电子送达"
    provisional = "（暂定，待当年法定节假日安排载入后确定）" if n.objection_provisional else ""
    money = [t for t in n.tasks if t.amount is not None]
    total = (
        f"以上问题涉及违规金额合计 {yuan(n.amount_total)}（共 {len(money)} 项），由医疗保障经办机构"
        "依据医疗保障定点服务协议予以追回。"
        if money
        else ""
    )
    return {
        "title": "整改通知书",
        "number": n.number or "（草稿，尚未签发编号）",
        "to": f"{n.institution.name}（定点机构编码：{n.institution.code}）：",
        "intro": (
            f"{_date(n.inspection_date)}，我局检查人员{inspectors}对你单位开展了"
            f"{n.inspection_kind}（{n.checklist_title}）。检查得分 {score}，等级 {n.grade or '—'}。"
            f"依据{LEGAL_BASIS}，检查发现以下 {n.task_count} 个问题，现责令你单位按下列要求限期整改："
        ),
        "total": total,
        "reply": (
            "请于各问题的整改期限前，由机构医保负责人登录医保现场检查系统，逐项提交整改报告并上传"
            "整改佐证照片；医疗保障部门将逐项验收，必要时安排现场复查。整改期限自本通知书送达之日起"
            "计算：标明“日”的按自然日计算（最后一日为法定节假日或休息日的，顺延至其后第一个工作日），"
            "标明“工作日”的不含法定节假日，调休上班日计入；标明“立即整改”的，应于送达当日整改。"
        ),
        "service": (
            f"本通知书于 {_date(served)}{method}，各项期限自该日起计算。"
            if served
            else "本通知书尚未签发送达。"
        ),
        "objection": (
            f"{RIGHTS_AGREEMENT}。如对认定的问题有异议，可自本通知书送达之日起 "
            f"{data.objection_days} 个工作日内（即 {_date(n.objection_deadline)}前{provisional}）"
            "通过系统对相应问题提出书面申诉，说明理由并附证明材料。申诉期间不停止整改。"
            f"{RIGHTS_ADMINISTRATIVE}。"
        ),
        "warning": escalation_warning(n.penalty_multiple),
        "contact": f"联系人：{n.contact or '—'}（{n.bureau}）",
        "bureau": n.bureau,
        "date": _date(n.issue_date),
        "verify": "扫描二维码可核验本通知书真伪" if data.qr_png else "草稿未签发，暂无核验二维码",
        "record": f"检查记录摘要：{data.record_digest}" if data.record_digest else "",
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
        rows = task_rows(task)
        cells = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows)
        problems.append(
            f'<section class="problem"><h3>问题{task.seq}：{html.escape(task.section_title)}</h3>'
            f'<dl>{cells}</dl><div class="photos">{photos}</div></section>'
        )
    qr_html = (
        f'<img alt="核验二维码" src="{_data_uri(data.qr_png)}"><div>{p["verify"]}</div>'
        if data.qr_png
        else f"<div>{p['verify']}</div>"
    ) + (f'<div class="record-digest">{p["record"]}</div>' if p["record"] else "")
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
<p>{p["total"]}</p>
<h3>整改报告的提交</h3><p>{p["reply"]}</p>
<h3>送达</h3><p>{p["service"]}</p>
<h3>陈述、申辩与申诉</h3><p>{p["objection"]}</p>
<h3>违规处理与逾期处理</h3><p>{p["warning"]}</p>
<p>{p["contact"]}</p>
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
        rows = task_rows(task)
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
    if p["total"]:
        story.append(para(p["total"]))
    story += [
        para("整改报告的提交", section),
        para(p["reply"]),
        para("送达", section),
        para(p["service"]),
        para("陈述、申辩与申诉", section),
        para(p["objection"]),
        para("违规处理与逾期处理", section),
    ]
    qr_cell: list = [para(p["verify"], small)] + ([para(p["record"], small)] if p["record"] else [])
    if data.qr_png:
        qr_cell.insert(0, Image(io.BytesIO(data.qr_png), width=34 * mm, height=34 * mm))
    footer = Table(
        [[qr_cell, [para(p["bureau"], right), para(p["date"], right)]]],
        colWidths=[50 * mm, 122 * mm],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM")]),
    )
    # The last paragraphs, the contact and the QR code with the signature block stay on one
    # page: the QR code never sits alone on a last page.
    story.append(KeepTogether([para(p["warning"]), para(p["contact"]), Spacer(1, 8 * mm), footer]))

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
