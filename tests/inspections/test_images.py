"""Checking and preparing uploaded images: every image is made here with Pillow, none committed."""

from __future__ import annotations

import asyncio
import io
import struct
import time
import warnings
import zlib
from datetime import datetime

import pytest
from PIL import Image, ImageCms, ImageDraw, ImageFile

from backend.errors import DomainError
from backend.inspections.images import (
    ImageLimits,
    ImageRejected,
    ProcessedImage,
    extension_for,
    process_image,
    process_image_async,
    sha256_hex,
)
from backend.settings import SettingsError

LIMITS = ImageLimits()

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
ORIENTATION = 0x0112
DATETIME = 0x0132
DATETIME_ORIGINAL = 0x9003


# --- making images -------------------------------------------------------------------------------


def photo(width: int, height: int) -> Image.Image:
    """Something photo-like: smooth gradients plus sensor-like noise (costly to compress)."""
    red = Image.linear_gradient("L").resize((width, height))
    green = Image.radial_gradient("L").resize((width, height))
    blue = Image.effect_noise((width, height), 24)
    return Image.merge("RGB", (red, green, blue))


def encode(image: Image.Image, image_format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def camera_exif(
    *,
    orientation: int | None = 6,
    original: object = "2025:03:14 09:26:53",
    changed: object = "2025:03:15 18:00:00",
) -> Image.Exif:
    """EXIF as a phone writes it: orientation, capture times and a GPS position."""
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    exif[0x010F] = "HUAWEI"  # Make
    exif[0x0110] = "MatePad 11"  # Model
    if changed is not None:
        exif[DATETIME] = changed
    if original is not None:
        exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = original
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (39.0, 54.0, 15.0)
    gps[3] = "E"
    gps[4] = (116.0, 23.0, 30.0)
    return exif


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` RGB pixels (a decompression bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata(data: bytes) -> None:
    image = reopen(data)
    exif = image.getexif()
    assert len(exif) == 0
    assert len(exif.get_ifd(GPS_IFD)) == 0
    for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "dpi"):
        assert key not in image.info, key
    for marker in (b"Exif\x00\x00", b"ICC_PROFILE", b"xmpmeta", b"HUAWEI", b"secret"):
        assert marker not in data, marker


def rejected(data: bytes, limits: ImageLimits = LIMITS) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        process_image(data, limits)
    return caught.value


# --- accepted uploads ----------------------------------------------------------------------------


def test_phone_photo_is_turned_upright_and_stripped_of_all_metadata() -> None:
    raw = Image.new("RGB", (400, 300), "white")
    ImageDraw.Draw(raw).rectangle((0, 0, 60, 60), fill="red")  # marks the raw top-left corner
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    upload = encode(
        raw,
        "JPEG",
        quality=95,
        exif=camera_exif(orientation=6),
        icc_profile=srgb,
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">GPS 39.9</x:xmpmeta>',
        comment=b"secret",
    )
    assert len(reopen(upload).getexif().get_ifd(GPS_IFD)) == 4  # the fixture really has GPS

    result = process_image(upload, LIMITS)

    assert result.original_format == "JPEG"
    assert result.display_content_type == result.thumbnail_content_type == "image/jpeg"
    # Orientation 6: the camera was turned a quarter clockwise; upright the photo is portrait,
    # and the raw top-left corner is now at the top right.
    assert (result.width, result.height) == (300, 400)
    assert (result.original_width, result.original_height) == (300, 400)
    display = reopen(result.display)
    assert display.size == (300, 400)
    red, green, blue = display.getpixel((270, 30))
    assert red > 200 and green < 60 and blue < 60
    assert display.getpixel((30, 30)) == pytest.approx((255, 255, 255), abs=8)
    assert result.captured_at == datetime(2025, 3, 14, 9, 26, 53)
    assert_no_metadata(result.display)
    assert_no_metadata(result.thumbnail)


async def test_large_photo_is_downscaled_and_much_smaller() -> None:
    original = photo(4000, 3000)
    upload = encode(original, "JPEG", quality=92)
    naive = encode(original, "JPEG", quality=100)

    result = await process_image_async(upload, LIMITS)

    assert (result.original_width, result.original_height) == (4000, 3000)
    assert (result.width, result.height) == (2048, 1536)
    assert reopen(result.display).size == (2048, 1536)
    thumbnail = reopen(result.thumbnail)
    assert max(thumbnail.size) == 320 and thumbnail.size == (320, 240)
    assert len(result.display) < len(naive) / 5
    assert len(result.thumbnail) < 60_000
    assert reopen(result.display).info.get("progressive") == 1


def test_very_large_jpeg_is_decoded_at_reduced_scale_and_turned() -> None:
    # At least twice the display size on both sides: libjpeg decodes at half scale.
    raw = Image.new("RGB", (4400, 4100), "white")
    ImageDraw.Draw(raw).rectangle((0, 0, 400, 400), fill="red")
    upload = encode(raw, "JPEG", exif=camera_exif(orientation=8))

    result = process_image(upload, LIMITS)

    assert (result.original_width, result.original_height) == (4100, 4400)
    assert (result.width, result.height) == (1908, 2048)
    display = reopen(result.display)
    assert display.size == (1908, 2048)
    # Orientation 8 turns the raw top-left corner to the bottom left.
    red, green, blue = display.getpixel((40, 2000))
    assert red > 200 and green < 60 and blue < 60


def test_small_image_is_not_upscaled() -> None:
    result = process_image(encode(photo(200, 120), "JPEG"), LIMITS)

    assert (result.width, result.height) == (200, 120)
    assert reopen(result.display).size == (200, 120)
    assert reopen(result.thumbnail).size == (200, 120)


def test_thumbnail_of_a_portrait_photo_fits_its_longest_side() -> None:
    result = process_image(encode(photo(900, 1600), "JPEG"), LIMITS)

    assert reopen(result.thumbnail).size == (180, 320)


def signature(size: tuple[int, int] = (600, 200)) -> Image.Image:
    """A signature as a canvas exports it: black strokes on a transparent background."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(40, 150), (120, 40), (200, 160), (300, 50), (420, 150)], fill="black", width=8)
    return image


def test_signature_png_with_transparency_stays_png_with_transparency() -> None:
    result = process_image(encode(signature(), "PNG"), LIMITS)

    assert result.original_format == "PNG"
    assert result.display_content_type == result.thumbnail_content_type == "image/png"
    assert result.extension_for(result.display_content_type) == ".png"
    display = reopen(result.display)
    assert display.format == "PNG" and display.mode == "RGBA"
    assert display.getpixel((5, 5))[3] == 0  # the background stays transparent, not black
    assert display.getpixel((80, 95))[3] > 200  # the stroke stays opaque
    thumbnail = reopen(result.thumbnail)
    assert thumbnail.mode == "RGBA" and thumbnail.size == (320, 107)
    assert thumbnail.getpixel((2, 2))[3] == 0
    assert_no_metadata(result.display)


def test_large_signature_is_downscaled_without_dark_fringes() -> None:
    # Blue ink on a transparent (0, 0, 0, 0) background: resampling without premultiplied
    # alpha would blend the invisible black into the edges of the strokes.
    image = Image.new("RGBA", (4096, 1024), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(100, 900), (2000, 100), (4000, 900)], fill=(0, 0, 255), width=9)

    result = process_image(encode(image, "PNG"), LIMITS)

    display = reopen(result.display)
    assert display.size == (2048, 512)
    edges = [pixel for pixel in display.get_flattened_data() if 64 <= pixel[3] < 255]
    assert edges  # the downscale did produce partly transparent edge pixels
    assert all(blue >= 230 for _red, _green, blue, _alpha in edges)


def test_palette_png_with_transparency_stays_png() -> None:
    image = signature().convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    transparent = image.getpixel((5, 5))
    upload = encode(image, "PNG", transparency=transparent)

    result = process_image(upload, LIMITS)

    display = reopen(result.display)
    assert display.format == "PNG"
    assert display.convert("RGBA").getpixel((5, 5))[3] == 0


def test_palette_png_without_transparency_stays_png() -> None:
    image = Image.new("P", (300, 100), 0)
    image.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    ImageDraw.Draw(image).line([(10, 50), (290, 50)], fill=1, width=5)

    result = process_image(encode(image, "PNG"), LIMITS)

    assert result.display_content_type == "image/png"
    assert reopen(result.display).getpixel((150, 50))[:3] == (0, 0, 0)


def test_one_bit_png_stays_png() -> None:
    image = Image.new("1", (300, 100), 1)
    ImageDraw.Draw(image).line([(10, 50), (290, 50)], fill=0, width=5)

    result = process_image(encode(image, "PNG"), LIMITS)

    assert result.display_content_type == "image/png"


def test_opaque_rgba_png_photo_becomes_jpeg() -> None:
    # Canvas exports are RGBA even when nothing is transparent: a photo must not stay a PNG.
    upload = encode(photo(800, 600).convert("RGBA"), "PNG")

    result = process_image(upload, LIMITS)

    assert result.original_format == "PNG"
    assert result.display_content_type == "image/jpeg"
    assert reopen(result.display).mode == "RGB"
    assert len(result.display) < len(upload)


def test_rgb_png_with_colour_key_transparency_keeps_it() -> None:
    image = Image.new("RGB", (100, 100), (0, 255, 0))
    ImageDraw.Draw(image).rectangle((40, 40, 60, 60), fill=(0, 0, 0))

    result = process_image(encode(image, "PNG", transparency=(0, 255, 0)), LIMITS)

    display = reopen(result.display)
    assert display.format == "PNG" and display.mode == "RGBA"
    assert display.getpixel((5, 5))[3] == 0
    assert display.getpixel((50, 50)) == (0, 0, 0, 255)


def test_greyscale_jpeg_stays_greyscale() -> None:
    result = process_image(encode(photo(300, 200).convert("L"), "JPEG"), LIMITS)

    assert result.display_content_type == "image/jpeg"
    assert reopen(result.display).mode == "L"


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped() -> None:
    upload = encode(Image.new("I;16", (64, 64), 40000), "PNG")

    result = process_image(upload, LIMITS)

    display = reopen(result.display)
    assert result.display_content_type == "image/jpeg"
    assert display.mode == "L"
    assert display.getpixel((32, 32)) == pytest.approx(40000 / 256, abs=2)


def test_greyscale_png_with_alpha_stays_png() -> None:
    image = Image.new("LA", (100, 100), (0, 0))
    ImageDraw.Draw(image).rectangle((40, 40, 60, 60), fill=(0, 255))

    result = process_image(encode(image, "PNG"), LIMITS)

    display = reopen(result.display)
    assert display.format == "PNG" and display.mode == "LA"
    assert display.getpixel((5, 5))[1] == 0


def test_cmyk_jpeg_becomes_rgb() -> None:
    upload = encode(Image.new("CMYK", (120, 80), (0, 255, 255, 0)), "JPEG")  # red in CMYK

    result = process_image(upload, LIMITS)

    display = reopen(result.display)
    assert display.mode == "RGB"
    red, green, blue = display.getpixel((60, 40))
    assert red > 200 and green < 60 and blue < 60


def test_webp_photo_is_accepted() -> None:
    result = process_image(encode(photo(640, 480), "WEBP", quality=80), LIMITS)

    assert result.original_format == "WEBP"
    assert result.display_content_type == "image/jpeg"
    assert (result.width, result.height) == (640, 480)


def test_webp_with_transparency_becomes_png() -> None:
    result = process_image(encode(signature(), "WEBP", lossless=True), LIMITS)

    assert result.original_format == "WEBP"
    assert result.display_content_type == "image/png"
    assert reopen(result.display).getpixel((5, 5))[3] == 0


def test_multi_picture_jpeg_counts_as_jpeg() -> None:
    first, second = photo(320, 240), photo(320, 240)
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"

    result = process_image(buffer.getvalue(), LIMITS)

    assert result.original_format == "JPEG"


def test_exif_date_time_is_the_fallback_capture_time() -> None:
    exif = camera_exif(orientation=None, original=None, changed="2024:12:31 23:59:59")

    result = process_image(encode(photo(64, 48), "JPEG", exif=exif), LIMITS)

    assert result.captured_at == datetime(2024, 12, 31, 23, 59, 59)


@pytest.mark.parametrize(
    "value",
    ["0000:00:00 00:00:00", "    :  :     :  :  ", "2025:13:40 25:61:61", "yesterday", ""],
)
def test_malformed_capture_time_is_ignored(value: str) -> None:
    exif = camera_exif(orientation=1, original=value, changed=None)

    result = process_image(encode(photo(64, 48), "JPEG", exif=exif), LIMITS)

    assert result.captured_at is None


def test_photo_without_exif_has_no_capture_time() -> None:
    result = process_image(encode(photo(64, 48), "JPEG"), LIMITS)

    assert result.captured_at is None


def test_broken_exif_block_does_not_cost_the_photo() -> None:
    upload = encode(photo(64, 48), "JPEG", exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f garbage")

    result = process_image(upload, LIMITS)

    assert result.captured_at is None
    assert_no_metadata(result.display)


# --- rejected uploads ----------------------------------------------------------------------------


def tiny_gif() -> bytes:
    return encode(Image.new("P", (10, 10)), "GIF")


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(tiny_gif(), id="gif"),
        pytest.param(encode(Image.new("RGB", (10, 10)), "BMP"), id="bmp"),
        pytest.param(encode(Image.new("RGB", (10, 10)), "TIFF"), id="tiff"),
        pytest.param(encode(Image.new("RGB", (10, 10)), "ICO"), id="ico"),
        pytest.param(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", id="pdf"),
        pytest.param("检查记录：一切正常\n".encode(), id="text"),
        pytest.param(
            b"<!doctype html><html><body><script>alert(1)</script></body></html>",
            id="html-named-photo.jpg",
        ),
        pytest.param(bytes(range(256)) * 40, id="random-bytes"),
        pytest.param(b"PK\x03\x04" + b"\x00" * 200, id="zip"),
    ],
)
def test_anything_but_jpeg_png_or_webp_content_is_415(upload: bytes) -> None:
    error = rejected(upload)

    assert error.status_code == 415
    assert error.message == "文件不是有效的 JPEG、PNG 或 WebP 图片"


def test_truncated_jpeg_is_422() -> None:
    upload = encode(photo(800, 600), "JPEG")

    error = rejected(upload[: len(upload) // 2])

    assert error.status_code == 422
    assert error.message == "图片已损坏，无法读取"


def test_jpeg_cut_inside_its_header_is_422_not_415() -> None:
    upload = encode(photo(80, 60), "JPEG", exif=camera_exif())

    assert rejected(upload[:40]).status_code == 422


def test_truncated_png_is_422() -> None:
    upload = encode(photo(400, 300), "PNG")

    assert rejected(upload[: len(upload) // 2]).status_code == 422


def test_empty_upload_is_422() -> None:
    assert rejected(b"").status_code == 422


def test_oversize_upload_is_413_before_its_content_is_looked_at() -> None:
    error = rejected(b"\x00" * (15 * 1024 * 1024 + 200_000))

    assert error.status_code == 413
    assert error.message == "图片文件过大（15.2 MB），上限为 15 MB"


def test_upload_just_over_the_limit_does_not_read_as_equal_to_it() -> None:
    error = rejected(b"\x00" * (15 * 1024 * 1024 + 1))

    assert error.message == "图片文件过大（15.1 MB），上限为 15 MB"


def test_small_byte_limit_speaks_kilobytes() -> None:
    upload = encode(photo(400, 300), "JPEG")

    error = rejected(upload, ImageLimits(max_bytes=1024))

    assert error.status_code == 413
    assert error.message.endswith("上限为 1 KB")


def test_too_many_pixels_is_413_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    upload = encode(Image.new("1", (2000, 2000), 1), "PNG")  # a couple of KB
    assert len(upload) < 5000

    def must_not_decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels decoded before the pixel count was checked")

    monkeypatch.setattr(ImageFile.ImageFile, "load", must_not_decode)

    error = rejected(upload, ImageLimits(max_pixels=1_000_000))

    assert error.status_code == 413
    assert error.message == "图片像素过多（2000×2000，400万像素），上限为 100万像素"


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(50_000, 50_000, id="over-pillow-error-limit"),
        pytest.param(10_000, 10_000, id="in-pillow-warning-range"),
        pytest.param(8_000, 6_000, id="over-our-limit-only"),
    ],
)
def test_decompression_bomb_header_is_413_fast_and_silent(width: int, height: int) -> None:
    pixel_limit_before = Image.MAX_IMAGE_PIXELS
    filters_before = list(warnings.filters)
    upload = png_header(width, height)
    assert len(upload) < 200

    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        error = rejected(upload)
    elapsed = time.perf_counter() - started

    assert error.status_code == 413
    assert "上限为 4000万像素" in error.message
    assert elapsed < 0.5
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]
    assert Image.MAX_IMAGE_PIXELS == pixel_limit_before
    assert list(warnings.filters) == filters_before


def test_image_rejected_is_a_domain_error_the_app_answers() -> None:
    error = ImageRejected(415, "文件不是有效的 JPEG、PNG 或 WebP 图片")

    assert isinstance(error, DomainError)
    assert error.status_code == 415
    assert str(error) == error.message


# --- helpers -------------------------------------------------------------------------------------


def test_sha256_hex() -> None:
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert sha256_hex(b"abc").startswith("ba7816bf")


def test_extension_for() -> None:
    assert extension_for("image/jpeg") == ".jpg"
    assert extension_for("image/png") == ".png"
    assert ProcessedImage.extension_for("image/webp") == ".webp"
    with pytest.raises(ValueError):
        extension_for("image/gif")


def test_processed_image_repr_leaves_out_the_bytes() -> None:
    result = process_image(encode(photo(64, 48), "JPEG"), LIMITS)

    assert "display=" not in repr(result) and "b'" not in repr(result)


def test_limits_from_env() -> None:
    limits = ImageLimits.from_env(
        {"YIBAO_PHOTO_MAX_BYTES": "5242880", "YIBAO_PHOTO_MAX_PIXELS": "12000000"}
    )

    assert limits == ImageLimits(max_bytes=5 * 1024 * 1024, max_pixels=12_000_000)
    assert ImageLimits.from_env({}) == ImageLimits()
    assert ImageLimits.from_env({"YIBAO_PHOTO_MAX_BYTES": " "}) == ImageLimits()


def test_limits_from_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_PHOTO_MAX_PIXELS", "2000000")
    monkeypatch.delenv("YIBAO_PHOTO_MAX_BYTES", raising=False)

    assert ImageLimits.from_env() == ImageLimits(max_pixels=2_000_000)


@pytest.mark.parametrize("value", ["lots", "0", "-5", "1.5"])
def test_invalid_limits_in_env_are_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="YIBAO_PHOTO_MAX_BYTES"):
        ImageLimits.from_env({"YIBAO_PHOTO_MAX_BYTES": value})


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ImageLimits(display_max_side=0)


async def test_many_uploads_at_once_are_all_processed() -> None:
    uploads = [encode(photo(640 + n, 480), "JPEG") for n in range(8)] + [
        encode(signature(), "PNG"),
        encode(Image.new("RGB", (10, 10)), "BMP"),
    ]

    results = await asyncio.gather(
        *(process_image_async(upload, LIMITS) for upload in uploads), return_exceptions=True
    )

    assert [r.width for r in results[:8] if isinstance(r, ProcessedImage)] == [
        640 + n for n in range(8)
    ]
    assert isinstance(results[8], ProcessedImage) and results[8].display_content_type == "image/png"
    assert isinstance(results[9], ImageRejected) and results[9].status_code == 415
