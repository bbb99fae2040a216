"""Record ids the server makes itself, in the form the tablets make theirs.

A UUID version 7 (RFC 9562): the millisecond it was made, then 74 random bits. Ids made one after
another sort together, so a table's key index grows at its end instead of taking each new row at
a random page of an index larger than the cache (docs/benchmarks.md: the million-finding curve);
the random bits keep ids made in the same millisecond, here or on a tablet, apart.
"""

from __future__ import annotations

import os
import time
from uuid import UUID

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0x2 << 62
_KEEP = ~((0xF << 76) | (0x3 << 62))


def uuid7(at_ms: int | None = None) -> UUID:
    """A new time-ordered UUID (version 7); ``at_ms``: its time in Unix milliseconds (now)."""
    ms = time.time_ns() // 1_000_000 if at_ms is None else at_ms
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10), "big")
    return UUID(int=value & _KEEP | _VERSION_7 | _VARIANT_RFC)
