"""Properties of the draw over random pools, rosters and relations (no database: the draw's code
from the pool onwards is pure; tests/planning/test_draws_api.py covers how its inputs are read).

For any city with counties, inspectors at city or county level, institutions in the counties and
recorded relations (回避):

- a related inspector is never drawn for that institution;
- the same seed gives the same draw, whatever order the pool and roster come in;
- every pick has two distinct inspectors whose region scope covers the institution;
- an institution is left unassigned only when fewer than two inspectors may be drawn for it;
- workloads: inspectors who could have been drawn for the same institutions differ by at most
  one pick, and no pick has a member with two picks or more than an inspector who could have
  taken the place.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.planning.algorithm import draw_size, rank_pool
from backend.planning.pools import Context, Inspector, staff

CITY = uuid.UUID(int=1)


@st.composite
def worlds(draw):  # type: ignore[no-untyped-def]
    counties = [uuid.UUID(int=10 + n) for n in range(draw(st.integers(1, 4)))]
    regions = {CITY: {"id": CITY, "code": "370000", "name": "市", "parent": None}}
    for n, c in enumerate(counties):
        regions[c] = {"id": c, "code": f"3700{n + 1:02d}", "name": f"县{n}", "parent": CITY}
    roster = [
        Inspector(
            uuid.UUID(int=1000 + n), f"u{n:02d}", f"人{n}", draw(st.sampled_from([CITY, *counties]))
        )
        for n in range(draw(st.integers(0, 9)))
    ]
    pool = [
        {
            "id": uuid.UUID(int=5000 + n),
            "code": f"P{n:04d}",
            "name": f"机构{n}",
            "type": "pharmacy",
            "region": draw(st.sampled_from(counties)),
        }
        for n in range(draw(st.integers(1, 25)))
    ]
    relations: dict[uuid.UUID, set[str]] = {}
    if roster:
        for inst in pool:
            related = draw(st.sets(st.sampled_from([i.username for i in roster]), max_size=3))
            if related:
                relations[inst["id"]] = related
    return regions, roster, pool, relations


def _context(regions, roster, pool, relations) -> Context:  # type: ignore[no-untyped-def]
    checklist = {"id": uuid.UUID(int=9), "checklist_id": "pharmacy-routine", "version": 1}
    return Context(
        region=regions[CITY],
        regions=regions,
        pool=pool,
        roster=roster,
        checklists={"pharmacy": checklist},
        relations=relations,
    )


def _run(ctx: Context, seed: str, count: int):  # type: ignore[no-untyped-def]
    by_code = {inst["code"]: inst for inst in ctx.pool}
    drawn = [by_code[c] for c in rank_pool(seed, by_code)[: draw_size(len(ctx.pool), count, None)]]
    return drawn, staff(ctx, seed, drawn)


@settings(max_examples=300, deadline=None)
@given(world=worlds(), seed=st.text(min_size=1, max_size=20), count=st.integers(1, 30))
def test_draw_properties(world, seed: str, count: int) -> None:  # type: ignore[no-untyped-def]
    regions, roster, pool, relations = world
    ctx = _context(regions, roster, pool, relations)
    drawn, result = _run(ctx, seed, count)
    by_id = {inst["id"]: inst for inst in pool}
    region_of = {i.username: i.region for i in roster}

    def eligible(inst) -> set[str]:  # type: ignore[no-untyped-def]
        covers = {u for u, r in region_of.items() if r in (inst["region"], CITY)}
        return covers - relations.get(inst["id"], set())

    assert len(drawn) == min(count, len(pool))
    assert {p.institution_id for p in result.picks} | {
        u.institution_id for u in result.unassigned
    } == {inst["id"] for inst in drawn}
    for pick in result.picks:
        inst = by_id[pick.institution_id]
        assert len(pick.inspectors) == 2 and pick.inspectors[0] != pick.inspectors[1]
        assert set(pick.inspectors) <= eligible(inst)  # covers it, and no 回避 broken
        assert not set(pick.inspectors) & relations.get(inst["id"], set())
    for gap in result.unassigned:
        assert len(eligible(by_id[gap.institution_id])) < 2 and gap.reason

    loads = Counter(u for p in result.picks for u in p.inspectors)
    picked = [by_id[p.institution_id] for p in result.picks]
    scope = {
        u: frozenset(inst["code"] for inst in picked if u in eligible(inst)) for u in region_of
    }
    for a in region_of:
        for b in region_of:
            if scope[a] and scope[a] == scope[b]:
                assert abs(loads[a] - loads[b]) <= 1, (a, b, loads)
    for pick in result.picks:
        others = eligible(by_id[pick.institution_id]) - set(pick.inspectors)
        for x in pick.inspectors:
            assert all(loads[y] >= loads[x] - 1 for y in others), (pick, loads)

    # The same seed gives the same draw, whatever order the inputs come in.
    shuffled = random.Random(seed).sample
    again = _context(regions, shuffled(roster, len(roster)), shuffled(pool, len(pool)), relations)
    drawn2, result2 = _run(again, seed, count)
    assert [i["code"] for i in drawn2] == [i["code"] for i in drawn]
    assert [(p.institution_code, p.inspectors) for p in result2.picks] == [
        (p.institution_code, p.inspectors) for p in result.picks
    ]
    assert result2.unassigned == result.unassigned


@given(size=st.integers(0, 500), proportion=st.decimals(min_value="0.001", max_value=1, places=3))
def test_a_proportion_is_rounded_half_up(size: int, proportion: Decimal) -> None:
    expected = int((proportion * size).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert draw_size(size, None, float(proportion)) == expected
    assert draw_size(size, None, float(proportion)) <= size


def test_the_pool_order_is_the_published_hmac() -> None:
    import hashlib
    import hmac

    codes = [f"P{n:04d}" for n in range(20)]
    expected = sorted(
        codes, key=lambda c: hmac.new(b"seed", f"pool|{c}".encode(), hashlib.sha256).hexdigest()
    )
    assert rank_pool("seed", reversed(codes)) == expected
