"""Staffing case files end to end: validation (all problems at once), data, examples, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from optimizer.case.run import solve_case
from optimizer.cli import main
from optimizer.errors import CaseError
from optimizer.solvers import Status
from optimizer.staffing.config import parse_staffing_case
from optimizer.staffing.run import prepare_staffing

from .conftest import ROOT

CONFIGS = ROOT / "configs"


def _problems(tmp_path, yaml_text: str, files: dict[str, str] | None = None) -> list[str]:
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    case = tmp_path / "case.yaml"
    case.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(CaseError) as err:
        prepare_staffing(case)
    return [str(p) for p in err.value.problems]


# ---------------------------------------------------------------------------------------------
# The example cases
# ---------------------------------------------------------------------------------------------
def test_zhuji_quota_example_runs_and_writes_every_file(tmp_path, capsys):
    out = tmp_path / "zhuji"
    assert main(["staff", str(CONFIGS / "zhuji_quota.yaml"), "--out", str(out), "-q"]) == 0
    stdout = capsys.readouterr().out
    assert "Status: OPTIMAL" in stdout and "ESTIMATE" in stdout
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    for key in ("status", "objective", "best_bound", "gap", "solver"):
        assert key in sol, key
    times = json.loads((out / "timings.json").read_text(encoding="utf-8"))["solution.json"]
    assert times["runtime_s"] >= 0 and "runtime_s" not in sol
    assert sol["status"] == "optimal" and sol["checked_on_raw_data"] is True
    assert sol["solver"]["backend"] == "highs" and sol["solver"]["version"]
    assert "ESTIMATE" in sol["population"]["note"]
    comp = sol["norm_compliance"]
    assert comp["missed"] == 0 and comp["checks"] == len(comp["table"]) > 100
    posts = pd.read_csv(out / "posts.csv", dtype={"facility_id": str})
    assert len(posts) == 46 and posts["posts_total"].sum() == sol["posts"]["total"]
    remote = posts[posts["remote"] == 1]
    assert set(remote["zone"]) == {"岭北镇", "陈宅镇", "马剑镇", "五泄镇", "同山镇", "东白湖镇"}
    thc = posts[posts["type"] == "thc"]
    assert (thc["posts_total"] >= thc["min_posts"]).all()
    assert (thc["posts_total"] <= thc["max_posts"].astype(int)).all()
    compliance = pd.read_csv(out / "compliance.csv")
    capacity = compliance[compliance["norm"].str.startswith("capacity.")].set_index("norm")
    compliance = compliance[~compliance["norm"].str.startswith("capacity.")]
    assert compliance["met"].all() and {"gp_per_10k", "pool"} <= set(compliance["norm"])
    # county capacity norms from given (ILLUSTRATIVE) figures, recomputed here on the county
    # population: CDC 190 < 1.75 x 121.8072 = 213.16 (missed); beds 320 >= 304.52, 4,650 >= 4,506.87
    pop = 1218072
    for name, have, rate, per in (
        ("cdc_staff", 190, 1.75, 10000),
        ("infectious_disease_beds", 320, 2.5, 10000),
        ("county_hospital_beds", 4650, 3.7, 1000),
    ):
        row = capacity.loc[f"capacity.{name}"]
        assert bool(row["met"]) == (have * per >= rate * pop), name
        assert "ILLUSTRATIVE" in row["achieved"]
        assert "Zhuji" in row["source"] or "Yueqing" in row["source"]
    assert not capacity.loc["capacity.cdc_staff", "met"]
    cap_block = sol["capacity_compliance"]
    assert cap_block["population"] == pop and (cap_block["checks"], cap_block["met"]) == (3, 2)
    assert "short by 24" in stdout  # ceil(213.16) - 190
    # >= 60% of village doctors licensed, checked per village-doctor group from posts.csv
    lic = compliance[compliance["norm"] == "shares[village_doctors_licensed]"]
    assert len(lic) == 23
    vc = posts[posts["type"] == "village_clinic"]
    assert (
        vc["posts_village_doctor_licensed"]
        >= 0.6 * (vc["posts_village_doctor_licensed"] + vc["posts_village_doctor"]) - 1e-9
    ).all()
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no staging leftovers"
    # report.html: the staffing section lists every facility's posts against its norm range
    html = (out / "report.html").read_text(encoding="utf-8")
    staffing = _section(html, "staffing")
    assert "各机构编制与标准" in staffing
    for r in posts.itertuples():
        assert f"{r.min_posts:,}–{int(r.max_posts):,}" in staffing
    posts_part = staffing.split("<h3>")[1]  # the posts table (the reserved hires follow)
    assert posts_part.count('class="num missed"') == 0
    assert posts_part.count('class="num met"') == len(posts)
    norms = _section(html, "norms")
    assert "每万人全科医生" in norms and "gp_per_10k" not in norms  # labelled, no raw key
    # a requirement written with its own comparison ("posts ≥ current staff") gets no second
    assert "各机构各类别岗位 ≥ 现有人员" in norms and "≥ 各机构各类别岗位" not in norms
    # facility rows are grouped per norm in collapsible blocks, closed when all are met
    assert (
        norms.count('<details class="norm-group">') >= 5
        and '<details class="norm-group" open' not in norms
    )


def test_validate_command_checks_staffing_cases(tmp_path, capsys):
    for name, kind in (("zhuji_quota", "staffing_quota"), ("qingdao_sent_down", "sent_down")):
        assert main(["validate", str(CONFIGS / f"{name}.yaml"), "-q"]) == 0
        assert f"kind {kind}" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: sent_down\nname: t\n", encoding="utf-8")
    assert main(["validate", str(bad), "-q"]) == 1
    assert "doctors: required key is missing" in capsys.readouterr().err


def test_sent_down_report_in_chromium_offline(tmp_path):
    """The staffing report loads with the network off: no errors, the Gantt table readable."""
    from .browser import open_page

    out = tmp_path / "qingdao"
    assert main(["staff", str(CONFIGS / "qingdao_sent_down.yaml"), "--out", str(out), "-q"]) == 0
    res = open_page(
        out / "report.html",
        evaluate={
            "months": "Array.from(document.querySelectorAll('#sec-staffing table.gantt thead th'))"
            ".slice(2).map(e => e.textContent).join(',')",
            "header_top": "document.querySelector('#sec-staffing table.gantt thead').getBoundingClientRect().top"
            " - document.querySelector('#sec-staffing table.gantt').getBoundingClientRect().top",
            "stints": "document.querySelectorAll('#sec-staffing td.stint').length",
            "hosts": "Array.from(document.querySelectorAll('#sec-staffing table.gantt tbody th'))"
            ".map(e => e.textContent).filter(x => x).join('|')",
            "release_rows": "document.querySelectorAll('#sec-staffing table:not(.gantt)')[0].rows.length",
        },
        ready="document.readyState === 'complete'",
    )
    assert res.errors == [], res.errors
    assert res.network_requests == [], res.network_requests
    release = pd.read_csv(out / "release.csv")
    calendar = pd.read_csv(out / "calendar.csv")
    v = res.values
    # the Gantt chart: months across the top (first row of the table), one cell per stint,
    # lanes named by the hosts' names
    assert v["months"] == ",".join(f"25-{m:02d}" for m in range(1, 13))
    assert abs(float(v["header_top"])) < 2  # the header row is the table's top
    assert int(v["stints"]) == len(calendar)
    assert set(v["hosts"].split("|")) == set(calendar["host_name"])
    assert int(v["release_rows"]) == len(release) + 1  # header row


def _section(html: str, key: str) -> str:
    start = html.index(f'<section id="sec-{key}">')
    return html[start : html.index("</section>", start)]


def test_report_command_redraws_a_staffing_run(tmp_path, capsys):
    out = tmp_path / "zhuji"
    assert main(["staff", str(CONFIGS / "zhuji_quota.yaml"), "--out", str(out), "-q"]) == 0
    page = tmp_path / "en.html"
    assert main(["report", str(out), "--lang", "en", "--out", str(page), "-q"]) == 0
    html = page.read_text(encoding="utf-8")
    assert "Posts per facility against the norms" in _section(html, "staffing")
    # a text requirement keeps its own comparison sign (no "≥ ≤ ...")
    assert "≥ ≥" not in html and "≥ ≤" not in html


def test_qingdao_sent_down_example_runs_and_is_reproducible(tmp_path, capsys):
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        code = main(["staff", str(CONFIGS / "qingdao_sent_down.yaml"), "--out", str(out), "-q"])
        assert code == 0
    stdout = capsys.readouterr().out
    assert "Status: OPTIMAL" in stdout and "Hosts still lacking a specialty" in stdout
    out = outs[0]
    for name in (
        "solution.json",
        "calendar.csv",
        "gantt.png",
        "host_coverage.csv",
        "release.csv",
        "unplaced_doctors.csv",
        "compliance.csv",
        "summary.txt",
        "manifest.json",
    ):
        assert (out / name).exists(), name
    assert (out / "gantt.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "optimal" and sol["gap"] is not None and sol["gap"] <= 1e-6
    assert sol["stints"]["by_plan_year"][0] >= 200
    assert all(r["met"] for r in sol["rule_compliance"]["table"])
    assert any(r["specialty"] == "paediatrics" for r in sol["hosts_lacking"])
    # the hospital release caps bind; every doctor left home is listed with the reason
    rel = next(r for r in sol["rule_compliance"]["table"] if r["rule"] == "hospital_release")
    assert "平度市人民医院 24 /" in rel["achieved"]
    unplaced = pd.read_csv(out / "unplaced_doctors.csv", dtype=str)
    assert len(unplaced) == sol["unplaced_doctors"]["total"] == 220 - sol["stints"]["doctors_sent"]
    assert unplaced["reason"].notna().all() and unplaced["detail"].notna().all()
    cal = pd.read_csv(out / "calendar.csv", dtype=str)
    assert len(cal) == sol["stints"]["total"]
    assert cal["months"].astype(int).between(6, 12).all()
    release = pd.read_csv(out / "release.csv")
    assert (release["max_away"] <= release["max_away_allowed"]).all()
    for name in ("calendar.csv", "host_coverage.csv", "release.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    # report.html: Gantt table (one cell per stint), release limits per department, lacking hosts
    html = (out / "report.html").read_text(encoding="utf-8")
    staffing = _section(html, "staffing")
    assert staffing.count('<td class="stint"') == len(cal)
    assert "派出医院放人限额" in staffing and "仍缺专科的派驻点" in staffing
    assert staffing.count(">达标<") == len(release) and ">未达标<" not in staffing
    norms = _section(html, "norms")
    assert "科室同时外派比例" in norms and "max_share_away" not in norms  # labelled, no raw key


# ---------------------------------------------------------------------------------------------
# Whole-file validation: every problem at once, in the project's format
# ---------------------------------------------------------------------------------------------
def test_schema_problems_are_all_reported_at_once(tmp_path):
    text = """\
kind: staffing_quota
name: t
facilities: {file: f.csv, columns: {population: pop}}
norms:
  per_mile: {thc: {min: 1}}
  professional_min_share: {value: 1.5}
  pool: {total: many}
  gp_per_10k: {per_10k: -4}
solver: {backend: gurobi}
"""
    errs = _problems(tmp_path, text)
    joined = "\n".join(errs)
    assert "case.yaml › norms.per_mile: unknown key" in joined
    assert "did you mean 'per_mille'" in joined
    assert "norms.professional_min_share.value" in joined and "1.5" in joined
    assert "norms.pool.total" in joined and "many" in joined
    assert "norms.gp_per_10k.per_10k" in joined
    assert "solver.backend" in joined and "gurobi" in joined
    assert len(errs) >= 5


def test_unknown_kind_and_cross_field_rules(tmp_path):
    errs = _problems(tmp_path, "kind: staffing\nname: t\n")
    assert "› kind: unknown or missing staffing case kind (got 'staffing')" in errs[0]
    errs = _problems(
        tmp_path,
        "kind: staffing_quota\nname: t\nfacilities: {file: f.csv}\n"
        "norms: {per_mille: {thc: {min: 2, max: 1}}, remote: {min_travel_min: 40}}\n",
    )
    joined = "\n".join(errs)
    assert "norms.per_mille.thc" in joined and "min 2‰ is above max 1‰" in joined
    errs = _problems(
        tmp_path,
        "kind: staffing_quota\nname: t\nfacilities: {file: f.csv}\n"
        "norms: {remote: {min_travel_min: 40}}\n",
    )
    joined = "\n".join(errs)
    assert "norms.remote.min_travel_min: the travel-time rule needs a travel-time column" in joined
    assert "facilities.columns.population: no service population" in joined
    rotation = (
        "kind: sent_down\nname: t\ndoctors: {file: d.csv}\nhosts: {file: h.csv}\n"
        "travel: {file: t.csv}\nrules: {tenure_months: {min: 6, max: 12}, "
        "min_months_between_starts: 8}\nhorizon: {months: 12, start: START}\n"
    )
    errs = _problems(tmp_path, rotation.replace("START", "2025-13"))
    assert "case.yaml › horizon.start: give the first month as YYYY-MM" in errs[0]
    assert "(got '2025-13')" in errs[0]
    errs = _problems(tmp_path, rotation.replace("START", "2025-03"))
    joined = "\n".join(errs)
    assert "rules.min_months_between_starts: must be at least the longest stint" in joined
    assert "weights.coverage: coverage is weighted but no residents are given" in joined


QUOTA_CASE = """\
kind: staffing_quota
name: data problems
facilities: {file: f.csv, columns: {id: fid, type: type, population: pop}}
current_staff: {file: cur.csv}
need: {file: need.csv}
"""


def test_quota_data_problems_are_all_reported_at_once(tmp_path):
    files = {
        "f.csv": "fid,type,pop\na,thc,10000\na,thc,12000\nb,thc,lots\n",
        "cur.csv": "facility_id,category,staff\nzz,gp,3\na,surgeon,2\na,gp,1.5\n",
        "need.csv": "facility_id,category,need\na,gp,4\nb,wizard,1\n",
    }
    errs = _problems(tmp_path, QUOTA_CASE, files)
    joined = "\n".join(errs)
    assert "f.csv lines 2 (id=a), 3 (id=a): duplicate facility ids" in joined
    assert (
        "f.csv line 4 (id=b): service population (column 'pop') is empty or not a number" in joined
    )
    assert "cur.csv line 2 (id=zz): unknown facility ids in column 'facility_id'" in joined
    assert "unknown categories in column 'category' (got 'surgeon')" in joined
    assert "current staff (column 'staff') is not a whole number" in joined
    assert "need.csv line 3 (id=b): unknown categories" in joined
    assert len(errs) >= 6


def test_rotation_data_problems_are_all_reported_at_once(tmp_path):
    files = {
        "d.csv": "id,hospital,specialty,from,to\nd1,H1,paed,1,12\nd1,H1,paed,1,12\nd2,H2,rehab,9,3\n",
        "h.csv": "id,type,capacity\nf1,thc,2\nf2,village_clinic,x\n",
        "n.csv": "host_id,specialty,month,need\nf9,paed,,1\nf1,paed,14,1\n",
        "t.csv": "hospital,host_id,minutes\nH1,f1,20\nH1,f7,20\n",
    }
    text = """\
kind: sent_down
name: t
doctors: {file: d.csv, columns: {available_from: from, available_to: to}}
hosts: {file: h.csv, columns: {type: type, capacity: capacity}}
needs: {file: n.csv, columns: {month: month}}
travel: {file: t.csv}
weights: {coverage: 0}
"""
    errs = _problems(tmp_path, text, files)
    joined = "\n".join(errs)
    assert "d.csv lines 2 (id=d1), 3 (id=d1): duplicate doctor ids" in joined
    assert "d.csv line 4 (id=d2): available_from is after available_to" in joined
    assert "h.csv line 3 (id=f2): capacity (column 'capacity') is empty or not a number" in joined
    assert "n.csv line 2 (id=f9): unknown host ids" in joined
    assert "n.csv line 3 (id=f1): month beyond the 12-month horizon" in joined
    assert "t.csv line 3 (id=H1): unknown host ids in column 'host_id' (got 'f7')" in joined
    assert "hospitals with doctors but no travel times" in joined and "H2" in joined


# ---------------------------------------------------------------------------------------------
# Inputs: populations from a siting run, WISN need, coverage on demand points
# ---------------------------------------------------------------------------------------------
SITING_CASE = """\
kind: staffing_quota
name: from siting
facilities: {file: f.csv, columns: {id: id, type: type}}
service_population:
  file: demand.csv
  facility_types: [thc]
  nearest_columns: {thc: nearest_clinic}
population: {note: "ESTIMATE: test"}
"""


def test_service_population_from_a_siting_demand_csv(tmp_path):
    files = {
        "f.csv": "id,type\ns1,thc\ns2,thc\n",
        "demand.csv": "demand_id,weight,nearest_clinic,nearest_clinic_min\n"
        "v1,3000,s1,5\nv2,4500,s2,9\nv3,2500,s1,12\nv4,100,,\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    # v4 reaches no clinic: counted nowhere, so an error unless the case leaves it out
    errs = _problems(tmp_path, SITING_CASE)
    assert errs == [
        "demand.csv line 5: 100 residents at 1 demand points have no open thc in the siting "
        "run's table (they would be counted nowhere); extend the siting run's travel-time table "
        "(travel_times.<name>.cutoff) so every resident reaches a thc, or set "
        "service_population.unassigned: leave_out"
    ]
    text = SITING_CASE.replace(
        "facility_types: [thc]", "facility_types: [thc]\n  unassigned: leave_out"
    )
    prepared = prepare_staffing(parse_staffing_case(text, base_dir=tmp_path))
    assert prepared.instance.population.tolist() == [5500.0, 4500.0]  # type: ignore[union-attr]
    assert prepared.instance.county_population == 10000.0  # type: ignore[union-attr]
    sol = solve_case(prepared)
    assert sol.status == Status.OPTIMAL


def test_siting_demand_csv_problems(tmp_path):
    files = {
        "f.csv": "id,type\ns1,thc\ns2,thc\ns3,thc\n",
        "demand.csv": "demand_id,weight,nearest_clinic\nv1,3000,s1\nv2,4500,s9\n",
    }
    errs = _problems(tmp_path, SITING_CASE, files)
    joined = "\n".join(errs)
    assert "column 'nearest_clinic' names facilities that are not in f.csv (got 's9')" in joined
    assert "2 'thc' facilities are not the nearest open thc of any resident" in joined


def test_wisn_need_is_computed_from_workloads(tmp_path):
    files = {
        "f.csv": "id,type,pop\na,thc,20000\n",
        "wisn.csv": "facility_id,category,visits,minutes\na,gp,30000,15\na,gp,2000,30\n"
        "a,nursing,12000,20\n",
    }
    text = """\
kind: staffing_quota
name: wisn
facilities: {file: f.csv, columns: {id: id, type: type, population: pop}}
need:
  file: wisn.csv
  columns: {annual_workload: visits, unit_time_min: minutes}
  wisn:
    gp: {available_working_time_h: 1600, category_allowance_percent: 20, individual_allowance_staff: 0.5}
    nursing: {available_working_time_h: 1750}
"""
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    prepared = prepare_staffing(parse_staffing_case(text, base_dir=tmp_path))
    inst = prepared.instance
    names = inst.category_names  # type: ignore[union-attr]
    need = inst.need[0]  # type: ignore[union-attr]
    # gp: (30000 x 15 + 2000 x 30) / 60 = 8500 h; / 1600 h = 5.3125; x CAF 1/(1-0.2) = 6.640625;
    # + IAF 0.5 = 7.140625. nursing: 12000 x 20 / 60 = 4000 h / 1750 h = 2.285714...
    assert need[names.index("gp")] == pytest.approx(7.140625)
    assert need[names.index("nursing")] == pytest.approx(4000 / 1750)
    assert np.isnan(need[names.index("other")])


def test_village_inside_two_circles_is_counted_once(tmp_path):
    files = {
        "d.csv": "id,hospital,specialty\nd1,H,paed\nd2,H,paed\n",
        "h.csv": "id,type,capacity\nf1,village_clinic,1\nf2,village_clinic,1\n",
        "t.csv": "hospital,host_id,minutes\nH,f1,10\nH,f2,10\n",
        "v.csv": "id,population\nv1,1000\nv2,300\n",
        "vt.csv": "demand_id,host_id,minutes\nv1,f1,10\nv1,f2,15\nv2,f2,5\n",
    }
    text = """\
kind: sent_down
name: circles
horizon: {months: 6}
doctors: {file: d.csv}
hosts: {file: h.csv, columns: {type: type, capacity: capacity}}
travel: {file: t.csv}
coverage:
  demand: {file: v.csv}
  travel_times: {file: vt.csv}
rules:
  tenure_months: {min: 6, max: 6}
  min_months_between_starts: 6
  annual_total: {value: 0, enabled: false}
  max_share_away: {value: 1.0}   # default 30% of a 2-doctor department is 0 doctors
"""
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    sol = solve_case(prepare_staffing(parse_staffing_case(text, base_dir=tmp_path)))
    assert sol.status == Status.OPTIMAL
    # Both doctors go (one per host): v1 lies in both circles but counts once -> 6 x 1,300.
    assert sol.objective == pytest.approx(6 * 1300)
    assert len(sol.stints) in (1, 2)


def test_infeasible_case_exits_2_and_says_why(tmp_path, capsys):
    (tmp_path / "f.csv").write_text("id,type,pop\na,thc,500000\nb,thc,312000\n")
    case = tmp_path / "case.yaml"
    case.write_text(
        "kind: staffing_quota\nname: tight pool\n"
        "facilities: {file: f.csv, columns: {type: type, population: pop}}\n"
        "norms: {pool: {total: 700}}\n",
        encoding="utf-8",
    )
    assert main(["staff", str(case), "--out", str(tmp_path / "out"), "-q"]) == 2
    out = capsys.readouterr().out
    assert "Why no plan exists" in out
    assert "Σ minimum posts 812 exceeds the county pool of 700" in out
    sol = json.loads((tmp_path / "out" / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "infeasible" and sol["diagnosis"]


def test_bad_case_exits_1(tmp_path, capsys):
    case = tmp_path / "case.yaml"
    case.write_text("kind: sent_down\nname: t\n", encoding="utf-8")
    assert main(["staff", str(case), "-q"]) == 1
    err = capsys.readouterr().err
    assert "doctors: required key is missing" in err


@pytest.mark.slow
def test_quick_benchmark_runs(tmp_path, capsys):
    from benchmarks.staffing import main as bench

    assert bench(["--quick", "--no-24", "--json", str(tmp_path / "b.json")]) == 0
    out = capsys.readouterr().out
    assert out.count("optimal") == 2
    doc = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in doc["rows"]] == ["optimal", "optimal"]
    assert all(r["checked"] and r["met_target"] for r in doc["rows"])


def test_rotation_hospital_names_and_department_rows_are_checked(tmp_path):
    """A by_hospital entry naming no hospital and a department without a headcount row are
    errors (the headcount would silently become the listed doctors)."""
    files = {
        "d.csv": "id,hospital,specialty\nd1,H1,paed\nd2,H1,rehab\nd3,H2,paed\n",
        "e.csv": "hospital,specialty,staff\nH1,paed,10\n",
        "h.csv": "id,type\nf1,thc\n",
        "n.csv": "host_id,specialty,need,weight\nf1,paed,1,x\n",
        "t.csv": "hospital,host_id,minutes\nH1,f1,20\nH2,f1,30\n",
    }
    text = """\
kind: sent_down
name: t
doctors: {file: d.csv}
departments: {file: e.csv}
hosts: {file: h.csv, columns: {type: type}}
needs: {file: n.csv, columns: {weight: weight}}
travel: {file: t.csv}
weights: {coverage: 0}
rules:
  max_share_away: {by_hospital: {H9: 0.2}}
  hospital_release: {at_once: 3, by_hospital: {H1: {per_year: 2}, Hx: {at_once: 1}}}
"""
    errs = _problems(tmp_path, text, files)
    joined = "\n".join(errs)
    assert "rules.max_share_away.by_hospital.H9: names no hospital" in joined
    assert "rules.hospital_release.by_hospital.Hx: names no hospital" in joined
    assert "departments with listed doctors have no row in e.csv" in joined
    assert "H1/rehab (1 listed)" in joined and "H2/paed (1 listed)" in joined
    assert "need weight" in joined


def test_unknown_partition_type_is_an_error(tmp_path):
    files = {"f.csv": "fid,type,pop\na,thc,10000\nb,chc,12000\n"}
    text = QUOTA_CASE.replace("current_staff: {file: cur.csv}\nneed: {file: need.csv}\n", "")
    errs = _problems(tmp_path, text + "population: {partition_types: [thc, tch]}\n", files)
    assert any(
        "population.partition_types: no facility has this type" in e and "tch" in e for e in errs
    ), errs
