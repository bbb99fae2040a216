"""Draw the PWA's icons (pwa/icons/) with Pillow: a white shield with a check mark on navy, the
same mark as the app header's (index.html).

Run: .venv/bin/python scripts/make_pwa_icons.py  (the files are committed; rerun after a change).
"any" icons are a rounded square on transparency; "maskable" icons fill the whole square and keep
the mark inside the central 80 % safe zone, as launchers crop them to any shape.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

NAVY = (22, 61, 115, 255)  # #163d73, the app's theme colour
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "pwa" / "icons"
SCALE = 4  # drawn large, then downsampled, for smooth edges

SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">
<rect width="24" height="24" rx="5.3" fill="#163d73"/>
<g transform="translate(3.6 3.3) scale(0.7)">
<path d="M12 3l7.5 3v5.5c0 4.5-3.2 8.3-7.5 9.5-4.3-1.2-7.5-5-7.5-9.5V6z" fill="#fff"/>
<path d="M8.5 12l2.5 2.5 4.5-5" fill="none" stroke="#163d73" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/>
</g></svg>
"""


def _cubic(p0, p1, p2, p3, steps=24):
    for i in range(1, steps + 1):
        t = i / steps
        u = 1 - t
        yield (
            u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
            u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
        )


# The header's shield (a 24-unit box): M12 3 l7.5 3 v5.5 c… to 12 21 c… to 4.5 11.5 V6 z
SHIELD = [
    (12, 3),
    (19.5, 6),
    (19.5, 11.5),
    *_cubic((19.5, 11.5), (19.5, 16), (16.3, 19.8), (12, 21)),
    *_cubic((12, 21), (7.7, 19.8), (4.5, 16), (4.5, 11.5)),
    (4.5, 6),
]
CHECK = [(8.5, 12), (11, 14.5), (15.5, 9.5)]


def _mark(draw: ImageDraw.ImageDraw, size: int, extent: float) -> None:
    """The shield and check, centred, the shield ``extent`` × size tall."""
    unit = size * extent / 18  # the shield is 18 units tall (3 → 21)
    ox, oy = size / 2 - 12 * unit, size / 2 - 12 * unit

    def at(p):
        return (ox + p[0] * unit, oy + p[1] * unit)

    draw.polygon([at(p) for p in SHIELD], fill=WHITE)
    width = max(2, round(2.2 * unit))
    points = [at(p) for p in CHECK]
    draw.line(points, fill=NAVY, width=width, joint="curve")
    for x, y in (points[0], points[-1]):
        draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=NAVY)


def icon(size: int, maskable: bool) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle([0, 0, big, big], fill=NAVY)
        _mark(draw, big, 0.52)
    else:
        draw.rounded_rectangle([0, 0, big - 1, big - 1], radius=big * 0.22, fill=NAVY)
        _mark(draw, big, 0.66)
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        icon(size, False).save(OUT / f"icon-{size}.png", optimize=True)
        icon(size, True).save(OUT / f"maskable-{size}.png", optimize=True)
    icon(180, True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    (OUT / "icon.svg").write_text(SVG, encoding="utf-8")
    print(f"icons written to {OUT}")


if __name__ == "__main__":
    main()
