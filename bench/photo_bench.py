"""What one photo upload costs the server: ``process_image`` (decode, strip metadata, fit to
2048 px, sRGB, re-encode, thumbnail) on a phone-like JPEG of about 430 KB, against decoding the
same JPEG alone, in the same run. The stored sizes feed docs/scaling.md.

Run: .venv/bin/python bench/photo_bench.py [-n 30]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.inspections.images import ImageLimits, process_image  # noqa: E402


def phone_photo(seed: int, target: int = 430 * 1024) -> bytes:
    """A 2048×1536 JPEG with shapes, text-like strokes and sensor noise, near ``target`` bytes
    (the size the app sends after its own resize)."""
    image = Image.effect_noise((2048, 1536), 40 + seed % 7).convert("RGB")
    draw = ImageDraw.Draw(image)
    for n in range(60):
        x, y = (n * 211 + seed * 17) % 1900, (n * 157 + seed * 29) % 1400
        draw.rectangle([x, y, x + 140, y + 90], outline=(n * 4 % 256, 90, 160), width=6)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    for quality in range(90, 20, -5):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= target:
            break
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30)
    args = parser.parse_args()
    photos = [phone_photo(i) for i in range(args.n)]
    limits = ImageLimits()
    decode, process, display, thumb = [], [], [], []
    for data in photos:
        start = time.perf_counter()
        Image.open(io.BytesIO(data)).load()
        decode.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = process_image(data, limits)
        process.append(time.perf_counter() - start)
        display.append(len(result.display))
        thumb.append(len(result.thumbnail))
    sent = statistics.mean(len(p) for p in photos) / 1024
    base = statistics.median(decode)
    print(f"{args.n} photos of 2048×1536, {sent:.0f} KB as sent (mean)\n")
    print("| what | median ms | p95 ms | vs decode |")
    print("|---|---|---|---|")
    for name, samples in (("baseline: decode the JPEG", decode), ("process_image (stored form)", process)):
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        print(f"| {name} | {statistics.median(samples) * 1000:.1f} | {p95 * 1000:.1f} | "
              f"{statistics.median(samples) / base:.1f}× |")
    print(f"\nstored: display {statistics.mean(display) / 1024:.0f} KB, "
          f"thumbnail {statistics.mean(thumb) / 1024:.0f} KB (means)")


if __name__ == "__main__":
    main()
