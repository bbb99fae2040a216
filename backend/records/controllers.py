"""Sealed records over HTTP: the public signing key and an inspection's evidence ZIP."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from backend.accounts.auth import CurrentUser
from backend.errors import NotFound
from backend.inspections.reading import visible_inspection
from backend.inspections.tables import InspectionStatus
from backend.records import evidence
from backend.records.keys import ALGORITHM, signing_key
from backend.records.schemas import SigningKeyOut
from backend.records.seal import latest_seal
from backend.settings import Settings


class PublicSigningKeyController(Controller):
    """No login: the public half of the key that signs every sealed record."""

    path = "/public/signing-key"
    tags = ["公开核验"]
    opt = {"exclude_from_auth": True}

    @get("/", summary="检查记录签名公钥")
    async def signing_key(self, settings: NamedDependency[Settings]) -> SigningKeyOut:
        """``{"key_id", "algorithm": "Ed25519", "public_key_pem"}``."""
        key = signing_key(settings)
        return SigningKeyOut(key_id=key.key_id, algorithm=ALGORITHM, public_key_pem=key.public_key_pem)


async def _notice_pdf(
    request: Request[Any, Any, Any], user: CurrentUser, settings: Settings, inspection_id: UUID
) -> bytes | None:
    """The issued notice of the inspection as a PDF, or None (none issued, or no font)."""
    from anyio import to_thread

    from backend.rectification import documents, reading
    from backend.rectification.config import RectificationSettings
    from backend.rectification.tables import NoticeStatus, RectificationNotice
    from backend.storage import get_file_store

    row = (
        await RectificationNotice.select(RectificationNotice.id)
        .where(
            (RectificationNotice.inspection == inspection_id)
            & (RectificationNotice.status != NoticeStatus.draft.value)
        )
        .first()
    )
    if row is None:
        return None
    base_url = reading.public_base(
        RectificationSettings.from_env().public_base_url, str(request.base_url)
    )
    try:
        notice = await reading.notice_detail(
            user, row["id"], secret_key=settings.secret_key, base_url=base_url
        )
    except NotFound:
        return None
    data = await documents.gather(
        notice,
        get_file_store(settings),
        RectificationSettings.from_env().objection_working_days,
    )
    try:
        return await to_thread.run_sync(documents.render_pdf, data)
    except documents.FontMissing:
        return None


class EvidenceController(Controller):
    path = "/api/inspections"
    tags = ["现场检查"]

    @get(
        "/{inspection_id:uuid}/evidence.zip",
        summary="检查记录证据包（ZIP，可独立核验）",
        media_type="application/zip",
    )
    async def evidence_zip(
        self,
        request: Request[Any, Any, Any],
        inspection_id: FromPath[UUID],
        current_user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response[bytes]:
        """record.json (the signed bytes), signature.json, photos/<sha256>.<ext> and the issued
        notice's PDF. For whoever may see the inspection (its manager only once submitted);
        404 for a draft, which has no seal yet."""
        row = await visible_inspection(current_user, inspection_id)
        seal = await latest_seal(inspection_id)
        if row["status"] != InspectionStatus.submitted.value or seal is None:
            raise NotFound("该检查尚未提交，没有可导出的证据包")
        pdf = await _notice_pdf(request, current_user, settings, inspection_id)
        data = await evidence.build_zip(settings, seal, pdf)
        return Response(
            data,
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="evidence-{inspection_id}.zip"',
                "Cache-Control": "private, no-store",
            },
        )
