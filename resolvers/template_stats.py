"""The arithmetic of template experiments: rates with always-valid confidence intervals and an
always-valid test of a difference in proportions (the mixture sequential probability ratio test,
mSPRT, of Johari, Pekelis and Walsh, "Always Valid Inference", 2017).

Why this test: supervisors look at the report every day and stop when it looks good. A fixed-
sample test read that way finds a "winner" far more often than its alpha says. The mSPRT's
likelihood ratio against "no difference", mixed over a normal prior N(0, τ²) on the difference,
is a nonnegative martingale under the null, so by Ville's inequality the chance that it EVER
reaches 1/alpha is at most alpha: "significant when Λ ≥ 1/alpha" holds at every look, at any
stopping time. The intervals are the differences the same test would not reject.

With the normal approximation, for an estimated difference d of variance V (Λ in closed form):
    Λ = sqrt(V / (V + τ²)) · exp(τ² d² / (2 V (V + τ²)))
The variance uses (successes + 1) / (n + 2) for each rate, so an arm at 0 % or 100 % does not
claim zero variance (and certainty) after a handful of conversations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ALPHA = 0.05
# τ²: the prior spread of true differences; 0.01 puts most of its weight on differences within
# ±20 points, the size of effect a change of wording can plausibly make on a reply rate.
MIXING_VARIANCE = 0.01
# Below this many conversations per arm the normal approximation is too rough to decide on.
MIN_UNITS = 10


@dataclass(frozen=True)
class Rate:
    successes: int
    units: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Comparison:
    difference: float | None  # the arm's rate minus the control's
    low: float | None
    high: float | None
    likelihood_ratio: float | None
    p_value: float | None  # always valid: 1 / Λ, at most 1
    significant: bool


def smoothed_variance(successes: int, units: int) -> float:
    p = (successes + 1) / (units + 2)
    return p * (1 - p) / units


def half_width(variance: float, tau2: float, alpha: float) -> float:
    """Half the always-valid interval: the |d - θ| where Λ(θ) reaches 1/alpha."""
    return math.sqrt(
        variance
        * (variance + tau2)
        / tau2
        * (math.log((variance + tau2) / variance) + 2 * math.log(1 / alpha))
    )


def log_likelihood_ratio(difference: float, variance: float, tau2: float) -> float:
    return 0.5 * math.log(variance / (variance + tau2)) + tau2 * difference**2 / (
        2 * variance * (variance + tau2)
    )


def rate(successes: int, units: int, tau2: float = MIXING_VARIANCE, alpha: float = ALPHA) -> Rate:
    if units == 0:
        return Rate(0, 0, None, None, None)
    estimate = successes / units
    half = half_width(smoothed_variance(successes, units), tau2, alpha)
    return Rate(successes, units, estimate, max(0.0, estimate - half), min(1.0, estimate + half))


def compare(
    control: tuple[int, int], arm: tuple[int, int], tau2: float = MIXING_VARIANCE, alpha: float = ALPHA
) -> Comparison:
    """The arm against the control, each (successes, units)."""
    (x0, n0), (x1, n1) = control, arm
    if n0 == 0 or n1 == 0:
        return Comparison(None, None, None, None, None, False)
    difference = x1 / n1 - x0 / n0
    variance = smoothed_variance(x0, n0) + smoothed_variance(x1, n1)
    half = half_width(variance, tau2, alpha)
    log_ratio = log_likelihood_ratio(difference, variance, tau2)
    return Comparison(
        difference=difference,
        low=max(-1.0, difference - half),
        high=min(1.0, difference + half),
        likelihood_ratio=math.exp(min(log_ratio, 700.0)),  # past e^700 a float overflows
        p_value=min(1.0, math.exp(-log_ratio)),
        significant=min(n0, n1) >= MIN_UNITS and log_ratio >= math.log(1 / alpha),
    )


def bonferroni(alpha: float, arms: int) -> float:
    """Each of the arms-1 comparisons with the control gets alpha/(arms-1): together at most alpha."""
    return alpha / max(1, arms - 1)
