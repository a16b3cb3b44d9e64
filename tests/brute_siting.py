"""Brute-force oracles for p-median and p-center: enumerate every allowed set of open sites.

Dense arrays only (``inf`` = unreachable) and no code shared with ``optimizer`` beyond numpy, so a
bug in the pair table, truncation, model building or checking cannot hide in both places. The
capacitated p-median solves each open set's transportation problem with ``scipy.optimize.linprog``.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linprog


def open_sets(
    n_sites: int,
    existing: np.ndarray,
    *,
    p: int | None,
    max_new: int | None,
    keep: bool,
    exactly: bool,
):
    """Every open set the site rules allow (boolean masks)."""
    existing = np.asarray(existing, dtype=bool)
    for bits in itertools.product([False, True], repeat=n_sites):
        s = np.array(bits, dtype=bool)
        if keep and (existing & ~s).any():
            continue
        if p is not None:
            if (s.sum() != p) if exactly else (s.sum() > p):
                continue
        elif max_new is not None and (s & ~existing).sum() > max_new:
            continue
        yield s


def pmedian_value(
    times: np.ndarray, w: np.ndarray, s: np.ndarray, capacity: np.ndarray | None = None
) -> float | None:
    """Least total weighted travel with sites ``s`` open (None: cannot serve everyone)."""
    need = w > 0
    sub = times[np.ix_(need, s)]
    if sub.shape[0] == 0:
        return 0.0
    if capacity is None:
        best = sub.min(axis=1) if sub.shape[1] else np.full(sub.shape[0], np.inf)
        if not np.isfinite(best).all():
            return None
        return float((w[need] * best).sum())
    # Transportation LP: x[i, j] share of i served by j over reachable pairs.
    wi = w[need]
    cap = capacity[s]
    ii, jj = np.nonzero(np.isfinite(sub))
    if sub.shape[1] == 0 or np.unique(ii).size < sub.shape[0]:
        return None
    c = wi[ii] * sub[ii, jj]
    a_eq = np.zeros((sub.shape[0], ii.size))
    a_eq[ii, np.arange(ii.size)] = 1.0
    a_ub = np.zeros((sub.shape[1], ii.size))
    a_ub[jj, np.arange(ii.size)] = wi[ii]
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=cap,
        A_eq=a_eq,
        b_eq=np.ones(sub.shape[0]),
        bounds=(0, None),
        method="highs",
    )
    return float(res.fun) if res.status == 0 else None


def brute_pmedian(
    times: np.ndarray,
    w: np.ndarray,
    existing: np.ndarray,
    *,
    p: int | None = None,
    max_new: int | None = None,
    keep: bool = True,
    capacity: np.ndarray | None = None,
) -> float | None:
    best: float | None = None
    for s in open_sets(times.shape[1], existing, p=p, max_new=max_new, keep=keep, exactly=True):
        v = pmedian_value(times, w, s, capacity)
        if v is not None and (best is None or v < best):
            best = v
    return best


def pcenter_value(times: np.ndarray, w: np.ndarray, s: np.ndarray, weighted: bool) -> float | None:
    counted = w > 0  # points without residents set no radius
    if not counted.any():
        return 0.0
    if not s.any():
        return None
    nearest = times[np.ix_(counted, s)].min(axis=1)
    if not np.isfinite(nearest).all():
        return None
    vals = nearest * w[counted] if weighted else nearest
    return float(vals.max())


def brute_pcenter(
    times: np.ndarray,
    w: np.ndarray,
    existing: np.ndarray,
    *,
    p: int | None = None,
    max_new: int | None = None,
    keep: bool = True,
    weighted: bool = False,
    exactly: bool = True,
) -> float | None:
    best: float | None = None
    for s in open_sets(times.shape[1], existing, p=p, max_new=max_new, keep=keep, exactly=exactly):
        v = pcenter_value(times, w, s, weighted)
        if v is not None and (best is None or v < best):
            best = v
    return best
