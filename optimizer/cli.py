"""Command line: ``python -m optimizer <command>`` (also installed as ``county-siting``).

Commands
--------
run CASE.yaml --out DIR     validate, solve, certify and write the results of a case of any kind
                            (coverage, phased, p-median, p-center, 120, joint, quota, sent-down)
validate CASE.yaml          check a case file and all its data without solving
demo --out DIR              run the embedded default case (works offline on a fresh machine)
backends                    list the solver backends installed, with versions
staff CASE.yaml --out DIR   alias of run (编制 quotas or sent-down rotations)
sweep CASE.yaml ...          trade-off curve over one parameter (frontier table and chart)
batch CASE_OR_GLOB ... --out many cases (e.g. one per county) on local processes or Dask
prepare WHAT ...            build layers: network, cells, spread, candidates, pois, places
report RUN_DIR              write report.html of a run (offline HTML with a map)
compare RUN_A RUN_B --out D compare two runs: compare.html and diff tables

Exit codes: 0 a plan was found (optimal, or feasible at a limit), 1 bad input, 2 no plan exists
(infeasible, or no solution within the limit; also when a part the case asks for has none, e.g.
reserved hires, with the main plan written), 3 internal error (e.g. a failed answer check),
130 stopped by Ctrl-C (SIGINT), 143 stopped by SIGTERM; a stopped run leaves no partial output.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import signal
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .certificate import time_line
from .errors import CaseError, CheckError, Problem, SolverBackendError, ToolkitError

if TYPE_CHECKING:
    from typing import NoReturn

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


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad option value being bad input (exit 1) like every other."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"error: {message}\n")


def positive_seconds(text: str) -> float:
    """A time limit in seconds: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a number (got {text!r}); give seconds, e.g. 60"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"must be a finite number > 0 (got {text!r}); give seconds, e.g. 60"
        )
    return value


def positive_count(text: str) -> int:
    """A count of processes: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a whole number (got {text!r}); give e.g. 2"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 (got {value}); give e.g. 2")
    return value


def _parser() -> argparse.ArgumentParser:
    from .solvers.base import Backend

    BACKENDS = [b.value for b in Backend]
    p = _Parser(
        prog="python -m optimizer",
        description="Exact, certified siting of village clinics, AEDs and 120 stations for county health planning.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    verbosity = _Parser(add_help=False)
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
        sp.add_argument("--backend", choices=BACKENDS, help="override solver.backend")
        sp.add_argument(
            "--time-limit", type=positive_seconds, metavar="S", help="override solver.time_limit_s"
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
        "--workers",
        type=positive_count,
        default=2,
        help="parallel chains on this machine (default 2)",
    )
    sw.add_argument("--backend", choices=BACKENDS)
    sw.add_argument("--time-limit", type=positive_seconds, metavar="S", help="per point")
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
    bt.add_argument(
        "--workers", type=positive_count, default=2, help="cases run at once here (default 2)"
    )
    bt.add_argument("--cluster", metavar="ADDRESS", help="Dask scheduler address (tcp://host:8786)")
    bt.add_argument("--backend", choices=BACKENDS)
    bt.add_argument("--time-limit", type=positive_seconds, metavar="S", help="per case")
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
    """``run`` (and its aliases ``demo``, ``staff``): any kind of case, through its family."""
    from .case.run import run_any
    from .families import family_of
    from .settings import SolveOverrides

    prepared, solution, out = run_any(
        case_path, args.out, SolveOverrides(args.backend, args.time_limit)
    )
    family = family_of(prepared)
    sys.stdout.write(family.summary(prepared, solution, out))
    sys.stdout.write(time_line(solution))
    if not solution.status.has_solution:
        return EXIT_NO_PLAN
    missing = family.unanswered(solution)
    for line in missing:  # the main plan is written, a part the case asks for has none
        sys.stderr.write(f"no plan: {line}\n")
    return EXIT_NO_PLAN if missing else EXIT_OK


def _tolerant_console() -> None:
    """Never crash on a console that cannot show a character (cp936/GBK Windows consoles,
    ``PYTHONIOENCODING=ascii``): such characters print as '?' instead of a traceback."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


class Stopped(BaseException):
    """SIGTERM (or SIGHUP) arrived: unwind like Ctrl-C, removing staging folders on the way."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, _frame: object) -> None:
    _cancel_solves()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Stopped(signum)


def _cancel_solves() -> None:
    """Stop HiGHS and SCIP solves running in worker threads now, so the run ends at once."""
    for name in ("optimizer.solvers.highs", "optimizer.solvers.scip"):
        backend = sys.modules.get(name)
        if backend is not None:
            backend.cancel_running()


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the command; return the exit code (see the module docstring)."""
    _tolerant_console()
    args = _parser().parse_args(argv)
    _configure_logging(-1 if getattr(args, "quiet", False) else getattr(args, "verbose", 0))
    previous = previous_int = None
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        previous = signal.signal(signal.SIGTERM, _on_signal)
        previous_int = signal.signal(signal.SIGINT, _on_signal)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        sys.stderr.write(
            "stopped by Ctrl-C: nothing was published; earlier results are unchanged\n"
        )
        return 128 + signal.SIGINT
    except Stopped as exc:
        name = signal.Signals(exc.signum).name
        sys.stderr.write(
            f"stopped by {name}: nothing was published; earlier results are unchanged\n"
        )
        return 128 + exc.signum
    except RecursionError:
        sys.stderr.write(
            "error: the input is nested too deeply to read (a case file or table of thousands "
            "of nested brackets); check the files given to this command\n"
        )
        return EXIT_INPUT
    except Exception:  # a bug: the traceback, and a request to report it
        traceback.print_exc()
        sys.stderr.write(
            f"internal error (a bug in county-health-siting {__version__}): please report it "
            "with the command, the case file and this message\n"
        )
        return EXIT_INTERNAL
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        if args.command == "run":
            return _run(args.case, args)
        if args.command == "demo":
            return _run(default_case_path(), args)
        if args.command == "validate":
            from .case.run import prepare_any
            from .families import family_of

            prepared = prepare_any(args.case)
            text = family_of(prepared).validated(prepared)
            sys.stdout.write(f"OK: {args.case} is valid - {text}\n")
            return EXIT_OK
        if args.command == "staff":
            return _run(args.case, args)
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
