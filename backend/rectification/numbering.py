"""Notice numbers: ``{office short name}医保整改〔{year}〕{n}号``, gapless per office and year.

The issuing office is the bureau that organised the inspection (the planning supervisor's
region, see ``issuing._draft``). Without a regional organiser it is the institution's top-level
region (the city bureau: 威 for an institution in 环翠区) by default, or the institution's own
region with ``YIBAO_NOTICE_OFFICE=county``.

The next number comes from one statement on the counter row of ``(office, year)``::

    INSERT INTO rectification_counter (id, office, year, last) VALUES (…, …, …, 1)
    ON CONFLICT (office, year) DO UPDATE SET last = rectification_counter.last + 1
    RETURNING last

run inside the transaction that issues the notice. On PostgreSQL the updated row stays locked
until that transaction ends, so concurrent issuers (any number of workers) take numbers one after
the other; on SQLite the write transaction holds the whole database. A transaction that rolls back
takes its increment with it, so no number is ever skipped or used twice. (SQLite ≥ 3.35 for
``RETURNING``.)
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from backend.db import read_rows
from backend.errors import Conflict
from backend.institutions.tables import Region

_NEXT_SQL = (
    "INSERT INTO rectification_counter (id, office, year, last) VALUES ($1, $2, $3, 1) "
    "ON CONFLICT (office, year) DO UPDATE SET last = rectification_counter.last + 1 "
    "RETURNING last"
)
_TAKEN_SQL = "SELECT office FROM rectification_notice WHERE number = $1"


def format_number(office_short_name: str, year: int, seq: int) -> str:
    """E.g. ``威医保整改〔2026〕17号``."""
    return f"{office_short_name}医保整改〔{year}〕{seq}号"


async def region_chain(region_id: UUID) -> list[dict[str, Any]]:
    """The region and its ancestors, nearest first (each with id, name, parent and short name)."""
    chain: list[dict[str, Any]] = []
    seen: set[UUID] = set()
    current: UUID | None = region_id
    while current is not None and current not in seen:
        row = (
            await Region.select(
                Region.id, Region.code, Region.name, Region.parent, Region.office_short_name
            )
            .where(Region.id == current)
            .first()
        )
        if row is None:
            break
        seen.add(current)
        chain.append(row)
        current = row["parent"]
    return chain


async def region_row(region_id: UUID) -> dict[str, Any]:
    """One region as :func:`region_chain` gives it (the first of its chain, without the walk)."""
    row = (
        await Region.select(
            Region.id, Region.code, Region.name, Region.parent, Region.office_short_name
        )
        .where(Region.id == region_id)
        .first()
    )
    assert row is not None  # a foreign key: the region exists
    return row


async def issuing_office(institution_region: UUID, level: str) -> dict[str, Any]:
    """The region whose office issues and numbers the notice (see the module docstring)."""
    chain = await region_chain(institution_region)
    return chain[0] if level == "county" else chain[-1]


def bureau_name(office: dict[str, Any]) -> str:
    """The issuing bureau's full name, e.g. 威海市医疗保障局."""
    return f"{office['name']}医疗保障局"


async def next_seq(office_id: UUID, year: int) -> int:
    """Take the next number of an office and year. Call it inside the issuing transaction."""
    # Straight on the transaction's connection: the statement is fixed, and the ORM's Raw
    # costs more than running it.
    rows = await read_rows(_NEXT_SQL, uuid.uuid4(), office_id, year)
    return int(rows[0]["last"])


async def take_number(office: dict[str, Any], year: int) -> tuple[int, str]:
    """The office's next number of the year, and its text. Call it inside the issuing
    transaction.

    Raises:
        Conflict: the text is already another office's notice number: two regions with one short
            name, which the admin API refuses but older data may hold. The issue (and with it
            the submission) rolls back, numbering nothing, until an admin renames one of them.
    """
    seq = await next_seq(office["id"], year)
    number = format_number(office["office_short_name"], year, seq)
    if await read_rows(_TAKEN_SQL, number):
        raise Conflict(
            f"整改通知书编号“{number}”已被另一签发机关使用：有两个地区的签发机关简称都是"
            f"“{office['office_short_name']}”，无法编号，此次操作未保存任何内容。请系统管理员在"
            "“系统管理 › 地区与签发机关”中修改其中一个简称后重试",
            details={"office_short_name": office["office_short_name"]},
        )
    return seq, number
