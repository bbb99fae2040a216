"""Server-made record ids: UUID version 7, ordered by the millisecond they were made."""

from __future__ import annotations

import time
import uuid

from backend.ids import uuid7


def test_uuid7_is_a_version_7_rfc_uuid_carrying_its_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid7()
    after = time.time_ns() // 1_000_000
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after
    assert str(uuid.UUID(str(made))) == str(made)


def test_uuid7_sorts_by_time_as_text_and_as_bytes_and_never_repeats() -> None:
    earlier = [uuid7(1_700_000_000_000 + k) for k in range(500)]
    assert sorted(earlier, key=str) == earlier  # SQLite keeps them as text
    assert sorted(earlier, key=lambda u: u.bytes) == earlier  # PostgreSQL's uuid compares bytes
    same_ms = {uuid7(1_700_000_000_000) for _ in range(10_000)}
    assert len(same_ms) == 10_000  # 74 random bits keep ids of one millisecond apart
    assert uuid7(0).int >> 80 == 0
