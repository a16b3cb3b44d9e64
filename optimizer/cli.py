"""Command line: ``python -m optimizer <command>`` (also installed as ``county-siting``).

Commands
--------
run CASE.yaml --out DIR     validate, solve, certify and write the results of a case
validate CASE.yaml          check a case file and all its data without solving
demo --out DIR              run the embedded default case (works offline on a fresh machine)
backends                    list the solver backends installed, with versions
staff CASE.yaml --out DIR   编制 quotas or sent-down rotations (optimizer.staffing)
sweep CASE.yaml ...          trade-off curve over one parameter (frontier table and chart)
batch CASE_OR_GLOB ... --out many cases (e.g. one per county) on local processes or Dask
prepare WHAT ...            build layers: network, cells, spread, candidates, pois, places
report RUN_DIR              write report.html of a run (offline HTML with a map)
compare RUN_A RUN_B --out D compare two runs: compare.html and diff tables

Exit codes: 0 a plan was found (optimal, or feasible at a limit), 1 bad input, 2 no plan exists
(infeasible, or no solution within the limit), 3 internal error (e.g. a failed answer check).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import __version__
from .errors import CaseError, CheckError, Problem, SolverBackendError, ToolkitError

log = logging.getLogger("optimizer")

EXIT_OK, EXIT_INPUT, EXIT_NO_PLAN, EXIT_INTERNAL = 0, 1, 2, 3


def default_case_path() -> Path:
    """The embedded default case shipped inside the package."""
    return Path(__file__).resolve().parent / "data" / "default" / "case.yaml"


def _configure_logging(verbosity: int) -> None:
    level = (
        logging.INFO if verbosity == 0 else (logging.DEBUG if verbosity > 0 else logging.WARNING)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for name in ("optimizer", "geodata"):
        logging.getLogger(name).setLevel(level)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m optimizer",
        description="Exact, certified siting of village clinics, AEDs and 120 stations for county health planning.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    verbosity = argparse.ArgumentParser(add_help=False)
    g = verbosity.add_mutually_exclusive_group()
    g.add_argument("-v", "--verbose", action="count", default=0, help="more log detail (-v debug)")
    g.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def solve_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--out",
            type=Path,
            help="output folder (default: output.dir of the case, else results/<name>)",
        )
        sp.add_argument(
            "--backend", choices=["highs", "cbc", "ortools", "scip"], help="override solver.backend"
        )
        sp.add_argument(
            "--time-limit", type=float, metavar="S", help="override solver.time_limit_s"
        )

    run = sub.add_parser("run", parents=[verbosity], help="solve a case and write its results")
    run.add_argument("case", type=Path, help="the case file (YAML)")
    solve_opts(run)
    val = sub.add_parser(
        "validate", parents=[verbosity], help="check a case and its data, without solving"
    )
    val.add_argument("case", type=Path)
    demo = sub.add_parser("demo", parents=[verbosity], help="run the embedded default case")
    solve_opts(demo)
    sw = sub.add_parser(
        "sweep",
        parents=[verbosity],
        help="trade-off curve: solve a case over a range of one parameter",
    )
    sw.add_argument("case", type=Path)
    sw.add_argument(
        "--param",
        required=True,
        help="dotted path, e.g. model.budget or model.standards[0].minutes",
    )
    sw.add_argument("--values", required=True, help="comma list (1e6,2e6) or start:stop:step")
    sw.add_argument("--out", type=Path, required=True)
    sw.add_argument(
        "--workers", type=int, default=2, help="parallel chains on this machine (default 2)"
    )
    sw.add_argument("--backend", choices=["highs", "cbc", "ortools", "scip"])
    sw.add_argument("--time-limit", type=float, metavar="S", help="per point")
    sw.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="Dask scheduler address (tcp://host:8786): run the points there (default: "
        "solver.cluster of the case, else local processes)",
    )
    bt = sub.add_parser(
        "batch",
        parents=[verbosity],
        help="run many cases (one per county, or scenario variants): batch.csv and one folder each",
    )
    bt.add_argument("cases", nargs="+", metavar="CASE_OR_GLOB", help="case files or glob patterns")
    bt.add_argument("--out", type=Path, required=True, help="batch folder: DIR/<case-stem>/")
    bt.add_argument("--workers", type=int, default=2, help="cases run at once here (default 2)")
    bt.add_argument("--cluster", metavar="ADDRESS", help="Dask scheduler address (tcp://host:8786)")
    bt.add_argument("--backend", choices=["highs", "cbc", "ortools", "scip"])
    bt.add_argument("--time-limit", type=float, metavar="S", help="per case")
    sub.add_parser("backends", parents=[verbosity], help="list installed solver backends")
    staff = sub.add_parser(
        "staff", parents=[verbosity], help="solve a staffing case (编制 quotas or 下沉 rotations)"
    )
    staff.add_argument("case", type=Path, help="staffing case (kind: staffing_quota | sent_down)")
    solve_opts(staff)
    from geodata.prepare import add_parser as add_prepare

    add_prepare(sub, [verbosity])
    from .report.cli import add_parsers as add_report

    add_report(sub, [verbosity])  # report RUN_DIR, compare RUN_A RUN_B
    return p


def _run(case_path: Path, args: argparse.Namespace) -> int:
    from .case import run_case
    from .results import summary_text

    prepared, solution, out = run_case(
        case_path, args.out, backend=args.backend, time_limit_s=args.time_limit
    )
    sys.stdout.write(summary_text(prepared, solution, out))
    return EXIT_OK if solution.status.has_solution else EXIT_NO_PLAN


def _staffing_kind(path: Path) -> bool:
    """A staffing case (``kind: staffing_quota | sent_down``), validated by ``optimizer.staffing``."""
    import yaml

    try:
        head = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # the siting loader reports the problem
    return isinstance(head, dict) and head.get("kind") in ("staffing_quota", "sent_down")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging(-1 if getattr(args, "quiet", False) else getattr(args, "verbose", 0))
    try:
        if args.command == "run":
            return _run(args.case, args)
        if args.command == "demo":
            return _run(default_case_path(), args)
        if args.command == "validate" and _staffing_kind(args.case):
            from .staffing.run import prepare_staffing

            staffing = prepare_staffing(args.case)
            sys.stdout.write(
                f"OK: {args.case} is valid - staffing case, kind {staffing.case.kind}\n"
            )
            return EXIT_OK
        if args.command == "validate":
            from .case import prepare_case

            prepared = prepare_case(args.case)
            p = prepared.problem
            sys.stdout.write(
                f"OK: {args.case} is valid - {len(p.demand):,} demand points, {len(p.sites):,} sites, "
                f"{sum(len(t) for t in p.travel_times.values()):,} travel-time pairs, "
                f"model {prepared.case.config.model.kind}\n"
            )
            return EXIT_OK
        if args.command == "staff":
            from .staffing.run import main_staff

            return EXIT_OK if main_staff(args) else EXIT_NO_PLAN
        if args.command == "sweep":
            from .scenarios.sweep import parse_values, run_sweep

            try:
                values = parse_values(args.values)
            except ValueError as exc:
                raise CaseError([Problem("--values", str(exc))]) from None
            frontier = run_sweep(
                args.case,
                args.param,
                values,
                args.out,
                workers=args.workers,
                backend=args.backend,
                time_limit_s=args.time_limit,
                cluster=args.cluster,
            )
            cols = [c for c in frontier.columns if c not in ("folder", "parameter")]
            sys.stdout.write(frontier[cols].to_string(index=False) + "\n")
            sys.stdout.write(
                f"Frontier: {args.out}/frontier.csv, frontier.png, frontier.svg; points in {args.out}/points/\n"
            )
            answered = frontier["status"].isin(["optimal", "feasible", "infeasible"]).all()
            return EXIT_OK if answered else EXIT_NO_PLAN
        if args.command == "batch":
            from .scenarios.batch import exit_code, run_batch, table_text

            table = run_batch(
                args.cases,
                args.out,
                workers=args.workers,
                cluster=args.cluster,
                backend=args.backend,
                time_limit_s=args.time_limit,
            )
            for case, error in zip(table["case"], table["error"], strict=True):
                if error:
                    sys.stderr.write(f"error: {case}: {error}\n")
            sys.stdout.write(table_text(table) + f"Batch: {args.out}/batch.csv\n")
            return exit_code(table)
        if args.command in ("report", "compare"):
            from .report.cli import run as run_report
            from .staffing import report as _staffing_section  # noqa: F401  (its section)

            return run_report(args)
        if args.command == "prepare":
            from geodata.prepare import run as run_prepare

            return run_prepare(args)
        if args.command == "backends":
            from .solvers import BACKENDS, available_backends, backend_version

            have = available_backends()
            for b in BACKENDS:
                state = f"available, version {backend_version(b)}" if b in have else "not installed"
                sys.stdout.write(f"{b:<8} {state}\n")
            return EXIT_OK
    except CaseError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INPUT
    except CheckError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INTERNAL
    except SolverBackendError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INPUT
    except ToolkitError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INTERNAL
    except (FileNotFoundError, ValueError) as exc:
        if args.command != "prepare":
            raise
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INPUT
    return EXIT_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
