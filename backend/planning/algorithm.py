"""The 双随机 draw as pure functions: which institutions are drawn, and which pair of inspectors
goes to each. No database, no clock, no global random state: the same seed and inputs always
give the same result, so anyone can re-run a published draw (docs/draws.md describes every step).

Every random choice is an HMAC-SHA256 keyed with the seed (UTF-8) over a stable text:

- ``pool|<institution code>`` orders the pool (step 2 of the document);
- ``pair|<institution code>|<username>`` breaks ties between inspectors of equal load
  (steps 4 and 5).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ALGORITHM = "v1"


def seeded_hash(seed: str, text: str) -> str:
    """HMAC-SHA256 of ``text`` keyed with ``seed``, as 64 lowercase hex digits."""
    return hmac.new(seed.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def draw_size(pool_size: int, count: int | None, proportion: float | Decimal | None) -> int:
    """How many institutions to draw: ``count`` (at most the pool), or ``proportion`` of the pool
    rounded half up (0.5 → 1) to a whole number. Exactly one of them is given."""
    if count is not None:
        return min(count, pool_size)
    assert proportion is not None
    exact = Decimal(str(proportion)) * pool_size
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rank_pool(seed: str, codes: Iterable[str]) -> list[str]:
    """The pool's institution codes in the order of the draw: by ``seeded_hash(seed,
    'pool|' + code)``, then by code (a tie needs a hash collision; the code keeps it total)."""
    return sorted(codes, key=lambda code: (seeded_hash(seed, f"pool|{code}"), code))


@dataclass(frozen=True)
class Slot:
    """One drawn institution to staff: its code and the usernames that may be drawn for it
    (roster covering it, less the inspectors related to it)."""

    code: str
    eligible: tuple[str, ...]


def _tie(seed: str, code: str, username: str) -> tuple[str, str]:
    return (seeded_hash(seed, f"pair|{code}|{username}"), username)


def pair_inspectors(seed: str, slots: Sequence[Slot]) -> dict[str, tuple[str, str]]:
    """Two distinct inspectors for each slot that has at least two eligible ones, with workloads
    balanced; slots with fewer are left out of the answer (the caller says why).

    Step 4 (greedy): in the slots' order, take the two eligible inspectors with the fewest picks
    so far, ties broken by the seeded hash ``pair|code|username`` (then the username).

    Step 5 (rebalance): count each inspector's *breadth*, the number of these slots they are
    eligible for. While a chain of replacements can move one pick from an inspector to
    another who has at least two picks fewer, or one pick fewer and a smaller breadth (see
    :func:`_rebalance_once`), apply the first one found. Each move lowers the sum of squared
    loads, or keeps it and lowers the sum of load × breadth, so this ends. At the end no such
    chain is left: in particular two inspectors eligible for exactly the same picked
    institutions differ by at most one pick, and no pick has a member with two or more picks
    than an eligible inspector left off it.

    Returns:
        code → the pair, usernames in alphabetical order.
    """
    loads: dict[str, int] = {}
    picks: dict[str, list[str]] = {}
    eligible: dict[str, tuple[str, ...]] = {}
    for slot in slots:
        names = tuple(sorted(set(slot.eligible)))
        if len(names) < 2:
            continue
        eligible[slot.code] = names
    breadth: dict[str, int] = {}
    for names in eligible.values():
        for u in names:
            breadth[u] = breadth.get(u, 0) + 1
    for code, names in eligible.items():
        ranked = sorted(names, key=lambda u: (loads.get(u, 0), *_tie(seed, code, u)))
        picks[code] = ranked[:2]
        for u in ranked[:2]:
            loads[u] = loads.get(u, 0) + 1

    while _rebalance_once(seed, picks, eligible, loads, breadth):
        pass
    return {code: (min(pair), max(pair)) for code, pair in picks.items()}


def _rebalance_once(
    seed: str,
    picks: dict[str, list[str]],
    eligible: dict[str, tuple[str, ...]],
    loads: dict[str, int],
    breadth: dict[str, int],
) -> bool:
    """Find the first chain of replacements that moves one pick from an inspector ``x`` to a
    less busy one (:func:`_better`), apply it and say so; False when there is none.

    The chain: ``x`` leaves pick P1 and ``y1`` (eligible for P1, not on it) takes its place;
    ``y1`` leaves pick P2 and ``y2`` takes it; … until a ``yk`` better placed than ``x``. Only
    ``x`` (one fewer) and ``yk`` (one more) change load. Searched breadth first: starting
    inspectors by load descending, then breadth descending, then username; from an inspector,
    picks in draw order; in a pick, candidates by load, breadth, the seeded hash
    ``pair|code|username``, username; each inspector visited once per start.
    """
    order = list(picks)
    for x in sorted(loads, key=lambda u: (-loads[u], -breadth[u], u)):
        came_from: dict[str, tuple[str, str]] = {}  # inspector → (previous inspector, pick)
        seen = {x}
        queue = [x]
        while queue:
            u = queue.pop(0)
            for code in order:
                if u not in picks[code]:
                    continue
                candidates = sorted(
                    (y for y in eligible[code] if y not in picks[code] and y not in seen),
                    key=lambda y: (loads.get(y, 0), breadth[y], *_tie(seed, code, y)),
                )
                for y in candidates:
                    seen.add(y)
                    came_from[y] = (u, code)
                    if _better(loads, breadth, x, y):
                        _apply(picks, came_from, y)
                        loads[x] -= 1
                        loads[y] = loads.get(y, 0) + 1
                        return True
                    queue.append(y)
    return False


def _better(loads: dict[str, int], breadth: dict[str, int], x: str, y: str) -> bool:
    """Whether moving one pick from ``x`` to ``y`` balances better: ``y`` has two picks fewer or
    more, or one fewer and is eligible for fewer of the picked institutions than ``x`` (keeping
    the widely eligible, e.g. city-level inspectors, free for the institutions only they and a
    few others may take)."""
    gap = loads[x] - loads.get(y, 0)
    return gap >= 2 or (gap == 1 and breadth[y] < breadth[x])


def _apply(picks: dict[str, list[str]], came_from: dict[str, tuple[str, str]], end: str) -> None:
    """Walk the chain back from its end, each inspector taking the place of the previous one."""
    y = end
    while y in came_from:
        u, code = came_from[y]
        members = picks[code]
        members[members.index(u)] = y
        y = u
