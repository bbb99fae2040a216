"""POST /api/photos and GET /api/photos/{id}: idempotent uploads, content checks, privacy, access.

Every image is made here with Pillow; most carry random pixels so that no other test (which may
have uploaded the same bytes) turns an upload into a reuse of stored files.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import struct
import uuid
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from backend.accounts.tables import User
from backend.inspections import photos as photos_module
from backend.inspections.tables import Photo
from tests.inspections.helpers import (
    complete_inspection,
    new_assignment,
    push,
    signature_png,
    user_id,
)

PHARMACY = "P37100200001"  # 威海百草大药房环翠店 (环翠区), manager.pharmacy's institution

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
ORIENTATION = 0x0112
DATETIME_ORIGINAL = 0x9003


# --- images ----------------------------------------------------------------------------------------


def encode(image: Image.Image, image_format: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def unique_jpeg(size: tuple[int, int] = (320, 240)) -> bytes:
    """A JPEG no other test has uploaded: a gradient with a patch of random pixels."""
    image = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(size),
            Image.radial_gradient("L").resize(size),
            Image.linear_gradient("L").rotate(90).resize(size),
        ),
    )
    patch = Image.frombytes("RGB", (32, 32), os.urandom(32 * 32 * 3))
    image.paste(patch, (0, 0))
    return encode(image, "JPEG", quality=90)


def camera_jpeg(size: tuple[int, int]) -> bytes:
    """A photo as a tablet camera writes it: turned by EXIF orientation 6, with GPS and times."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "HUAWEI"  # Make
    exif[0x0110] = "MatePad 11"  # Model
    exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = "2025:03:14 09:26:53"
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (37.0, 30.0, 15.0)
    gps[3] = "E"
    gps[4] = (122.0, 7.0, 30.0)
    image = Image.open(io.BytesIO(unique_jpeg(size)))
    return encode(image, "JPEG", quality=85, exif=exif)


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` RGB pixels."""

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


# --- requests ------------------------------------------------------------------------------------


async def send(
    client: httpx.AsyncClient,
    headers: dict[str, str] | None,
    assignment: dict[str, Any],
    data: bytes,
    *,
    photo_id: str | None = None,
    sha256: str | None = None,
    inspection_id: str | None = None,
    kind: str = "evidence",
    signer: str | None = None,
    item_id: str | None = "signage.complaint",
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    captured_at: str | None = None,
) -> httpx.Response:
    """One multipart upload; the claimed file name and content type are the client's word."""
    fields = {
        "id": photo_id or str(uuid.uuid4()),
        "sha256": hashlib.sha256(data).hexdigest() if sha256 is None else sha256,
        "assignment_id": assignment["id"],
        "inspection_id": inspection_id or assignment["inspection_id"],
        "kind": kind,
    }
    if item_id and kind == "evidence":
        fields["item_id"] = item_id
    if signer:
        fields["signer"] = signer
    if captured_at:
        fields["captured_at"] = captured_at
    return await client.post(
        "/api/photos",
        data=fields,
        files={"file": (filename, data, content_type)},
        headers=headers or {},
    )


def stored_files(data_dir: Path) -> set[Path]:
    root = data_dir / "files"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


class Snapshot:
    """Photo rows and stored files, to show that a refused upload changed nothing."""

    def __init__(self, rows: int, files: set[Path]) -> None:
        self.rows = rows
        self.files = files

    @classmethod
    async def take(cls, data_dir: Path) -> Snapshot:
        return cls(await Photo.count(), stored_files(data_dir))

    async def assert_unchanged(self, data_dir: Path) -> None:
        assert await Photo.count() == self.rows
        assert stored_files(data_dir) == self.files


@pytest.fixture
async def team(client: httpx.AsyncClient, login) -> dict[str, Any]:
    a, b = await login("inspector"), await login("inspector2")
    return {"a": a, "b": b, "ids": [await user_id(client, a), await user_id(client, b)]}


@pytest.fixture
async def assignment(client: httpx.AsyncClient, login, team: dict[str, Any]) -> dict[str, Any]:
    """A fresh assignment of the 环翠 pair at PHARMACY, with the id its inspection will have."""
    created = await new_assignment(client, await login("supervisor"), PHARMACY, team["ids"])
    return {**created, "inspection_id": str(uuid.uuid4())}


def detail(response: httpx.Response) -> str:
    return response.json()["detail"]


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# --- idempotency -----------------------------------------------------------------------------------


async def test_the_same_upload_twice_stores_one_row_and_one_set_of_files(
    client: httpx.AsyncClient, team: dict[str, Any], assignment: dict[str, Any], data_dir: Path
) -> None:
    data = unique_jpeg()
    photo_id = str(uuid.uuid4())
    rows_before, files_before = await Photo.count(), stored_files(data_dir)

    first = await send(client, team["a"], assignment, data, photo_id=photo_id)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["id"] == photo_id and body["content_type"] == "image/jpeg"
    assert body["url"] == f"/api/photos/{photo_id}"
    assert await Photo.count() == rows_before + 1
    files_after_first = stored_files(data_dir)
    assert len(files_after_first - files_before) == 2  # display image and thumbnail

    # The tablet never saw the answer and sends it again (the other tablet of the team, too).
    for headers in (team["a"], team["b"]):
        again = await send(client, headers, assignment, data, photo_id=photo_id)
        assert again.status_code == 200, again.text
        assert again.json() == body
    assert await Photo.count() == rows_before + 1
    assert stored_files(data_dir) == files_after_first

    # The same bytes under another id (the same picture attached to a second item): a new row,
    # the stored files are reused.
    twin = await send(client, team["a"], assignment, data, item_id="signage.notice")
    assert twin.status_code == 201, twin.text
    assert twin.json()["id"] != photo_id
    assert await Photo.count() == rows_before + 2
    assert stored_files(data_dir) == files_after_first
    keys = await Photo.select(Photo.storage_key, Photo.thumbnail_key).where(
        Photo.id.is_in([uuid.UUID(photo_id), uuid.UUID(twin.json()["id"])])
    )
    assert len({(k["storage_key"], k["thumbnail_key"]) for k in keys}) == 1


async def test_an_upload_cut_short_is_refused_and_the_retry_succeeds(
    client: httpx.AsyncClient, team: dict[str, Any], assignment: dict[str, Any], data_dir: Path
) -> None:
    data = unique_jpeg((640, 480))
    full_sha = hashlib.sha256(data).hexdigest()
    photo_id = str(uuid.uuid4())
    before = await Snapshot.take(data_dir)

    cut = await send(
        client, team["a"], assignment, data[: len(data) // 2], photo_id=photo_id, sha256=full_sha
    )
    assert cut.status_code == 422, cut.text
    assert is_chinese(detail(cut)) and "校验" in detail(cut)
    await before.assert_unchanged(data_dir)

    # The refused attempt left nothing behind that blocks the id: the whole upload goes through
    # (never "this id already exists with different content").
    whole = await send(client, team["a"], assignment, data, photo_id=photo_id, sha256=full_sha)
    assert whole.status_code == 201, whole.text


@pytest.mark.parametrize(
    "sha256",
    ["abc", "g" * 64, "0" * 63, "0" * 65, " " + "0" * 63, ""],
    ids=["short", "not-hex", "63-digits", "65-digits", "space", "empty"],
)
async def test_a_malformed_sha256_is_422(
    client: httpx.AsyncClient,
    team: dict[str, Any],
    assignment: dict[str, Any],
    data_dir: Path,
    sha256: str,
) -> None:
    before = await Snapshot.take(data_dir)
    response = await send(client, team["a"], assignment, unique_jpeg(), sha256=sha256)
    assert response.status_code == 422, response.text
    assert is_chinese(detail(response))
    await before.assert_unchanged(data_dir)


async def test_an_uppercase_sha256_is_the_same_checksum(
    client: httpx.AsyncClient, team: dict[str, Any], assignment: dict[str, Any]
) -> None:
    data = unique_jpeg()
    photo_id = str(uuid.uuid4())
    upper = hashlib.sha256(data).hexdigest().upper()
    first = await send(client, team["a"], assignment, data, photo_id=photo_id, sha256=upper)
    assert first.status_code == 201, first.text
    again = await send(client, team["a"], assignment, data, photo_id=photo_id)
    assert again.status_code == 200, again.text


async def test_the_same_id_with_other_content_is_409(
    client: httpx.AsyncClient, team: dict[str, Any], assignment: dict[str, Any], data_dir: Path
) -> None:
    photo_id = str(uuid.uuid4())
    first = await send(client, team["a"], assignment, unique_jpeg(), photo_id=photo_id)
    assert first.status_code == 201, first.text
    stored = await Photo.select(Photo.sha256).where(Photo.id == photo_id).first()
    before = await Snapshot.take(data_dir)

    other = await send(client, team["a"], assignment, unique_jpeg(), photo_id=photo_id)
    assert other.status_code == 409, other.text
    assert is_chinese(detail(other))
    await before.assert_unchanged(data_dir)
    assert await Photo.select(Photo.sha256).where(Photo.id == photo_id).first() == stored


async def test_the_same_id_for_another_assignment_is_409(
    client: httpx.AsyncClient,
    login,
    team: dict[str, Any],
    assignment: dict[str, Any],
) -> None:
    data = unique_jpeg()
    photo_id = str(uuid.uuid4())
    assert (await send(client, team["a"], assignment, data, photo_id=photo_id)).status_code == 201
    second = await new_assignment(client, await login("supervisor"), PHARMACY, team["ids"])
    second = {**second, "inspection_id": str(uuid.uuid4())}
    response = await send(client, team["a"], second, data, photo_id=photo_id)
    assert response.status_code == 409, response.text


# --- content checks ----------------------------------------------------------------------------------


def _gif() -> bytes:
    return encode(Image.new("P", (64, 64), 3), "GIF")


def _bmp() -> bytes:
    return encode(Image.new("RGB", (64, 64), (200, 10, 10)), "BMP")


def _html() -> bytes:
    return "<!DOCTYPE html><html><body><script>alert('x')</script>照片</body></html>".encode()


def _text() -> bytes:
    return "这不是图片，只是一个改了扩展名的文本文件。\n".encode()


@pytest.mark.parametrize(
    ("make", "filename"),
    [(_gif, "photo.jpg"), (_bmp, "photo.jpg"), (_html, "photo.jpg"), (_text, "photo.png")],
    ids=["gif", "bmp", "html", "text"],
)
async def test_files_that_are_not_jpeg_png_or_webp_are_415_whatever_their_name(
    client: httpx.AsyncClient,
    team: dict[str, Any],
    assignment: dict[str, Any],
    data_dir: Path,
    make: Any,
    filename: str,
) -> None:
    before = await Snapshot.take(data_dir)
    response = await send(
        client, team["a"], assignment, make(), filename=filename, content_type="image/jpeg"
    )
    assert response.status_code == 415, response.text
    assert is_chinese(detail(response))
    await before.assert_unchanged(data_dir)


async def test_a_truncated_jpeg_with_its_own_checksum_is_422(
    client: httpx.AsyncClient, team: dict[str, Any], assignment: dict[str, Any], data_dir: Path
) -> None:
    data = unique_jpeg((800, 600))
    cut = data[: len(data) * 2 // 3]
    assert cut.startswith(b"\xff\xd8\xff")
    before = await Snapshot.take(data_dir)
    response = await send(client, team["a"], assignment, cut)  # sha256 of the cut bytes
    assert response.status_code == 422, response.text
    assert "损坏" in detail(response)
    await before.assert_unchanged(data_dir)


async def test_an_empty_file_is_422(
    client: httpx.AsyncClient, team: dict[str, Any], assignment: dict[str, Any], data_dir: Path
) -> None:
    before = await Snapshot.take(data_dir)
    response = await send(client, team["a"], assignment, b"")
    assert response.status_code == 422, response.text
    await before.assert_unchanged(data_dir)


async def test_a_file_over_the_byte_limit_is_413(
    client: httpx.AsyncClient,
    team: dict[str, Any],
    assignment: dict[str, Any],
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = unique_jpeg((640, 480))
    monkeypatch.setenv("YIBAO_PHOTO_MAX_BYTES", str(len(data) - 1))
    before = await Snapshot.take(data_dir)
    response = await send(client, team["a"], assignment, data)
    assert response.status_code == 413, response.text
    assert "过大" in detail(response)
    await before.assert_unchanged(data_dir)

    monkeypatch.setenv("YIBAO_PHOTO_MAX_BYTES", str(len(data)))  # exactly at the limit
    assert (await send(client, team["a"], assignment, data)).status_code == 201


async def test_a_decompression_bomb_is_413(
    client: httpx.AsyncClient, team: dict[str, Any], assignment: dict[str, Any], data_dir: Path
) -> None:
    bomb = png_bomb()
    assert len(bomb) < 200
    before = await Snapshot.take(data_dir)
    response = await send(
        client, team["a"], assignment, bomb, filename="sig.png", content_type="image/png"
    )
    assert response.status_code == 413, response.text
    assert "像素" in detail(response)
    await before.assert_unchanged(data_dir)


async def test_too_many_pixels_below_pillows_own_limit_is_413(
    client: httpx.AsyncClient,
    team: dict[str, Any],
    assignment: dict[str, Any],
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("YIBAO_PHOTO_MAX_PIXELS", str(320 * 240 - 1))
    before = await Snapshot.take(data_dir)
    response = await send(client, team["a"], assignment, unique_jpeg((320, 240)))
    assert response.status_code == 413, response.text
    assert "320×240" in detail(response)
    await before.assert_unchanged(data_dir)


# --- what is stored -------------------------------------------------------------------------------


async def test_exif_is_applied_then_dropped_and_sizes_are_bounded(
    client: httpx.AsyncClient, team: dict[str, Any], assignment: dict[str, Any]
) -> None:
    data = camera_jpeg((3000, 1200))  # landscape pixels, EXIF says: turn it upright (portrait)
    source = reopen(data)
    assert source.getexif().get_ifd(GPS_IFD)  # the upload does carry a position

    response = await send(client, team["a"], assignment, data)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["captured_at"].startswith("2025-03-14T09:26:53")  # from DateTimeOriginal
    assert (body["width"], body["height"]) == (round(1200 * 2048 / 3000), 2048)

    shown = await client.get(body["url"], headers=team["a"])
    assert shown.status_code == 200
    assert shown.headers["content-type"].startswith("image/jpeg")
    image = reopen(shown.content)
    assert image.format == "JPEG"
    assert len(image.getexif()) == 0  # no orientation, no GPS, no camera, no times
    assert "exif" not in image.info and "icc_profile" not in image.info
    assert b"HUAWEI" not in shown.content and b"Exif" not in shown.content
    assert image.height > image.width  # turned upright
    assert max(image.size) <= 2048
    assert image.size == (body["width"], body["height"])

    thumb = await client.get(body["thumbnail_url"], headers=team["a"])
    assert thumb.status_code == 200
    small = reopen(thumb.content)
    assert len(small.getexif()) == 0
    assert max(small.size) <= 320 and small.height > small.width


async def test_a_capture_time_sent_by_the_tablet_wins_over_exif(
    client: httpx.AsyncClient, team: dict[str, Any], assignment: dict[str, Any]
) -> None:
    response = await send(
        client,
        team["a"],
        assignment,
        camera_jpeg((400, 300)),
        captured_at="2026-01-02T03:04:05+08:00",
    )
    assert response.status_code == 201, response.text
    assert response.json()["captured_at"].startswith("2026-01-0")  # not 2025-03-14 from EXIF


async def test_a_signature_with_transparency_stays_png(
    client: httpx.AsyncClient, team: dict[str, Any], assignment: dict[str, Any]
) -> None:
    source = Image.open(io.BytesIO(signature_png(7)))
    source.putpixel((1, 1), (1, 2, 3, 255))  # unique bytes
    source.paste(Image.frombytes("RGBA", (8, 8), os.urandom(8 * 8 * 4)), (590, 190))
    data = encode(source, "PNG")
    response = await send(
        client,
        team["a"],
        assignment,
        data,
        kind="signature",
        signer="representative",
        filename="sig.png",
        content_type="image/png",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "image/png" and body["kind"] == "signature"
    for url in (body["url"], body["thumbnail_url"]):
        got = await client.get(url, headers=team["a"])
        assert got.headers["content-type"].startswith("image/png")
        image = reopen(got.content)
        assert image.format == "PNG" and image.mode in {"RGBA", "LA"}
        assert image.getchannel("A").getextrema()[0] == 0  # the background is still transparent


async def test_a_signature_needs_its_signer(
    client: httpx.AsyncClient, team: dict[str, Any], assignment: dict[str, Any], data_dir: Path
) -> None:
    before = await Snapshot.take(data_dir)
    response = await send(
        client, team["a"], assignment, signature_png(3), kind="signature", filename="sig.png"
    )
    assert response.status_code == 422, response.text
    await before.assert_unchanged(data_dir)


# --- who may upload and see ------------------------------------------------------------------------


async def test_only_the_assignments_team_may_upload(
    client: httpx.AsyncClient, login, assignment: dict[str, Any], data_dir: Path
) -> None:
    data = unique_jpeg()
    before = await Snapshot.take(data_dir)
    other_county = await send(client, await login("inspector3"), assignment, data)
    assert other_county.status_code == 404, other_county.text
    for username in ("supervisor", "supervisor.huancui", "manager.pharmacy", "admin"):
        response = await send(client, await login(username), assignment, data)
        assert response.status_code == 403, (username, response.text)
    anonymous = await send(client, None, assignment, data)
    assert anonymous.status_code == 401, anonymous.text
    await before.assert_unchanged(data_dir)


async def test_an_unknown_assignment_is_404(
    client: httpx.AsyncClient, team: dict[str, Any], data_dir: Path
) -> None:
    before = await Snapshot.take(data_dir)
    ghost = {"id": str(uuid.uuid4()), "inspection_id": str(uuid.uuid4())}
    response = await send(client, team["a"], ghost, unique_jpeg())
    assert response.status_code == 404, response.text
    await before.assert_unchanged(data_dir)


async def _manager_of(code: str) -> str:
    rows = await User.select(User.username).where(
        (User.role == "manager") & (User.institution.code == code)
    )
    assert len(rows) == 1, rows
    return rows[0]["username"]


async def test_who_may_see_a_photo_before_and_after_submission(
    client: httpx.AsyncClient,
    login,
    team: dict[str, Any],
    assignment: dict[str, Any],
    data_dir: Path,
) -> None:
    own_manager = await _manager_of(PHARMACY)
    assert own_manager == "manager.pharmacy"
    other_manager = await _manager_of("P37100300001")  # 文登区利民药店
    record = await complete_inspection(
        client, team["a"], assignment, inspection_id=assignment["inspection_id"]
    )
    photo_id = next(f["photo_ids"][0] for f in record["findings"] if f.get("photo_ids"))

    async def status(username: str | None, suffix: str = "") -> int:
        headers = await login(username) if username else {}
        return (await client.get(f"/api/photos/{photo_id}{suffix}", headers=headers)).status_code

    expected_before = {
        "inspector": 200,
        "inspector2": 200,
        "supervisor": 200,  # the city
        "supervisor.huancui": 200,  # the county
        "admin": 200,
        "inspector3": 404,  # another county
        own_manager: 404,  # not submitted yet
        other_manager: 404,
        "manager": 404,
        None: 401,
    }
    for suffix in ("", "/thumbnail"):
        got = {user: await status(user, suffix) for user in expected_before}
        assert got == expected_before, suffix

    response = await push(client, team["a"], [record])
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["inspection_status"] == "submitted"

    expected_after = {**expected_before, own_manager: 200}
    for suffix in ("", "/thumbnail"):
        got = {user: await status(user, suffix) for user in expected_after}
        assert got == expected_after, suffix
    unknown = await client.get(f"/api/photos/{uuid.uuid4()}", headers=team["a"])
    assert unknown.status_code == 404

    # After submission: a retried upload of a stored photo is still acknowledged (its answer may
    # have been lost), a new photo for the locked inspection is refused.
    before = await Snapshot.take(data_dir)
    signature = record["signatures"][0]["photo_id"]
    retry = await send(
        client,
        team["a"],
        assignment,
        signature_png(1),
        photo_id=signature,
        kind="signature",
        signer="representative",
        filename="sig.png",
        content_type="image/png",
    )
    assert retry.status_code == 200, retry.text
    late = await send(client, team["b"], assignment, unique_jpeg())
    assert late.status_code == 409, late.text
    assert "锁定" in detail(late)
    await before.assert_unchanged(data_dir)


# --- concurrency -----------------------------------------------------------------------------------


ON_POSTGRES = "YIBAO_DATABASE_URL" in os.environ  # set by conftest for YIBAO_TEST_DB=postgres


async def test_a_retry_racing_its_first_attempt_gets_200_not_500(
    client: httpx.AsyncClient,
    team: dict[str, Any],
    assignment: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tablet on a weak link retries while its first attempt is still being stored.

    Both requests are held at the start of their write transaction until the other arrives
    there too, which makes the race deterministic instead of a matter of luck.
    """
    real_transaction = photos_module.write_transaction
    # PostgreSQL lets both in (the second arrives once it has processed its image, however
    # slow the machine); SQLite's write lock admits one at a time, so the first goes on alone.
    hold_for = 30.0 if ON_POSTGRES else 0.5
    arrived: list[int] = []
    both_in = asyncio.Event()

    @contextlib.asynccontextmanager
    async def held_transaction() -> AsyncIterator[Any]:
        async with real_transaction() as txn:
            arrived.append(1)
            if len(arrived) >= 2:
                both_in.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(both_in.wait(), hold_for)
            yield txn

    monkeypatch.setattr(photos_module, "write_transaction", held_transaction)
    data = unique_jpeg((640, 480))
    photo_id = str(uuid.uuid4())
    rows_before = await Photo.count()
    responses = await asyncio.gather(
        *(send(client, team["a"], assignment, data, photo_id=photo_id) for _ in range(2))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 201], [r.text for r in responses]
    assert responses[0].json() == responses[1].json()
    assert await Photo.count() == rows_before + 1


async def test_a_photo_processed_while_the_inspection_is_submitted_is_refused(
    client: httpx.AsyncClient,
    team: dict[str, Any],
    assignment: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = await complete_inspection(
        client, team["a"], assignment, inspection_id=assignment["inspection_id"]
    )
    real_process = photos_module.process_image_async
    processing = asyncio.Event()
    submitted = asyncio.Event()

    async def slow_process(data: bytes, limits: Any) -> Any:
        processing.set()
        await asyncio.wait_for(submitted.wait(), 30)  # a large photo on a slow server
        return await real_process(data, limits)

    monkeypatch.setattr(photos_module, "process_image_async", slow_process)
    late = asyncio.create_task(send(client, team["b"], assignment, unique_jpeg()))
    await asyncio.wait_for(processing.wait(), 30)
    response = await push(client, team["a"], [record])
    assert response.json()["results"][0]["inspection_status"] == "submitted"
    submitted.set()
    answer = await late
    assert answer.status_code == 409, answer.text
    stored = (await client.get(f"/api/inspections/{record['id']}", headers=team["a"])).json()
    assert {p["id"] for p in stored["photos"]} == {
        *(p for f in record["findings"] for p in f.get("photo_ids", [])),
        *(s["photo_id"] for s in record["signatures"]),
    }
