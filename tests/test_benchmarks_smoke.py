"""Smoke test of the MCLP benchmark machinery on a tiny instance (not a timing test).

Our side always runs and is checked against brute force; spopt's side runs only when spopt is
installed (``pip install -e .[bench]``), and then both optima must agree.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import json

import numpy as np
import pytest

from benchmarks.instances import load_instance, save_instance, uniform_instance
from benchmarks.mclp_vs_spopt import _child, compare, format_table, run_ours, run_spopt

from .conftest import OBJ_RTOL

HAVE_SPOPT = importlib.util.find_spec("spopt") is not None and (
    importlib.util.find_spec("pulp") is not None
)


def _brute_force(cost: np.ndarray, weight: np.ndarray, radius: float, p: int) -> float:
    reach = cost <= radius
    best = 0.0
    for chosen in itertools.combinations(range(cost.shape[1]), p):
        best = max(best, float(weight[reach[:, list(chosen)].any(axis=1)].sum()))
    return best


@pytest.fixture(scope="module")
def tiny():
    inst = uniform_instance(40, 10, seed=7)
    assert inst.spec.p == 3 and inst.cost.shape == (40, 10)
    return inst


def test_instance_round_trip(tiny, tmp_path):
    path = tmp_path / "tiny.npz"
    save_instance(tiny, path)
    back = load_instance(path)
    assert back.spec == tiny.spec
    np.testing.assert_array_equal(back.cost, tiny.cost)
    np.testing.assert_array_equal(back.weight, tiny.weight)


def test_uniform_instance_is_deterministic_and_as_described(tiny):
    again = uniform_instance(40, 10, seed=7)
    np.testing.assert_array_equal(again.cost, tiny.cost)
    stats = uniform_instance(2000, 200, seed=1).describe()
    # The square is sized for ~5 candidates per demand point (fewer near the edges).
    assert 3.5 < stats["mean_candidates_within_standard"] < 5.5


def test_our_side_matches_brute_force(tiny):
    ours = run_ours(tiny, time_limit_s=30)
    spec = tiny.spec
    assert ours["status"] == "optimal"
    expected = _brute_force(tiny.cost, tiny.weight, spec.radius, spec.p)
    assert ours["objective"] == pytest.approx(expected, rel=OBJ_RTOL)
    assert ours["open_sites"] <= spec.p
    assert set(ours["stages_s"]) >= {"input", "coverage", "presolve", "milp", "load", "solve"}
    assert ours["build_s"] <= ours["total_s"]


def test_child_writes_a_result(tiny, tmp_path):
    inst_path, result_path = tmp_path / "tiny.npz", tmp_path / "ours.json"
    save_instance(tiny, inst_path)
    _child("ours", inst_path, result_path, 30.0)
    out = json.loads(result_path.read_text(encoding="utf-8"))
    assert out["status"] == "optimal"
    assert out["peak_rss_mib"] >= out["baseline_rss_mib"] > 0


@pytest.mark.skipif(not HAVE_SPOPT, reason="spopt not installed (pip install -e .[bench])")
def test_spopt_side_agrees(tiny):
    ours = run_ours(tiny, time_limit_s=30)
    theirs = run_spopt(tiny, time_limit_s=30)
    assert theirs["status"] == "Optimal", theirs
    assert theirs["objective"] == pytest.approx(ours["objective"], rel=OBJ_RTOL)
    verdict = compare(ours, theirs)
    assert verdict["agree"] is True
    assert verdict["build_speedup"] is not None
    row = {
        "spec": dataclasses.asdict(tiny.spec),
        "stats": tiny.describe(),
        "ours": ours,
        "spopt": theirs,
        "compare": verdict,
    }
    table = format_table([row])
    assert "same optimum" in table and "yes" in table


def test_compare_flags_disagreement_and_non_optimal():
    ours = {"status": "optimal", "objective": 100.0, "build_s": 1.0, "total_s": 2.0}
    assert compare(ours, {"status": "Optimal", "objective": 100.0, "build_s": 5.0, "total_s": 8.0})[
        "agree"
    ]
    bad = compare(ours, {"status": "Optimal", "objective": 99.0, "build_s": 5.0, "total_s": 8.0})
    assert bad["agree"] is False and "DIFFERENT" in bad["note"]
    limit = compare(ours, {"status": "Time limit reached", "objective": 99.0})
    assert limit["agree"] is None and "not comparable" in limit["note"]
    assert compare(ours, None)["note"] == "spopt not run"


def test_bounded_table_instance_is_the_dense_one_within_the_standard():
    from benchmarks.instances import uniform_pairs

    dense = uniform_instance(300, 40, seed=5)
    spec, weight, di, sj, minutes = uniform_pairs(300, 40, seed=5)
    assert spec.p == dense.spec.p and np.array_equal(weight, dense.weight)
    table = np.full(dense.cost.shape, np.inf)
    table[di, sj] = minutes
    inside = dense.cost <= spec.radius
    assert np.allclose(table[inside], dense.cost[inside])
    assert np.isinf(table[~inside]).all()


def test_large_runner_in_process_is_certified_and_agrees_with_benders():
    from benchmarks.large import run_child

    compact = run_child(400, 30, method="compact", time_limit_s=60, threads=None)
    benders = run_child(400, 30, method="benders", time_limit_s=60, threads=None)
    assert compact["status"] == benders["status"] == "optimal"
    assert compact["checked"] and benders["checked"]
    assert benders["objective"] == pytest.approx(compact["objective"], rel=OBJ_RTOL)
    assert benders["benders"]["mip_rounds"] >= 1


def test_suite_table_renders_skips_and_ratios():
    from benchmarks.run import pmedian_rows, table

    rows = [
        {
            "name": "u",
            "ours": {
                "build_s": 0.5,
                "solve_s": 1.0,
                "total_s": 1.5,
                "status": "optimal",
                "objective": 10.0,
                "peak_rss_mib": 100,
            },
            "spopt": {"build_s": 50.0, "solve_s": 2.0, "total_s": 52.0},
            "compare": {"agree": True, "note": ""},
            "benders": {"solve_s": 3.0, "status": "optimal", "objective": 10.0},
            "matrix": {"ours_s": 0.1, "networkx_s": 2.0, "identical": True},
        },
        *pmedian_rows(True, spopt=False, instances=["pmed1"]),
    ]
    text = table(rows)
    assert "100x" in text and "20x" in text and "yes" in text
    assert "pmed" in text and "DIFFERENT" not in text


def test_covering_benchmark_sides_agree_on_a_tiny_town_county():
    """benchmarks/covering.py: ours, plain compact HiGHS and SCIP prove the same optimum."""
    from benchmarks import covering

    weight, di, sj, minutes = covering.town_pairs(300, 20, 15.0)
    assert sj.max() < 20
    assert di.size and minutes.max() <= 15.0 + 1e-9 and weight.size == 300
    row = "towns-300x20-p3-T15"
    sides = {side: covering.run_child(row, side, 60.0) for side in ("ours", "highs", "scip")}
    assert all(s["status"] == "optimal" for s in sides.values()), sides
    assert sides["ours"]["checked"]
    assert all(0.0 < s["cpu_s"] < 120.0 for s in sides.values()), sides
    assert sides["highs"]["objective"] == pytest.approx(sides["ours"]["objective"], rel=OBJ_RTOL)
    assert sides["scip"]["objective"] == pytest.approx(sides["ours"]["objective"], rel=OBJ_RTOL)
    table = covering.format_table([{"row": row, **sides}])
    assert row in table and "x" in table.splitlines()[-1]
