"""The double-random sampler: pinned golden samples (same on every run and machine)."""

from __future__ import annotations

import hashlib

import pytest

from agents.core.sampling import (
    Assignment,
    SamplingError,
    assign_inspectors,
    draw,
    population_digest,
    sample_rooms,
)

from .builders import POOL, POPULATION, SEED


def test_golden_sample_for_the_seed() -> None:
    assert draw(SEED, POPULATION, 4, POOL, 2) == (
        Assignment("lr-0003", ("insp-b", "insp-e")),
        Assignment("lr-0016", ("insp-b", "insp-e")),
        Assignment("lr-0028", ("insp-d", "insp-e")),
        Assignment("lr-0031", ("insp-c", "insp-d")),
    )
    assert sample_rooms("regbus", "abcdefghij", 3) == ("b", "d", "f")


def test_golden_population_digest() -> None:
    assert population_digest(POPULATION).hex() == (
        "93a86435c3f0aba2114da52f7a85175980d45e2505925b4dcf8586e128862b6b"
    )
    expected = hashlib.sha256("\n".join(POPULATION).encode()).digest()
    assert population_digest(reversed(POPULATION)) == expected


def test_input_order_and_duplicates_do_not_matter() -> None:
    shuffled = list(reversed(POPULATION)) + list(POPULATION[:5])
    assert draw(SEED, shuffled, 4, reversed(POOL), 2) == draw(SEED, POPULATION, 4, POOL, 2)


def test_another_seed_gives_another_sample() -> None:
    assert sample_rooms(SEED + "x", POPULATION, 4) != sample_rooms(SEED, POPULATION, 4)


def test_the_sample_is_the_lowest_ranked() -> None:
    """A room added to the population moves the sample only if it ranks into it."""
    base = sample_rooms(SEED, POPULATION, 4)
    more = sample_rooms(SEED, (*POPULATION, "lr-9999"), 4)
    assert more == base or "lr-9999" in more
    assert len(set(more) & set(base)) >= 3


def test_every_room_can_be_drawn() -> None:
    seen: set[str] = set()
    for k in range(200):
        seen.update(sample_rooms(f"s{k}", POPULATION, 4))
    assert seen == set(POPULATION)


@pytest.mark.parametrize("n", [-1, len(POPULATION) + 1])
def test_too_many_rooms_is_refused(n: int) -> None:
    with pytest.raises(SamplingError, match="rooms_to_sample"):
        sample_rooms(SEED, POPULATION, n)


def test_too_many_inspectors_is_refused() -> None:
    with pytest.raises(SamplingError, match="inspectors_per_room"):
        assign_inspectors(SEED, "lr-0001", POOL, len(POOL) + 1)
