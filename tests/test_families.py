"""One table of families, one front door: a sweep point equals ``run`` at that value, for every
family; ``run``, ``validate`` and ``batch`` take every kind of case, staffing included."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from optimizer.case.run import load_any
from optimizer.cli import main
from optimizer.families import FAMILIES, family_of
from optimizer.scenarios.sweep import set_path

from .test_case_validation import CASE, _files

ROOT = Path(__file__).resolve().parents[1]

PHASED = CASE.replace(
    "  max_new_sites: 1\n",
    "  phases:\n    - {name: '2025', budget: 10}\n    - {name: '2026', budget: 12}\n",
)
PMEDIAN = CASE.replace(
    "model:\n  kind: mclp\n  standards:\n    - {name: t15, minutes: 15}\n  max_new_sites: 1\n",
    "model:\n  kind: p_median\n  p: 2\n",
)
PCENTER = PMEDIAN.replace("kind: p_median", "kind: p_center")
EMS = CASE.replace(
    "model:\n  kind: mclp\n  standards:\n    - {name: t15, minutes: 15}\n  max_new_sites: 1\n",
    "model:\n  kind: ems\n  station_type: clinic\n  response_min: 16\n  dispatch_min: 0\n"
    "  min_share: null\n  objective: max_coverage\n"
    "  fleet: {per_population: null, max_per_station: 2, fleet_size: 1}\n",
)
TIERS = CASE.replace(
    "model:\n  kind: mclp\n  standards:\n    - {name: t15, minutes: 15}\n  max_new_sites: 1\n",
    "model:\n  kind: village_tiers\n  tiers:\n"
    "    - {name: general, minutes: 15, build_cost: 10, upgrade_cost: 4}\n"
    "    - {name: point, minutes: 10, build_cost: 3, upgrade_cost: 1, max_village_residents: 150}\n"
    "  existing: {clinic: {tier: general, standard: false}}\n  min_standard_share: 0.5\n",
)

# (case text, swept parameter, values): one per siting family
CASES = {
    "coverage": (CASE, "model.max_new_sites", [1, 2]),
    "phased": (PHASED, "model.phases[0].budget", [10, 12]),
    "p_median": (PMEDIAN, "model.p", [2, 3]),
    "p_center": (PCENTER, "model.p", [2, 3]),
    "ems": (EMS, "model.fleet.fleet_size", [1, 2]),
    "tiers": (TIERS, "model.tiers[0].build_cost", [10, 12]),
}


def _answer(folder: Path) -> dict[str, object]:
    """What must agree between a sweep point and a run: the certificate and the plan."""
    sol = json.loads((folder / "solution.json").read_text(encoding="utf-8"))
    keep = ("status", "limit", "objective", "best_bound", "gap", "phases", "sites", "coverage")
    keep += ("cost",)
    return {k: sol.get(k) for k in keep} | {
        "tables": {
            p.name: p.read_bytes()
            for p in sorted(folder.glob("*.csv"))
            if p.name in ("sites.csv", "demand.csv", "posts.csv")
        }
    }


def _sweep_equals_run(tmp_case, tmp_path, text, param, values) -> list[dict[str, object]]:
    path = tmp_case(text, _files())
    out = tmp_path / "sweep"
    args = ["sweep", str(path), "--param", param, "--values", ",".join(map(str, values))]
    assert main([*args, "--out", str(out), "--workers", "1", "-q"]) == 0
    answers = []
    for k, v in enumerate(values):
        data = yaml.safe_load(text)
        set_path(data, param, v)
        single = path.parent / f"point{k}.yaml"
        single.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
        run_out = tmp_path / f"run{k}"
        assert main(["run", str(single), "--out", str(run_out), "-q"]) == 0
        point = _answer(out / "points" / f"{k:03d}")
        assert point == _answer(run_out), f"{param} = {v}"
        answers.append(point)
    return answers


@pytest.mark.parametrize("name", list(CASES))
def test_sweep_point_equals_run(name, tmp_case, tmp_path):
    text, param, values = CASES[name]
    answers = _sweep_equals_run(tmp_case, tmp_path, text, param, values)
    assert all(a["status"] == "optimal" and a["limit"] == "none" for a in answers)
    frontier = pd.read_csv(tmp_path / "sweep" / "frontier.csv")
    assert list(frontier["limit"]) == ["none"] * len(values)


def test_quota_sweep_point_equals_run(tmp_path):
    """A staffing family sweeps like the others: each point is what ``run`` gives there."""
    text = (ROOT / "configs" / "zhuji_quota.yaml").read_text(encoding="utf-8")
    case = tmp_path / "case" / "zhuji_quota.yaml"
    case.parent.mkdir()
    case.write_text(text.replace("data/zhuji_", str(ROOT / "configs" / "data" / "zhuji_")))
    answers = _sweep_equals_run(
        lambda t, files: case,
        tmp_path,
        yaml.safe_dump(yaml.safe_load(case.read_text())),
        "norms.pool.total",
        [1300, 1350],
    )
    assert answers[0]["objective"] > answers[1]["objective"]  # a larger pool: less shortfall


def test_phased_sweep_solves_the_phased_model(tmp_case, tmp_path):
    """The bug of issue 13: a sweep over a phased case solved the unphased model ("optimal"
    430 for both budgets, no phases) where ``run`` gives the phased roll-out."""
    text, param, values = CASES["phased"]
    answers = _sweep_equals_run(tmp_case, tmp_path, text, param, values)
    for a, budget in zip(answers, values, strict=True):
        phases = a["phases"]
        assert isinstance(phases, list) and [p["phase"] for p in phases] == ["2025", "2026"]
        assert phases[0]["budget"] == budget


def test_every_kind_has_a_family():
    kinds = {"lscp", "mclp", "psclp", "coverage", "p_median", "p_center", "ems", "village_tiers"}
    assert kinds | {"staffing_quota", "sent_down"} == set(FAMILIES)
    phased = load_any(PHASED, base_dir=Path("."))
    assert family_of(phased).name == "phased"
    assert family_of(load_any(CASE)).name == "coverage"


@pytest.mark.parametrize("name", ["zhuji_quota", "qingdao_sent_down"])
def test_staffing_cases_through_every_door(name, tmp_path, capsys):
    """validate, run, staff and batch agree on a staffing case (run and batch rejected it)."""
    path = str(ROOT / "configs" / f"{name}.yaml")
    assert main(["validate", path, "-q"]) == 0
    assert "staffing case" in capsys.readouterr().out
    assert main(["run", path, "--out", str(tmp_path / "run"), "-q"]) == 0
    ran = json.loads((tmp_path / "run" / "solution.json").read_text(encoding="utf-8"))
    assert main(["staff", path, "--out", str(tmp_path / "staff"), "-q"]) == 0
    staffed = json.loads((tmp_path / "staff" / "solution.json").read_text(encoding="utf-8"))
    assert main(["batch", path, "--out", str(tmp_path / "batch"), "--workers", "1", "-q"]) == 0
    table = pd.read_csv(tmp_path / "batch" / "batch.csv")
    assert list(table["status"]) == [ran["status"]] == [staffed["status"]]
    assert table["objective"].iloc[0] == pytest.approx(ran["objective"], rel=1e-9)
    assert ran["objective"] == staffed["objective"]


def test_time_limit_from_the_command_line_is_recorded(tmp_case, tmp_path):
    """solution.json records the settings used (CLI > case > default), not the YAML's."""
    path = tmp_case(CASE + "solver: {time_limit_s: 600}\n", _files())
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), "--time-limit", "7", "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["solver"]["time_limit_s"] == 7.0
    assert main(["run", str(path), "--out", str(tmp_path / "yaml"), "-q"]) == 0
    sol = json.loads((tmp_path / "yaml" / "solution.json").read_text(encoding="utf-8"))
    assert sol["solver"]["time_limit_s"] == 600.0


def test_batch_runs_every_kind_together(tmp_case, tmp_path):
    """One batch with a covering, a phased, a p-median and a staffing case."""
    paths = []
    for name, text in (("cov", CASE), ("phased", PHASED), ("pmed", PMEDIAN)):
        folder = tmp_path / name
        folder.mkdir()
        for f, body in _files().items():
            (folder / f).write_text(body, encoding="utf-8")
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
        paths.append(str(folder / f"{name}.yaml"))
    paths.append(str(ROOT / "configs" / "zhuji_quota.yaml"))
    out = tmp_path / "batch"
    assert main(["batch", *paths, "--out", str(out), "--workers", "1", "-q"]) == 0
    table = pd.read_csv(out / "batch.csv")
    assert list(table["status"]) == ["optimal"] * 4
    assert list(table["limit"]) == ["none"] * 4  # every family's solution.json says it
    phased = json.loads((out / "phased" / "solution.json").read_text(encoding="utf-8"))
    assert [p["phase"] for p in phased["phases"]] == ["2025", "2026"]


def test_backend_is_spelled_once():
    """Both case schemas take the one Backend enum; each backend declares its features."""
    from optimizer.schema.case import SolverConfig
    from optimizer.solvers import BACKENDS, Feature, supports
    from optimizer.solvers.base import Backend
    from optimizer.staffing.fields import StaffingSolverConfig

    assert set(BACKENDS) == {b.value for b in Backend}
    for schema in (SolverConfig, StaffingSolverConfig):
        assert schema.model_fields["backend"].annotation is Backend
        assert schema.model_validate({"backend": "cbc"}).backend is Backend.CBC
    assert all(supports(b, Feature.BOUND) for b in BACKENDS)
    assert supports("ortools", Feature.ENGINES) and not supports("highs", Feature.ENGINES)


def test_certificate_check_refuses_inconsistent_answers():
    from optimizer.certificate import check_certificate
    from optimizer.errors import CheckError
    from optimizer.solvers import Status

    ok = {"objective": 10.0, "bound": 12.0, "gap": 0.2, "sense": "max", "checked": True}
    check_certificate(status=Status.FEASIBLE, has_plan=True, where="t", **ok)
    with pytest.raises(CheckError, match="wrong side"):
        check_certificate(status=Status.FEASIBLE, has_plan=True, where="t", **ok | {"sense": "min"})
    with pytest.raises(CheckError, match="promises a plan"):
        check_certificate(status=Status.OPTIMAL, has_plan=False, where="t", **ok)
    with pytest.raises(CheckError, match="status that has none"):
        check_certificate(status=Status.INFEASIBLE, has_plan=True, where="t", **ok)
    with pytest.raises(CheckError, match="not checked"):
        check_certificate(
            status=Status.OPTIMAL, has_plan=True, where="t", **ok | {"checked": False}
        )
    with pytest.raises(CheckError, match="negative gap"):
        check_certificate(status=Status.OPTIMAL, has_plan=True, where="t", **ok | {"gap": -0.1})


def test_deadline_gives_each_round_the_time_left():
    from optimizer.solvers import Deadline, SolveOptions

    d = Deadline(100.0, start=0.0)  # started long ago (perf_counter origin): nothing left
    assert d.expired() and d.remaining() == 0.0
    assert d.options_for(SolveOptions(), floor=1.0).time_limit_s == 1.0
    fresh = Deadline(50.0)
    assert 49.0 < fresh.options_for(SolveOptions(time_limit_s=50.0)).time_limit_s <= 50.0


OFFLINE = sorted(
    p
    for p in (ROOT / "configs").glob("*.yaml")
    if p.stem != "zhuji"  # osmnx download
    and "../results/" not in p.read_text(encoding="utf-8")  # reads a siting run's folder first
)
QUICK = {"andorra_ems", "andorra_pmedian", "andorra_pcenter", "chongyang"}
QUICK |= {"qingdao_sent_down", "zhuji_quota"}  # one per family; the rest (5-20 s each) are slow


@pytest.mark.parametrize(
    "path",
    [p if p.stem in QUICK else pytest.param(p, marks=pytest.mark.slow) for p in OFFLINE],
    ids=[p.stem for p in OFFLINE],
)
def test_validate_takes_every_offline_config(path, capsys):
    assert main(["validate", str(path), "-q"]) == 0
    assert capsys.readouterr().out.startswith(f"OK: {path} is valid - ")


@pytest.mark.slow
def test_run_and_batch_agree_on_every_offline_config(tmp_path):
    """run and batch give the same answer for every offline configs/*.yaml (staffing included)."""
    runs = {}
    for path in OFFLINE:
        out = tmp_path / "run" / path.stem
        assert main(["run", str(path), "--out", str(out), "-q"]) == 0, path
        runs[path.stem] = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    paths = [str(p) for p in OFFLINE]
    assert main(["batch", *paths, "--out", str(tmp_path / "batch"), "--workers", "1", "-q"]) == 0
    table = pd.read_csv(tmp_path / "batch" / "batch.csv")
    for case, status, objective in zip(
        table["case"], table["status"], table["objective"], strict=True
    ):
        ran = runs[Path(case).stem]
        assert status == ran["status"], case
        assert objective == pytest.approx(ran["objective"], rel=1e-9), case
