"""Many cases in one command: one per county, or scenario variants of one county.

    python -m optimizer batch counties/*.yaml --out results/province [--workers 2]
    python -m optimizer batch counties/*.yaml --out results/province --cluster tcp://IP:8786

Each case is prepared (data, networks and travel-time matrices: the expensive per-county part),
solved, certified and written exactly as ``python -m optimizer run CASE --out DIR/<case-stem>``
would (:func:`optimizer.case.run.run_case`). Cases run on a local pool of ``workers`` processes
(started with *spawn*: a fork of a process whose HiGHS threads run is unsafe) or, given a Dask
scheduler address, on that cluster (:mod:`optimizer.scenarios.cluster`): each case's input files are sent
to the worker that runs it and its result files come back, so workers need no shared disk.

A case with bad input is reported by file, with the whole list of its problems, and does not stop
the others. ``DIR/batch.csv`` holds one row per case (case, status, objective, best bound, gap,
seconds, cost, coverage share per standard, folder, error), in the order the cases were given.

Exit code of the batch (:func:`exit_code`), most serious first: 3 if any case hit an internal
error (e.g. a failed answer check), else 1 if any case had bad input, else 2 if any case has no
plan (proven infeasible, or no plan within the time limit), else 0 (every case found a plan).
"""

from __future__ import annotations

import glob
import json
import logging
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from geodata.progress import bar

from ..atomic import StagedOutput
from ..case.run import load_any
from ..errors import CaseError, SolverBackendError, ToolkitError
from ..schema.case import CaseConfig
from ..schema.data import TravelTimesConfig
from ..schema.files import CaseFile, LoadedCase

__all__ = ["BatchCase", "exit_code", "expand_cases", "run_batch", "table_text"]

log = logging.getLogger(__name__)

BAD_INPUT, ERROR = "bad_input", "error"
"""Statuses of a case that produced no answer (besides the solver statuses of a run)."""

PARTIAL = "partial"
"""A case whose main plan exists while a part it asks for has none (``Family.unanswered``,
e.g. reserved hires): its folder is written, the reason is in ``error``, and it counts as
no plan for the exit code (as ``run`` ends with 2)."""

_PLAN = ("optimal", "feasible")
"""Solver statuses with a plan (``Status.has_solution``)."""

_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class BatchCase:
    """One case of a batch: the path as given and its result folder under the batch folder."""

    case: str
    folder: str
    problem: str = ""
    """Set when there is no case to run (a pattern matching no file)."""


def expand_cases(patterns: Sequence[str]) -> list[BatchCase]:
    """Case files from paths and glob patterns, in the order given (each pattern's matches
    sorted), each file once. Result folders are the file stems; stems that clash are qualified
    by the parent folder (``zhuji-case``), then numbered (``case-2``) in the order of their
    resolved paths, so the same files always get the same folders."""
    paths: list[str] = []
    missing: list[str] = []
    seen: set[str] = set()
    for pattern in patterns:
        if _GLOB_CHARS & set(pattern):
            hits = sorted(glob.glob(pattern, recursive=True))
            if not hits:
                missing.append(pattern)
        else:
            hits = [pattern]
        for h in hits:
            key = os.path.realpath(h)
            if key not in seen:
                seen.add(key)
                paths.append(h)
    folders = _folders(paths)
    out = [BatchCase(p, folders[p]) for p in paths]
    out += [
        BatchCase(p, "", f"{p}: no case file matches this pattern; check the path and quoting")
        for p in missing
    ]
    return out


def _stem(path: str) -> str:
    name = Path(path).name
    for suffix in (".yaml", ".yml"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or "case"
    return Path(path).stem or "case"


def _folders(paths: list[str]) -> dict[str, str]:
    by_stem: dict[str, list[str]] = {}
    for p in paths:
        by_stem.setdefault(_stem(p), []).append(p)
    names: dict[str, str] = {}
    for stem, group in by_stem.items():
        if len(group) == 1:
            names[group[0]] = stem
            continue
        for p in group:
            parent = Path(os.path.realpath(p)).parent.name
            names[p] = f"{parent}-{stem}" if parent else stem
    # still clashing (same parent folder name, or a qualified name equal to another stem)
    taken: dict[str, list[str]] = {}
    for p, name in names.items():
        taken.setdefault(name, []).append(p)
    for name, group in taken.items():
        if len(group) > 1:
            for k, p in enumerate(sorted(group, key=os.path.realpath)):
                names[p] = name if k == 0 else f"{name}-{k + 1}"
    return names


# ---------------------------------------------------------------------------------------------
# One case (runs in a pool process, on a Dask worker, or here)
# ---------------------------------------------------------------------------------------------
def _solve_one(case: CaseFile | str, out: Path, options: dict[str, Any]) -> tuple[str, str, float]:
    """Run one case like ``run``; return (status, error text, seconds). Never raises for a
    problem of the case itself: bad input and internal errors become its status."""
    from ..case.run import run_case
    from ..families import family_of

    t0 = time.perf_counter()
    try:
        prepared, solution, _ = run_case(
            case, out, backend=options["backend"], time_limit_s=options["time_limit_s"]
        )
        status, error = solution.status.value, ""
        missing = family_of(prepared).unanswered(solution) if status in _PLAN else []
        if missing:
            status, error = PARTIAL, "; ".join(f"no plan: {m}" for m in missing)
    except (CaseError, SolverBackendError) as exc:
        status, error = BAD_INPUT, str(exc)
    except ToolkitError as exc:  # a failed answer check: never report that plan
        status, error = ERROR, str(exc)
    except Exception as exc:  # a bug: this case fails, the batch goes on
        log.exception("Case %s failed with an internal error", _label(case))
        status, error = ERROR, f"internal error: {type(exc).__name__}: {exc}"
    return status, error, time.perf_counter() - t0


def _label(case: CaseFile | str) -> str:
    return case.label if isinstance(case, CaseFile) else str(case)


def _row(item: BatchCase, status: str, error: str, seconds: float, out: Path) -> dict[str, Any]:
    """The batch.csv row of a case, read from the solution.json it wrote (any model family)."""
    row: dict[str, Any] = {
        "case": item.case,
        "status": status,
        "limit": None,
        "objective": None,
        "best_bound": None,
        "gap": None,
        "seconds": round(seconds, 3),
        "cost": None,
    }
    sol_path = out / "solution.json"
    if status not in (BAD_INPUT, ERROR) and sol_path.exists():
        sol = json.loads(sol_path.read_text(encoding="utf-8"))
        row["limit"] = sol.get("limit")
        row["objective"] = sol.get("objective")
        row["best_bound"] = sol.get("best_bound")
        row["gap"] = sol.get("gap")
        cost = sol.get("cost")
        row["cost"] = cost.get("total") if isinstance(cost, dict) else cost
        for name, cov in (sol.get("coverage") or {}).items():
            if isinstance(cov, dict) and "share" in cov:
                row[f"share_{name}"] = cov["share"]
    row["folder"] = item.folder if sol_path.exists() and status not in (BAD_INPUT, ERROR) else ""
    row["error"] = error
    return row


def _run_local(job: tuple[BatchCase, Path, dict[str, Any]]) -> dict[str, Any]:
    """A case on this machine (pool process or in-process): results in ``DIR/<folder>``."""
    item, out_dir, options = job
    out = out_dir / item.folder
    status, error, seconds = _solve_one(item.case, out, options)
    return _row(item, status, error, seconds, out)


def _run_remote(
    options: dict[str, Any], bundle: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A case on a Dask worker: its inputs rebuilt in a private folder, its results sent back."""
    from .cluster import collect_files

    tmp = Path(tempfile.mkdtemp(prefix="batch-case-"))
    try:
        inputs = tmp / "inputs"
        for rel, data in bundle["files"].items():
            target = inputs / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        base_dir = inputs / bundle["base_rel"]
        base_dir.mkdir(parents=True, exist_ok=True)  # '..' in relative paths must resolve
        item: BatchCase = bundle["item"]
        try:
            case = load_any(bundle["text"], base_dir=base_dir, label=item.case)
            case.path = Path(item.case)
            moved = {old: inputs / rel for old, rel in bundle["absolute"].items()}
            case = _shipped(case, moved)
        except CaseError as exc:  # validated before sending; only a version mismatch gets here
            return _row(item, BAD_INPUT, str(exc), 0.0, tmp), {}
        out = tmp / "out"
        status, error, seconds = _solve_one(case, out, options)
        row = _row(item, status, error, seconds, out)
        return row, (collect_files(out) if out.exists() else {})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Input files of a case (sent to Dask workers, which need no shared disk)
# ---------------------------------------------------------------------------------------------
def _input_files(case: CaseFile) -> Iterator[str]:
    """Every file the case names, as written (a staffing case: ``staffing.run.input_files``)."""
    if not isinstance(case, LoadedCase):
        from ..staffing.run import input_files

        yield from input_files(case)  # type: ignore[arg-type]
        return
    cfg: CaseConfig = case.config
    yield cfg.demand.file
    yield cfg.sites.file
    if cfg.zones is not None:
        yield cfg.zones.file
        if cfg.zones.geometry is not None:
            yield cfg.zones.geometry
    for net in cfg.networks.values():
        yield from (f for f in (net.file, net.nodes_file, net.polygon) if f is not None)
    for tt in cfg.travel_times.values():
        if isinstance(tt, TravelTimesConfig):
            yield tt.file


def _shipped(case: CaseFile, moved: dict[str, Path]) -> CaseFile:
    """A case rebuilt on a worker: absolute input paths point into its private folder. The
    config is untouched, so manifests and messages name the paths the planner wrote."""
    plain = case.resolve

    def resolve(file: str) -> Path:
        return moved.get(file) or plain(file)

    case.resolve = resolve  # type: ignore[method-assign]
    return case


def _bundle(item: BatchCase, case: CaseFile) -> dict[str, Any]:
    """The case text and the bytes of every input file it names, laid out so that its
    relative paths (``../data/x.csv`` included) resolve the same on the worker."""
    base = os.path.normpath(os.path.abspath(case.base_dir))
    found: dict[str, str] = {}  # lexical path -> real file
    absolute: dict[str, str] = {}  # absolute path as written -> lexical path
    for value in _input_files(case):
        lexical = os.path.normpath(os.path.abspath(case.resolve(value)))
        if not os.path.isfile(lexical):
            continue  # the worker reports it missing, as run does
        for p in _with_sidecars(lexical):
            found[p] = p
        if Path(value).expanduser().is_absolute():
            absolute[value] = lexical
    root = os.path.commonpath([base, *(os.path.dirname(p) for p in found)])
    return {
        "item": item,
        "text": case.raw_text,
        "base_rel": os.path.relpath(base, root),
        "files": {os.path.relpath(p, root): Path(p).read_bytes() for p in sorted(found)},
        "absolute": {k: os.path.relpath(v, root) for k, v in absolute.items()},
    }


def _with_sidecars(path: str) -> list[str]:
    """A Shapefile comes with its .dbf, .shx, .prj ... beside it."""
    p = Path(path)
    if p.suffix.lower() != ".shp":
        return [path]
    return sorted(str(q) for q in p.parent.glob(f"{glob.escape(p.stem)}.*") if q.is_file())


# ---------------------------------------------------------------------------------------------
# The batch
# ---------------------------------------------------------------------------------------------
def run_batch(
    cases: Sequence[str | Path],
    out_dir: str | Path,
    *,
    workers: int = 2,
    cluster: str | None = None,
    backend: str | None = None,
    time_limit_s: float | None = None,
) -> pd.DataFrame:
    """Run every case (paths or glob patterns), write ``out_dir/batch.csv``; return its table.

    ``workers`` local processes by default; ``cluster`` a Dask scheduler address
    (``tcp://host:8786``) to run the cases there instead. An unreachable scheduler is a
    :class:`CaseError` naming the address (nothing runs)."""
    items = expand_cases([str(c) for c in cases])
    if not items:
        from ..errors import Problem

        raise CaseError([Problem("batch", "no case files given", fix="give CASE.yaml or a glob")])
    out = Path(out_dir)
    options = {"backend": backend, "time_limit_s": time_limit_s}
    with StagedOutput(out) as staged:  # every case folder and batch.csv published together
        stage = staged.stage_dir
        rows: dict[int, dict[str, Any]] = {}
        todo: list[int] = []
        for k, item in enumerate(items):
            if item.problem:
                rows[k] = _row(item, BAD_INPUT, item.problem, 0.0, stage)
            else:
                todo.append(k)
        if cluster is not None:
            rows.update(_on_cluster(cluster, items, todo, stage, options))
        else:
            rows.update(_on_pool(items, todo, stage, options, workers))
        table = _table([rows[k] for k in range(len(items))])
        staged.csv("batch.csv", table)
    counts = table["status"].value_counts().to_dict()
    log.info(
        "Batch of %d cases written to %s: %s",
        len(table),
        out / "batch.csv",
        ", ".join(f"{v} {k}" for k, v in sorted(counts.items())),
    )
    return table


def _on_pool(
    items: list[BatchCase],
    todo: list[int],
    out: Path,
    options: dict[str, Any],
    workers: int,
) -> dict[int, dict[str, Any]]:
    jobs = {k: (items[k], out, options) for k in todo}
    n = max(1, min(workers, len(todo)))
    log.info("Batch: %d cases on %d local process%s", len(todo), n, "es" if n > 1 else "")
    rows: dict[int, dict[str, Any]] = {}
    if n == 1:
        for k, job in bar(jobs.items(), desc="Batch", total=len(jobs), unit="case"):
            rows[k] = _run_local(job)
            _progress(rows[k], len(rows), len(jobs))
        return rows
    # spawn, not fork: a child forked from a process whose solver threads already run cannot
    # use HiGHS
    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as pool:
        futures = {pool.submit(_run_local, job): k for k, job in jobs.items()}
        for fut in bar(as_completed(futures), desc="Batch", total=len(futures), unit="case"):
            k = futures[fut]
            try:
                rows[k] = fut.result()
            except Exception as exc:  # the worker process died (memory, a crash)
                log.error("Case %s: its worker process failed: %s", items[k].case, exc)
                rows[k] = _row(items[k], ERROR, f"worker process failed: {exc!r}", 0.0, out)
            _progress(rows[k], len(rows), len(jobs))
    return rows


def _progress(row: dict[str, Any], done: int, total: int) -> None:
    log.info("[%d/%d] %s: %s in %.1f s", done, total, row["case"], row["status"], row["seconds"])


def _on_cluster(
    address: str,
    items: list[BatchCase],
    todo: list[int],
    out: Path,
    options: dict[str, Any],
) -> dict[int, dict[str, Any]]:
    from .cluster import cluster_map, connect, write_files

    client = connect(address)  # a clear error before any work when it is unreachable
    try:
        rows: dict[int, dict[str, Any]] = {}
        bundles: dict[int, dict[str, Any]] = {}
        for k in todo:
            try:  # the case file itself is read here: its errors need no worker
                bundles[k] = _bundle(items[k], load_any(items[k].case))
            except CaseError as exc:
                rows[k] = _row(items[k], BAD_INPUT, str(exc), 0.0, out)
        order = list(bundles)
        log.info("Batch: %d cases on the Dask cluster %s", len(order), address)
        results = cluster_map(
            client, _run_remote, [bundles[k] for k in order], options, return_exceptions=True
        )
        for k, res in zip(order, results, strict=True):
            if isinstance(res, BaseException):
                log.error("Case %s: its Dask task failed: %r", items[k].case, res)
                rows[k] = _row(items[k], ERROR, f"Dask task failed: {res!r}", 0.0, out)
                continue
            row, files = res
            if files:
                write_files(out / items[k].folder, files)
            rows[k] = row
        return rows
    finally:
        client.close()


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    head = ["case", "status", "limit", "objective", "best_bound", "gap", "seconds", "cost"]
    shares: list[str] = []
    for r in rows:
        shares += [c for c in r if c.startswith("share_") and c not in shares]
    return pd.DataFrame(rows, columns=[*head, *shares, "folder", "error"])


def exit_code(table: pd.DataFrame) -> int:
    """3 internal error > 1 bad input > 2 no plan > 0 every case found a plan."""
    status = set(table["status"])
    if ERROR in status:
        return 3
    if BAD_INPUT in status:
        return 1
    if not status <= set(_PLAN):
        return 2
    return 0


def table_text(table: pd.DataFrame) -> str:
    """The batch table for a terminal (errors are printed separately, in full)."""
    cols = [c for c in table.columns if c != "error"]
    shown = table[cols].copy()
    shown["status"] = [s.upper() if s in (BAD_INPUT, ERROR) else s for s in shown["status"]]
    return shown.to_string(index=False, na_rep="-") + "\n"
