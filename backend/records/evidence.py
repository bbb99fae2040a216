"""The evidence ZIP of an inspection: what a court or the inspected institution can check alone.

Contents: ``record.json`` (exactly the signed bytes), ``signature.json`` (digest, signature,
key id, algorithm, sealed_at), ``public_key.pem`` (for convenience: compare it with the key
published at ``/public/signing-key``), every photo and signature image the record names as
``photos/<sha256>.<ext>``, ``notice.pdf`` when a 整改通知书 was issued, and ``README.txt``.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from anyio import to_thread

from backend.inspections.tables import Photo
from backend.records.canonical import photo_hashes
from backend.records.keys import signing_key
from backend.settings import Settings
from backend.storage import get_file_store

_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

README = """本压缩包为一次现场检查的电子记录及其签名，可独立核验（无需本系统）：
1. record.json 的 SHA-256 应等于 signature.json 中的 digest；
2. signature.json 中的 signature 为对 record.json 原始字节的 Ed25519 签名，公钥见
   医保局公布的 /public/signing-key（本包内 public_key.pem 仅供对照，应与公布的公钥一致）；
3. photos/ 下每个文件的 SHA-256 应等于其文件名，并出现在 record.json 中。
核验方法见本系统文档 docs/evidence.md。
"""


def signature_json(seal: dict[str, Any]) -> bytes:
    """``signature.json`` of a seal."""
    body = {
        "digest": seal["digest"],
        "signature": seal["signature"],
        "key_id": seal["key_id"],
        "algorithm": seal["algorithm"],
        "sealed_at": seal["sealed_at"].isoformat(),
    }
    return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


async def build_zip(settings: Settings, seal: dict[str, Any], notice_pdf: bytes | None) -> bytes:
    """The ZIP's bytes for an inspection's latest seal."""
    store = get_file_store(settings)
    record = json.loads(seal["record"])
    wanted = photo_hashes(record)
    files: list[tuple[str, bytes]] = []
    if wanted:
        from uuid import UUID

        rows = await Photo.select(Photo.id, Photo.storage_key, Photo.content_type).where(
            Photo.id.is_in([UUID(i) for i in wanted])
        )
        seen: set[str] = set()
        for r in rows:
            digest = wanted.get(str(r["id"]))
            if not digest or digest in seen:
                continue
            seen.add(digest)
            try:
                data = await store.get(r["storage_key"])
            except FileNotFoundError:
                continue  # the check then names it as missing
            files.append((f"photos/{digest}.{_EXT.get(r['content_type'], 'bin')}", data))

    def write() -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("record.json", seal["record"].encode("utf-8"))
            z.writestr("signature.json", signature_json(seal))
            z.writestr("public_key.pem", signing_key(settings).public_key_pem)
            z.writestr("README.txt", README)
            for name, data in sorted(files):
                # Images are compressed already: stored as they are.
                z.writestr(name, data, compress_type=zipfile.ZIP_STORED)
            if notice_pdf is not None:
                z.writestr("notice.pdf", notice_pdf, compress_type=zipfile.ZIP_STORED)
        return out.getvalue()

    return await to_thread.run_sync(write)
