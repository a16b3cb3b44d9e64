"""geodata's loaders work without optimizer's case objects: a section read by attribute, a
CaseFiles(label, resolve) and a problem collector (issue #13: geodata independent of optimizer)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from geodata.sources import CaseFiles, estimate_specs, network_specs
from geodata.tables import load_demand, load_sites
from geodata.travel_table import load_travel_times
from optimizer.errors import ProblemCollector


def _files(tmp_path: Path) -> CaseFiles:
    return CaseFiles("my_case.yaml", lambda p: tmp_path / p)


def _demand_section(**columns: object) -> SimpleNamespace:
    cols = {"id": "id", "weight": "pop", "zone": None, "demand_class": None, "x": None}
    cols |= {"y": None, "name": None, "footfall": None} | columns
    return SimpleNamespace(
        file="demand.csv",
        layer=None,
        crs=None,
        columns=SimpleNamespace(**cols),
        footfall_classes=None,
        weight_note=None,
    )


def test_sections_and_a_resolver_are_enough(tmp_path):
    (tmp_path / "demand.csv").write_text("id,pop\nv1,100\nv2,250\n", encoding="utf-8")
    (tmp_path / "tt.csv").write_text("d,s,min\nv1,s1,4.5\nv2,s1,12\n", encoding="utf-8")
    problems = ProblemCollector()
    demand = load_demand(_demand_section(), _files(tmp_path), problems)
    assert not problems and demand is not None
    assert demand.ids.tolist() == ["v1", "v2"] and demand.weight.tolist() == [100.0, 250.0]
    tt_section = SimpleNamespace(
        file="tt.csv",
        layer=None,
        unit="min",
        complete_within=None,
        columns=SimpleNamespace(demand_id="d", site_id="s", value="min"),
    )
    tt = load_travel_times(
        "walk", tt_section, _files(tmp_path), demand.ids, np.asarray(["s1"], object), problems
    )
    assert not problems and tt is not None
    assert sorted(zip(tt.demand_index.tolist(), tt.value.tolist(), strict=True)) == [
        (0, 4.5),
        (1, 12.0),
    ]


def test_problems_name_the_label_and_the_resolved_path(tmp_path):
    problems = ProblemCollector()
    assert load_demand(_demand_section(), _files(tmp_path), problems) is None
    (only,) = problems.problems
    assert only.where == "my_case.yaml › demand.file" and str(tmp_path) in only.fix
    (tmp_path / "demand.csv").write_text("id,pop\nv1,100\nv1,-3\n", encoding="utf-8")
    problems = ProblemCollector()
    load_demand(_demand_section(), _files(tmp_path), problems)
    text = " | ".join(f"{p.where}: {p.what}" for p in problems.problems)
    assert "duplicate demand ids" in text and "below 0" in text


@pytest.mark.parametrize(
    ("section", "network", "estimate"),
    [
        (SimpleNamespace(file="tt.csv"), False, False),
        (SimpleNamespace(network="roads", mode="drive"), True, False),
        (SimpleNamespace(mode="estimate", by="drive"), False, True),
    ],
)
def test_travel_time_sections_are_told_apart_by_their_fields(section, network, estimate):
    assert bool(network_specs({"t": section})) is network
    assert bool(estimate_specs({"t": section})) is estimate


def test_sites_without_an_id_column_stop_before_reading_rows(tmp_path):
    (tmp_path / "sites.csv").write_text("code,type\na,clinic\n", encoding="utf-8")
    cols = SimpleNamespace(
        id="id", type=None, cost=None, existing=None, zone=None, host=None, removal_cost=None,
        relocation_credit=None, capacity=None, vehicles=None, np_vehicles=None, x=None, y=None,
        name=None,
    )  # fmt: skip
    section = SimpleNamespace(
        file="sites.csv", layer=None, crs=None, columns=cols, facility_type="clinic",
        cost_unit="yuan",
    )  # fmt: skip
    problems = ProblemCollector()
    assert load_sites(section, _files(tmp_path), problems) is None
    (only,) = problems.problems
    assert only.where == "my_case.yaml › sites.columns.id" and "code" in only.fix
