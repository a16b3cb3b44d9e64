"""Hand-offs between stages (issue 12, items 3-7): each resident counted once from siting to
staffing, residents apart from footfall, 120 infeasibility notes verified, 120 classes without a
standard, existing ambulances made explicit; and the independent checks (optimizer.handoff)."""

from __future__ import annotations

import json

import pytest

from optimizer.case.run import run_case, solve_case
from optimizer.errors import CaseError, CheckError
from optimizer.handoff import check_service_population
from optimizer.solvers import Status
from optimizer.staffing.config import parse_staffing_case
from optimizer.staffing.run import prepare_staffing

# ---------------------------------------------------------------------------------------------
# 3. Siting -> staffing: each resident to exactly one facility
# ---------------------------------------------------------------------------------------------
QUOTA_FROM_SITING = """\
kind: staffing_quota
name: thc + chc from a siting run
facilities: {file: f.csv, columns: {id: id, type: type}}
service_population: {file: demand.csv, facility_types: [thc, chc]}
population: {note: "ESTIMATE: test", partition_types: [thc, chc]}
"""
FACILITIES = "id,type\nt1,thc\nt2,thc\nc1,chc\n"
# a siting run's demand.csv: nearest open site of each type and the minutes to it
DEMAND = (
    "demand_id,weight,nearest_thc,nearest_thc_min,nearest_chc,nearest_chc_min\n"
    "v1,1000,t1,5,c1,12\n"  # thc nearer -> t1
    "v2,2000,t1,10,c1,4\n"  # chc nearer -> c1
    "v3,3000,t2,7,c1,7\n"  # tie -> the type listed first (thc) -> t2
    "v4,500,t2,3,,\n"  # no chc in the table -> t2
    "v5,1500,t1,20,c1,6\n"  # -> c1
)


def _write(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")


def _problems(tmp_path, text, files):
    _write(tmp_path, files | {"case.yaml": text})
    with pytest.raises(CaseError) as err:
        prepare_staffing(tmp_path / "case.yaml")
    return [str(p) for p in err.value.problems]


def test_thc_and_chc_share_the_residents_of_a_siting_run(tmp_path):
    _write(tmp_path, {"f.csv": FACILITIES, "demand.csv": DEMAND})
    prepared = prepare_staffing(parse_staffing_case(QUOTA_FROM_SITING, base_dir=tmp_path))
    inst = prepared.instance
    # before: t1 4,500 + t2 3,500 + c1 7,500 = 15,500 for 8,000 residents
    assert dict(zip(inst.facility_ids, inst.population, strict=True)) == {  # type: ignore[union-attr]
        "t1": 1000.0,
        "t2": 3500.0,
        "c1": 3500.0,
    }
    assert inst.county_population == 8000.0  # type: ignore[union-attr]
    sol = solve_case(prepared)
    assert sol.status == Status.OPTIMAL
    src = inst.population_source["from_siting_run"]  # type: ignore[union-attr,index]
    assert src["residents"] == 8000.0
    assert src["layers"][0]["types"] == ["thc", "chc"] and src["layers"][0]["unassigned"] == 0


def test_other_types_are_a_second_layer_each_counting_everyone(tmp_path):
    """village_clinic is not a partition type: each resident also goes to their nearest clinic."""
    text = QUOTA_FROM_SITING.replace("[thc, chc]}\n", "[thc, chc, village_clinic]}\n", 1)
    demand = DEMAND.replace("nearest_chc_min\n", "nearest_chc_min,nearest_village_clinic\n")
    demand = "\n".join(
        line + ("" if k == 0 else f",vc{k % 2}") for k, line in enumerate(demand.splitlines())
    )
    _write(tmp_path, {"f.csv": FACILITIES + "vc0,village_clinic\nvc1,village_clinic\n"})
    _write(tmp_path, {"demand.csv": demand + "\n"})
    inst = prepare_staffing(parse_staffing_case(text, base_dir=tmp_path)).instance
    pop = dict(zip(inst.facility_ids, inst.population, strict=True))  # type: ignore[union-attr]
    assert pop["vc1"] + pop["vc0"] == 8000.0 and pop["t1"] + pop["t2"] + pop["c1"] == 8000.0
    assert inst.county_population == 8000.0  # type: ignore[union-attr]


def test_a_stated_county_total_must_equal_the_assigned_residents(tmp_path):
    text = QUOTA_FROM_SITING.replace("\npopulation: {", "\npopulation: {county_total: 8500, ")
    errs = _problems(tmp_path, text, {"f.csv": FACILITIES, "demand.csv": DEMAND})
    assert [e.replace(f"{tmp_path}/", "") for e in errs] == [
        "case.yaml › population.county_total: the service populations of the thc, chc "
        "facilities add up to 8,000 residents, not the stated county total 8,500 (500 counted "
        "nowhere); the siting run's demand table holds 8,000 residents (got 8500.0); state the "
        "county total the service populations add up to, or correct the populations in f.csv "
        "/ the siting run's table"
    ]


def test_residents_left_out_are_named_in_the_county_total_error(tmp_path):
    text = QUOTA_FROM_SITING.replace("\npopulation: {", "\npopulation: {county_total: 8700, ")
    text = text.replace("[thc, chc]}", "[thc, chc], unassigned: leave_out}", 1)
    demand = DEMAND + "v6,700,,,,\n"  # reaches neither a thc nor a chc
    errs = _problems(tmp_path, text, {"f.csv": FACILITIES, "demand.csv": demand})
    assert len(errs) == 1
    assert (
        "(700 counted nowhere); 700 residents at 1 points of demand.csv have no thc/chc (left "
        "out: line 7)" in errs[0]
    )
    # stating the county the partition serves is consistent (the 700 are reported as left out)
    (tmp_path / "case.yaml").write_text(text.replace("8700", "8000"), encoding="utf-8")
    inst = prepare_staffing(tmp_path / "case.yaml").instance
    layer = inst.population_source["from_siting_run"]["layers"][0]  # type: ignore[union-attr,index]
    assert (layer["assigned"], layer["unassigned"], layer["unassigned_points"]) == (8000, 700, 1)


def test_column_populations_may_differ_from_the_county_by_rounding_only(tmp_path):
    text = """\
kind: staffing_quota
name: t
facilities: {file: f.csv, columns: {id: id, type: type, population: pop}}
population: {county_total: 10002}
"""
    files = {"f.csv": "id,type,pop\na,thc,5000\nb,chc,5000\n"}
    _write(tmp_path, files)
    case = tmp_path / "case.yaml"
    case.write_text(text, encoding="utf-8")
    with pytest.raises(
        CaseError,
        match=r"add up to 10,000 residents, not the stated county "
        r"total 10,002 \(2 counted nowhere\)",
    ):
        prepare_staffing(case)
    case.write_text(text.replace("10002", "10001"), encoding="utf-8")  # 0.5 per facility
    assert prepare_staffing(case).instance.county_population == 10001


def test_the_handoff_check_recomputes_apart_and_fails_on_a_double_count(tmp_path):
    _write(tmp_path, {"demand.csv": DEMAND})
    kwargs = {
        "weight_column": "weight",
        "facility_types": ["thc", "chc"],
        "partition_types": ["thc", "chc"],
        "nearest_columns": {},
        "time_columns": {},
        "county_stated": False,
        "leave_out": False,
    }
    good = {"t1": ("thc", 1000.0), "t2": ("thc", 3500.0), "c1": ("chc", 3500.0)}
    assert (
        check_service_population(
            tmp_path / "demand.csv", facilities=good, county_total=8000, **kwargs
        )
        == []
    )
    # what the old code handed over: every type summed the whole table
    bad = {"t1": ("thc", 4500.0), "t2": ("thc", 3500.0), "c1": ("chc", 7500.0)}
    v = check_service_population(
        tmp_path / "demand.csv", facilities=bad, county_total=15500, **kwargs
    )
    assert (
        "service population of c1 (chc): the quota run uses 7,500.000 residents, demand.csv "
        "gives 3,500.000" in v
    )
    assert any("counted twice or not at all" in x for x in v)


def test_quota_run_writes_the_population_provenance(tmp_path):
    _write(tmp_path, {"f.csv": FACILITIES, "demand.csv": DEMAND})
    (tmp_path / "case.yaml").write_text(QUOTA_FROM_SITING, encoding="utf-8")
    _, _, out = run_case(tmp_path / "case.yaml", tmp_path / "out")
    js = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert js["population"]["county_total"] == 8000.0
    assert js["population"]["from_siting_run"]["layers"][0]["assigned"] == 8000.0
    assert js["gp_posts_required"] == 4  # ceil(4 per 10,000 x 8,000), not x 15,500 (7)
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    assert "county population 8,000" in summary
    assert (
        "from demand.csv: thc/chc - nearest by travel time among these types (tie: first listed); "
        "8,000 residents assigned once (re-checked from the file)"
    ) in summary


def test_handoff_check_error_is_raised_by_prepare(tmp_path, monkeypatch):
    """A disagreement between the reader and the independent check stops the run (exit 3)."""
    import optimizer.staffing.run as run

    _write(tmp_path, {"f.csv": FACILITIES, "demand.csv": DEMAND})
    monkeypatch.setattr(run, "check_service_population", lambda *a, **k: ["t1: 1 != 2"])
    with pytest.raises(CheckError, match="siting -> staffing hand-off: t1: 1 != 2"):
        prepare_staffing(parse_staffing_case(QUOTA_FROM_SITING, base_dir=tmp_path))


# ---------------------------------------------------------------------------------------------
# 5-7. 120: verified fixes, classes without a standard, existing ambulances
# ---------------------------------------------------------------------------------------------
def _ems_instance(model, **kw):
    from .test_ems import instance

    return instance(2, model, **kw)


def test_the_120_budget_fix_is_the_least_and_re_solves():
    """The note's extra budget equals brute force's cheapest plan minus the budget, and the case
    solves at that budget and not a yuan below."""
    import dataclasses

    from optimizer.models.ems.solve import solve_ems
    from optimizer.schema.ems import EmsModelConfig, FleetConfig

    from .test_ems import BASE, brute

    fleet = FleetConfig(per_population=None, vehicle_cost=10, negative_pressure_share=0.0)
    model = EmsModelConfig(**BASE, objective="max_coverage", min_share=0.6, budget=1, fleet=fleet)
    problem, times, dist = _ems_instance(model)
    sol = solve_ems(problem)
    assert sol.status == Status.INFEASIBLE
    cheapest = brute(
        dataclasses.replace(
            problem,
            model=model.model_copy(update={"objective": "min_cost", "budget": None}),
        ),
        times,
        dist,
    )
    assert cheapest is not None
    extra = cheapest - 1
    line = f"- budget: {extra:,.0f} yuan more, i.e. budget {cheapest:,.0f}"
    assert line in sol.diagnosis, sol.diagnosis
    assert not any("(estimate" in x for x in sol.diagnosis)
    assert "- min_share: 60.00% lower, i.e. 0.00%" in sol.diagnosis  # the other fix alone
    for budget, ok in ((cheapest, True), (cheapest - 1, False)):
        moved = dataclasses.replace(problem, model=model.model_copy(update={"budget": budget}))
        assert solve_ems(moved).status.has_solution is ok


def test_existing_ambulances_beyond_a_station_limit_are_named():
    """6 ambulances at an existing station that may hold 3: the note says so (was: 'found no
    explanation')."""
    import dataclasses

    import numpy as np

    from optimizer.models.ems.solve import solve_ems
    from optimizer.schema.ems import EmsModelConfig, FleetConfig

    from .test_ems import BASE

    model = EmsModelConfig(
        **BASE,
        objective="max_coverage",
        min_share=None,
        fleet=FleetConfig(per_population=None, max_vehicles=8, max_per_station=3),
    )
    problem, _, _ = _ems_instance(model, existing=1, cap=0)
    sites = dataclasses.replace(problem.sites, vehicles=np.array([6.0, 0, 0, 0]), capacity=None)
    sol = solve_ems(dataclasses.replace(problem, sites=sites))
    assert sol.status == Status.INFEASIBLE
    assert (
        "existing station s0 has 6 ambulances today but may hold at most 3 "
        "(fleet.max_per_station or its capacity): raise fleet.max_per_station to 6 or give the "
        "station a capacity of 6"
    ) in sol.diagnosis


def test_existing_station_vehicles_column_is_taken_as_given():
    """With a vehicles column, 0 ambulances today means the first one is bought (was: free)."""
    import dataclasses

    import numpy as np

    from optimizer.models.ems.problem import EmsProblem
    from optimizer.schema.ems import EmsModelConfig, FleetConfig

    model = EmsModelConfig(
        **{"kind": "ems", "response_min": 12, "dispatch_min": 2, "time_matrix": "drive"},
        objective="max_coverage",
        min_share=None,
        fleet=FleetConfig(per_population=None, max_vehicles=4),
    )
    problem, _, _ = _ems_instance(model, existing=2)
    assert isinstance(problem, EmsProblem)
    assert problem.vehicles_now()[0].tolist() == [1, 1, 0, 0]  # assumed, and reported
    sites = dataclasses.replace(problem.sites, vehicles=np.array([0.0, 2, 0, 0]))
    given = dataclasses.replace(problem, sites=sites)
    assert given.vehicles_now()[0].tolist() == [0, 2, 0, 0]


EMS_CASE = """\
name: 120 classes
demand: {file: d.csv, columns: {id: id, weight: pop, class: area}}
sites: {file: s.csv, columns: {id: id, type: type, cost: cost, existing: existing}}
travel_times:
  drive: {file: od.csv, columns: {demand_id: d, site_id: s, value: min}, unit: min,
          direction: site_to_demand}
model:
  kind: ems
  response_min: {urban: 11}
  dispatch_min: 2
  objective: max_coverage
  budget: 1000000
  fleet: {per_population: null, vehicle_cost: 100000}
"""
EMS_FILES = {
    "d.csv": "id,pop,area\nu1,500,urban\nr1,300,rural\nr2,0,rural\n",
    "s.csv": "id,type,cost,existing\ns1,ems,1000,1\ns2,ems,1000,0\n",
    "od.csv": "d,s,min\nu1,s1,5\nr1,s1,12\nr1,s2,7\nr2,s2,3\n",
}


def test_a_120_class_without_a_standard_is_an_error(tmp_case, capsys):
    from optimizer.cli import main

    case = tmp_case(EMS_CASE, EMS_FILES)
    assert main(["validate", str(case)]) == 1
    err = capsys.readouterr().err
    assert (
        "model.response_min: demand class 'rural' has no value (2 points, 300 residents would "
        "go unassessed) (got 'urban: 11'); add it (e.g. rural: 15)"
    ) in err


def test_120_run_states_the_assumed_existing_ambulances(tmp_case, tmp_path, capsys):
    from optimizer.cli import main

    case = tmp_case(EMS_CASE.replace("{urban: 11}", "{urban: 11, rural: 15}"), EMS_FILES)
    assert main(["run", str(case), "--out", str(tmp_path / "out"), "-q"]) == 0
    js = json.loads((tmp_path / "out" / "solution.json").read_text(encoding="utf-8"))
    ex = js["fleet"]["existing"]
    assert (ex["stations"], ex["ambulances"], ex["assumed"]) == (1, 1, True)
    summary = (tmp_path / "out" / "summary.txt").read_text(encoding="utf-8")
    assert "existing: 1 stations with 1 ambulances (0 negative-pressure) - ASSUMED" in summary
    assert "each is assumed to hold 1 ambulance" in capsys.readouterr().err
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "现有站点与车辆" in html and "每个现有站点按 1 辆已购救护车计" in html


# ---------------------------------------------------------------------------------------------
# 4. Residents and footfall, two measures; shares and compare totals re-checked from the folder
# ---------------------------------------------------------------------------------------------
AED_CASE = """\
name: AEDs with a market
demand:
  file: d.csv
  columns: {id: id, weight: w, class: cls, zone: zone}
  footfall_classes: [venue]
sites: {file: s.csv, columns: {id: id, type: type, cost: cost}}
travel_times:
  walk: {file: od.csv, columns: {demand_id: d, site_id: s, value: min}, unit: min}
model:
  kind: mclp
  max_new_sites: {aed: 2}
  standards:
    - {name: aed, minutes: 4, matrix: walk, facility_types: [aed]}
"""
AED_FILES = {
    "d.csv": "id,w,cls,zone\nr1,1000,res,z1\nr2,500,res,z2\nv1,800,venue,z1\n",
    "s.csv": "id,type,cost\na1,aed,1\na2,aed,1\n",
    "od.csv": "d,s,min\nr1,a2,3\nr2,a2,10\nv1,a1,1\n",
}


@pytest.fixture
def aed_run(tmp_case, tmp_path):
    from optimizer.cli import main

    case = tmp_case(AED_CASE, AED_FILES)
    out = tmp_path / "run"
    assert main(["run", str(case), "--out", str(out), "-q"]) == 0
    return out


def test_aed_residents_and_footfall_are_two_measures(aed_run):
    import pandas as pd

    js = json.loads((aed_run / "solution.json").read_text(encoding="utf-8"))
    c = js["coverage"]["aed"]
    # residents covered / residents (was 1,800 / 2,300 = 78.26%, visitors mixed in)
    assert (c["covered"], c["population"], c["share"]) == (1000, 1500, pytest.approx(2 / 3))
    assert (c["footfall_covered"], c["footfall"], c["footfall_share"]) == (800, 800, 1.0)
    assert js["objective"] == 1800  # the objective still counts footfall (AED demand)
    assert js["objective_meaning"] == "maximise 1 x (residents + venue footfall) within 'aed'"
    assert c["by_zone"]["z1"]["population"] == 1000 and c["by_zone"]["z1"]["footfall"] == 800
    sites = pd.read_csv(aed_run / "sites.csv").set_index("site_id")
    assert sites.loc["a1", "residents_within_aed"] == 0  # the market AED covers only visitors
    assert sites.loc["a1", "footfall_within_aed"] == 800
    zones = pd.read_csv(aed_run / "zones.csv").set_index("zone_id")
    assert zones.loc["z1", "population"] == 1000 and zones.loc["z1", "share_aed"] == 1.0
    assert zones["population"].sum() == 1500
    demand = pd.read_csv(aed_run / "demand.csv").set_index("demand_id")
    assert demand.loc["v1", "residents"] == 0 and demand.loc["v1", "footfall"] == 800
    summary = (aed_run / "summary.txt").read_text(encoding="utf-8")
    assert "aed              within 4 min: 66.67% (1,000 of 1,500 residents)" in summary
    assert "footfall venues: 100.00% (800 of 800 footfall weight" in summary
    html = (aed_run / "report.html").read_text(encoding="utf-8")
    assert "1,000 / 1,500" in html and "2,300" not in html


def test_a_target_on_a_standard_counting_venues_is_refused(tmp_case, capsys):
    from optimizer.cli import main

    case = tmp_case(
        AED_CASE.replace("facility_types: [aed]}", "facility_types: [aed], min_share: 0.5}"),
        AED_FILES,
    )
    assert main(["validate", str(case)]) == 1
    assert (
        "standards[0].min_share: a target is a share of residents, but this standard also "
        "counts footfall venues (classes venue)"
    ) in capsys.readouterr().err


def test_run_folder_shares_are_recomputed_from_demand_csv(aed_run):
    from optimizer.handoff import check_run_folder

    assert check_run_folder(aed_run) == []
    sol = aed_run / "solution.json"
    js = json.loads(sol.read_text(encoding="utf-8"))
    js["coverage"]["aed"]["share"] = 1800 / 2300  # the old mixed share
    sol.write_text(json.dumps(js), encoding="utf-8")
    zones = aed_run / "zones.csv"
    zones.write_text(
        zones.read_text(encoding="utf-8").replace(",1.0,", ",0.9,", 1), encoding="utf-8"
    )
    v = check_run_folder(aed_run)
    assert (
        "solution.json coverage.aed.share = 0.782608695652174 but demand.csv gives "
        "0.6666666666666666" in v
    )
    assert any(x.startswith("zones.csv z1: share_aed 0.9") for x in v)


def test_compare_totals_are_checked_against_each_run(aed_run, tmp_path, capsys):
    from optimizer.cli import main
    from optimizer.handoff.totals import run_totals

    other = tmp_path / "run_b"
    import shutil

    shutil.copytree(aed_run, other)
    assert main(["compare", str(aed_run), str(other), "--out", str(tmp_path / "cmp"), "-q"]) == 0
    assert run_totals(aed_run)["share:aed"] == pytest.approx(2 / 3)
    assert run_totals(aed_run)["footfall_share:aed"] == 1.0
    sol = other / "solution.json"
    js = json.loads(sol.read_text(encoding="utf-8"))
    js["coverage"]["aed"]["share"] = 0.5
    sol.write_text(json.dumps(js), encoding="utf-8")
    from optimizer.atomic import seal_manifest

    seal_manifest(other)  # a run that says so itself: the totals check, not the hashes, refuses it
    assert main(["compare", str(aed_run), str(other), "--out", str(tmp_path / "cmp2"), "-q"]) == 3
    assert "compare total 'share:aed' of run B is 0.5, the run has 0.666" in capsys.readouterr().err


def test_a_real_siting_run_feeds_a_quota_case_counting_each_resident_once(andorra_runs, tmp_path):
    """The Andorra siting run (clinics and 120 stations, real roads) handed to a quota case
    with its clinics as thc and its stations as chc: the county equals the run's residents."""
    import pandas as pd

    run = andorra_runs[7][2]
    sites = pd.read_csv(run / "sites.csv", keep_default_na=False)
    open_ = sites[sites["status"].isin(["new", "kept"])]
    kind = {"clinic": "thc", "ems": "chc"}
    f = pd.DataFrame({"id": open_["site_id"], "type": open_["facility_type"].map(kind)})
    demand = pd.read_csv(run / "demand.csv", keep_default_na=False)
    # drive minutes to a station undercut e-bike minutes to a clinic: some clinics serve nobody
    # and the case names them (an error); leave those out of this quota case
    e = pd.to_numeric(demand["nearest_ems_min"], errors="coerce").fillna(float("inf"))
    c = pd.to_numeric(demand["nearest_clinic_min"], errors="coerce").fillna(float("inf"))
    wins = set(demand.loc[c <= e, "nearest_clinic"]) | set(demand.loc[e < c, "nearest_ems"])
    f[f["id"].isin(wins)].to_csv(tmp_path / "f.csv", index=False)
    text = f"""\
kind: staffing_quota
name: Andorra thc + chc from the siting run
facilities: {{file: f.csv, columns: {{id: id, type: type}}}}
service_population:
  file: {run / "demand.csv"}
  facility_types: [thc, chc]
  nearest_columns: {{thc: nearest_clinic, chc: nearest_ems}}
  unassigned: leave_out
population: {{note: "ESTIMATE: Andorra stand-in"}}
"""
    (tmp_path / "case.yaml").write_text(text, encoding="utf-8")
    inst = prepare_staffing(tmp_path / "case.yaml").instance
    layer = inst.population_source["from_siting_run"]["layers"][0]  # type: ignore[union-attr,index]
    total = float(demand["weight"].sum())
    assert inst.county_population == pytest.approx(total - layer["unassigned"])  # type: ignore[union-attr]
    assert float(inst.population.sum()) == pytest.approx(inst.county_population)  # type: ignore[union-attr]
    # summing each type over the whole table (the old hand-off) would count them twice
    both = demand["nearest_clinic"].ne("") & demand["nearest_ems"].ne("")
    assert float(demand.loc[both, "weight"].sum()) > 0.5 * total


def test_andorra_120_budget_note_names_the_least_budget_and_it_solves():
    """configs/andorra_ems.yaml with a 10 M budget: the note names 17.6 M more (27.6 M); the
    case solves at 27,600,000 and has no plan at 27,599,999 (the note is verified, not guessed)."""
    import dataclasses

    from optimizer.case.prepare import prepare_case
    from optimizer.case.run import solve_case

    from .conftest import ROOT, shared_path

    shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    prepared = prepare_case(ROOT / "configs" / "andorra_ems.yaml")
    m = prepared.problem.model

    def at(budget: float, **update: float):
        model = m.model_copy(update={"budget": budget, **update})
        problem = dataclasses.replace(prepared.problem, model=model)
        return solve_case(dataclasses.replace(prepared, problem=problem))

    note = at(10_000_000)
    assert note.status == Status.INFEASIBLE
    assert "- budget: 17,600,000 yuan more, i.e. budget 27,600,000" in note.diagnosis
    assert at(27_600_000).status.has_solution
    assert at(27_599_999).status == Status.INFEASIBLE
    # with min_share 0.9 the weighted elastic model asked for 20,600,000 more; the least is the same
    note = at(10_000_000, min_share=0.9)
    assert "- budget: 17,600,000 yuan more, i.e. budget 27,600,000" in note.diagnosis


def _two_limit_case():
    from optimizer.schema.ems import EmsModelConfig, FleetConfig

    from .test_ems import BASE, instance

    fleet = FleetConfig(per_population=None, vehicle_cost=10, negative_pressure_share=0.0)
    model = EmsModelConfig(
        **BASE,
        objective="max_coverage",
        min_share=1.0,
        budget=25,
        max_new_stations=1,
        fleet=fleet,
    )
    return instance(5, model)[0]


def test_when_no_single_limit_suffices_the_limits_are_relaxed_together_and_re_solved():
    import dataclasses

    from optimizer.models.ems.solve import solve_ems

    problem = _two_limit_case()
    sol = solve_ems(problem)
    assert sol.status == Status.INFEASIBLE
    assert sol.diagnosis[0].startswith(
        "No single limit can be relaxed enough on its own. Relaxed together (checked by solving"
    )
    assert "- max_new_stations: 2 more, i.e. 3 (estimate: not proven least)" in sol.diagnosis
    assert "- budget: 65 yuan more, i.e. budget 90 (estimate: not proven least)" in sol.diagnosis
    moved = problem.model.model_copy(update={"budget": 90.0, "max_new_stations": 3})
    assert solve_ems(dataclasses.replace(problem, model=moved)).status.has_solution


def test_a_fix_the_re_solve_does_not_confirm_is_printed_as_an_estimate():
    """The labels follow the re-solve: a plan that fails the raw-data check is no proof."""
    from optimizer.models.ems.build import build_ems_milp, index
    from optimizer.models.ems.fixes import Hooks, diagnose_ems_fixes
    from optimizer.models.ems.problem import coverage_matrix
    from optimizer.schema.ems import EmsModelConfig, FleetConfig
    from optimizer.solvers import SolveOptions

    from .test_ems import BASE

    fleet = FleetConfig(per_population=None, vehicle_cost=10, negative_pressure_share=0.0)
    model = EmsModelConfig(**BASE, objective="max_coverage", min_share=0.6, budget=1, fleet=fleet)
    problem, _, _ = _ems_instance(model)
    cov, applies = coverage_matrix(problem)
    ix = index(problem, cov, applies, True)
    never = Hooks(build_ems_milp, lambda *a: ["rejected on the raw data"])
    lines = diagnose_ems_fixes(problem, ix, SolveOptions(), "highs", never)
    assert (
        "- budget: 29 yuan more, i.e. budget 30 (estimate: solving again at this value found no plan)"
        in lines
    )


def test_a_120_radius_without_a_rural_value_is_an_error(tmp_case, capsys):
    from optimizer.cli import main

    text = EMS_CASE.replace("{urban: 11}", "{urban: 11, rural: 15}").replace(
        "  dispatch_min: 2\n",
        "  dispatch_min: 2\n  time_matrix: drive\n  radius_m: {urban: 3500}\n"
        "  distance_matrix: km\n",
    )
    text = text.replace(
        "model:\n",
        "  km: {file: od.csv, columns: {demand_id: d, site_id: s, value: min}, unit: m,\n"
        "       direction: site_to_demand}\nmodel:\n",
    )
    case = tmp_case(text, EMS_FILES)
    assert main(["validate", str(case)]) == 1
    assert "model.radius_m: demand class 'rural' has no value (2 points, 300 residents" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("case", ["andorra_pmedian", "andorra_pcenter"])
def test_assignment_run_folder_recomputes_its_per_site_figures(tmp_path, case):
    """sites.csv's points, residents and trips per site equal demand.csv's assignments (the
    check runs inside the writer); a tampered sites.csv is caught, naming the site."""
    import csv

    from optimizer.handoff import check_assignment_folder

    from .conftest import ROOT

    _, sol, out = run_case(ROOT / "configs" / f"{case}.yaml", tmp_path / "out")
    assert sol.status == Status.OPTIMAL
    assert check_assignment_folder(out) == []
    with open(out / "sites.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    serving = next(r for r in rows if float(r["residents_assigned"]) > 0)
    serving["residents_assigned"] = str(float(serving["residents_assigned"]) + 1.0)
    with open(out / "sites.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    found = check_assignment_folder(out)
    assert len(found) == 1 and serving["site_id"] in found[0]


def test_a_misaligned_sites_table_stops_the_pmedian_run(tmp_path, monkeypatch):
    """A writer bug (residents shifted by one site) is an error, exit 3: nothing published."""
    import optimizer.models.siting.outputs as outputs

    from .conftest import ROOT

    real = outputs.siting_tables

    def shifted(sol):
        tables = real(sol)
        sites = tables["sites.csv"].copy()
        sites["residents_assigned"] = sites["residents_assigned"].shift(1, fill_value=0.0)
        return {**tables, "sites.csv": sites}

    monkeypatch.setattr(outputs, "siting_tables", shifted)
    with pytest.raises(CheckError, match=r"run folder hand-off: sites\.csv"):
        run_case(ROOT / "configs" / "andorra_pmedian.yaml", tmp_path / "out")
    assert not (tmp_path / "out" / "solution.json").exists()
