"""Bad input gets clear errors naming file, field or row, the bad value and the fix - all at once."""

from __future__ import annotations

import pytest

from optimizer.case.loading import load_case, parse_case
from optimizer.case.prepare import prepare_case
from optimizer.errors import CaseError

DEMAND = "vid,pop,town,area\nv1,100,t1,urban\nv2,250,t1,rural\nv3,80,t2,rural\n"
SITES = "sid,kind,capex,town,exist\ns1,clinic,10,t1,1\ns2,clinic,12,t1,0\ns3,clinic,8,t2,0\n"
TT = "vid,sid,min\nv1,s1,5\nv1,s2,12\nv2,s2,9\nv3,s3,14\nv2,s3,21\n"

CASE = """\
name: test case
demand:
  file: demand.csv
  columns: {id: vid, weight: pop, zone: town, class: area}
sites:
  file: sites.csv
  columns: {id: sid, type: kind, cost: capex, zone: town, existing: exist}
travel_times:
  file: tt.csv
  columns: {demand_id: vid, site_id: sid, value: min}
model:
  kind: mclp
  standards:
    - {name: t15, minutes: 15}
  max_new_sites: 1
"""


def _files(**over):
    files = {"demand.csv": DEMAND, "sites.csv": SITES, "tt.csv": TT}
    files.update(over)
    return files


def _errors(tmp_case, yaml_text=CASE, **files) -> list[str]:
    path = tmp_case(yaml_text, _files(**files))
    with pytest.raises(CaseError) as err:
        prepare_case(path)
    return [str(p) for p in err.value.problems]


def test_valid_case_loads(tmp_case):
    prepared = prepare_case(tmp_case(CASE, _files()))
    p = prepared.problem
    assert len(p.demand) == 3 and len(p.sites) == 3 and len(p.travel_times["travel_times"]) == 5
    assert p.sites.existing.tolist() == [True, False, False]


def test_unknown_key_is_named_with_suggestion(tmp_case):
    errs = _errors(tmp_case, CASE.replace("max_new_sites: 1", "max_new_site: 1"))
    text = "\n".join(errs)
    assert "model.max_new_site: unknown key" in text
    assert "did you mean 'max_new_sites'" in text


def test_wrong_types_and_nonpositive_thresholds_all_reported(tmp_case):
    bad = CASE.replace("minutes: 15", "minutes: -15").replace(
        "max_new_sites: 1", "max_new_sites: many"
    )
    bad = bad.replace(
        "name: test case", "name: test case\nsolver: {time_limit_s: 0, backend: gurobi}"
    )
    errs = _errors(tmp_case, bad)
    text = "\n".join(errs)
    assert "standards[0].minutes" in text and "-15" in text
    assert "max_new_sites" in text and "many" in text
    assert "solver.time_limit_s" in text
    assert "solver.backend" in text and "gurobi" in text
    assert len(errs) >= 4


def test_yaml_syntax_error_gives_line(tmp_case):
    errs = _errors(tmp_case, CASE.replace("kind: mclp", "kind: [mclp"))
    assert "line" in errs[0] and "not valid YAML" in errs[0]


def test_missing_files_all_reported(tmp_case):
    path = tmp_case(CASE.replace("demand.csv", "nope.csv").replace("tt.csv", "gone.csv"), _files())
    with pytest.raises(CaseError) as err:
        prepare_case(path)
    text = str(err.value)
    assert "demand.file: file not found (got 'nope.csv')" in text
    assert "travel_times.travel_times.file: file not found (got 'gone.csv')" in text


def test_bad_population_rows_named(tmp_case):
    demand = "vid,pop,town,area\nv1,-5,t1,urban\nv2,,t1,rural\nv3,abc,t2,rural\nv4,nan,t2,rural\n"
    errs = _errors(tmp_case, **{"demand.csv": demand})
    text = "\n".join(errs)
    assert "demand.csv line 2 (id=v1)" in text and "below 0" in text
    assert "lines 3 (id=v2), 4 (id=v3), 5 (id=v4)" in text and "not a number" in text


def test_duplicate_ids_named(tmp_case):
    demand = DEMAND + "v2,10,t2,rural\n"
    sites = SITES + "s3,clinic,8,t2,0\n"
    errs = _errors(tmp_case, **{"demand.csv": demand, "sites.csv": sites})
    text = "\n".join(errs)
    assert "duplicate demand ids" in text and "id=v2" in text
    assert "duplicate site ids" in text and "id=s3" in text


def test_matrix_ids_matching_no_point(tmp_case):
    tt = TT + "v9,s1,3\nv1,s7,4\n"
    errs = _errors(tmp_case, **{"tt.csv": tt})
    text = "\n".join(errs)
    assert "demand_ids match no point" in text and "v9" in text and "line 7" in text
    assert "site_ids match no point" in text and "s7" in text and "line 8" in text


def test_matrix_negative_nan_and_duplicate_pairs(tmp_case):
    tt = TT + "v3,s1,-2\nv3,s2,\nv1,s1,6\n"
    text = "\n".join(_errors(tmp_case, **{"tt.csv": tt}))
    assert "below 0" in text and "line 7" in text
    assert "not a number" in text and "line 8" in text
    assert "repeat a (demand_id, site_id) pair" in text


def test_missing_columns_list_available(tmp_case):
    text = "\n".join(_errors(tmp_case, CASE.replace("weight: pop", "weight: population")))
    assert "demand.columns.weight: column not found in demand.csv (got 'population')" in text
    assert "vid, pop, town, area" in text


def test_model_rules(tmp_case):
    bad = CASE.replace("  max_new_sites: 1\n", "")
    text = "\n".join(_errors(tmp_case, bad))
    assert "needs a limit" in text
    bad = (
        CASE.replace("kind: mclp", "kind: lscp")
        .replace("  max_new_sites: 1\n", "")
        .replace("{name: t15, minutes: 15}", "{name: t15, minutes: 15, min_share: 0.9}")
    )
    assert "use kind: psclp" in "\n".join(_errors(tmp_case, bad))
    bad = CASE.replace("{name: t15, minutes: 15}", "{name: t15, minutes: 15, matrix: walk}")
    assert "no travel-time table of this name" in "\n".join(_errors(tmp_case, bad))
    bad = CASE.replace("{name: t15, minutes: 15}", "{name: t15, metres: 1500}")
    assert "holds times" in "\n".join(_errors(tmp_case, bad))
    benders = "solver: {method: benders}\n"
    bad = CASE.replace(
        "  max_new_sites: 1\n", "  max_new_sites: 1\n  secondary_objective: min_cost\n"
    )
    text = "\n".join(_errors(tmp_case, bad + benders))
    assert "solver.method: the Benders decomposition does not support a secondary_objective" in text
    # without a second stage it is accepted
    assert prepare_case(tmp_case(CASE + benders, _files())).case.config.solver.method == "benders"


def test_data_dependent_model_errors(tmp_case):
    bad = CASE.replace(
        "{name: t15, minutes: 15}",
        "{name: t15, minutes: {urban: 11, rurall: 15}, facility_types: [ems]}",
    )
    bad += "  zone_rules:\n    - {min_sites: 1, zones: [t1, t9]}\n"
    text = "\n".join(_errors(tmp_case, bad))
    assert "no demand point has this class (got 'rurall')" in text
    assert "no site has this facility type (got 'ems')" in text
    assert "unknown zone (got 't9')" in text


def test_bad_boolean_and_cost(tmp_case):
    sites = (
        "sid,kind,capex,town,exist\ns1,clinic,10,t1,maybe\ns2,clinic,-3,t1,0\ns3,clinic,8,t2,0\n"
    )
    text = "\n".join(_errors(tmp_case, **{"sites.csv": sites}))
    assert "line 2 (id=s1)" in text and "not yes/no" in text
    assert "line 3 (id=s2)" in text and "cost" in text


def test_all_problems_reported_together(tmp_case):
    demand = "vid,pop,town,area\nv1,-5,t1,urban\nv1,3,t1,rural\nv3,80,t2,rural\n"
    tt = TT + "v8,s1,3\n"
    bad = CASE.replace("minutes: 15", "minutes: 0")
    # Schema errors stop before data is read; then data errors come together.
    assert any("minutes" in e for e in _errors(tmp_case, bad))
    errs = _errors(tmp_case, **{"demand.csv": demand, "tt.csv": tt})
    assert len(errs) >= 3


def test_not_a_mapping_and_missing_case(tmp_path):
    with pytest.raises(CaseError, match="must be a YAML mapping"):
        parse_case("- a\n- b\n")
    with pytest.raises(CaseError, match="case file not found"):
        load_case(tmp_path / "missing.yaml")


def test_gbk_encoded_csv_is_read(tmp_case, tmp_path):
    path = tmp_case(CASE, _files())
    (tmp_path / "demand.csv").write_bytes(
        "vid,pop,town,area\n村1,100,镇1,urban\n村2,250,镇1,rural\n村3,80,镇2,rural\n".encode(
            "gb18030"
        )
    )
    (tmp_path / "tt.csv").write_text(
        "vid,sid,min\n村1,s1,5\n村2,s2,9\n村3,s3,14\n", encoding="utf-8"
    )
    (tmp_path / "sites.csv").write_text(
        "sid,kind,capex,town,exist\ns1,clinic,10,镇1,1\ns2,clinic,12,镇1,0\ns3,clinic,8,镇2,0\n",
        encoding="utf-8",
    )
    prepared = prepare_case(path)
    assert list(prepared.problem.demand.ids) == ["村1", "村2", "村3"]


def test_declared_truncated_od_table_refused(tmp_case):
    bad = CASE.replace(
        "  columns: {demand_id: vid, site_id: sid, value: min}",
        "  columns: {demand_id: vid, site_id: sid, value: min}\n  complete_within: 12",
    )
    text = "\n".join(_errors(tmp_case, bad))
    assert "complete only up to 12 min" in text and "needs 15 min" in text
