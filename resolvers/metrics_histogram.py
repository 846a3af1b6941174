"""A fixed log-scale histogram of durations, mergeable by adding counts, so a month's percentile
is the sum of its days' histograms and never needs the raw rows again.

Bin 0 holds durations under one second; bin i ≥ 1 holds [2^((i-1)/STEPS), 2^(i/STEPS)) seconds,
so each bin is 2^(1/8) ≈ 9% wide; the last bin also holds everything longer (about 68 years). A
percentile is reported as its bin's geometric middle: within ±4.5% of the exact value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

STEPS = 8  # bins per doubling
BINS = 1 + 31 * STEPS  # up to 2^31 s
PERCENTILES = (("median", 0.5), ("p90", 0.9), ("p95", 0.95))


def bin_of(seconds: float) -> int:
    if seconds < 1:
        return 0
    return min(BINS - 1, 1 + math.floor(math.log2(seconds) * STEPS))


def bin_bounds(index: int) -> tuple[float, float]:
    if index == 0:
        return 0.0, 1.0
    return 2 ** ((index - 1) / STEPS), 2 ** (index / STEPS)


def bin_value(index: int) -> float:
    low, high = bin_bounds(index)
    return 0.5 if index == 0 else math.sqrt(low * high)


def empty() -> np.ndarray:
    return np.zeros(BINS, dtype="<i8")


def of_values(values: Iterable[float]) -> np.ndarray:
    counts = empty()
    for value in values:
        counts[bin_of(value)] += 1
    return counts


# Stored sparse: (bin, count) pairs for the non-empty bins, so an hour with a handful of values
# takes a few dozen bytes, and any number of stored histograms merge in one bincount.
_PAIR = np.dtype([("bin", "<u2"), ("count", "<i8")])


def to_bytes(counts: np.ndarray) -> bytes:
    (bins,) = np.nonzero(counts)
    pairs = np.empty(len(bins), dtype=_PAIR)
    pairs["bin"], pairs["count"] = bins, counts[bins]
    return pairs.tobytes()


def from_bytes(data: bytes | None) -> np.ndarray:
    return empty() if not data else merge([data])


def merge(parts: list[bytes]) -> np.ndarray:
    """The sum of stored histograms."""
    pairs = np.frombuffer(b"".join(parts), dtype=_PAIR)
    return np.bincount(pairs["bin"], weights=pairs["count"], minlength=BINS).astype("<i8")


def rank_bin(counts: np.ndarray, fraction: float) -> int | None:
    """Nearest rank: the bin of the ceil(fraction·n)-th smallest value."""
    total = int(counts.sum())
    if total == 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    return int(np.searchsorted(np.cumsum(counts), rank))


def exact_rank(values: list[float], fraction: float) -> float | None:
    """The same nearest rank over raw values (the direct computation the tests compare with)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def percentiles(counts: np.ndarray) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, fraction in PERCENTILES:
        index = rank_bin(counts, fraction)
        out[name] = None if index is None else bin_value(index)
    return out
