"""An institution's inspection QR code (检查码) and the A4 poster it is printed on.

Pure functions: no database, no HTTP. The caller looks the institution up and passes plain values.

Payload format (what the QR code holds)
---------------------------------------
Each designated institution has an unguessable ``qr_token`` (``secrets.token_urlsafe(24)``: 32
characters of ``A-Z a-z 0-9 - _``; 16 to 64 are accepted). The QR code encodes one of:

- ``{base_url}/s/{token}`` when the deployment has a public base URL, e.g.
  ``https://yb.example.cn/s/3q2-7wVx...``: a phone's camera app opens the web app on it, and the
  PWA's own scanner reads the same code;
- ``yibao:inst:{token}`` otherwise: a private scheme that only our scanner understands (a phone
  camera shows it as text, which is harmless).

:func:`parse_qr_payload` accepts both forms, with surrounding whitespace, ``http`` or ``https``, any
host and path prefix before ``/s/``, a trailing slash, a query string and a fragment; it returns
``None`` for anything else (another app's QR code, a payment code, garbage). The host is not
checked on purpose: a bureau may move its server while the posters stay on the wall for years,
and a token is only meaningful if it matches an institution in the database anyway.

Error correction: level Q
-------------------------
Q restores up to ~25 % of damaged codewords against ~15 % for M. The poster hangs for years in
corridors and pharmacies: it gets scratched, sun-faded, partly covered by tape or a price tag, and
inspectors photograph it at an angle under glare. The cost of Q over M is one or two QR versions
(a 60-character URL needs version 5-6 instead of 4-5), which is irrelevant when the symbol is
printed 92 mm wide: modules stay above 2 mm.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatch
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont
from qrcode.image.pil import PilImage

__all__ = [
    "PAYLOAD_SCHEME",
    "POSTER_DPI",
    "POSTER_SIZE_PX",
    "CjkFont",
    "FontMissing",
    "find_cjk_font",
    "is_valid_token",
    "parse_qr_payload",
    "poster_html",
    "poster_png",
    "qr_payload",
    "qr_png",
]

PAYLOAD_SCHEME = "yibao:inst:"
"""Prefix of the payload when no base URL is configured."""

URL_PATH_SEGMENT = "s"
"""The path segment before the token in the URL form: ``{base_url}/s/{token}``."""

TOKEN_MIN_LENGTH = 16
TOKEN_MAX_LENGTH = 64  # the width of Institution.qr_token
_TOKEN_RE = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_MIN_LENGTH},{TOKEN_MAX_LENGTH}}}")

# A QR code holds at most ~3 KB; anything longer than this is not ours and not worth parsing.
_MAX_PAYLOAD_LENGTH = 2048

ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q  # why Q: see the module docstring

POSTER_DPI = 150
POSTER_SIZE_PX = (1240, 1754)  # A4 (210 × 297 mm) at 150 dpi
QR_SYMBOL_MM = 92  # printed width of the symbol itself, quiet zone excluded (asked: ≥ 90 mm)
QUIET_ZONE_MODULES = 4  # the minimum the QR standard requires around the symbol

# The CJK font stack of the PWA (docs: ui.md), reused so the poster looks like the app.
CJK_FONT_STACK = (
    '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", '
    '"WenQuanYi Micro Hei", sans-serif'
)

TITLE_KICKER = "医疗保障定点医药机构"
TITLE_MAIN = "检查码"
SCAN_LINE = "检查人员现场检查时请扫描此码"
NOTICE_LINE = "本码为该机构专属检查码，一机构一码。请勿遮挡、涂改、复制或移作他用。"
ACCENT = "#0b4ea2"  # a dark blue: reads as "official", still prints as near-black on a mono printer


# --------------------------------------------------------------------------------------------
# Payload
# --------------------------------------------------------------------------------------------


def is_valid_token(token: str) -> bool:
    """Whether ``token`` looks like an institution QR token (URL-safe base64, 16–64 chars)."""
    return isinstance(token, str) and _TOKEN_RE.fullmatch(token) is not None


def _normalized_base_url(base_url: str) -> str:
    base = base_url.strip().rstrip("/")
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"invalid base URL {base_url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base URL must be http(s)://host[/prefix], not {base_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"base URL must have no query string or fragment: {base_url!r}")
    return base


def qr_payload(token: str, base_url: str | None = None) -> str:
    """The text encoded in an institution's QR code.

    Args:
        token: The institution's ``qr_token``.
        base_url: The public address of the web app (``https://host[/prefix]``), or ``None`` when
            it has none: the payload is then ``yibao:inst:{token}``.

    Returns:
        ``{base_url}/s/{token}`` (trailing slashes of ``base_url`` removed) or
        ``yibao:inst:{token}``; :func:`parse_qr_payload` gives ``token`` back from either.

    Raises:
        ValueError: The token is not URL-safe base64 of 16–64 characters, or the base URL is not
            an http(s) URL without query string or fragment.
    """
    if not is_valid_token(token):
        raise ValueError(
            f"QR token must be {TOKEN_MIN_LENGTH}-{TOKEN_MAX_LENGTH} characters of A-Z a-z 0-9 - _"
        )
    if base_url is None:
        return f"{PAYLOAD_SCHEME}{token}"
    return f"{_normalized_base_url(base_url)}/{URL_PATH_SEGMENT}/{token}"


def parse_qr_payload(text: str) -> str | None:
    """The institution token held by a scanned QR code, or ``None`` if the code is not ours.

    Accepts ``yibao:inst:{token}`` and ``http(s)://host[/prefix]/s/{token}`` with surrounding
    whitespace, a trailing slash, a query string or a fragment. Any host is accepted (see the
    module docstring).

    Args:
        text: The decoded text of a QR code, as the scanner gives it.

    Returns:
        The token, or ``None`` for another app's code, a malformed one, or a token of the wrong
        characters or length.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or len(text) > _MAX_PAYLOAD_LENGTH:
        return None
    if text[: len(PAYLOAD_SCHEME)].lower() == PAYLOAD_SCHEME:
        candidate = text[len(PAYLOAD_SCHEME) :]
        return candidate if is_valid_token(candidate) else None
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    # urlsplit lowercases the scheme: some generators upper-case URLs to use the denser
    # alphanumeric QR mode (the token is case-sensitive, so such a code would not match anyway).
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    path = parts.path
    if path.endswith("/"):
        path = path[:-1]  # one trailing slash, as some shorteners and browsers add
    head, _, candidate = path.rpartition("/")
    if head != f"/{URL_PATH_SEGMENT}" and not head.endswith(f"/{URL_PATH_SEGMENT}"):
        return None
    return candidate if is_valid_token(candidate) else None


# --------------------------------------------------------------------------------------------
# QR image
# --------------------------------------------------------------------------------------------


def _make_qr(payload: str, box_size: int, border: int) -> qrcode.QRCode:
    if not payload:
        raise ValueError("QR payload must not be empty")
    if box_size < 1 or border < 0:
        raise ValueError("box_size must be ≥ 1 and border ≥ 0")
    code = qrcode.QRCode(
        version=None,  # the smallest version that holds the payload at level Q
        error_correction=ERROR_CORRECTION,
        box_size=box_size,
        border=border,
        image_factory=PilImage,
    )
    code.add_data(payload)
    code.make(fit=True)
    return code


def _qr_image(payload: str, box_size: int, border: int) -> Image.Image:
    image = _make_qr(payload, box_size, border).make_image(fill_color="black", back_color="white")
    return image.get_image()


def qr_png(payload: str, box_size: int = 10, border: int = 4) -> bytes:
    """A PNG of the QR code for ``payload`` (error correction level Q).

    Args:
        payload: The text to encode, normally from :func:`qr_payload`.
        box_size: Pixels per module.
        border: Quiet zone in modules; the QR standard asks for 4, keep it unless the image is
            placed on a white area at least that wide.

    Returns:
        The PNG file's bytes (black on white, 1 bit per pixel).

    Raises:
        ValueError: Empty payload, ``box_size`` < 1 or ``border`` < 0.
    """
    buffer = io.BytesIO()
    _qr_image(payload, box_size, border).save(buffer, format="PNG")
    return buffer.getvalue()


def _check_poster_payload(token_payload: str) -> None:
    # A poster with a wrong payload would hang on a wall for years before anyone noticed.
    if parse_qr_payload(token_payload) is None:
        raise ValueError(f"not an institution QR payload: {token_payload!r}")


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _em_width(text: str) -> float:
    """Approximate width of ``text`` in em: 1 for CJK (wide) characters, ~0.55 for the rest."""
    return sum(1.0 if unicodedata.east_asian_width(c) in ("W", "F") else 0.55 for c in text)


def _css_fit(
    text: str,
    width_mm: float,
    height_mm: float,
    sizes_mm: tuple[float, ...],
    line_height: float,
    reserved_em: float = 0.0,
) -> float:
    """The largest font size whose estimated wrapped height fits the box (HTML can't measure)."""
    for size in sizes_mm:
        # 0.92: browsers break lines a bit earlier than the ideal width (punctuation rules).
        usable = width_mm * 0.92 - reserved_em * size
        lines = max(1, math.ceil(_em_width(text) * size / usable)) if usable > 0 else 99
        if lines * size * line_height <= height_mm:
            return size
    return sizes_mm[-1]


# --------------------------------------------------------------------------------------------
# HTML poster
# --------------------------------------------------------------------------------------------

# The sheet: A4 with 12/14 mm padding (safe from printers' unprintable edges), then a frame with
# 0.6 mm border and 6/8 mm padding. The content box is what the size estimates below use. Height
# budget of the frame's 259.8 mm, worst case (longest name and address, smallest QR version):
# titles 30.3 + rule 7.8 + name 34 + facts 27.3 + 11.3 more address + QR 117.4 + scan 8.5
# + notice 8.5 + footer 13 = 258.1 mm.
_HTML_CONTENT_WIDTH_MM = 210 - 2 * 14 - 2 * 0.6 - 2 * 8
_HTML_NAME_HEIGHT_MM = 34.0
_HTML_ADDRESS_HEIGHT_MM = 18.0

_HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
/* margin 0: the sheet carries its own padding, and browsers then print no header/footer
   (URL, date) over the poster. */
@page {{ size: A4; margin: 0; }}
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; padding: 0; }}
body {{
  font-family: {font_stack};
  color: #111;
  background: #e6e6e6;
  -webkit-print-color-adjust: exact;
  print-color-adjust: exact;
}}
.sheet {{
  width: 210mm; height: 297mm; margin: 8mm auto; padding: 12mm 14mm;
  background: #fff; box-shadow: 0 0 3mm rgba(0, 0, 0, .25);
  display: flex; flex-direction: column; overflow: hidden;
  page-break-after: avoid; break-after: avoid;
}}
.frame {{
  flex: 1; min-height: 0; border: 0.6mm solid {accent}; border-radius: 3mm;
  padding: 6mm 8mm; display: flex; flex-direction: column;
}}
header {{ text-align: center; color: {accent}; }}
.kicker {{ margin: 0; font-size: 8.5mm; font-weight: 700; letter-spacing: 0.8mm;
           line-height: 1.2; }}
h1 {{ margin: 0.5mm 0 0; font-size: 17mm; font-weight: 700; letter-spacing: 5mm;
      text-indent: 5mm; line-height: 1.15; }}
.rule {{ border: 0; border-top: 0.8mm solid {accent}; margin: 3mm 0 4mm; }}
.name {{
  margin: 0; max-height: {name_h}mm; overflow: hidden; text-align: center;
  font-weight: 700; line-height: 1.25; overflow-wrap: anywhere;
}}
.facts {{
  display: grid; grid-template-columns: max-content 1fr max-content 1fr;
  gap: 1.5mm 3mm; margin: 4mm 0 0; font-size: 5mm; line-height: 1.35;
}}
.facts dt {{ color: #444; margin: 0; white-space: nowrap; }}
/* One line each, cut with an ellipsis if absurdly long (as in the PNG); only the address wraps. */
.facts dd {{
  margin: 0; min-width: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}}
.facts .wide {{ grid-column: 2 / 5; }}
.facts .address {{
  max-height: {address_h}mm; white-space: normal; overflow-wrap: anywhere; text-overflow: clip;
}}
.code {{ font-variant-numeric: tabular-nums; letter-spacing: 0.3mm; }}
.qr-box {{ margin-top: auto; text-align: center; }}
.qr {{
  display: block; margin: 0 auto; width: {qr_mm}mm; height: {qr_mm}mm;
  image-rendering: pixelated; image-rendering: crisp-edges;
}}
.scan {{ margin: 0; font-size: 6.5mm; line-height: 1.3; font-weight: 700; text-align: center;
         color: {accent}; }}
.notice {{ margin: 3mm 0 0; font-size: 3.8mm; line-height: 1.45; text-align: center; color: #333; }}
footer {{
  margin-top: 4mm; padding-top: 2.5mm; border-top: 0.3mm solid #999;
  display: flex; justify-content: space-between; gap: 6mm; font-size: 4.2mm; line-height: 1.4;
  color: #333;
}}
footer span {{ overflow-wrap: anywhere; }}
.toolbar {{ position: fixed; top: 16px; right: 16px; }}
.toolbar button {{
  font: inherit; font-size: 18px; min-height: 48px; min-width: 112px; padding: 0 24px;
  color: #fff; background: {accent}; border: 0; border-radius: 8px; cursor: pointer;
}}
@media print {{
  body {{ background: none; }}
  /* a hair under 297 mm: rounding must not spill an empty second page */
  .sheet {{ margin: 0; box-shadow: none; height: 296mm; }}
  .toolbar {{ display: none; }}
}}
</style>
</head>
<body>
<div class="toolbar"><button type="button" onclick="window.print()">打印</button></div>
<main class="sheet">
<div class="frame">
<header>
<p class="kicker">{kicker}</p>
<h1>{main_title}</h1>
</header>
<hr class="rule">
<h2 class="name" style="font-size: {name_size}mm">{name}</h2>
<dl class="facts">
<dt>定点机构编码</dt><dd class="wide code">{code}</dd>
<dt>机构类型</dt><dd>{type_label}</dd><dt>所在地区</dt><dd>{region}</dd>
{address_row}</dl>
<div class="qr-box">
<img class="qr" src="data:image/png;base64,{qr_b64}" alt="检查码" width="{qr_px}" height="{qr_px}">
<p class="scan">{scan_line}</p>
</div>
<p class="notice">{notice}</p>
<footer><span>发放单位：{issued_by}</span><span>打印日期：{printed_on}</span></footer>
</div>
</main>
</body>
</html>
"""


def poster_html(
    *,
    institution_name: str,
    institution_code: str,
    institution_type_label: str,
    region_name: str,
    address: str,
    token_payload: str,
    issued_by: str,
    printed_on: date,
) -> str:
    """A self-contained, print-ready A4 HTML poster with the institution's QR code.

    Nothing is loaded from elsewhere: the QR code is an inline ``data:`` PNG, the CSS is inline,
    sizes are in millimetres so the printout is to scale, and the only script is the print
    button's ``onclick`` (hidden when printing).

    Args:
        institution_name: The institution's Chinese name, shown big (shrunk to fit if long).
        institution_code: Its 定点机构编码.
        institution_type_label: e.g. 定点医院, 定点零售药店.
        region_name: e.g. 环翠区.
        address: Its address; the row is left out when empty.
        token_payload: The QR payload, from :func:`qr_payload`.
        issued_by: The issuing bureau, e.g. 威海市医疗保障局.
        printed_on: The date printed on the poster.

    Returns:
        The HTML document; every given text is HTML-escaped.

    Raises:
        ValueError: ``token_payload`` is not a payload :func:`parse_qr_payload` accepts.
    """
    _check_poster_payload(token_payload)
    code = _make_qr(token_payload, box_size=10, border=QUIET_ZONE_MODULES)
    modules = code.modules_count
    # The image includes the quiet zone; size it so the symbol itself is QR_SYMBOL_MM wide.
    qr_mm = round(QR_SYMBOL_MM * (modules + 2 * QUIET_ZONE_MODULES) / modules, 1)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").get_image().save(buffer, format="PNG")

    name_size = _css_fit(
        institution_name,
        _HTML_CONTENT_WIDTH_MM,
        _HTML_NAME_HEIGHT_MM,
        (16, 14, 12, 10.5, 9, 8, 7, 6, 5),
        line_height=1.25,
    )
    esc = html.escape
    address_row = ""
    if address.strip():
        # The address shrinks within its own row instead of pushing the QR code off the page.
        address_size = _css_fit(
            address,
            _HTML_CONTENT_WIDTH_MM,
            _HTML_ADDRESS_HEIGHT_MM,
            (5, 4.5, 4, 3.5, 3),
            line_height=1.35,
            reserved_em=7,
        )
        address_row = (
            f'<dt>机构地址</dt><dd class="wide address" style="font-size: {address_size}mm">'
            f"{esc(address.strip())}</dd>\n"
        )
    return _HTML_TEMPLATE.format(
        title=esc(f"{TITLE_MAIN} · {institution_name}"),
        font_stack=CJK_FONT_STACK,
        accent=ACCENT,
        name_h=_HTML_NAME_HEIGHT_MM,
        address_h=_HTML_ADDRESS_HEIGHT_MM,
        qr_mm=qr_mm,
        qr_px=(modules + 2 * QUIET_ZONE_MODULES) * 10,
        kicker=esc(TITLE_KICKER),
        main_title=esc(TITLE_MAIN),
        name=esc(institution_name),
        name_size=name_size,
        code=esc(institution_code),
        type_label=esc(institution_type_label),
        region=esc(region_name),
        address_row=address_row,
        qr_b64=base64.b64encode(buffer.getvalue()).decode("ascii"),
        scan_line=esc(SCAN_LINE),
        notice=esc(NOTICE_LINE),
        issued_by=esc(issued_by),
        printed_on=esc(_chinese_date(printed_on)),
    )


# --------------------------------------------------------------------------------------------
# Fonts
# --------------------------------------------------------------------------------------------


class FontMissing(RuntimeError):
    """No CJK font is installed: Pillow would draw every Chinese character as an empty box."""


class CjkFont(NamedTuple):
    """A font file with Chinese glyphs and the face to use in it (for .ttc collections)."""

    path: Path
    index: int


# Known files first (Debian/Ubuntu package paths), then anything that looks like a CJK font.
FONT_FILES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora, Arch
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)
FONT_DIRS: tuple[str, ...] = ("/usr/share/fonts", "/usr/local/share/fonts")
FONT_PATTERNS: tuple[str, ...] = ("*cjk*", "wqy*", "droidsansfallback*")
FONT_INSTALL_HINT = "apt install fonts-wqy-microhei (or fonts-noto-cjk)"


def _font_preference(path: Path) -> tuple[bool, ...]:
    name = path.name.lower()
    # Prefer an upright sans regular face: the poster is read from a distance.
    return ("serif" in name, "mono" in name, "regular" not in name, "bold" in name)


@lru_cache(maxsize=16)
def _face_index(path: Path) -> int:
    """The face of a collection to use: Simplified Chinese when the collection has several.

    Noto's .ttc puts the Japanese face first; its glyph variants look wrong to Chinese readers.
    """
    for index in range(16):
        try:
            family, _style = ImageFont.truetype(str(path), 12, index=index).getname()
        except OSError:
            break
        family = family or ""
        if "Mono" in family:
            continue
        if (
            family.endswith(" SC")
            or " SC " in family
            or "Micro Hei" in family
            or "Zen Hei" in family
        ):
            return index
    return 0


def find_cjk_font() -> CjkFont:
    """Find an installed font that has Chinese glyphs.

    Looks at :data:`FONT_FILES`, then for files matching :data:`FONT_PATTERNS` under
    :data:`FONT_DIRS`. ``YIBAO_CJK_FONT`` (a font file path) overrides the search.

    Returns:
        The font file and the face index to use in it.

    Raises:
        FontMissing: No such font; the message says what to install.
    """
    override = os.environ.get("YIBAO_CJK_FONT")
    if override:
        path = Path(override)
        if not path.is_file():
            raise FontMissing(f"YIBAO_CJK_FONT={override!r} is not a font file")
        return CjkFont(path, _face_index(path))
    for name in FONT_FILES:
        path = Path(name)
        if path.is_file():
            return CjkFont(path, _face_index(path))
    found: list[Path] = []
    for root in FONT_DIRS:
        for folder, _dirs, files in os.walk(root):
            for file in files:
                lower = file.lower()
                if lower.endswith((".ttf", ".ttc", ".otf")) and any(
                    fnmatch(lower, pattern) for pattern in FONT_PATTERNS
                ):
                    found.append(Path(folder, file))
    if found:
        path = min(found, key=lambda p: (_font_preference(p), str(p)))
        return CjkFont(path, _face_index(path))
    raise FontMissing(
        "No CJK font found to draw Chinese text on the poster image (looked for "
        f"{', '.join(FONT_PATTERNS)} under {', '.join(FONT_DIRS)}). Install one: "
        f"{FONT_INSTALL_HINT}, or set YIBAO_CJK_FONT to a font file."
    )


# --------------------------------------------------------------------------------------------
# PNG poster
# --------------------------------------------------------------------------------------------

# Characters that must not start a line (Chinese typesetting rule 避头), kept with the line before.
_NO_LINE_START = set("，。、；：？！）》」』】〕〉”’,.;:?!)]}%…·")
# Runs of printable ASCII (codes, numbers, Latin words) stay together when they fit on a line.
_UNIT_RE = re.compile(r"[!-~]+|\s+|.", re.DOTALL)


def _px(mm: float) -> int:
    return round(mm * POSTER_DPI / 25.4)


def _wrap(text: str, measure: Callable[[str], float], width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width``: CJK anywhere, Latin runs whole."""
    units: list[str] = []
    for unit in _UNIT_RE.findall(" ".join(text.split())):
        if units and unit[0] in _NO_LINE_START and not unit.isspace():
            units[-1] += unit
        else:
            units.append(unit)
    lines: list[str] = []
    line = ""
    for unit in units:
        if measure(line + unit) <= width:
            line += unit
            continue
        if line.strip():
            lines.append(line.rstrip())
            line = ""
        unit = unit.lstrip()
        # A unit wider than the whole line (a very long code) is broken by characters.
        while unit and measure(unit) > width:
            cut = 1
            while cut < len(unit) and measure(unit[: cut + 1]) <= width:
                cut += 1
            lines.append(unit[:cut])
            unit = unit[cut:]
        line = unit
    if line.strip():
        lines.append(line.rstrip())
    return lines


@dataclass
class _Fitted:
    font: ImageFont.FreeTypeFont
    lines: list[str]
    line_height: int
    label_width: float
    label_size: int

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)


class _Painter:
    """Draws fitted text on the poster with one CJK font in several sizes."""

    def __init__(self, image: Image.Image, font: CjkFont) -> None:
        self.draw = ImageDraw.Draw(image)
        self._font = font
        self._sizes: dict[int, ImageFont.FreeTypeFont] = {}

    def font(self, size: int) -> ImageFont.FreeTypeFont:
        if size not in self._sizes:
            self._sizes[size] = ImageFont.truetype(
                str(self._font.path), size, index=self._font.index
            )
        return self._sizes[size]

    def fit(
        self,
        text: str,
        *,
        width: int,
        height: int,
        max_size: int,
        min_size: int,
        spacing: float = 1.3,
        label: str = "",
    ) -> _Fitted:
        """Wrap ``text`` at the largest size (from max_size down) whose lines fit the box.

        A ``label`` keeps its size (``max_size``) so the rows stay aligned; only the value after
        it shrinks. If even ``min_size`` is too big, the text is cut and ends with an ellipsis:
        it must never run over the QR code or off the page.
        """
        label_width = self.font(max_size).getlength(label) if label else 0.0
        size = max_size
        while True:
            font = self.font(size)
            lines = _wrap(text, font.getlength, width - label_width)
            line_height = round(size * spacing)
            if len(lines) * line_height <= height or size <= min_size:
                break
            size = max(min_size, size - max(1, size // 12))
        keep = max(1, height // line_height)
        if len(lines) > keep:
            lines = lines[:keep]
            last = lines[-1]
            while last and font.getlength(last + "…") > width - label_width:
                last = last[:-1]
            lines[-1] = last + "…"
        return _Fitted(font, lines, line_height, label_width, max_size)

    def centered(
        self, fitted: _Fitted, *, center_x: int, top: int, fill: str, bold: bool = False
    ) -> None:
        stroke = max(1, fitted.font.size // 40) if bold else 0  # the fonts have no bold face
        for i, line in enumerate(fitted.lines):
            self.draw.text(
                (center_x, top + i * fitted.line_height),
                line,
                font=fitted.font,
                fill=fill,
                anchor="ma",
                stroke_width=stroke,
                stroke_fill=fill,
            )

    def labelled(self, fitted: _Fitted, label: str, *, left: int, top: int) -> None:
        self.draw.text(
            (left, top), label, font=self.font(fitted.label_size), fill="#444444", anchor="la"
        )
        for i, line in enumerate(fitted.lines):
            self.draw.text(
                (left + fitted.label_width, top + i * fitted.line_height),
                line,
                font=fitted.font,
                fill="#111111",
                anchor="la",
            )

    def spaced(self, text: str, *, size: int, center_x: int, top: int, gap: int, fill: str) -> None:
        """Draw a short title with letter spacing (Pillow has no letter-spacing option)."""
        font = self.font(size)
        widths = [font.getlength(c) for c in text]
        x = center_x - (sum(widths) + gap * (len(text) - 1)) / 2
        stroke = max(1, size // 40)
        for char, width in zip(text, widths, strict=True):
            self.draw.text(
                (x, top),
                char,
                font=font,
                fill=fill,
                anchor="la",
                stroke_width=stroke,
                stroke_fill=fill,
            )
            x += width + gap


def poster_png(
    *,
    institution_name: str,
    institution_code: str,
    institution_type_label: str,
    region_name: str,
    address: str,
    token_payload: str,
    issued_by: str,
    printed_on: date,
    font: CjkFont | None = None,
) -> bytes:
    """The same A4 poster as :func:`poster_html`, as a 1240 × 1754 PNG (150 dpi).

    For bureaus that print from an image or send the poster through chat. Long names and
    addresses wrap, then shrink, then (beyond any real length) end with an ellipsis: nothing
    runs over the QR code or off the page.

    Args:
        institution_name: The institution's Chinese name.
        institution_code: Its 定点机构编码.
        institution_type_label: e.g. 定点医院.
        region_name: e.g. 环翠区.
        address: Its address; the row is left out when empty.
        token_payload: The QR payload, from :func:`qr_payload`.
        issued_by: The issuing bureau, e.g. 威海市医疗保障局.
        printed_on: The date printed on the poster.
        font: The font to draw with; found by :func:`find_cjk_font` when not given.

    Returns:
        The PNG file's bytes (RGB, 150 dpi recorded in the file so it prints at A4).

    Raises:
        ValueError: ``token_payload`` is not a payload :func:`parse_qr_payload` accepts.
        FontMissing: No CJK font is installed (rather than drawing Chinese as empty boxes).
    """
    _check_poster_payload(token_payload)
    font = font or find_cjk_font()
    width, height = POSTER_SIZE_PX
    image = Image.new("RGB", POSTER_SIZE_PX, "white")
    paint = _Painter(image, font)
    center = width // 2

    # Frame, as on the HTML sheet: 12/14 mm page padding, then 6/8 mm inside the frame.
    frame = (_px(14), _px(12), width - _px(14), height - _px(12))
    paint.draw.rounded_rectangle(frame, radius=_px(3), outline=ACCENT, width=max(2, _px(0.6)))
    left, right = frame[0] + _px(8), frame[2] - _px(8)
    top, bottom = frame[1] + _px(6), frame[3] - _px(6)
    content_width = right - left

    # Bottom-up: footer, notice, scan line and QR code have fixed places, so no text above them
    # can push the code off the page; the text above is fitted into what is left.
    footer_size = _px(4.2)
    footer_height = round(footer_size * 1.3)  # fixed: a long bureau name shrinks, moves nothing
    footer_left = paint.fit(
        f"发放单位：{issued_by}",
        width=content_width * 3 // 5,
        height=footer_height,
        max_size=footer_size,
        min_size=_px(3),
    )
    footer_right = paint.fit(
        f"打印日期：{_chinese_date(printed_on)}",
        width=content_width * 2 // 5 - _px(4),
        height=footer_height,
        max_size=footer_size,
        min_size=_px(3),
    )
    footer_top = bottom - footer_height
    for i, line in enumerate(footer_left.lines):
        paint.draw.text(
            (left, footer_top + i * footer_left.line_height),
            line,
            font=footer_left.font,
            fill="#333333",
            anchor="la",
        )
    for i, line in enumerate(footer_right.lines):
        paint.draw.text(
            (right, footer_top + i * footer_right.line_height),
            line,
            font=footer_right.font,
            fill="#333333",
            anchor="ra",
        )
    rule_y = footer_top - _px(2.5)
    paint.draw.line((left, rule_y, right, rule_y), fill="#999999", width=max(1, _px(0.3)))

    notice = paint.fit(
        NOTICE_LINE,
        width=content_width,
        height=round(_px(3.8) * 1.45 * 2),
        max_size=_px(3.8),
        min_size=_px(3),
        spacing=1.45,
    )
    notice_top = rule_y - _px(4) - notice.height
    paint.centered(notice, center_x=center, top=notice_top, fill="#333333")

    scan = paint.fit(
        SCAN_LINE,
        width=content_width,
        height=round(_px(6.5) * 1.3),
        max_size=_px(6.5),
        min_size=_px(5),
    )
    scan_top = notice_top - _px(3) - scan.height
    paint.centered(scan, center_x=center, top=scan_top, fill=ACCENT, bold=True)

    # The QR code: whole pixels per module (crisp edges), symbol at least QR_SYMBOL_MM wide.
    modules = _make_qr(token_payload, 1, 0).modules_count
    box = max(1, math.ceil(_px(QR_SYMBOL_MM) / modules))
    qr_image = _qr_image(token_payload, box, QUIET_ZONE_MODULES).convert("RGB")
    qr_top = scan_top - qr_image.height
    image.paste(qr_image, (center - qr_image.width // 2, qr_top))

    # Top-down: titles, then name and facts fitted into the space left above the QR code. The
    # quiet zone is white margin already, so text may come close to the image's edge.
    y = top
    kicker_size = _px(8.5)
    paint.spaced(TITLE_KICKER, size=kicker_size, center_x=center, top=y, gap=_px(0.8), fill=ACCENT)
    y += round(kicker_size * 1.2) + _px(0.5)
    title_size = _px(17)
    paint.spaced(TITLE_MAIN, size=title_size, center_x=center, top=y, gap=_px(5), fill=ACCENT)
    y += round(title_size * 1.15) + _px(3)
    paint.draw.line((left, y, right, y), fill=ACCENT, width=max(2, _px(0.8)))
    y += _px(4)

    facts_size = _px(5)
    facts_gap = _px(1.5)
    line = round(facts_size * 1.35)
    facts_space = 2 * (line + facts_gap)
    address = address.strip()
    address_height = _px(14) if address else 0
    name_height = qr_top - y - _px(4) - facts_space - address_height
    if name_height < _px(12):
        # Only a base URL hundreds of characters long makes the QR code this big.
        raise ValueError("QR payload too long to leave room for the name on the poster")
    name = paint.fit(
        institution_name,
        width=content_width,
        height=min(name_height, _px(38)),
        max_size=_px(16),
        min_size=_px(5),
        spacing=1.25,
    )
    # Centre the name vertically in its band, as the HTML does.
    band = min(name_height, _px(38))
    paint.centered(
        name, center_x=center, top=y + max(0, (band - name.height) // 2), fill="#111111", bold=True
    )
    y += band + _px(4)

    code_row = paint.fit(
        institution_code,
        width=content_width,
        height=line,
        max_size=facts_size,
        min_size=_px(3.5),
        label="定点机构编码　",
    )
    paint.labelled(code_row, "定点机构编码　", left=left, top=y)
    y += line + facts_gap
    half = content_width // 2
    type_row = paint.fit(
        institution_type_label,
        width=half - _px(3),
        height=line,
        max_size=facts_size,
        min_size=_px(3.5),
        label="机构类型　",
    )
    paint.labelled(type_row, "机构类型　", left=left, top=y)
    region_row = paint.fit(
        region_name,
        width=half,
        height=line,
        max_size=facts_size,
        min_size=_px(3.5),
        label="所在地区　",
    )
    paint.labelled(region_row, "所在地区　", left=left + half, top=y)
    y += line + facts_gap
    if address:
        address_row = paint.fit(
            address,
            width=content_width,
            height=address_height,
            max_size=facts_size,
            min_size=_px(3.2),
            spacing=1.35,
            label="机构地址　",
        )
        paint.labelled(address_row, "机构地址　", left=left, top=y)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(POSTER_DPI, POSTER_DPI), optimize=True)
    return buffer.getvalue()
