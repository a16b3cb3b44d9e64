"""p_median / p_center case files end to end: CLI outputs against brute force, truncated
travel-time tables (proven harmless or reported with a gap), and bad case files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.case.loading import load_case
from optimizer.case.prepare import prepare_case
from optimizer.case.run import solve_case
from optimizer.cli import main
from optimizer.errors import CaseError
from optimizer.solvers import Status

from .brute_siting import brute_pcenter, brute_pmedian
from .conftest import OBJ_RTOL


def _write_case(
    folder: Path,
    model: str,
    *,
    seed: int = 3,
    n_demand: int = 12,
    n_sites: int = 7,
    complete_within: float | None = None,
    drop_above: float | None = None,
) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray]:
    """A small case with coordinates (layers) and an OD table; returns the dense times."""
    rng = np.random.default_rng(seed)
    d = rng.random((n_demand, 2)) * 0.1 + [120.0, 30.0]
    s = rng.random((n_sites, 2)) * 0.1 + [120.0, 30.0]
    times = np.round(np.linalg.norm(d[:, None] - s[None], axis=2) * 300.0, 3) + 1.0
    w = rng.integers(10, 500, n_demand).astype(float)
    existing = np.zeros(n_sites, dtype=bool)
    existing[0] = True
    pd.DataFrame(
        {
            "id": [f"v{i:02d}" for i in range(n_demand)],
            "pop": w,
            "town": [f"z{i % 3}" for i in range(n_demand)],
            "lon": d[:, 0],
            "lat": d[:, 1],
        }
    ).to_csv(folder / "villages.csv", index=False)
    pd.DataFrame(
        {
            "id": [f"s{j}" for j in range(n_sites)],
            "existing": existing.astype(int),
            "lon": s[:, 0],
            "lat": s[:, 1],
        }
    ).to_csv(folder / "sites.csv", index=False)
    ii, jj = np.nonzero(np.ones_like(times, dtype=bool))
    od = pd.DataFrame(
        {
            "demand_id": [f"v{i:02d}" for i in ii],
            "site_id": [f"s{j}" for j in jj],
            "min": times[ii, jj],
        }
    )
    if drop_above is not None:
        od = od[od["min"] <= drop_above]
        times = np.where(times <= drop_above, times, np.inf)
    od.to_csv(folder / "od.csv", index=False)
    extra = "" if complete_within is None else f"\n  complete_within: {complete_within}"
    case = folder / "case.yaml"
    case.write_text(
        f"""name: tiny siting
demand:
  file: villages.csv
  columns: {{id: id, weight: pop, zone: town, x: lon, y: lat}}
  crs: EPSG:4326
sites:
  file: sites.csv
  columns: {{id: id, existing: existing, x: lon, y: lat}}
  crs: EPSG:4326
  facility_type: clinic
travel_times:
  file: od.csv
  columns: {{demand_id: demand_id, site_id: site_id, value: min}}{extra}
model:
{model}
""",
        encoding="utf-8",
    )
    return case, times, w, existing


def test_cli_p_median_end_to_end(tmp_path, capsys):
    case, times, w, existing = _write_case(tmp_path, "  kind: p_median\n  p: 3")
    out = tmp_path / "out"
    assert main(["run", str(case), "--out", str(out), "-q"]) == 0
    assert "Average trip" in capsys.readouterr().out
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    expected = brute_pmedian(times, w, existing, p=3)
    assert sol["status"] == "optimal" and sol["checked_on_raw_data"] is True
    assert sol["objective"] == pytest.approx(expected, rel=OBJ_RTOL)
    assert sol["best_bound"] == pytest.approx(expected, rel=OBJ_RTOL) and sol["gap"] == 0
    assert sol["solver"]["backend"] == "highs" and sol["solver"]["version"]
    assert sol["average_travel"] == pytest.approx(expected / w.sum(), rel=1e-6)
    assert "s0" in sol["chosen_sites"]["clinic"] and len(sol["chosen_sites"]["clinic"]) == 3
    demand = pd.read_csv(out / "demand.csv")
    # every village goes to its nearest open site; the file's trips add up to the objective
    opened = [int(s[1:]) for s in sol["chosen_sites"]["clinic"]]
    nearest = times[:, opened].min(axis=1)
    np.testing.assert_allclose(demand["travel_min"].to_numpy(), nearest, rtol=1e-9)
    assert (demand["weight"] * demand["travel_min"]).sum() == pytest.approx(expected, rel=1e-6)
    assert sol["worst_travel"] == pytest.approx(nearest.max())
    sites = pd.read_csv(out / "sites.csv")
    assert sites["chosen"].sum() == 3
    assert sites["residents_assigned"].sum() == pytest.approx(w.sum())
    zones = pd.read_csv(out / "zones.csv")
    assert list(zones["zone_id"]) == ["z0", "z1", "z2"]
    for _, row in zones.iterrows():
        inz = np.array([f"z{i % 3}" for i in range(len(w))]) == row["zone_id"]
        assert row["worst_travel_min"] == pytest.approx(nearest[inz].max())
        mean = (w[inz] * nearest[inz]).sum() / w[inz].sum()
        assert row["mean_travel_min"] == pytest.approx(mean, rel=1e-6)
    layers = json.loads((out / "layers.json").read_text())
    names = {layer["name"]: layer["rows"] for layer in layers["layers"]}
    assert names["assignments"] == len(w) and names["chosen_sites"] == 3
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="sec-siting_travel"' in html


def test_cli_p_center_end_to_end(tmp_path):
    case, times, w, existing = _write_case(tmp_path, "  kind: p_center\n  p: 3", seed=5)
    out = tmp_path / "out"
    assert main(["run", str(case), "--out", str(out), "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    expected = brute_pcenter(times, w, existing, p=3)
    assert sol["status"] == "optimal" and sol["objective"] == pytest.approx(expected)
    assert sol["worst_travel"] == pytest.approx(expected)
    demand = pd.read_csv(out / "demand.csv")
    assert demand["travel_min"].max() == pytest.approx(expected)
    # the compact MIP (independent formulation) agrees through the same pipeline
    case.write_text(case.read_text().replace("kind: p_center", "kind: p_center\n  method: compact"))
    compact = solve_case(prepare_case(case))
    assert compact.status == Status.OPTIMAL
    assert compact.objective == pytest.approx(expected)


@pytest.mark.parametrize("kind", ["p_median", "p_center"])
def test_truncated_table_proven_harmless(tmp_path, kind):
    """Cut the table just above the optimum's longest trip: the answer is proven exact."""
    case, _times, _w, _existing = _write_case(tmp_path, f"  kind: {kind}\n  p: 3", seed=7)
    full = solve_case(prepare_case(case))
    worst = float(np.nanmax(full.result.travel))
    case, _cut, _, _ = _write_case(
        tmp_path,
        f"  kind: {kind}\n  p: 3",
        seed=7,
        complete_within=worst + 1e-6,
        drop_above=worst + 1e-6,
    )
    sol = solve_case(prepare_case(case))
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(full.objective, rel=OBJ_RTOL)
    if kind == "p_median":
        assert sol.result.method == "assignment"  # Benders needs a complete table


@pytest.mark.parametrize("kind", ["p_median", "p_center"])
def test_truncated_table_too_short_is_never_called_optimal(tmp_path, kind):
    """Cut well below the optimum's longest trip: no proof, so never OPTIMAL; bound stays valid."""
    case, times, _w, _existing = _write_case(tmp_path, f"  kind: {kind}\n  p: 3", seed=7)
    full = solve_case(prepare_case(case))
    worst = float(np.nanmax(full.result.travel))
    # keep every village's nearest site at least
    keep = float(np.sort(times, axis=1)[:, 0].max())
    limit = max(keep, 0.7 * worst)
    if limit >= worst:
        pytest.skip("instance gives no room for a too-short table")
    case, _cut, _, _ = _write_case(
        tmp_path, f"  kind: {kind}\n  p: 3", seed=7, complete_within=limit, drop_above=limit
    )
    sol = solve_case(prepare_case(case))
    assert sol.status != Status.OPTIMAL
    if sol.bound is not None:
        assert sol.bound <= full.objective + 1e-6
    if sol.objective is not None:  # a plan among the listed trips: never better than the optimum
        assert sol.status == Status.FEASIBLE and sol.objective >= full.objective - 1e-6
    assert "truncated" in sol.message


def test_benders_on_a_truncated_table_is_refused(tmp_path):
    case, *_ = _write_case(
        tmp_path,
        "  kind: p_median\n  p: 3\n  method: benders",
        complete_within=15.0,
        drop_above=15.0,
    )
    with pytest.raises(CaseError, match="method: Benders needs an uncapacitated model"):
        solve_case(prepare_case(case))


def test_bad_siting_case_reports_every_problem(tmp_path):
    case, *_ = _write_case(
        tmp_path,
        "  kind: p_median\n  p: 0\n  k_neares: 3\n  capacity: maybe\n  matrix: drive",
    )
    with pytest.raises(CaseError) as err:
        load_case(case)
    text = str(err.value)
    assert "case.yaml › model.p: Input should be greater than or equal to 1 (got 0)" in text
    assert "model.k_neares: unknown key; did you mean 'k_nearest'?" in text
    assert "model.capacity: Input should be 'ignore' or 'enforce' (got 'maybe')" in text


def test_bad_siting_case_data_rules(tmp_path):
    case, *_ = _write_case(
        tmp_path,
        "  kind: p_median\n  p: 9\n  facility_types: [ambulance]\n  capacity: enforce\n"
        "  matrix: drive",
    )
    with pytest.raises(CaseError) as err:
        prepare_case(case)
    text = str(err.value)
    assert "model.matrix: no travel-time table of this name (got 'drive')" in text
    case, *_ = _write_case(
        tmp_path, "  kind: p_median\n  p: 9\n  facility_types: [ambulance]\n  capacity: enforce"
    )
    with pytest.raises(CaseError) as err:
        prepare_case(case)
    text = str(err.value)
    assert "model.facility_types: no site has this facility type (got 'ambulance')" in text
    assert "model.capacity: capacity: enforce needs a capacity column" in text
    assert "model.p: more sites than the candidate and existing sites" not in text  # no types


def test_p_center_needs_one_site_count(tmp_path):
    case, *_ = _write_case(tmp_path, "  kind: p_center\n  p: 2\n  max_new_sites: 1")
    with pytest.raises(CaseError, match="give exactly one of 'p'"):
        load_case(case)


def test_sweep_over_p_matches_brute_force_and_is_monotone(tmp_path):
    """A trade-off sweep over p on a p-median case: every point certified and equal to brute
    force, the frontier decreasing, with mean and worst trips per point."""
    case, times, w, existing = _write_case(tmp_path, "  kind: p_median\n  p: 3")
    out = tmp_path / "sweep"
    code = main(
        ["sweep", str(case), "--param", "model.p", "--values", "2,3,4", "--out", str(out), "-q"]
    )
    assert code == 0
    frontier = pd.read_csv(out / "frontier.csv")
    assert list(frontier["status"]) == ["optimal"] * 3
    for p, obj in zip((2, 3, 4), frontier["objective"], strict=True):
        assert obj == pytest.approx(brute_pmedian(times, w, existing, p=p), rel=OBJ_RTOL)
    assert frontier["monotone"].iloc[1:].astype(bool).all()
    assert list(frontier["sites_open"]) == [2, 3, 4]
    mean = frontier["objective"] / w.sum()
    assert np.allclose(frontier["mean_travel"], mean, rtol=1e-6)
    assert (frontier["worst_travel"] >= frontier["mean_travel"]).all()


def test_solution_json_names_the_method_that_ran(tmp_path):
    """solver.method is the siting method run (p-median Benders or assignment, p-center binary
    search), not the covering default 'compact'."""
    import json
    from pathlib import Path

    from optimizer.cli import main

    root = Path(__file__).resolve().parents[1]
    for name, method in (("andorra_pmedian", "benders"), ("andorra_pcenter", "binary_search")):
        out = tmp_path / name
        assert main(["run", str(root / "configs" / f"{name}.yaml"), "--out", str(out), "-q"]) == 0
        sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
        assert sol["solver"]["method"] == method, name
