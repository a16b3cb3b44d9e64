"""Shared fixtures: paths to shared data, small random covering instances."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest

from geodata.arrays import Demand, Sites, TravelTimes
from optimizer.models.coverage.problem import CoverageProblem
from optimizer.schema.coverage import CoverageModelConfig

from .brute import Dense


@pytest.fixture(autouse=True)
def _restore_logging():
    """A CLI run inside a test sets the package loggers' levels (``-q``: WARNING) and the root
    handler for the process, and import-linter's in-process run (test_imports) disables every
    existing logger through ``logging.config``; put all of it back so a later test's ``caplog``
    sees the package's INFO records again."""
    names = ("optimizer", "geodata")
    levels = {n: logging.getLogger(n).level for n in names}
    root = logging.getLogger()
    handlers, root_level = root.handlers[:], root.level
    yield
    for n, level in levels.items():
        logging.getLogger(n).setLevel(level)
    root.handlers[:] = handlers
    root.setLevel(root_level)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if name.split(".")[0] in names and isinstance(logger, logging.Logger):
            logger.disabled = False


ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
OBJ_RTOL = 1e-6


def shared_path(*parts: str) -> Path:
    """A file under ../shared: skipped locally when missing, a failure on CI."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared data missing on CI: {p}")
        pytest.skip(f"shared data not available: {p}")
    return p


def random_instance(
    seed: int,
    model: CoverageModelConfig,
    *,
    n_demand: int = 14,
    n_sites: int = 8,
    n_zones: int = 3,
    types: tuple[str, ...] = ("clinic",),
    classes: tuple[str, ...] | None = None,
    n_existing: int = 0,
    with_costs: bool = True,
    with_closure: bool = False,
    unreachable_share: float = 0.1,
    hosted: int = 0,
) -> tuple[CoverageProblem, Dense]:
    """A tiny instance on a plane: travel time = 3 x distance, some pairs unreachable."""
    rng = np.random.default_rng(seed)
    pts = rng.random((n_demand, 2)) * 10
    sp = rng.random((n_sites, 2)) * 10
    times = np.linalg.norm(pts[:, None] - sp[None], axis=2) * 3.0
    times[rng.random(times.shape) < unreachable_share] = np.inf
    zones = [f"z{k}" for k in range(n_zones)]
    dzone = np.asarray([zones[k % n_zones] for k in range(n_demand)], dtype=object)
    szone = np.asarray([zones[k % n_zones] for k in range(n_sites)], dtype=object)
    demand = Demand(
        ids=[f"d{i:02d}" for i in range(n_demand)],
        weight=rng.integers(0, 100, n_demand).astype(float),
        zone=dzone,
        demand_class=None
        if classes is None
        else [classes[k % len(classes)] for k in range(n_demand)],
    )
    existing = np.zeros(n_sites, dtype=bool)
    existing[:n_existing] = True
    sites = Sites(
        ids=[f"s{j:02d}" for j in range(n_sites)],
        facility_type=[types[j % len(types)] for j in range(n_sites)],
        cost=rng.integers(1, 6, n_sites).astype(float) if with_costs else np.ones(n_sites),
        existing=existing,
        zone=szone,
        removal_cost=rng.integers(0, 3, n_sites).astype(float) if with_closure else None,
        relocation_credit=rng.integers(0, 3, n_sites).astype(float) if with_closure else None,
        # the last ``hosted`` sites sit inside the first ones (an AED in a clinic)
        host=None if not hosted else np.r_[np.full(n_sites - hosted, -1), np.arange(hosted)],
    )
    tt = TravelTimes.from_dense(times, name="drive")
    problem = CoverageProblem(demand, sites, {"drive": tt}, model)
    dense = Dense({"drive": times}, demand, sites, model, sorted(set(zones)), {})
    return problem, dense


@pytest.fixture
def tmp_case(tmp_path: Path):
    """Write a case folder (YAML + CSVs) and return the YAML path."""

    def make(yaml_text: str, files: dict[str, str]) -> Path:
        for name, text in files.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        case = tmp_path / "case.yaml"
        case.write_text(yaml_text, encoding="utf-8")
        return case

    return make


@pytest.fixture(scope="session")
def andorra_runs(tmp_path_factory):
    """The Andorra case solved with 7 and with 9 new clinics, each written to a run folder.

    Prepared once (network and travel times), solved twice: ``{p: (prepared, solution, dir)}``.
    """
    import dataclasses

    from optimizer.case.prepare import prepare_case
    from optimizer.case.run import solve_case
    from optimizer.families import family_of

    shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    prepared = prepare_case(ROOT / "configs" / "andorra.yaml")
    base = tmp_path_factory.mktemp("andorra-runs")
    out = {}
    for p in (7, 9):
        model = prepared.problem.model.model_copy(update={"max_new_sites": {"clinic": p}})
        prep = dataclasses.replace(
            prepared, problem=dataclasses.replace(prepared.problem, model=model)
        )
        sol = solve_case(prep)
        family_of(prep).write(prep, sol, base / f"p{p}")
        out[p] = (prep, sol, base / f"p{p}")
    return out
