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

from ..atomic import StagedOutput
from ..case import PreparedCase, network_cutoffs, prepare_case, solve_case
from ..config import CaseConfig, LoadedCase, check_model_rules, load_case
from ..errors import CaseError, Problem, ProblemCollector
from ..models.coverage.problem import CoverageProblem
from ..models.coverage.solve import CoverageSolution, solve_coverage
from ..models.siting.solve import SitingSolution
from ..solvers import SolveOptions

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


def _point_cases(case: LoadedCase, param: str, values: list[float]) -> list[LoadedCase]:
    raw = yaml.safe_load(case.raw_text)
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
        try:
            cfg = CaseConfig.model_validate(data)
        except Exception as exc:  # a value the schema rejects (e.g. a negative budget)
            problems.add(
                f"{case.label} › {param} = {value}", f"invalid value: {exc}".splitlines()[0]
            )
            continue
        point = LoadedCase(
            cfg, case.path, case.base_dir, yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        )
        check_model_rules(point, problems)
        out.append(point)
    problems.raise_if_any("the sweep has invalid points")
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
    """Solve the points of one chain in order, each warm-started from the previous plan."""
    from ..results import write_results

    state = _STATE if state is None else state
    prepared: PreparedCase = state["prepared"]
    points: list[LoadedCase] = state["points"]
    values: list[float] = state["values"]
    out_dir: Path = state["out_dir"]
    options: SolveOptions = state["options"]
    backend: str = state["backend"]
    rows = []
    warm: np.ndarray | None = None
    for k in chain:
        point = points[k]
        problem = replace(prepared.problem, model=point.config.model)  # type: ignore[arg-type]
        pp = PreparedCase(
            point,
            problem,
            prepared.input_files,
            prepared.routing,
            prepared.zone_polygons,
            prepared.estimates,
            travel_times_check=prepared.travel_times_check,
        )
        t0 = time.perf_counter()
        if isinstance(problem, CoverageProblem):
            cfg = point.config.solver
            sol: Any = solve_coverage(
                problem,
                options,
                backend=backend,
                warm_open=warm,
                aggregate=cfg.aggregate_demand,
                drop_dominated=cfg.drop_dominated,
                method=cfg.method,
            )
        else:
            sol = solve_case(pp, backend=backend, time_limit_s=options.time_limit_s)
        folder = out_dir / "points" / f"{k:03d}"
        write_results(pp, sol, folder)
        if isinstance(sol, CoverageSolution) and sol.open_mask is not None:
            warm = sol.open_mask
        rows.append(_row(k, values[k], sol, time.perf_counter() - t0, folder))
    return rows


def _row(k: int, value: float, sol: Any, seconds: float, folder: Path) -> dict[str, Any]:
    row: dict[str, Any] = {
        "point": k,
        "value": value,
        "status": sol.status.value,
        "objective": sol.objective,
        "best_bound": sol.bound,
        "gap": sol.gap,
        "seconds": round(seconds, 3),
        "folder": f"{folder.parent.name}/{folder.name}",  # relative to the sweep folder
    }
    ev = getattr(sol, "evaluation", None)  # p-median / p-center answers carry their plan
    if isinstance(sol, SitingSolution):
        res = sol.result
        if res.open_mask is not None and res.travel is not None and res.assigned_site is not None:
            w = sol.problem.demand.weight
            served = res.assigned_site >= 0
            row["sites_open"] = int(res.open_mask.sum())
            if served.any() and w[served].sum() > 0:
                row["mean_travel"] = float((w[served] * res.travel[served]).sum() / w[served].sum())
                row["worst_travel"] = float(res.travel[served].max())
    elif isinstance(sol, CoverageSolution) and ev is not None:
        row["cost"] = ev.total_cost
        for r in ev.standards:
            row[f"share_{r.name}"] = r.share
        for t in sol.problem.sites.types:
            row[f"sites_{t}"] = int((ev.open_mask & (sol.problem.sites.facility_type == t)).sum())
    elif ev is not None:
        row["cost"] = ev.cost
        row["ambulances"] = ev.total_vehicles
        row["stations"] = int(ev.plan.open.sum())
    return row


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
    case = load_case(case_path)
    if not values:
        raise CaseError([Problem("--values", "no values to sweep", fix="give e.g. 1e6,2e6,3e6")])
    points = _point_cases(case, param, sorted(values))
    values = sorted(values)
    # prepare the data once, with the travel times complete up to what any point needs
    widest = max(
        range(len(points)),
        key=lambda k: sum(
            v if v is not None else 1e12 for v in network_cutoffs(points[k]).values()
        ),
    )
    prepared = prepare_case(points[widest])
    solver = case.config.solver
    address = cluster or solver.cluster
    client = None
    if address is not None:
        from .cluster import connect

        client = connect(address)
        workers = max(workers, sum(client.nthreads().values()))
    options = SolveOptions(
        time_limit_s=time_limit_s if time_limit_s is not None else solver.time_limit_s,
        mip_rel_gap=solver.mip_rel_gap,
        threads=1 if workers > 1 or client is not None else solver.threads,
        seed=solver.seed,
        ortools_engine=solver.ortools_engine,
    )
    out = Path(out_dir)
    state = {
        "prepared": prepared,
        "points": points,
        "values": values,
        "out_dir": out,
        "options": options,
        "backend": backend or solver.backend,
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
                parts = list(pool.map(_solve_chain, chains))
        else:
            _init_state(state)
            parts = [_solve_chain(c) for c in chains]
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
    maximise = prepared.problem.model.resolved_objective in ("max_coverage", "mexclp", "bacop")
    frontier["monotone"] = _monotone(frontier, param, maximise)
    from ..report.frontier import refresh_point_reports, render_frontier

    with StagedOutput(out) as staged:
        staged.csv("frontier.csv", frontier)
        staged.write_with("frontier.png", lambda p: _chart(frontier, param, p))
        staged.write_with("frontier.svg", lambda p: _chart(frontier, param, p))
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


def _chart(frontier: pd.DataFrame, param: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    shares = [c for c in frontier.columns if c.startswith("share_")]
    x = frontier["value"].to_numpy(dtype=float)
    if shares:
        for c in shares:
            ax.plot(x, 100 * frontier[c].astype(float), marker="o", label=c.removeprefix("share_"))
        ax.set_ylabel("residents within standard (%)")
    else:
        ax.plot(x, frontier["objective"].astype(float), marker="o", label="objective")
        ax.set_ylabel("objective")
    status = frontier["status"].to_numpy()
    marks = {
        "infeasible": ("x", "red", "no plan meets the targets (proven)"),
        "feasible": ("^", "orange", "time limit: not proven optimal"),
        "no_solution": ("v", "grey", "time limit: no plan found"),
    }
    for st, (marker, colour, label) in marks.items():
        hit = status == st
        if hit.any():
            ax.scatter(
                x[hit], np.zeros(int(hit.sum())), marker=marker, color=colour, label=label, zorder=3
            )
    ax.set_xlabel(param)
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.6g}"))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Trade-off frontier (every point solved exactly)")
    fig.tight_layout()
    fig.savefig(path, format=Path(path).suffix.lstrip("."))
    plt.close(fig)
