r"""Between the Benders phases: the Lagrangian bound, variable fixing and the swap heuristic.

Subgradient optimisation of the Lagrangian relaxation of the assignment rows (Cornuéjols,
Fisher & Nemhauser 1977), reduced-cost fixing of sites against the best plan's cost, and the
Teitz & Bart (1968) swap heuristic that polishes every new best plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .pmedian_cuts import Data
from .problem import SitingInstance

__all__ = ["Fixing", "Lagrange", "fixing", "lagrangian", "local_search"]


@dataclass
class Lagrange:
    """Best Lagrangian bound found and its site values (reduced costs of opening a site)."""

    bound: float
    rho: np.ndarray


@dataclass
class Fixing:
    """Sites that cannot be open (closed) in a plan cheaper than the best one."""

    zero: np.ndarray
    one: np.ndarray
    threshold: float
    """Any plan that breaks a fixing costs at least this much (inf: no fixing)."""


def _select(rho: np.ndarray, m: int, exactly: bool) -> np.ndarray:
    """The ``m`` smallest site values (only the negative ones when at most ``m``)."""
    chosen = np.zeros(rho.size, dtype=bool)
    if m <= 0 or rho.size == 0:
        return chosen
    m = min(m, rho.size)
    idx = np.argpartition(rho, m - 1)[:m] if m < rho.size else np.arange(rho.size)
    if not exactly:
        idx = idx[rho[idx] < 0]
    chosen[idx] = True
    return chosen


def lagrangian(
    d: Data,
    inst: SitingInstance,
    level: np.ndarray,
    upper_bound: float,
    on_plan: Callable[[np.ndarray], float],
    max_iter: int = 300,
) -> Lagrange:
    r"""Subgradient optimisation of the Lagrangian relaxation of the assignment rows.

    With multipliers :math:`\lambda_i \le w_i U_i`, :math:`L(\lambda) = \sum_i \lambda_i +
    \min_{y} \sum_j \rho_j y_j` with :math:`\rho_j = \sum_i \min(0, w_i t_{ij} - \lambda_i)`
    (Cornuéjols, Fisher & Nemhauser 1977), Polyak steps, started from the LP point's critical
    levels. Every Lagrangian site set is also tried as a plan (``on_plan`` returns its cost).
    """
    ny = d.free_sites.size
    m = inst.free_limit
    exactly = inst.count_rule == "exactly"
    cost = d.weight[d.gi] * d.val
    lam_lo = d.weight * d.lo
    lam_hi = d.weight * d.upper
    lam = np.clip(d.weight * level, lam_lo, lam_hi)
    best = -np.inf
    best_rho: np.ndarray = np.zeros(ny)
    step_scale = 1.0
    stall = 0
    ub = upper_bound
    for it in range(max_iter):
        red = np.minimum(0.0, cost - lam[d.gi])
        rho = np.bincount(d.col, weights=red, minlength=ny)
        chosen = _select(rho, m, exactly)
        value = float(lam.sum() + rho[chosen].sum()) + d.c0
        if value > best + 1e-9 * max(1.0, abs(value)):
            best, best_rho, stall = value, rho, 0
        else:
            stall += 1
            if stall >= 15:
                step_scale, stall = step_scale / 2, 0
        if it % 10 == 0:
            ub = min(ub, on_plan(chosen.astype(float)))
        if best >= ub - 1e-9 * max(1.0, abs(ub)) or step_scale < 1e-4 or not np.isfinite(ub):
            break
        served = chosen[d.col] & (cost < lam[d.gi])
        g = 1.0 - np.bincount(d.gi, weights=served.astype(float), minlength=lam.size)
        gg = float(g @ g)
        if gg == 0:
            break
        lam = np.clip(lam + step_scale * (ub - value) / gg * g, lam_lo, lam_hi)
    return Lagrange(best, best_rho)


def fixing(lag: Lagrange, inst: SitingInstance, ub: float, integral: bool) -> Fixing:
    """Sites whose forced opening (closing) lifts the Lagrangian bound to ``ub`` or beyond."""
    rho = lag.rho
    ny = rho.size
    none = Fixing(np.zeros(ny, dtype=bool), np.zeros(ny, dtype=bool), np.inf)
    if not (np.isfinite(ub) and np.isfinite(lag.bound)) or ny == 0:
        return none
    m = inst.free_limit
    exactly = inst.count_rule == "exactly"
    chosen = _select(rho, m, exactly)
    srt = np.sort(rho)
    n_ch = int(chosen.sum())
    best = lag.bound
    # forcing j open: take it, dropping the largest chosen value when the count is full
    drop = srt[n_ch - 1] if (n_ch == m and n_ch > 0) else 0.0
    open_val = np.where(chosen, best, best - drop + rho)
    # forcing j closed: lose it and take the next value (when at most m: only if negative)
    nxt = srt[n_ch] if n_ch < ny else np.inf
    if not exactly:
        nxt = min(nxt, 0.0)
    close_val = np.where(chosen, best - rho + nxt, best)
    slack = (1.0 - 1e-6) if integral else 1e-9 * max(1.0, abs(ub))
    zero = ~chosen & (open_val > ub - slack)
    one = chosen & (close_val > ub - slack)
    broken = np.concatenate([open_val[zero], close_val[one]])
    threshold = float(broken.min()) if broken.size else np.inf
    if integral and np.isfinite(threshold):
        threshold = float(np.ceil(threshold - 1e-6))
    return Fixing(zero, one, threshold)


def _nearest_two(d: Data, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per model row: nearest open value, its y column (-1: a kept site), second nearest."""
    n = d.rows.size
    open_pair = np.flatnonzero(y[d.col] > 0.5)
    g = d.gi[open_pair]
    rows, first = np.unique(g, return_index=True)
    v1 = np.full(n, np.inf)
    c1 = np.full(n, -1, dtype=np.int64)
    v2 = np.full(n, np.inf)
    v1[rows] = d.val[open_pair[first]]
    c1[rows] = d.col[open_pair[first]]
    second = first + 1
    has2 = second < g.size
    has2[has2] = g[second[has2]] == rows[has2]
    v2[rows[has2]] = d.val[open_pair[second[has2]]]
    kept_nearer = d.upper < v1
    v2 = np.where(kept_nearer, v1, np.minimum(v2, d.upper))
    c1 = np.where(kept_nearer, -1, c1)
    v1 = np.minimum(v1, d.upper)
    return v1, c1, v2


def local_search(
    d: Data, inst: SitingInstance, y: np.ndarray, deadline: float, tries: int = 8
) -> np.ndarray:
    """Swap heuristic (Teitz & Bart 1968): add the sites that gain most, drop the best partner."""
    if inst.count_rule != "exactly" or inst.free_limit == 0:
        return y
    y = y.copy()
    ny = y.size
    w = d.weight
    by_col = np.argsort(d.col, kind="stable")
    col_start = np.searchsorted(d.col[by_col], np.arange(ny + 1))
    while time.perf_counter() < deadline:
        v1, c1, v2 = _nearest_two(d, y)
        if not np.isfinite(v1).all():
            return y
        gain = np.bincount(d.col, weights=w[d.gi] * np.maximum(0.0, v1[d.gi] - d.val), minlength=ny)
        gain[y > 0.5] = -np.inf
        best_delta, best_swap = -1e-9 * max(1.0, float((w * v1).sum())), None
        for j in np.argsort(-gain)[:tries]:
            if gain[j] <= 0:
                break
            t_j = np.full(d.rows.size, np.inf)
            k = by_col[col_start[j] : col_start[j + 1]]
            t_j[d.gi[k]] = d.val[k]
            corr = np.where(c1 >= 0, w * (np.minimum(t_j, v2) - np.minimum(t_j, v1)), 0.0)
            loss = np.bincount(c1[c1 >= 0], weights=corr[c1 >= 0], minlength=ny)
            loss[y < 0.5] = np.inf
            r = int(np.argmin(loss))
            delta = loss[r] - gain[j]
            if delta < best_delta:
                best_delta, best_swap = delta, (int(j), r)
        if best_swap is None:
            return y
        y[best_swap[0]], y[best_swap[1]] = 1.0, 0.0
    return y
