"""``report`` and ``compare`` commands (added to ``python -m optimizer`` by optimizer.cli)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .i18n import LANGS
from .mapview import BASEMAPS
from .rundata import RunFolderError

__all__ = ["add_parsers", "run"]


def add_parsers(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    def view_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--lang", choices=LANGS, default="zh", help="labels: zh (default) or en")
        p.add_argument(
            "--basemap",
            choices=BASEMAPS,
            default="none",
            help="map tiles: none (default, offline), osm, or tianditu (needs a key)",
        )
        p.add_argument(
            "--tianditu-key",
            metavar="KEY",
            help="天地图 key for --basemap tianditu (default: $TIANDITU_KEY)",
        )

    rep = sub.add_parser(
        "report", parents=parents, help="write report.html for a run folder (offline HTML)"
    )
    rep.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the --out folder of a run")
    rep.add_argument("--out", type=Path, help="output file (default: RUN_DIR/report.html)")
    view_opts(rep)
    cmp = sub.add_parser(
        "compare", parents=parents, help="compare two runs: compare.html and diff tables"
    )
    cmp.add_argument("run_a", type=Path, metavar="RUN_A", help="plan A (a run's --out folder)")
    cmp.add_argument("run_b", type=Path, metavar="RUN_B", help="plan B")
    cmp.add_argument("--out", type=Path, required=True, help="folder for compare.html and CSVs")
    view_opts(cmp)


def run(args: argparse.Namespace) -> int:
    """Exit 0 on success, 1 when a run folder is missing/incomplete or an option is bad."""
    key = args.tianditu_key or os.environ.get("TIANDITU_KEY")
    try:
        if args.command == "report":
            from .html import write_report_file

            path = write_report_file(
                args.run_dir, args.out, lang=args.lang, basemap=args.basemap, tianditu_key=key
            )
            sys.stdout.write(f"Report: {path}\n")
            return 0
        from .compare import write_compare

        names = write_compare(
            args.run_a, args.run_b, args.out, lang=args.lang, basemap=args.basemap, tianditu_key=key
        )
        sys.stdout.write(f"Comparison: {args.out}/ ({', '.join(names)})\n")
        return 0
    except (RunFolderError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
