"""The public verification token printed (as a QR code) on every issued notice.

A token is ``{notice id}.{nonce}.{signature}``, all URL-safe base64 without padding:

- the notice id (16 bytes), so the notice can be found;
- a random nonce (16 bytes) stored on the notice, so tokens can't be derived from ids even by
  someone who learned an id, and a notice's token can be replaced by drawing a new nonce;
- the first 16 bytes of HMAC-SHA256 over ``"notice-verify:" + id + nonce`` under the server's
  secret key, so nobody without the key can make a token that passes.

Verifying recomputes the signature (constant-time comparison) and checks the nonce against the
stored one: a forged, altered, truncated or unknown token gets the same "not found" answer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from uuid import UUID

_PURPOSE = b"notice-verify:"
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$")
VERIFY_PATH = "/verify"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_nonce() -> str:
    """A fresh nonce (128 bits) to store on a notice."""
    return _b64(secrets.token_bytes(16))


def _signature(secret_key: str, notice_id: UUID, nonce: bytes) -> bytes:
    mac = hmac.new(secret_key.encode(), _PURPOSE + notice_id.bytes + nonce, hashlib.sha256)
    return mac.digest()[:16]


def make_token(secret_key: str, notice_id: UUID, nonce: str) -> str:
    """The token for a notice with this stored nonce."""
    raw_nonce = _unb64(nonce)
    return ".".join(
        (_b64(notice_id.bytes), nonce, _b64(_signature(secret_key, notice_id, raw_nonce)))
    )


def parse_token(secret_key: str, token: str) -> tuple[UUID, str] | None:
    """The notice id and nonce of a correctly signed token, or None.

    The caller still has to check that the notice exists and holds this nonce.
    """
    if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
        return None
    id_part, nonce, signature = token.split(".")
    try:
        notice_id = UUID(bytes=_unb64(id_part))
        raw_nonce = _unb64(nonce)
        given = _unb64(signature)
    except (ValueError, binascii.Error):
        return None
    if (
        len(raw_nonce) != 16
        or len(given) != 16
        or (_b64(notice_id.bytes), _b64(raw_nonce), _b64(given)) != (id_part, nonce, signature)
    ):
        # Base64's last character carries unused bits: another spelling of the same bytes is
        # still an altered token, not one we made.
        return None
    if not hmac.compare_digest(given, _signature(secret_key, notice_id, raw_nonce)):
        return None
    return notice_id, nonce


def verify_url(base_url: str, token: str) -> str:
    """``{base_url}/verify/{token}``: what the notice's QR code holds."""
    return f"{base_url.rstrip('/')}{VERIFY_PATH}/{token}"


async def lookup(secret_key: str, token: str) -> dict[str, object] | None:
    """What the public may learn from a token: the notice's number, institution name, issue
    date and status; None for a forged, altered or unknown token, or a notice not issued."""
    from backend.china_time import today_in_china
    from backend.rectification.tables import NoticeStatus, RectificationNotice

    parsed = parse_token(secret_key, token)
    if parsed is None:
        return None
    notice_id, nonce = parsed
    row = (
        await RectificationNotice.select(
            RectificationNotice.number,
            RectificationNotice.status,
            RectificationNotice.issued_at,
            RectificationNotice.verify_nonce,
            RectificationNotice.institution.name.as_alias("institution_name"),
        )
        .where(RectificationNotice.id == notice_id)
        .first()
    )
    if (
        row is None
        or row["verify_nonce"] is None
        or not hmac.compare_digest(row["verify_nonce"], nonce)
        or row["status"] == NoticeStatus.draft.value
        or row["issued_at"] is None
    ):
        return None
    return {
        "number": row["number"],
        "institution_name": row["institution_name"],
        "issue_date": today_in_china(row["issued_at"]),
        "status": row["status"],
    }
