"""API schemas of sealed records (written by hand)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SealOut(BaseModel):
    """The current seal of a submitted inspection."""

    digest: str = Field(description="SHA-256 hex of record.json")
    short_digest: str = Field(description="the digest's first 16 hex characters (printed)")
    signature: str = Field(description="base64 Ed25519 signature over the bytes of record.json")
    key_id: str
    algorithm: str = "Ed25519"
    sealed_at: datetime


class SigningKeyOut(BaseModel):
    """The deployment's public signing key, for anyone to check seals and exports."""

    key_id: str
    algorithm: str = "Ed25519"
    public_key_pem: str
