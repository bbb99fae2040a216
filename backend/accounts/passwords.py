"""Password hashing with argon2 (pwdlib's recommended parameters).

A hash or a verify costs about 90 ms of CPU: callers on the event loop use the async variants,
which run in a worker thread so that one login does not stall every other request.
"""

from __future__ import annotations

from functools import lru_cache

from litestar.concurrency import sync_to_thread
from pwdlib import PasswordHash

MIN_PASSWORD_LENGTH = 8


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Check a password against a stored hash."""
    return _hasher().verify(password, password_hash)


async def hash_password_async(password: str) -> str:
    """:func:`hash_password` off the event loop."""
    return await sync_to_thread(hash_password, password)


async def verify_password_async(password: str, password_hash: str) -> bool:
    """:func:`verify_password` off the event loop."""
    return await sync_to_thread(verify_password, password, password_hash)
