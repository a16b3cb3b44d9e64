"""Coverage shares of a run folder, recomputed from its ``demand.csv`` alone.

A coverage run states its shares four times: ``solution.json › coverage``, ``zones.csv``,
``summary.txt`` and ``report.html``. All four are produced from the evaluation in memory; this
module re-reads the folder's ``demand.csv`` (plain :mod:`csv`) and recomputes, for every standard,
the residents subject to it and covered (``covered_<standard>`` = 1 / 0 / empty = not subject;
``residents`` column, or ``weight`` when the run has no footfall venues), the footfall apart, and
the same per zone; then compares. Residents are never divided by residents plus footfall.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .population import read_rows

__all__ = ["Recount", "check_run_folder", "recount"]

#: Counts are written rounded to 3 decimals; shares to 6.
COUNT_TOL = 2e-3
SHARE_TOL = 2e-6


@dataclass
class Recount:
    """Residents and footfall subject to a standard and covered, overall and per zone."""

    residents: float = 0.0
    covered: float = 0.0
    footfall: float = 0.0
    footfall_covered: float = 0.0
    zones: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0]))

    @property
    def share(self) -> float | None:
        return self.covered / self.residents if self.residents > 0 else None

    @property
    def footfall_share(self) -> float | None:
        return self.footfall_covered / self.footfall if self.footfall > 0 else None


def _num(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else 0.0
    except ValueError:
        return 0.0


def recount(
    rows: list[dict[str, str]], standards: list[str], columns: dict[str, str] | None = None
) -> dict[str, Recount]:
    """Per standard: residents (footfall apart) subject and covered, from demand.csv rows
    (column ``covered_<standard>``, or as ``columns`` names it: a 120 run's ``covered``)."""
    columns = columns or {}
    out = {s: Recount() for s in standards}
    for row in rows:
        weight = _num(row.get("weight"))
        res = _num(row["residents"]) if "residents" in row else weight
        foot = _num(row["footfall"]) if "footfall" in row else 0.0
        zone = row.get("zone", "")
        for s in standards:
            flag = (row.get(columns.get(s, f"covered_{s}")) or "").strip()
            if flag == "":
                continue
            hit = flag in ("1", "1.0", "True", "true")
            rc = out[s]
            rc.residents += res
            rc.footfall += foot
            z = rc.zones[zone]
            z[0] += res
            if hit:
                rc.covered += res
                rc.footfall_covered += foot
                z[1] += res
    return out


def _close(a: Any, b: float | None, tol: float) -> bool:
    """Equal up to the rounding the file was written with (``tol`` absolute) and float sums."""
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - b) <= tol + 1e-9 * abs(b)


def check_run_folder(folder: Path) -> list[str]:
    """Violations between the shares the folder states and those recomputed from demand.csv."""
    sol = json.loads((folder / "solution.json").read_text(encoding="utf-8"))
    coverage = sol.get("coverage") or {}
    demand_csv = folder / "demand.csv"
    if not coverage or not demand_csv.exists():
        return []
    rows = read_rows(demand_csv)
    if not rows:
        return []
    if set(coverage) == {"ems"} and "covered" in rows[0]:  # a 120 run
        return _check_ems(folder, coverage["ems"], recount(rows, ["ems"], {"ems": "covered"}))
    names = [s for s in coverage if f"covered_{s}" in rows[0]]
    counts = recount(rows, names)
    out: list[str] = []
    for s in names:
        out += _check_solution(s, coverage[s], counts[s])
    if (folder / "zones.csv").exists():
        out += _check_zones(read_rows(folder / "zones.csv"), counts)
    if (folder / "summary.txt").exists():
        out += _check_summary((folder / "summary.txt").read_text(encoding="utf-8"), counts)
    if (folder / "report.html").exists():
        html = (folder / "report.html").read_text(encoding="utf-8")
        for s, rc in counts.items():
            if rc.share is None:
                continue
            shown = {f"{100 * (rc.share + d):.2f}%" for d in (-SHARE_TOL, 0.0, SHARE_TOL)}
            if not any(text in html for text in shown):
                out.append(f"report.html: no share {100 * rc.share:.2f}% for standard '{s}'")
    return out


_EMS_LINE = re.compile(r"^Within the 120 standard: ([\d.]+)% of ([\d,]+) residents")


def _check_ems(folder: Path, c: dict[str, Any], counts: dict[str, Recount]) -> list[str]:
    """A 120 run: residents within the standard (overall and per zone) in solution.json and
    summary.txt."""
    rc = counts["ems"]
    out = _check_solution("ems", c, rc)
    if (folder / "summary.txt").exists() and rc.share is not None:
        text = (folder / "summary.txt").read_text(encoding="utf-8")
        m = next(filter(None, map(_EMS_LINE.match, text.splitlines())), None)
        if (
            m is None
            or abs(float(m.group(1)) / 100 - rc.share) > 0.5e-4 + 1e-12
            or abs(float(m.group(2).replace(",", "")) - rc.residents) > 0.5 + 1e-9
        ):
            out.append(
                f"summary.txt: '{m.group(0) if m else 'no 120 share'}' but demand.csv gives "
                f"{100 * rc.share:.2f}% of {rc.residents:,.0f} residents"
            )
    return out


def _check_solution(name: str, c: dict[str, Any], rc: Recount) -> list[str]:
    out = []
    pairs = [
        ("population", rc.residents, COUNT_TOL),
        ("covered", rc.covered, COUNT_TOL),
        ("share", rc.share, SHARE_TOL),
    ]
    if rc.footfall > 0 or c.get("footfall"):
        pairs += [
            ("footfall", rc.footfall, COUNT_TOL),
            ("footfall_covered", rc.footfall_covered, COUNT_TOL),
            ("footfall_share", rc.footfall_share, SHARE_TOL),
        ]
    for key, want, tol in pairs:
        if not _close(c.get(key), want, tol):
            out.append(
                f"solution.json coverage.{name}.{key} = {c.get(key)} but demand.csv gives {want}"
            )
    for z, zc in (c.get("by_zone") or {}).items():
        pop, cov = rc.zones.get(z, [0.0, 0.0])
        if not (
            _close(zc.get("population"), pop, COUNT_TOL)
            and _close(zc.get("covered"), cov, COUNT_TOL)
        ):
            out.append(
                f"solution.json coverage.{name}.by_zone.{z}: {zc.get('covered')} of "
                f"{zc.get('population')} but demand.csv gives {cov} of {pop}"
            )
    return out


def _check_zones(zrows: list[dict[str, str]], counts: dict[str, Recount]) -> list[str]:
    out = []
    for row in zrows:
        z = row.get("zone_id", "")
        for s, rc in counts.items():
            if f"share_{s}" not in row or row[f"share_{s}"] in ("", None):
                continue
            pop, cov = rc.zones.get(z, [0.0, 0.0])
            want = cov / pop if pop > 0 else None
            if not _close(_num(row[f"share_{s}"]), want, SHARE_TOL) or not _close(
                _num(row.get(f"covered_{s}")), cov, COUNT_TOL
            ):
                out.append(
                    f"zones.csv {z}: share_{s} {row[f'share_{s}']} (covered {row.get(f'covered_{s}')})"
                    f" but demand.csv gives {cov:,.3f} of {pop:,.3f} residents"
                )
    return out


_LINE = re.compile(r"^\s+(\S+)\s+within .*?: ([\d.]+)% \(([\d,]+) of ([\d,]+) residents\)")


def _check_summary(text: str, counts: dict[str, Recount]) -> list[str]:
    out = []
    seen = set()
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m or m.group(1) not in counts:
            continue
        s, rc = m.group(1), counts[m.group(1)]
        seen.add(s)
        share = float(m.group(2)) / 100
        covered, total = (float(g.replace(",", "")) for g in m.group(3, 4))
        if (
            rc.share is None
            or abs(share - rc.share) > 0.5e-4 + 1e-12
            or abs(covered - rc.covered) > 0.5 + 1e-9
            or abs(total - rc.residents) > 0.5 + 1e-9
        ):
            out.append(
                f"summary.txt '{s}': {m.group(2)}% ({m.group(3)} of {m.group(4)}) but demand.csv "
                f"gives {rc.covered:,.0f} of {rc.residents:,.0f} residents"
            )
    out += [
        f"summary.txt states no share for standard '{s}'"
        for s, rc in counts.items()
        if s not in seen and rc.share is not None
    ]
    return out
