"""Storing prepared images and serving them, shared by inspection photos and rectification photos."""

from __future__ import annotations

from typing import Any

from litestar import Response

from backend.errors import STORE_UNREADABLE, STORED_FILE_MISSING, NotFound, ServiceUnavailable
from backend.inspections.images import ProcessedImage
from backend.settings import Settings
from backend.storage import FileStore, get_file_store


async def store_image(
    store: FileStore, namespace: str, digest: str, image: ProcessedImage
) -> dict[str, Any]:
    """Write the display image and the thumbnail under content-addressed keys.

    Returns:
        The metadata columns of the photo row (content type, size, keys).
    """
    prefix = f"{namespace}/{digest[:2]}/{digest}"
    meta = {
        "content_type": image.display_content_type,
        "width": image.width,
        "height": image.height,
        "size_bytes": len(image.display),
        "storage_key": prefix + image.extension_for(image.display_content_type),
        "thumbnail_key": f"{prefix}.thumb{image.extension_for(image.thumbnail_content_type)}",
    }
    # Files before the row that names them: a crash in between leaves an unreferenced file
    # (reused by the retry), never a row pointing at nothing.
    await store.put(meta["storage_key"], image.display)
    await store.put(meta["thumbnail_key"], image.thumbnail)
    return meta


def thumbnail_type(key: str) -> str:
    """The content type of a stored thumbnail."""
    return "image/png" if key.endswith(".png") else "image/jpeg"


async def image_response(settings: Settings, key: str, content_type: str) -> Response[bytes]:
    """A stored image as an HTTP answer; an id always means the same bytes, so browsers keep it."""
    try:
        content = await get_file_store(settings).get(key)
    except FileNotFoundError as exc:
        # The row stands but its file is gone (a lost disk, a restore whose photos were not
        # copied back): said plainly, never a 500.
        raise NotFound(STORED_FILE_MISSING) from exc
    except OSError as exc:
        raise ServiceUnavailable(STORE_UNREADABLE) from exc
    return Response(
        content=content,
        media_type=content_type,
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )
