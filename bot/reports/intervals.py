"""95% intervals for the report's means: a t-interval whose standard error respects who gave the answers.

A quarter's mean is over answers, and one person answers many weeks: their answers move together, so
treating them as independent would make the interval too narrow. The standard error is the
cluster-robust one of a ratio mean (each person a cluster): with totals T_i over N_i answers and mean
m, SE² = G/(G−1) · Σ(T_i − m·N_i)² / (ΣN_i)², on G − 1 degrees of freedom. When every cluster holds
one answer this is the textbook s/√n.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Cluster:
    n: int  # answers
    total: float  # their sum


@dataclass(frozen=True)
class MeanInterval:
    mean: float
    low: float | None  # None: one cluster only, no spread to estimate
    high: float | None


def t_quantile(df: int) -> float:
    """The two-sided 95% quantile of Student's t."""
    from scipy.stats import t  # heavy import: only when a report is built

    return float(t.ppf(0.975, df))


def clustered_mean(clusters: Sequence[Cluster]) -> MeanInterval | None:
    """The mean of all answers and its 95% t-interval; None when there are no answers."""
    answers = sum(c.n for c in clusters)
    if not answers:
        return None
    mean = sum(c.total for c in clusters) / answers
    groups = len(clusters)
    if groups < 2:
        return MeanInterval(mean, None, None)
    spread = sum((c.total - mean * c.n) ** 2 for c in clusters)
    se = math.sqrt(groups / (groups - 1) * spread) / answers
    half = t_quantile(groups - 1) * se
    return MeanInterval(mean, mean - half, mean + half)
