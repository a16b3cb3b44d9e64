"""Trade-off curves: solve one case over a range of one parameter and draw the frontier.

    python -m optimizer sweep CASE.yaml --param model.budget --values 5e6:3e7:5e6 --out DIR

Every point is the same case with one value changed (a budget, ``max_new_sites``, a standard's
minutes ...), solved exactly and certified like a single run, with its own result folder under
``DIR/points/``. The data and travel times are prepared once (up to the largest threshold any
point needs). Points run in ``workers`` parallel chains on the local cores; inside a chain each
point is warm-started from the plan of its neighbour. ``frontier.csv`` holds one row per point
(value, status, objective, bound, gap, cost, coverage share per standard, sites per type) and
``frontier.png`` / ``frontier.svg`` draw coverage against the parameter.

With ``--cluster tcp://host:8786`` (or ``solver.cluster`` in the case) the chains run on a Dask
cluster instead (:mod:`optimizer.scenarios.cluster`): one chain per worker thread, same answers, and the
workers send their result files back, so they need no shared disk.
"""

from __future__ import annotations

import copy
import logging
import multiprocessing as mp
import re
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from geodata.progress import bar

from ..atomic import StagedOutput
from ..case.prepare import network_cutoffs
from ..case.run import load_any, prepare_any, settings_for, solve_prepared
from ..certificate import solution_limit
from ..errors import CaseError, Problem, ProblemCollector
from ..families import family_of
from ..schema.files import CaseFile
from ..settings import SolveOverrides, SolveSettings

__all__ = ["parse_values", "run_sweep", "set_path"]

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_values(text: str) -> list[float]:
    """``1e6,2e6,5e6`` or ``start:stop:step`` (stop included)."""
    text = text.strip()
    if ":" in text:
        parts = [float(p) for p in text.split(":")]
        if len(parts) != 3 or parts[2] == 0:
            raise ValueError(f"--values {text!r}: use start:stop:step with a non-zero step")
        start, stop, step = parts
        n = int(np.floor((stop - start) / step + 1e-9)) + 1
        if n <= 0:
            raise ValueError(f"--values {text!r}: the range is empty")
        return [start + k * step for k in range(n)]
    return [float(v) for v in text.split(",") if v.strip()]


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``model.standards[0].minutes`` (dotted keys and list indices) in a nested dict."""
    tokens = [(m.group(1), m.group(2)) for m in _TOKEN.finditer(path)]
    if not tokens:
        raise KeyError(path)
    node: Any = data
    for k, (key, index) in enumerate(tokens):
        last = k == len(tokens) - 1
        if index is not None:
            if not isinstance(node, list) or int(index) >= len(node):
                raise KeyError(f"{path}: no item [{index}]")
            if last:
                node[int(index)] = value
            else:
                node = node[int(index)]
        else:
            if not isinstance(node, dict):
                raise KeyError(f"{path}: '{key}' is not inside a mapping")
            if last:
                node[key] = value
            else:
                node = node.setdefault(key, {})


def _point_cases(case: CaseFile, param: str, values: list[float]) -> list[CaseFile]:
    """The case once per value, each validated by its family's loader like a case file."""
    raw = yaml.safe_load(case.raw_text)
    load = family_of(case).load
    out, problems = [], ProblemCollector()
    for v in values:
        data = copy.deepcopy(raw)
        value: Any = (
            int(v)
            if float(v).is_integer() and not param.endswith(("minutes", "metres", "share"))
            else v
        )
        try:
            set_path(data, param, value)
        except KeyError as exc:
            raise CaseError(
                [
                    Problem(
                        f"{case.label} › {param}",
                        f"cannot set this parameter: {exc}",
                        fix="use a dotted path such as model.budget or model.standards[0].minutes",
                    )
                ]
            ) from None
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        try:
            point = load(text, case.label, case.base_dir, case.path)
        except CaseError as exc:  # a value the schema or the model rules reject
            for p in exc.problems:
                problems.add(f"{p.where} (at {param} = {value})", p.what, got=p.got, fix=p.fix)
            continue
        out.append(point)
    problems.raise_if_any("the sweep has invalid points (check --values)")
    return out


_STATE: dict[str, Any] = {}


def _init_state(state: dict[str, Any]) -> None:
    _STATE.clear()
    _STATE.update(state)


def _solve_chain_remote(
    state: dict[str, Any], chain: list[int]
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """A chain on a Dask worker: results written to a private folder and sent back as bytes."""
    import tempfile

    from .cluster import collect_files

    tmp = Path(tempfile.mkdtemp(prefix="sweep-chain-"))
    rows = _solve_chain(chain, {**state, "out_dir": tmp})  # folders are relative: points/NNN
    return rows, collect_files(tmp)


def _solve_chain(chain: list[int], state: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Solve the points of one chain in order, each warm-started from the previous plan, each
    exactly as ``run`` solves that point (:func:`optimizer.families.solve_prepared`)."""
    state = _STATE if state is None else state
    prepared: Any = state["prepared"]
    points: list[CaseFile] = state["points"]
    values: list[float] = state["values"]
    out_dir: Path = state["out_dir"]
    overrides: SolveOverrides = state["overrides"]
    rows = []
    warm: Any = None
    for k in chain:
        point = points[k]
        family = family_of(point)
        pp = family.reprepare(prepared, point)
        settings: SolveSettings = settings_for(pp, overrides)
        pp = replace(pp, settings=settings)
        t0 = time.perf_counter()
        sol = solve_prepared(pp, settings, warm_start=warm)
        folder = out_dir / "points" / f"{k:03d}"
        family.write(pp, sol, folder)
        plan = family.warm_start(sol)
        if plan is not None:
            warm = plan
        rows.append(
            _row(k, values[k], sol, family.certificate(sol), time.perf_counter() - t0, folder)
        )
        rows[-1]["limit"] = solution_limit(sol, settings.options.time_limit_s).value
        rows[-1].update(family.sweep_row(sol))
    return rows


def _row(
    k: int, value: float, sol: Any, cert: dict[str, Any], seconds: float, folder: Path
) -> dict[str, Any]:
    return {
        "point": k,
        "value": value,
        "status": sol.status.value,
        "limit": None,  # set by the caller, against the point's time limit
        "objective": cert["objective"],
        "best_bound": cert["bound"],
        "gap": cert["gap"],
        "seconds": round(seconds, 3),
        "folder": f"{folder.parent.name}/{folder.name}",  # relative to the sweep folder
    }


def run_sweep(
    case_path: str | Path,
    param: str,
    values: list[float],
    out_dir: str | Path,
    *,
    workers: int = 2,
    backend: str | None = None,
    time_limit_s: float | None = None,
    cluster: str | None = None,
) -> pd.DataFrame:
    """Solve every point, write each point's results and the frontier; return the frontier.

    ``cluster`` (default: the case's ``solver.cluster``) is a Dask scheduler address: the chains
    then run there, one per worker thread (at least ``workers``)."""
    from ..atomic import check_out_dir

    check_out_dir(out_dir)  # an unusable --out is refused before solving
    case = load_any(case_path)
    if not values:
        raise CaseError([Problem("--values", "no values to sweep", fix="give e.g. 1e6,2e6,3e6")])
    points = _point_cases(case, param, sorted(values))
    values = sorted(values)
    # prepare the data once, with the travel times complete up to what any point needs
    family = family_of(points[0])

    def reach(point: Any) -> float:
        if family.site is None:
            return 0.0
        return sum(v if v is not None else 1e12 for v in network_cutoffs(point).values())

    widest = max(range(len(points)), key=lambda k: reach(points[k]))
    prepared = prepare_any(points[widest])
    solver = case.config.solver  # type: ignore[attr-defined]
    address = cluster or getattr(solver, "cluster", None)
    client = None
    if address is not None:
        from .cluster import connect

        client = connect(address)
        workers = max(workers, sum(client.nthreads().values()))
    overrides = SolveOverrides(
        backend, time_limit_s, threads=1 if workers > 1 or client is not None else None
    )
    out = Path(out_dir)
    with StagedOutput(out) as staged:  # points and frontier published together
        frontier = _sweep_into(
            staged, family, prepared, points, values, param, overrides, workers, client, address
        )
    return frontier


def _sweep_into(
    staged: StagedOutput,
    family: Any,
    prepared: Any,
    points: list[CaseFile],
    values: list[float],
    param: str,
    overrides: SolveOverrides,
    workers: int,
    client: Any,
    address: str | None,
) -> pd.DataFrame:
    """Solve the points into the staging folder, then write the frontier beside them."""
    out = staged.stage_dir
    state = {
        "prepared": prepared,
        "points": points,
        "values": values,
        "out_dir": out,
        "overrides": overrides,
    }
    n_chains = max(1, min(workers, len(points)))
    chains = [list(c) for c in np.array_split(np.arange(len(points)), n_chains) if len(c)]
    log.info(
        "Sweep %s over %d values in %d chains%s",
        param,
        len(points),
        len(chains),
        f" on the Dask cluster {address}" if client is not None else "",
    )
    try:
        if client is not None:
            from .cluster import cluster_map, write_files

            parts = []
            for rows, files in cluster_map(client, _solve_chain_remote, chains, state):
                write_files(out, files)
                parts.append(rows)
        elif len(chains) > 1:
            # spawn, not fork: a child forked from a process whose solver threads already run
            # cannot use HiGHS; the prepared case is shipped once to each worker
            with ProcessPoolExecutor(
                max_workers=len(chains),
                mp_context=mp.get_context("spawn"),
                initializer=_init_state,
                initargs=(state,),
            ) as pool:
                parts = list(
                    bar(
                        pool.map(_solve_chain, chains),
                        desc="Sweep",
                        total=len(chains),
                        unit="chain",
                    )
                )
        else:
            _init_state(state)
            parts = [_solve_chain(c) for c in bar(chains, desc="Sweep", unit="chain")]
    finally:
        _STATE.clear()
        if client is not None:
            client.close()
    frontier = (
        pd.DataFrame([r for part in parts for r in part])
        .sort_values("value")
        .reset_index(drop=True)
    )
    frontier.insert(1, "parameter", param)
    maximise = family.maximise(prepared)
    frontier["monotone"] = _monotone(frontier, param, maximise)
    from ..report.frontier import refresh_point_reports, render_frontier
    from ..report.frontier_chart import frontier_chart

    staged.csv("frontier.csv", frontier)
    staged.write_with("frontier.png", lambda p: frontier_chart(frontier, param, p))
    staged.write_with("frontier.svg", lambda p: frontier_chart(frontier, param, p))
    staged.text("frontier.html", render_frontier(frontier, param))
    refresh_point_reports(out)  # each point's report gains the trade-off curves
    return frontier


def _monotone(frontier: pd.DataFrame, param: str, maximise: bool) -> list[bool | None]:
    """For parameters that only relax the problem (a larger budget, more sites, a longer
    standard), whether each point is at least as good as the previous one."""
    relaxing = any(
        k in param for k in ("budget", "max_new_sites", "minutes", "metres", "max_vehicles")
    ) or bool(re.search(r"(^|\.)p$", param))  # p-median / p-center: more sites never hurt
    obj = frontier["objective"].to_numpy(dtype=float)
    out: list[bool | None] = [None]
    for k in range(1, len(obj)):
        if not relaxing or not (np.isfinite(obj[k]) and np.isfinite(obj[k - 1])):
            out.append(None)
        elif maximise:
            out.append(bool(obj[k] >= obj[k - 1] - 1e-9 * max(1.0, abs(obj[k - 1]))))
        else:
            out.append(bool(obj[k] <= obj[k - 1] + 1e-9 * max(1.0, abs(obj[k - 1]))))
    return out[: len(obj)]
