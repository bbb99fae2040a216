"""Building realistic pushes: assignments, complete answers, photos and signatures."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from PIL import Image

from backend.institutions.tables import Institution


async def institution_id(code: str) -> str:
    row = await Institution.select(Institution.id).where(Institution.code == code).first()
    assert row is not None, code
    return str(row["id"])


async def user_id(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return (await client.get("/api/auth/me", headers=headers)).json()["id"]


async def new_assignment(
    client: httpx.AsyncClient,
    supervisor: dict[str, str],
    institution_code: str,
    inspector_ids: list[str],
    checklist_id: str = "pharmacy-routine",
) -> dict[str, Any]:
    """A fresh assignment (each test gets its own, so tests don't share inspections)."""
    response = await client.post(
        "/api/assignments",
        json={
            "institution_id": await institution_id(institution_code),
            "checklist_id": checklist_id,
            "window_start": str(date.today()),
            "window_end": str(date.today() + timedelta(days=5)),
            "inspector_ids": inspector_ids,
        },
        headers=supervisor,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def bundle_checklist(client: httpx.AsyncClient, headers: dict[str, str], version_id: str) -> dict[str, Any]:
    bundle = (await client.get("/api/sync/bundle", headers=headers)).json()
    return next(c for c in bundle["checklists"] if c["version_id"] == version_id)


def now_iso(offset_s: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=offset_s)).isoformat()


def answer(item: dict[str, Any], result: str, **extra: Any) -> dict[str, Any]:
    """One finding for an item, with counts that fit its mode."""
    finding: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "item": item["id"],
        "result": result,
        "client_updated_at": now_iso(),
        "client_revision": 1,
    }
    if item["mode"] == "sample" and result != "na":
        # At least the item's minimum sample (version 2 asks 20 records of most sample items).
        sampled = max(10, item.get("min_sampled") or 0)
        finding.update(sampled=sampled, failed=0 if result == "pass" else 2)
    finding.update(extra)
    return finding


def items_of(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for section in content["sections"] for item in section["items"]]


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (640, 480)) -> bytes:
    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def signature_png(seed: int = 0) -> bytes:
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    for x in range(50, 550):
        image.putpixel((x, 100 + (x * (seed + 1)) % 40), (0, 0, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    assignment_id: str,
    inspection_id: str,
    data: bytes,
    *,
    kind: str = "evidence",
    item_id: str | None = None,
    signer: str | None = None,
    photo_id: str | None = None,
    sha256: str | None = None,
    filename: str = "photo.jpg",
) -> httpx.Response:
    fields = {
        "id": photo_id or str(uuid.uuid4()),
        "sha256": sha256 or hashlib.sha256(data).hexdigest(),
        "assignment_id": assignment_id,
        "inspection_id": inspection_id,
        "kind": kind,
    }
    if item_id:
        fields["item_id"] = item_id
    if signer:
        fields["signer"] = signer
    return await client.post(
        "/api/photos", data=fields, files={"file": (filename, data, "application/octet-stream")}, headers=headers
    )


async def complete_inspection(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    assignment: dict[str, Any],
    *,
    fail: dict[str, dict[str, Any]] | None = None,
    na: set[str] = frozenset(),  # type: ignore[assignment]
    inspection_id: str | None = None,
    submit: bool = True,
) -> dict[str, Any]:
    """A whole inspection record with photos for every item that needs one, and signatures.

    Uploads the photos first, as the tablet does, and returns the record to push.
    """
    fail = fail or {}
    inspection_id = inspection_id or str(uuid.uuid4())
    checklist = await bundle_checklist(client, headers, assignment["checklist"]["version_id"])
    findings = []
    for n, item in enumerate(items_of(checklist["content"])):
        if item["id"] in na:
            findings.append(answer(item, "na"))
            continue
        result = "fail" if item["id"] in fail else "pass"
        finding = answer(item, result, **fail.get(item["id"], {}))
        evidence = item.get("evidence", "none")
        if evidence == "photo_always" or (evidence == "photo_on_fail" and result == "fail"):
            photo = await upload(
                client, headers, assignment["id"], inspection_id, jpeg_bytes(n), item_id=item["id"]
            )
            assert photo.status_code == 201, photo.text
            finding["photo_ids"] = [photo.json()["id"]]
        findings.append(finding)
    signatures = []
    # The representative and two inspectors of the team (条例第二十九条: not fewer than two).
    signers = [("representative", None, "王店长")] + [
        ("inspector", p["id"], p["display_name"] or p["username"])
        for p in assignment["inspectors"][:2]
    ]
    for seed, (signer, signer_id, name) in enumerate(signers, start=1):
        photo = await upload(
            client, headers, assignment["id"], inspection_id, signature_png(seed),
            kind="signature", signer=signer, filename="sig.png",
        )
        assert photo.status_code == 201, photo.text
        signature = {"photo_id": photo.json()["id"], "signer": signer, "name": name}
        if signer_id:
            signature["user_id"] = signer_id
        signatures.append(signature)
    return {
        "id": inspection_id,
        "assignment_id": assignment["id"],
        "checklist_id": checklist["checklist_id"],
        "checklist_version": checklist["version"],
        "checklist_hash": checklist["content_hash"],
        "client_revision": 3,
        "client_updated_at": now_iso(),
        "started_at": now_iso(-3600),
        "representative_name": "王店长",
        "signatures": signatures,
        "findings": findings,
        "submit": submit,
    }


async def push(
    client: httpx.AsyncClient, headers: dict[str, str], records: list[dict[str, Any]], device: str = "tablet-1"
) -> httpx.Response:
    return await client.post(
        "/api/sync", json={"device_id": device, "inspections": records}, headers=headers
    )
