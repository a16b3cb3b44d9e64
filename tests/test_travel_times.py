"""geodata.arrays.TravelTimes: dense conversion and coverage matrices against a dense oracle."""

from __future__ import annotations

import numpy as np
import pytest

from geodata.arrays import TravelTimes


def _dense(seed: int, n: int, m: int, missing: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = rng.random((n, m)) * 30.0
    t[rng.random((n, m)) < missing] = np.inf
    if missing:
        t[rng.random((n, m)) < missing / 2] = np.nan
    return t


@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_from_dense_keeps_every_finite_pair_in_row_major_order(missing):
    t = _dense(1, 23, 7, missing)
    tt = TravelTimes.from_dense(t, name="t")
    i, j = np.nonzero(np.isfinite(t))
    assert tt.demand_index.dtype == np.int64 and tt.site_index.dtype == np.int64
    np.testing.assert_array_equal(tt.demand_index, i)
    np.testing.assert_array_equal(tt.site_index, j)
    np.testing.assert_array_equal(tt.value, t[i, j])
    assert (tt.n_demand, tt.n_sites) == t.shape


def test_from_dense_copies_the_values():
    t = _dense(2, 5, 4, 0.0)
    tt = TravelTimes.from_dense(t)
    t[0, 0] = -1.0
    assert tt.value[0] != -1.0


def test_from_dense_rejects_non_matrix():
    with pytest.raises(ValueError, match="2-D"):
        TravelTimes.from_dense(np.zeros(4))


@pytest.mark.parametrize("missing", [0.0, 0.3])
@pytest.mark.parametrize(
    "threshold",
    ["scalar", "uniform_array", "per_demand", "with_nan", "all_nan"],
)
@pytest.mark.parametrize("mask", [None, "all", "some"])
def test_within_matches_dense_comparison(missing, threshold, mask):
    t = _dense(3, 31, 9, missing)
    n, m = t.shape
    rng = np.random.default_rng(4)
    thr: float | np.ndarray
    if threshold == "scalar":
        thr = 12.5
    elif threshold == "uniform_array":
        thr = np.full(n, 12.5)
    elif threshold == "per_demand":
        thr = rng.choice([8.0, 15.0, 20.0], size=n)
    elif threshold == "with_nan":
        thr = rng.choice([np.nan, 15.0], size=n)
    else:
        thr = np.full(n, np.nan)
    site_mask = None
    if mask == "all":
        site_mask = np.ones(m, dtype=bool)
    elif mask == "some":
        site_mask = rng.random(m) < 0.5
    got = TravelTimes.from_dense(t).within(thr, site_mask).toarray()
    with np.errstate(invalid="ignore"):
        want = t <= np.broadcast_to(np.asarray(thr, dtype=float), (n,))[:, None]
    if site_mask is not None:
        want &= site_mask[None, :]
    np.testing.assert_array_equal(got, want)
