"""Reserved hires (Qingdao 5-10% of lead hospitals' new hires for grassroots posts): brute-force
optimum, prechecks, the checker, the loader's errors and the committed Zhuji case."""

from __future__ import annotations

import itertools
import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest

from optimizer.cli import main
from optimizer.errors import CaseError, CheckError
from optimizer.solvers import SolveOptions, SolveResult, Status
from optimizer.staffing.quota import hires as hires_mod
from optimizer.staffing.quota.hires import HiresInstance, precheck_hires, solve_hires
from optimizer.staffing.quota.schema import ReservedHiresConfig

from .conftest import ROOT

CONFIGS = ROOT / "configs"


def _zhuji_copy(tmp_path):
    """The committed Zhuji quota case and its data, copied to edit a file of it."""
    case = tmp_path / "case"
    shutil.copytree(CONFIGS / "data", case / "data")
    text = (CONFIGS / "zhuji_quota.yaml").read_text(encoding="utf-8")
    (case / "zhuji_quota.yaml").write_text(text, encoding="utf-8")
    return case


def _instance(new_hires, vacancies, weight, allowed, lo=0.05, hi=0.10) -> HiresInstance:
    G = len(vacancies)
    return HiresInstance(
        hospitals=[f"H{k}" for k in range(len(new_hires))],
        new_hires=np.asarray(new_hires, dtype=np.int64),
        post_facility=np.asarray([f"F{g}" for g in range(G)], dtype=object),
        post_name=np.asarray([f"F{g}" for g in range(G)], dtype=object),
        post_category=np.asarray(["gp"] * G, dtype=object),
        vacancies=np.asarray(vacancies, dtype=np.int64),
        weight=np.asarray(weight, dtype=float),
        allowed=np.asarray(allowed, dtype=bool),
        config=ReservedHiresConfig(file="x.csv", min_share=lo, max_share=hi),
    )


def _brute(h: HiresInstance) -> float | None:
    """Enumerate every whole plan: the least weighted unfilled posts, or None (infeasible)."""
    H, G = h.allowed.shape
    best = None
    ranges = [
        range(int(h.vacancies[g]) + 1) if h.allowed[k, g] else range(1)
        for k in range(H)
        for g in range(G)
    ]
    for flat in itertools.product(*ranges):
        x = np.asarray(flat).reshape(H, G)
        if (x.sum(axis=0) > h.vacancies).any():
            continue
        r = x.sum(axis=1)
        if any(
            not (h.config.min_share * n - 1e-12 <= r[k] <= h.config.max_share * n + 1e-12)
            for k, n in enumerate(h.new_hires)
        ):
            continue
        val = float((h.weight * (h.vacancies - x.sum(axis=0))).sum())
        best = val if best is None else min(best, val)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_reserved_hires_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    H, G = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    h = _instance(
        rng.integers(5, 45, H),
        rng.integers(0, 3, G),
        rng.choice([1.0, 2.0, 3.0], G),
        rng.random((H, G)) < 0.8,
    )
    expected = _brute(h)
    sol = solve_hires(h, SolveOptions(time_limit_s=30), "highs")
    if expected is None:
        assert sol.status == Status.INFEASIBLE and sol.evaluation is None
        return
    assert sol.status == Status.OPTIMAL and sol.objective == pytest.approx(expected)
    assert sol.bound == pytest.approx(expected) and sol.gap == pytest.approx(0.0)
    assert sol.evaluation is not None and not sol.evaluation.violations


def test_precheck_names_a_band_without_a_whole_number_and_too_few_posts():
    # 5-10% of 3 new hires is 0.15-0.30: no whole person fits
    h = _instance([3], [4], [1.0], [[True]])
    (why,) = precheck_hires(h)
    assert "H0" in why and "0.15-0.30" in why and "no whole number" in why
    # 10 hires from 100 need >= 5 reserved, but the posts it may serve hold 2
    h = _instance([100], [2, 9], [1.0, 1.0], [[True, False]])
    out = precheck_hires(h)
    assert any("at least 5 reserved hires" in r and "only 2 vacant" in r for r in out)
    assert solve_hires(h, SolveOptions(), "highs").status == Status.INFEASIBLE


def test_shared_posts_too_few_for_the_minima_are_explained():
    # H0 and H1 (40 hires each: >= 2 reserved) may both serve only F0 with 2 vacancies; each
    # alone fits (no precheck fires), together they cannot: the solver proves it, the elastic
    # model says by how many
    h = _instance([40, 40, 40], [2, 10], [1.0, 1.0], [[True, False], [True, False], [False, True]])
    assert precheck_hires(h) == []
    sol = solve_hires(h, SolveOptions(), "highs")
    assert sol.status == Status.INFEASIBLE and sol.evaluation is None
    assert "2 of 6 cannot be placed" in sol.diagnosis[0]


def test_checker_rejects_a_plan_outside_the_band(monkeypatch):
    real = hires_mod.solve

    def fake(milp, options=None, backend="highs"):
        res = real(milp, options, backend)
        x = res.x.copy()
        x[milp.var_blocks["x"].start] += 1  # one more reserved hire than the band allows
        return SolveResult(
            res.status, x, res.objective, res.bound, res.runtime_s, res.solver, res.solver_version
        )

    monkeypatch.setattr(hires_mod, "solve", fake)
    h = _instance([40], [10], [1.0], [[True]])  # band 2-4: the optimum reserves 4
    with pytest.raises(CheckError, match="outside the band"):
        solve_hires(h, SolveOptions(), "highs")


def test_unknown_hospital_in_the_pairs_file_is_a_clear_error(tmp_path):
    case = _zhuji_copy(tmp_path)
    pairs = case / "data" / "zhuji_hire_pairs.csv"
    pairs.write_text(
        pairs.read_text(encoding="utf-8") + "诸暨市第九人民医院,330681102\n", encoding="utf-8"
    )
    from optimizer.staffing.run import prepare_staffing

    with pytest.raises(CaseError) as err:
        prepare_staffing(case / "zhuji_quota.yaml")
    text = str(err.value)
    assert "zhuji_hire_pairs.csv" in text and "诸暨市第九人民医院" in text and "unknown" in text


def test_zhuji_reserved_hires_recomputed_from_the_run_folder(tmp_path):
    """Band per hospital, 医共体 pairs, vacancies and the weighted unfilled posts, recomputed
    here from the input CSVs and posts.csv (not from the package's evaluation)."""
    out = tmp_path / "zq"
    assert main(["staff", str(CONFIGS / "zhuji_quota.yaml"), "--out", str(out), "-q"]) == 0
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    block = sol["reserved_hires"]
    assert block["status"] == "optimal" and block["gap"] == 0
    hires = pd.read_csv(out / "reserved_hires.csv", dtype={"facility_id": str})
    new = pd.read_csv(CONFIGS / "data" / "zhuji_new_hires.csv").set_index("hospital")["new_hires"]
    pairs = pd.read_csv(CONFIGS / "data" / "zhuji_hire_pairs.csv", dtype={"facility_id": str})
    allowed = set(zip(pairs["hospital"], pairs["facility_id"], strict=True))
    per_h = hires.groupby("hospital")["reserved_hires"].sum()
    for name, n in new.items():
        r = int(per_h.get(name, 0))
        assert math.ceil(0.05 * n - 1e-9) <= r <= math.floor(0.10 * n + 1e-9), name
    assert all(
        (h, f) in allowed for h, f in zip(hires["hospital"], hires["facility_id"], strict=True)
    )
    assert (hires["service_years"] >= 2).all()
    posts = pd.read_csv(out / "posts.csv", dtype={"facility_id": str}).set_index("facility_id")
    thc = posts[posts["type"] == "thc"]
    unfilled = 0.0
    filled = hires.groupby(["facility_id", "category"])["reserved_hires"].sum()
    for fid, row in thc.iterrows():
        for cat in ("gp", "public_health"):
            vac = max(int(row[f"posts_{cat}"]) - int(row[f"current_{cat}"]), 0)
            got = int(filled.get((fid, cat), 0))
            assert got <= vac
            unfilled += (2.0 if row["remote"] == 1 else 1.0) * (vac - got)
    assert block["objective"] == pytest.approx(unfilled)
    # every reserved hire is placed (vacancies exceed the band) and the upper band is used
    assert block["reserved_total"] == sum(math.floor(0.10 * n) for n in new)
    rows = list(sol["reserved_hires_compliance"]["table"])
    assert len(rows) == len(new) + 1 and all(r["met"] for r in rows)
    compliance = pd.read_csv(out / "compliance.csv")
    assert (compliance["norm"] == "reserved_hires.share").sum() == len(new)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "县级牵头医院基层定向招聘" in html and "诸暨市人民医院" in html


def _case_with_vacancies(tmp_path, rows: str):
    case = tmp_path / "case"
    shutil.copytree(CONFIGS / "data", case / "data")
    text = (CONFIGS / "zhuji_quota.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  min_share: 0.05 ",
        "  vacancies: {file: data/vacancies.csv}\n  min_share: 0.05 ",
    )
    assert "vacancies: {file" in text
    (case / "zhuji_quota.yaml").write_text(text, encoding="utf-8")
    (case / "data" / "vacancies.csv").write_text(
        "facility_id,category,vacancies\n" + rows, encoding="utf-8"
    )
    return case / "zhuji_quota.yaml"


def test_a_vacancies_table_replaces_the_plans_vacancies(tmp_path):
    from optimizer.staffing.quota import solve_quota
    from optimizer.staffing.run import prepare_staffing

    path = _case_with_vacancies(
        tmp_path,
        "330681102,gp,17\n330681111,gp,3\n330681116,public_health,2\n330681109,gp,5\n"
        "330681120,gp,4\n330681122,gp,2\n330681201,public_health,1\n",
    )
    sol = solve_quota(prepare_staffing(path).instance, SolveOptions(time_limit_s=120))
    hs = sol.hires
    assert hs is not None and hs.status == Status.OPTIMAL and hs.evaluation is not None
    x = hs.evaluation.hires
    h = hs.instance
    per = dict(zip(h.hospitals, x.sum(axis=1).tolist(), strict=True))
    # 人民医院: band 8-16, 20 posts it may serve -> 16, the remote 马剑 (weight 2) first;
    # the others fill every post they may serve (7, 4, 3 within their bands)
    assert per == {
        "诸暨市人民医院": 16,
        "诸暨市中医医院": 7,
        "诸暨市第二人民医院": 4,
        "诸暨市第四人民医院": 3,
    }
    filled = dict(
        zip(zip(h.post_facility, h.post_category, strict=True), x.sum(axis=0), strict=True)
    )
    assert filled[("330681111", "gp")] == 3 and filled[("330681102", "gp")] == 13
    assert hs.objective == pytest.approx(4.0) and hs.evaluation.unfilled_posts == 4


def test_vacancies_at_a_facility_hires_cannot_serve_are_an_error(tmp_path):
    from optimizer.staffing.run import prepare_staffing

    path = _case_with_vacancies(tmp_path, "330681111-VC,village_doctor,2\n")
    with pytest.raises(CaseError) as err:
        prepare_staffing(path)
    assert "vacancies.csv" in str(err.value) and "330681111-VC" in str(err.value)


def test_infeasible_reserved_hires_end_the_quota_run_with_exit_2(tmp_path, capsys):
    """A hospital whose 5% minimum exceeds every vacancy it may serve: the quota plan is still
    written (proven optimal), the reserved hires have none, and the run ends with exit 2."""
    case = _zhuji_copy(tmp_path)
    hires = case / "data" / "zhuji_new_hires.csv"
    hires.write_text(
        hires.read_text(encoding="utf-8").replace("诸暨市人民医院,160", "诸暨市人民医院,100000"),
        encoding="utf-8",
    )
    out = tmp_path / "zq"
    assert main(["staff", str(case / "zhuji_quota.yaml"), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    many = tmp_path / "many"
    assert main(["batch", str(case / "zhuji_quota.yaml"), "--out", str(many), "-q"]) == 2
    row = pd.read_csv(many / "batch.csv").iloc[0]
    assert row["status"] == "partial" and "reserved hires" in row["error"]
    assert (many / row["folder"] / "posts.csv").exists()
    assert "no plan: reserved hires: no plan (infeasible)" in err and "诸暨市人民医院" in err
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "optimal"  # the quota plan itself
    assert sol["reserved_hires"]["status"] == "infeasible"
    assert (out / "posts.csv").exists()
