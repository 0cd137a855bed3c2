"""The double-random sampler (双随机): live rooms from the population, inspectors per room.

Algorithm ``regbus.sample/1`` — the same on every run, machine and Python version, because it
uses nothing but SHA-256 over UTF-8 text (no ``random`` module, no ``hash()``, no set order):

1. The population is de-duplicated and sorted (code-point order); its digest is SHA-256 of
   the refs joined by ``\\n``.
2. Each room ``r`` is ranked by ``SHA-256(seed ␀ "room" ␀ r)`` (as a big-endian integer, the
   ref breaking a tie); the ``n`` lowest ranks are the sample.
3. For each sampled room ``r``, each inspector ``i`` of the (sorted, de-duplicated) pool is
   ranked by ``SHA-256(seed ␀ "inspector" ␀ r ␀ i)``; the ``m`` lowest are assigned to it.
4. The sample is listed by room ref; each room's inspectors by their ref.

Ranking by a keyed hash is a uniform random choice of ``n`` of the population when SHA-256 is
modelled as a random function, and needs no draw order: adding a room to the population only
moves the sample if the new room ranks into it. The seed is published with the plan
(双随机一公开: the rule and the seed are public; the sample follows from them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

SAMPLER_ID = "regbus.sample/1"


class SamplingError(ValueError):
    """The sampling rule cannot be applied to the given population or pool."""


@dataclass(frozen=True, slots=True)
class Assignment:
    live_room_ref: str
    inspectors: tuple[str, ...]


def canonical(refs: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(refs)))


def population_digest(refs: Iterable[str]) -> bytes:
    """SHA-256 of the sorted, de-duplicated refs joined by newlines (UTF-8)."""
    return hashlib.sha256("\n".join(canonical(refs)).encode("utf-8")).digest()


def _rank(seed: str, *parts: str) -> int:
    text = "\x00".join((seed, *parts)).encode("utf-8")
    return int.from_bytes(hashlib.sha256(text).digest(), "big")


def sample_rooms(seed: str, population: Iterable[str], n: int) -> tuple[str, ...]:
    pop = canonical(population)
    if not 0 <= n <= len(pop):
        raise SamplingError(f"rooms_to_sample {n} is outside 0..{len(pop)} (the population)")
    ranked = sorted(pop, key=lambda r: (_rank(seed, "room", r), r))
    return tuple(sorted(ranked[:n]))


def assign_inspectors(seed: str, room: str, pool: Iterable[str], m: int) -> tuple[str, ...]:
    inspectors = canonical(pool)
    if not 0 <= m <= len(inspectors):
        raise SamplingError(
            f"inspectors_per_room {m} is outside 0..{len(inspectors)} (the inspector pool)"
        )
    ranked = sorted(inspectors, key=lambda i: (_rank(seed, "inspector", room, i), i))
    return tuple(sorted(ranked[:m]))


def draw(
    seed: str, population: Iterable[str], n: int, pool: Iterable[str], m: int
) -> tuple[Assignment, ...]:
    """The sample of ``regbus.sample/1``: ``n`` rooms, each with ``m`` inspectors."""
    pool_t = canonical(pool)
    return tuple(
        Assignment(room, assign_inspectors(seed, room, pool_t, m))
        for room in sample_rooms(seed, population, n)
    )
