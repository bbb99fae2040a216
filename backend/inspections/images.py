"""Checking and preparing uploaded evidence photos and signatures (pure: no database, no HTTP).

An upload is accepted only when its *content* is a JPEG, PNG or WebP image (file names and
claimed content types are never trusted), within the byte and pixel limits, and decodable. What
is stored is not the upload itself but two re-encoded copies, so that tablets on weak links never
download a 10 MB original (peers' "photos far larger than needed") and no location or device data
leaves with a photo:

- a display image, longest side at most 2048 px (never enlarged);
- a thumbnail, longest side at most 320 px;

both turned upright by their EXIF orientation, converted to sRGB, and written without any
metadata (EXIF, GPS, XMP, ICC profile, comments). Photos become progressive JPEGs at quality 82;
images with real transparency and palette/line-art images (signatures drawn on a canvas) stay
PNG so their transparent background does not turn black. The capture time recorded by the camera
is kept as data (:attr:`ProcessedImage.captured_at`) before the metadata is dropped.

Limits come from the environment through :meth:`ImageLimits.from_env`:

| variable | default | meaning |
|---|---|---|
| ``YIBAO_PHOTO_MAX_BYTES`` | ``15728640`` (15 MB) | largest accepted upload, in bytes |
| ``YIBAO_PHOTO_MAX_PIXELS`` | ``40000000`` (4000万像素) | largest width × height |

The pixel count is read from the file's header and checked before any pixel is decoded, so a
small file claiming 50000 × 50000 pixels (a decompression bomb) costs nothing.

Errors are :class:`ImageRejected` (a :class:`~backend.errors.DomainError`, so the app answers
with its status code and its Chinese message): 413 too large, 415 not a JPEG/PNG/WebP image,
422 a damaged or empty file.
"""

from __future__ import annotations

import io
import math
import os
import re
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from hashlib import sha256
from typing import NamedTuple

import anyio
import anyio.to_thread
from PIL import ExifTags, Image

from backend.errors import DomainError
from backend.settings import SettingsError

try:  # Pillow's wheels ship LittleCMS; a build without it simply skips colour conversion.
    from PIL import ImageCms
except ImportError:  # pragma: no cover
    ImageCms = None  # type: ignore[assignment]

_MB = 1024 * 1024

JPEG_QUALITY = 82
"""Quality of stored JPEGs: visually close to the original at a fraction of its size."""

_ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
# Pillow reports multi-picture JPEGs (some phone cameras) as MPO; they are JPEGs to us.
_FORMAT_ALIASES = {"MPO": "JPEG"}

_CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}

# The same table as ImageOps.exif_transpose, applied after downscaling so that the full-size
# image is never copied just to turn it.
_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_SWAPS_SIDES = {
    Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_270,
}

_EXIF_DATETIME = re.compile(r"(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")

# warnings.catch_warnings() swaps process-wide state, which is not thread-safe before Python
# 3.14: two threads inside it at once can leave a filter behind for good. Everything that may
# warn (identifying, decoding, reading EXIF) therefore runs under this lock; the heavier
# resizing and encoding run outside it.
_PILLOW_LOCK = threading.Lock()

# Each image in flight holds its decoded pixels (up to max_pixels × 4 bytes): bound how many
# the server processes at once instead of letting anyio's 40 worker threads take them all.
_PROCESSING_LIMITER = anyio.CapacityLimiter(2)


class ImageRejected(DomainError):
    """An upload that is not an acceptable image; ``message`` says why, for the inspector.

    Attributes:
        status_code: 413 (too large), 415 (not a JPEG/PNG/WebP image) or 422 (damaged).
        message: the reason, in Simplified Chinese.
    """

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code

    def __repr__(self) -> str:
        return f"ImageRejected({self.status_code}, {self.message!r})"


@dataclass(frozen=True)
class ImageLimits:
    """What an upload may be, and the sizes stored from it.

    Attributes:
        max_bytes: largest accepted upload in bytes.
        max_pixels: largest accepted width × height, checked before decoding.
        display_max_side: longest side of the stored display image.
        thumb_max_side: longest side of the stored thumbnail.
    """

    max_bytes: int = 15 * _MB
    max_pixels: int = 40_000_000
    display_max_side: int = 2048
    thumb_max_side: int = 320

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pixels", "display_max_side", "thumb_max_side"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"ImageLimits.{name} must be a positive integer, got {value!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ImageLimits:
        """Limits from ``YIBAO_PHOTO_MAX_BYTES`` and ``YIBAO_PHOTO_MAX_PIXELS`` (see module doc).

        Args:
            environ: the variables to read; ``os.environ`` when omitted.

        Raises:
            SettingsError: a variable is set but is not a positive integer.
        """
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            max_bytes=_positive_int(env, "YIBAO_PHOTO_MAX_BYTES", defaults.max_bytes),
            max_pixels=_positive_int(env, "YIBAO_PHOTO_MAX_PIXELS", defaults.max_pixels),
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise SettingsError(f"{name} must be a positive integer, got {raw!r}")
    return value


def extension_for(content_type: str) -> str:
    """The file extension, with its dot, for a stored image's content type.

    Args:
        content_type: ``image/jpeg``, ``image/png`` or ``image/webp``.

    Raises:
        ValueError: any other content type.
    """
    try:
        return _EXTENSIONS[content_type]
    except KeyError:
        raise ValueError(f"no file extension for content type {content_type!r}") from None


@dataclass(frozen=True)
class ProcessedImage:
    """What is stored from one accepted upload.

    Attributes:
        display: the display image, re-encoded without metadata.
        display_content_type: ``image/jpeg`` or ``image/png``.
        thumbnail: the thumbnail, re-encoded without metadata.
        thumbnail_content_type: ``image/jpeg`` or ``image/png``.
        width: width of the display image (upright).
        height: height of the display image (upright).
        original_width: width of the upload, upright (EXIF orientation applied).
        original_height: height of the upload, upright.
        original_format: ``JPEG``, ``PNG`` or ``WEBP``, as detected from the content.
        captured_at: when the camera says the photo was taken (naive local time as recorded),
            or None when it does not say, or says nonsense.
    """

    # The image bytes stay out of repr(): a log line or a failing test must not print megabytes.
    display: bytes = field(repr=False)
    display_content_type: str
    thumbnail: bytes = field(repr=False)
    thumbnail_content_type: str
    width: int
    height: int
    original_width: int
    original_height: int
    original_format: str
    captured_at: datetime | None

    extension_for = staticmethod(extension_for)


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as 64 lowercase hex digits (content-addressed storage keys)."""
    return sha256(data).hexdigest()


class _Decoded(NamedTuple):
    format: str
    size: tuple[int, int]
    orientation: int
    captured_at: datetime | None
    icc_profile: bytes | None


def process_image(data: bytes, limits: ImageLimits) -> ProcessedImage:
    """Check an uploaded image and prepare the display image and thumbnail to store.

    CPU-bound (a 12-megapixel photo takes a fraction of a second): from async code use
    :func:`process_image_async`.

    Args:
        data: the uploaded bytes, as received.
        limits: the accepted sizes, usually :meth:`ImageLimits.from_env`.

    Returns:
        The re-encoded images and what was learnt about the upload.

    Raises:
        ImageRejected: 413 when the file or its pixel count is too large, 415 when its content
            is not a JPEG, PNG or WebP image, 422 when it is empty or damaged.
    """
    if not data:
        raise ImageRejected(422, "上传的文件是空的")
    if len(data) > limits.max_bytes:
        raise ImageRejected(
            413,
            f"图片文件过大（{_format_size(len(data), round_up=True)}），"
            f"上限为 {_format_size(limits.max_bytes)}",
        )
    image, decoded = _decode(bytes(data), limits)
    image, line_art = _normalize_mode(image)
    as_png = line_art or image.mode in ("LA", "RGBA")

    transpose = _TRANSPOSE.get(decoded.orientation)
    display = _fit(image, limits.display_max_side)
    del image  # let the full-size pixels go before encoding
    if transpose is not None:
        display = display.transpose(transpose)
    display = _to_srgb(display, decoded.icc_profile)
    thumbnail = _fit(display, limits.thumb_max_side)

    display_bytes, display_type = _encode(display, as_png=as_png)
    thumbnail_bytes, thumbnail_type = _encode(thumbnail, as_png=as_png)
    width, height = decoded.size
    if transpose in _SWAPS_SIDES:
        width, height = height, width
    return ProcessedImage(
        display=display_bytes,
        display_content_type=display_type,
        thumbnail=thumbnail_bytes,
        thumbnail_content_type=thumbnail_type,
        width=display.width,
        height=display.height,
        original_width=width,
        original_height=height,
        original_format=decoded.format,
        captured_at=decoded.captured_at,
    )


async def process_image_async(data: bytes, limits: ImageLimits) -> ProcessedImage:
    """:func:`process_image` in a worker thread, so the event loop keeps serving requests.

    At most two images are processed at once per process (memory: each holds its decoded
    pixels); further calls wait their turn.
    """
    return await anyio.to_thread.run_sync(process_image, data, limits, limiter=_PROCESSING_LIMITER)


def _decode(data: bytes, limits: ImageLimits) -> tuple[Image.Image, _Decoded]:
    """Identify the format from the content, check the pixel count, then decode."""
    with _PILLOW_LOCK, warnings.catch_warnings():
        # Pillow warns about large images (DecompressionBombWarning), odd EXIF blocks and odd
        # MPO/APNG structures. None of that may escape to the caller (the test suite turns
        # warnings into errors; in production they are noise): the limits are checked here.
        warnings.simplefilter("ignore")
        try:
            # Image.open only reads the header. `formats` restricts identification to what we
            # accept, so Pillow's many other parsers never see untrusted bytes.
            image = Image.open(io.BytesIO(data), formats=_ACCEPTED_FORMATS)
        except Image.DecompressionBombError:
            # Pillow's own hard limit (2 × Image.MAX_IMAGE_PIXELS) is hit before ours can be
            # checked; same answer.
            raise _too_many_pixels(None, limits) from None
        except Exception:
            # Any failure to parse untrusted bytes means the same to the user: either it is
            # not an image we take, or it claims to be one and is broken.
            raise _unreadable(data) from None

        image_format = _FORMAT_ALIASES.get(image.format or "", image.format or "")
        if image_format not in _ACCEPTED_FORMATS:  # pragma: no cover - `formats` prevents it
            raise ImageRejected(415, _NOT_AN_IMAGE)
        size = image.size
        if size[0] * size[1] > limits.max_pixels:
            raise _too_many_pixels(size, limits)

        if image_format == "JPEG":
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the photo is at least twice the
            # display size on both sides: its scaled IDCT is a proper downscale (≈44 dB PSNR
            # against a full decode), takes a quarter of the time and of the memory.
            side = limits.display_max_side
            image.draft(None, (side, side))
        try:
            image.load()
        except Image.DecompressionBombError:
            raise _too_many_pixels(size, limits) from None
        except Exception:
            # Truncated or corrupt pixel data: OSError, SyntaxError, ValueError, EOFError…
            raise ImageRejected(422, _DAMAGED) from None

        orientation, captured_at = _read_exif(image)
        icc_profile = image.info.get("icc_profile")
        return image, _Decoded(
            format=image_format,
            size=size,
            orientation=orientation,
            captured_at=captured_at,
            icc_profile=icc_profile if isinstance(icc_profile, bytes) else None,
        )


_NOT_AN_IMAGE = "文件不是有效的 JPEG、PNG 或 WebP 图片"
_DAMAGED = "图片已损坏，无法读取"


def _unreadable(data: bytes) -> ImageRejected:
    # A file that starts like one of our formats but cannot be identified is a damaged image
    # (e.g. an upload cut off inside its header), not a wrong file type.
    claims_supported = (
        data.startswith(b"\xff\xd8\xff")
        or data.startswith(b"\x89PNG\r\n\x1a\n")
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
    )
    return ImageRejected(422, _DAMAGED) if claims_supported else ImageRejected(415, _NOT_AN_IMAGE)


def _too_many_pixels(size: tuple[int, int] | None, limits: ImageLimits) -> ImageRejected:
    limit = f"上限为 {_format_wan(limits.max_pixels)}万像素"
    if size is None:
        return ImageRejected(413, f"图片像素过多，{limit}")
    width, height = size
    return ImageRejected(
        413, f"图片像素过多（{width}×{height}，{_format_wan(width * height)}万像素），{limit}"
    )


def _format_wan(pixels: int) -> str:
    """Pixels in 万 (10 000), the unit Chinese camera specs use: 4000万像素."""
    wan = pixels / 10_000
    text = f"{wan:.0f}" if wan >= 100 else f"{wan:.1f}"
    return text.removesuffix(".0")


def _format_size(size: int, *, round_up: bool = False) -> str:
    """Bytes for people, to one decimal: ``18.2 MB``, ``800 KB``.

    Args:
        size: the number of bytes.
        round_up: round up instead of down; used for the rejected file's size so that a file
            just over the limit never reads as equal to it ("15.1 MB, limit 15 MB").
    """
    unit, name = (_MB, "MB") if size >= _MB else (1024, "KB")
    tenths = size * 10 / unit
    tenths = math.ceil(tenths) if round_up else math.floor(tenths)
    return f"{tenths / 10:.1f}".removesuffix(".0") + f" {name}"


def _read_exif(image: Image.Image) -> tuple[int, datetime | None]:
    """The EXIF orientation (1–8) and capture time; (1, None) when missing or unreadable."""
    try:
        exif = image.getexif()
        orientation = exif.get(ExifTags.Base.Orientation, 1)
        exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
        # DateTimeOriginal is when the shutter fired; DateTime (IFD0) is when the file was last
        # changed, which for a photo straight from the camera is the same moment.
        raw_time = exif_ifd.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    except Exception:
        # EXIF comes from the client and is optional: a broken block must not cost the photo.
        return 1, None
    if not isinstance(orientation, int) or orientation not in range(1, 9):
        orientation = 1
    return orientation, _parse_exif_datetime(raw_time)


def _parse_exif_datetime(value: object) -> datetime | None:
    """``2025:03:14 09:26:53`` → datetime; None for blanks, zeros and other nonsense."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    match = _EXIF_DATETIME.match(value.strip().strip("\x00").strip())
    if match is None:
        return None
    try:
        return datetime(*(int(part) for part in match.groups()))
    except ValueError:  # 0000:00:00 00:00:00, month 13, …
        return None


def _normalize_mode(image: Image.Image) -> tuple[Image.Image, bool]:
    """Bring the decoded image into L, LA, RGB, RGBA or CMYK for resampling.

    Returns:
        The image, and whether it was a palette or 1-bit image (line art such as a signature,
        which is kept as PNG).
    """
    mode = image.mode
    line_art = mode in ("1", "P", "PA")
    if mode == "I" or mode.startswith("I;16"):
        # 16-bit greyscale: convert("L") would clip everything above 255 to white; scale instead.
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    elif mode == "PA" or "transparency" in image.info:
        # Palette and colour-key transparency (PNG tRNS) become a real alpha channel, so that
        # resampling blends edges instead of picking palette entries.
        image = image.convert("RGBA")
    elif mode == "P":
        image = image.convert("RGB")
    elif mode == "1":
        image = image.convert("L")
    elif mode == "La":
        image = image.convert("LA")
    elif mode == "RGBa":
        image = image.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):
        image = image.convert("RGB")  # YCbCr, RGBX, F, …

    if image.mode in ("LA", "RGBA"):
        low, _high = image.getchannel("A").getextrema()
        if low == 255:
            # Canvas exports are RGBA even for opaque photos: an alpha channel nobody uses
            # would make a photo a large PNG instead of a JPEG.
            image = image.convert("L" if image.mode == "LA" else "RGB")
    return image, line_art


def _fit(image: Image.Image, max_side: int) -> Image.Image:
    """``image`` scaled so its longest side is at most ``max_side``; never enlarged."""
    width, height = image.size
    longest = max(width, height)
    if longest <= max_side:
        return image
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # reducing_gap: shrink by an integer factor first (fast), then Lanczos the rest; at 3 the
    # result is indistinguishable from a full Lanczos. RGBA/LA are resampled premultiplied, so
    # transparent pixels do not bleed dark fringes.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert colours to sRGB, since the embedded profile is not stored with the image.

    Phones often tag photos Display P3; dropping the profile without converting would make
    them look dull. CMYK always ends up RGB (browsers render CMYK JPEGs inconsistently).
    """
    if icc_profile and ImageCms is not None and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(
                image,
                source,
                _srgb_profile(),
                outputMode="RGBA" if image.mode == "RGBA" else "RGB",
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken or unusual profile: fall back to the plain numbers
        else:
            if converted is not None:
                return converted
    if image.mode == "CMYK":
        return image.convert("RGB")
    return image


@lru_cache(maxsize=1)
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _encode(image: Image.Image, *, as_png: bool) -> tuple[bytes, str]:
    """Encode without any metadata; returns the bytes and their content type."""
    # Pillow's savers fall back to image.info for the ICC profile, comments and XMP: start from
    # nothing so that no GPS position, device serial or profile leaves with the image.
    image.info = {}
    buffer = io.BytesIO()
    if as_png:
        image.save(buffer, "PNG", optimize=True)
        return buffer.getvalue(), _CONTENT_TYPES["PNG"]
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return buffer.getvalue(), _CONTENT_TYPES["JPEG"]
