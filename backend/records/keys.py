"""The deployment's Ed25519 signing key, kept like the secret key.

| variable | meaning |
|---|---|
| ``YIBAO_SIGNING_KEY_FILE`` | path of a PEM file holding the Ed25519 private key (PKCS#8) |
| ``YIBAO_SIGNING_KEY`` | the same PEM text given as a value |

In development, when neither is set, a key is generated once into ``{DATA_DIR}/signing_key.pem``
(mode 0600), so seals survive restarts but no two installations share a key. In production one
of the two is required: a key that silently changed with the data folder would make every
earlier seal unverifiable.

The key id is the first 16 hex characters of the SHA-256 of the raw 32-byte public key, so
anyone holding the published key can recompute it.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from backend.settings import Settings, SettingsError

ALGORITHM = "Ed25519"


@dataclass(frozen=True)
class SigningKey:
    """The private key, its public half as PEM and its id."""

    private: Ed25519PrivateKey
    key_id: str
    public_key_pem: str

    def sign(self, data: bytes) -> str:
        """The base64 Ed25519 signature over ``data``."""
        return base64.b64encode(self.private.sign(data)).decode("ascii")

    @property
    def public(self) -> Ed25519PublicKey:
        """The public half."""
        return self.private.public_key()


def key_id_of(public: Ed25519PublicKey) -> str:
    """The id of a public key: SHA-256 of its 32 raw bytes, first 16 hex characters."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    """The public key as SubjectPublicKeyInfo PEM (what ``openssl pkeyutl`` reads)."""
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_pem(text: str | bytes) -> Ed25519PublicKey:
    """A published public key back from PEM.

    Raises:
        ValueError: not an Ed25519 public key.
    """
    key = serialization.load_pem_public_key(text.encode() if isinstance(text, str) else text)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def verify_signature(public: Ed25519PublicKey, data: bytes, signature_b64: str) -> bool:
    """Whether ``signature_b64`` is a valid Ed25519 signature over ``data``."""
    try:
        public.verify(base64.b64decode(signature_b64, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def _parse_private(pem: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"{where} is not a readable PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingsError(f"{where} must hold an Ed25519 private key")
    return key


def _private_key(settings: Settings) -> Ed25519PrivateKey:
    path = os.environ.get("YIBAO_SIGNING_KEY_FILE", "").strip()
    value = os.environ.get("YIBAO_SIGNING_KEY", "").strip()
    if path:
        try:
            return _parse_private(Path(path).expanduser().read_bytes(), "YIBAO_SIGNING_KEY_FILE")
        except OSError as exc:
            raise SettingsError(f"YIBAO_SIGNING_KEY_FILE cannot be read: {exc}") from None
    if value:
        return _parse_private(value.encode(), "YIBAO_SIGNING_KEY")
    if settings.env == "production":
        raise SettingsError(
            "YIBAO_SIGNING_KEY_FILE (or YIBAO_SIGNING_KEY) must be set in production: the Ed25519 "
            "key that seals inspection records (openssl genpkey -algorithm ed25519 -out key.pem)"
        )
    # Development: one key per data folder.
    file = settings.data_dir / "signing_key.pem"
    if file.exists():
        return _parse_private(file.read_bytes(), str(file))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Create with 0600 from the start: the key is never readable by others, even briefly.
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


@lru_cache(maxsize=4)
def signing_key(settings: Settings) -> SigningKey:
    """The deployment's signing key (read once per settings).

    Raises:
        SettingsError: production without a key, or a key that is not Ed25519.
    """
    private = _private_key(settings)
    public = private.public_key()
    return SigningKey(private=private, key_id=key_id_of(public), public_key_pem=public_pem(public))
