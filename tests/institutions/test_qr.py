"""The institution QR code: payload format, PNG, and the A4 posters (HTML and PNG).

Codes are decoded back with zxing-cpp, the way a scanner would read them. The poster PNG needs a
CJK font: without one the tests that draw it are skipped on a developer's machine and fail in CI
(CI=true), where the font must be installed.
"""

from __future__ import annotations

import base64
import io
import os
import re
import secrets
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from backend.institutions import qr

TOKEN = "3q2-7wVxAbCdEfGhIjKlMnOpQrStUv_z"
BASE_URL = "https://yb.weihai.example.cn"
POSTER = {
    "institution_name": "威海市立医院",
    "institution_code": "H37100200001",
    "institution_type_label": "定点医院",
    "region_name": "环翠区",
    "address": "山东省威海市环翠区和平路70号",
    "token_payload": f"{BASE_URL}/s/{TOKEN}",
    "issued_by": "威海市医疗保障局",
    "printed_on": date(2026, 3, 5),
}
FRAME_MM = 14  # the poster's frame sits 14 mm from the left and right edges of the page


def decode(image: Image.Image) -> list[zxingcpp.Barcode]:
    """The QR codes a scanner finds in ``image``."""
    return zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)


def decode_png(data: bytes) -> list[zxingcpp.Barcode]:
    return decode(Image.open(io.BytesIO(data)))


@pytest.fixture(scope="module")
def cjk_font() -> qr.CjkFont:
    """The installed CJK font; skip without one, except in CI where its absence is a failure."""
    try:
        return qr.find_cjk_font()
    except qr.FontMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must install a CJK font for the poster PNG: {exc}")
        pytest.skip(f"no CJK font installed, poster PNG not tested: {exc}")


# ---------------------------------------------------------------------------------- payload


def test_payload_without_base_url_uses_the_private_scheme() -> None:
    assert qr.qr_payload(TOKEN) == f"yibao:inst:{TOKEN}"


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://yb.example.cn", f"https://yb.example.cn/s/{TOKEN}"),
        ("https://yb.example.cn/", f"https://yb.example.cn/s/{TOKEN}"),
        ("http://10.0.0.5:8000/inspect/", f"http://10.0.0.5:8000/inspect/s/{TOKEN}"),
    ],
)
def test_payload_with_base_url_is_a_url(base_url: str, expected: str) -> None:
    assert qr.qr_payload(TOKEN, base_url) == expected


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a" * 15,
        "a" * 65,
        "abc+def/ghijklmnop",
        "abcdefghijklmnop=",
        "abcdefgh ijklmnop",
        "检查码" * 6,
    ],
)
def test_payload_refuses_bad_tokens(token: str) -> None:
    with pytest.raises(ValueError, match="QR token"):
        qr.qr_payload(token)


@pytest.mark.parametrize(
    "base_url",
    [
        "yb.example.cn",
        "ftp://yb.example.cn",
        "https://",
        "https://yb.example.cn/?a=1",
        "https://yb.example.cn/#x",
        "https://yb.example.cn:99999",
    ],
)
def test_payload_refuses_bad_base_urls(base_url: str) -> None:
    with pytest.raises(ValueError, match="base URL"):
        qr.qr_payload(TOKEN, base_url)


def test_real_tokens_are_valid_and_round_trip() -> None:
    for _ in range(50):
        token = secrets.token_urlsafe(24)
        assert qr.parse_qr_payload(qr.qr_payload(token)) == token
        assert qr.parse_qr_payload(qr.qr_payload(token, BASE_URL)) == token


@settings(max_examples=100, deadline=None)
@given(
    token=st.from_regex(r"[A-Za-z0-9_-]{16,64}", fullmatch=True),
    base_url=st.sampled_from([None, "https://yb.example.cn", "http://127.0.0.1:8000/app/"]),
)
def test_any_valid_token_round_trips(token: str, base_url: str | None) -> None:
    assert qr.parse_qr_payload(qr.qr_payload(token, base_url)) == token


@pytest.mark.parametrize(
    "text",
    [
        f"yibao:inst:{TOKEN}",
        f"  yibao:inst:{TOKEN}\n",
        f"YIBAO:INST:{TOKEN}",
        f"https://yb.example.cn/s/{TOKEN}",
        f"http://yb.example.cn/s/{TOKEN}",
        f"HTTPS://yb.example.cn/s/{TOKEN}",
        f"https://yb.example.cn/s/{TOKEN}/",
        f"https://yb.example.cn/s/{TOKEN}?from=camera&x=1",
        f"https://yb.example.cn/s/{TOKEN}/?utm=1#top",
        f"https://yb.example.cn:8443/inspect/s/{TOKEN}",
        f"\t https://yb.example.cn/s/{TOKEN} \r\n",
    ],
)
def test_parse_accepts_both_forms_and_their_variants(text: str) -> None:
    assert qr.parse_qr_payload(text) == TOKEN


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello world",
        TOKEN,  # a bare token: nothing says it is ours
        "wxp://f2f0Xj3kQ9rVvB4nHh6gZ2cV1aUeS8Lq",  # a WeChat Pay code
        "https://qr.alipay.com/fkx12345abcdefghijklmn",
        "https://example.com/",
        f"https://example.com/x/{TOKEN}",
        f"https://example.com/ss/{TOKEN}",
        "https://example.com/s/",
        f"https://example.com/s/{TOKEN}/extra",
        f"https://example.com/s/{TOKEN}//",
        f"ftp://example.com/s/{TOKEN}",
        f"javascript:alert(1)//s/{TOKEN}",
        f"https:///s/{TOKEN}",
        f"https://example.com:99999/s/{TOKEN}",
        f"https://[::1/s/{TOKEN}",
        "yibao:inst:",
        "yibao:inst:abc+def/ghijklmnopqrs",
        "yibao:inst:abcdefghijklmnop==",
        "yibao:inst:" + "a" * 15,
        "yibao:inst:" + "a" * 65,
        f"yibao:inst:{TOKEN} extra",
        f"yibao:other:{TOKEN}",
        "https://example.com/s/" + "a" * 15,
        "https://example.com/s/" + "a" * 65,
        "https://example.com/s/abcdefgh%20ijklmnop",
        "x" * 5000,
    ],
)
def test_parse_rejects_codes_that_are_not_ours(text: str) -> None:
    assert qr.parse_qr_payload(text) is None


@pytest.mark.parametrize("value", [None, b"yibao:inst:" + TOKEN.encode(), 42])
def test_parse_rejects_non_strings(value: object) -> None:
    assert qr.parse_qr_payload(value) is None  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- QR PNG


@pytest.mark.parametrize("payload", [qr.qr_payload(TOKEN), qr.qr_payload(TOKEN, BASE_URL)])
@pytest.mark.parametrize("box_size", [3, 10])
def test_qr_png_decodes_to_the_payload_at_level_q(payload: str, box_size: int) -> None:
    data = qr.qr_png(payload, box_size=box_size)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    codes = decode_png(data)
    assert [c.text for c in codes] == [payload]
    assert codes[0].ec_level == "Q"
    assert qr.parse_qr_payload(codes[0].text) == TOKEN


def test_qr_png_has_the_quiet_zone_asked_for() -> None:
    image = Image.open(io.BytesIO(qr.qr_png(qr.qr_payload(TOKEN), box_size=10, border=4)))
    # 4 modules of 10 px on every side are white; the symbol starts right after.
    gray = image.convert("L")
    assert gray.crop((0, 0, image.width, 40)).getextrema() == (255, 255)
    assert gray.crop((0, 0, 40, image.height)).getextrema() == (255, 255)
    assert gray.getpixel((40, 40)) == 0  # the top-left finder pattern


@pytest.mark.parametrize(
    ("payload", "box_size", "border"), [("", 10, 4), ("x", 0, 4), ("x", 10, -1)]
)
def test_qr_png_refuses_bad_arguments(payload: str, box_size: int, border: int) -> None:
    with pytest.raises(ValueError):
        qr.qr_png(payload, box_size=box_size, border=border)


# ---------------------------------------------------------------------------------- HTML poster


class _Page(HTMLParser):
    """Collects the visible text, the attributes that load things, and the <style> text."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.resources: list[str] = []
        self.styles: list[str] = []
        self.buttons: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "poster", "data", "action") and value:
                self.resources.append(value)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        where = self._in[-1] if self._in else ""
        if where == "style":
            self.styles.append(data)
        elif where == "button":
            self.buttons.append(data)
        elif where not in ("script", "title"):
            self.text.append(data)


def parse_page(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def embedded_qr(page: str) -> Image.Image:
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert match, "no inline PNG"
    return Image.open(io.BytesIO(base64.b64decode(match.group(1))))


@pytest.mark.parametrize("payload", [qr.qr_payload(TOKEN), qr.qr_payload(TOKEN, BASE_URL)])
def test_poster_html_embeds_a_qr_code_that_decodes_to_the_payload(payload: str) -> None:
    page = qr.poster_html(**{**POSTER, "token_payload": payload})
    assert [c.text for c in decode(embedded_qr(page))] == [payload]


def test_poster_html_shows_every_field_escaped() -> None:
    name = '威海<script>alert("x")</script>&医院'
    page = qr.poster_html(
        **{
            **POSTER,
            "institution_name": name,
            "institution_code": "H371<b>&'",
            "region_name": "环翠区&<i>",
            "address": '和平路"70"号<br>',
            "issued_by": "威海市医疗保障局<u>",
        }
    )
    assert "<script>" not in page and "<b>" not in page and "<br>" not in page
    assert "<u>" not in page and "<i>" not in page
    assert "威海&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;医院" in page
    assert "H371&lt;b&gt;&amp;&#x27;" in page
    text = "".join(parse_page(page).text)
    for shown in (
        name,
        "H371<b>&'",
        "定点医院",
        "环翠区&<i>",
        '和平路"70"号<br>',
        "威海市医疗保障局<u>",
        "2026年3月5日",
        "医疗保障定点医药机构",
        "检查码",
        "检查人员现场检查时请扫描此码",
        "请勿遮挡、涂改",
        "移作他用",
        "定点机构编码",
    ):
        assert shown in text, shown


def test_poster_html_is_a_self_contained_a4_page() -> None:
    payload = qr.qr_payload(TOKEN, BASE_URL)
    page = qr.poster_html(**{**POSTER, "token_payload": payload})
    parsed = parse_page(page)
    css = "".join(parsed.styles)
    assert page.startswith("<!DOCTYPE html>")
    assert re.search(r"@page\s*\{[^}]*size:\s*A4", css)
    assert all(ref.startswith("data:image/png;base64,") for ref in parsed.resources)
    assert "url(" not in css and "@import" not in css and "<link" not in page
    # No web address at all, except (possibly) the payload itself.
    rest = page.replace(payload, "")
    assert (
        "http://" not in rest
        and "https://" not in rest
        and "//" not in re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    )
    assert "WenQuanYi Micro Hei" in css and "Noto Sans CJK SC" in css
    assert parsed.buttons == ["打印"]
    assert re.search(r"@media print\s*\{[^@]*\.toolbar\s*\{\s*display:\s*none", css)


def test_poster_html_prints_the_qr_symbol_at_least_90_mm_wide() -> None:
    page = qr.poster_html(**POSTER)
    image = embedded_qr(page)
    printed_mm = float(re.search(r"\.qr \{[^}]*width: ([\d.]+)mm", page).group(1))
    code = decode(image)[0]
    symbol_px = (
        code.position.top_right.x - code.position.top_left.x + 10
    )  # corners are pixel centres
    assert printed_mm * symbol_px / image.width >= 90


def test_poster_html_shrinks_a_long_name() -> None:
    def name_size(name: str) -> float:
        page = qr.poster_html(**{**POSTER, "institution_name": name})
        return float(re.search(r'class="name" style="font-size: ([\d.]+)mm"', page).group(1))

    short = name_size("威海市立医院")
    long = name_size("威海市环翠区某某医疗集团有限公司附属第一社区卫生服务中心" * 4)
    assert long < short
    assert long >= 5  # still readable from a step away


def test_poster_html_leaves_out_an_empty_address() -> None:
    assert "机构地址" not in qr.poster_html(**{**POSTER, "address": "  "})


@pytest.mark.parametrize("payload", ["", "https://example.com/", "hello", f"yibao:inst:{TOKEN}+"])
def test_posters_refuse_a_payload_that_is_not_ours(payload: str) -> None:
    with pytest.raises(ValueError, match="payload"):
        qr.poster_html(**{**POSTER, "token_payload": payload})
    with pytest.raises(ValueError, match="payload"):
        qr.poster_png(**{**POSTER, "token_payload": payload})


# ---------------------------------------------------------------------------------- PNG poster


def render(font: qr.CjkFont, **changes: object) -> Image.Image:
    return Image.open(io.BytesIO(qr.poster_png(**{**POSTER, **changes}, font=font)))


@pytest.mark.parametrize("payload", [qr.qr_payload(TOKEN), qr.qr_payload(TOKEN, BASE_URL)])
def test_poster_png_is_a4_at_150_dpi_and_its_qr_decodes(cjk_font: qr.CjkFont, payload: str) -> None:
    image = render(cjk_font, token_payload=payload)
    assert image.size == qr.POSTER_SIZE_PX == (1240, 1754)
    # PNG stores dots per metre: 150 dpi comes back as 150.01.
    assert image.info["dpi"] == pytest.approx((150, 150), abs=0.1)
    codes = decode(image)
    assert [c.text for c in codes] == [payload]
    assert codes[0].ec_level == "Q"
    symbol_px = codes[0].position.top_right.x - codes[0].position.top_left.x
    assert symbol_px * 25.4 / 150 >= 90


def test_poster_png_draws_the_name(cjk_font: qr.CjkFont) -> None:
    # Two names of the same length: drawn as empty boxes (no CJK glyphs) they would look the same.
    first = render(cjk_font, institution_name="威海市立医院")
    second = render(cjk_font, institution_name="文登区中医院")
    qr_top = decode(first)[0].position.top_left.y
    changed = ImageChops.difference(first, second).getbbox()
    assert changed is not None, "the name is not drawn, or drawn as boxes"
    left, top, right, bottom = changed
    assert 300 < top and bottom < qr_top - 40  # under the title, above the QR code
    band = first.convert("L").crop((0, top, first.width, bottom))
    assert band.getextrema()[0] < 64  # dark ink, not a faint artefact


def test_poster_png_fits_long_texts_inside_the_frame_and_above_the_qr(cjk_font: qr.CjkFont) -> None:
    base = render(cjk_font)
    long = render(
        cjk_font,
        institution_name="威海市环翠区某某医疗集团<有限公司>&附属第一社区卫生服务中心ABCDEFGHIJKLMNOP"
        * 3,
        institution_code="H3710020000123456789012345678901",
        region_name="山东省威海市环翠区经济技术开发区某某街道办事处",
        address="山东省威海市环翠区和平路70号附1号楼B座" * 10,
        issued_by="威海市医疗保障局环翠分局（威海市医疗保障局经济技术开发区分局）",
    )
    codes = decode(long)
    assert [c.text for c in codes] == [POSTER["token_payload"]]
    frame_px = round(FRAME_MM * 150 / 25.4)
    left, top, right, bottom = ImageChops.difference(base, long).getbbox()
    assert frame_px < left and right < base.width - frame_px
    # The QR code, scan line and notice did not move: only the texts that changed differ, and the
    # ones above the code stay above its quiet zone.
    assert decode(base)[0].position.top_left.y == codes[0].position.top_left.y
    diff = ImageChops.difference(base, long)
    qr_top = codes[0].position.top_left.y
    assert diff.crop((0, 0, base.width, qr_top - 40)).getbbox() is not None
    # Nothing changed from 40 px (≈ 7 mm, within the quiet zone) above the code to below the
    # scan line: the long texts neither pushed nor covered the code.
    assert (
        diff.crop((0, qr_top - 40, base.width, codes[0].position.bottom_left.y + 120)).getbbox()
        is None
    )


def test_poster_png_without_a_cjk_font_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(qr, "FONT_FILES", ())
    monkeypatch.setattr(qr, "FONT_DIRS", (str(tmp_path),))
    monkeypatch.delenv("YIBAO_CJK_FONT", raising=False)
    (tmp_path / "DejaVuSans.ttf").write_bytes(b"")  # a font, but not a CJK one
    with pytest.raises(qr.FontMissing, match="apt install fonts-wqy-microhei"):
        qr.find_cjk_font()
    with pytest.raises(qr.FontMissing, match="fonts-wqy-microhei"):
        qr.poster_png(**POSTER)


def test_font_search_prefers_a_sans_regular_face(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(qr, "FONT_FILES", ())
    monkeypatch.setattr(qr, "FONT_DIRS", (str(tmp_path),))
    monkeypatch.delenv("YIBAO_CJK_FONT", raising=False)
    for name in (
        "NotoSerifCJK-Regular.ttc",
        "NotoSansCJK-Bold.ttc",
        "NotoSansMonoCJKsc-Regular.otf",
        "NotoSansCJK-Regular.ttc",
    ):
        (tmp_path / "opentype" / "noto").mkdir(parents=True, exist_ok=True)
        (tmp_path / "opentype" / "noto" / name).write_bytes(b"")
    assert qr.find_cjk_font().path.name == "NotoSansCJK-Regular.ttc"


def test_font_override_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YIBAO_CJK_FONT", str(tmp_path / "missing.ttc"))
    with pytest.raises(qr.FontMissing, match="YIBAO_CJK_FONT"):
        qr.find_cjk_font()
