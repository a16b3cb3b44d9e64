"""Explain an infeasible covering case: solve the elastic model and name the conflicting targets.

Every row family gets a penalised slack (:func:`~optimizer.models.coverage.build.build_coverage_milp`
with ``elastic=True``); the cheapest total relaxation is reported per block, with numbers.
"""

from __future__ import annotations

import numpy as np

from ...solvers import SolveOptions, solve
from .build import build_coverage_milp
from .problem import CoverageProblem, ReducedCoverage

__all__ = ["diagnose_infeasibility"]


def diagnose_infeasibility(
    problem: CoverageProblem,
    reduced: ReducedCoverage,
    options: SolveOptions,
    backend: str,
) -> list[str]:
    """Solve the elastic model and explain which targets conflict, with numbers."""
    milp = build_coverage_milp(problem, reduced, elastic=True)
    res = solve(
        milp,
        SolveOptions(
            time_limit_s=min(options.time_limit_s, 120.0),
            mip_rel_gap=1e-6,
            threads=options.threads,
            seed=options.seed,
        ),
        backend,
    )
    if res.x is None:
        return [
            "the solver proved the case infeasible; the elastic diagnosis found no explanation "
            f"within its time limit ({res.status.value})"
        ]
    x = res.x
    gw = reduced.group_weight
    out = ["The targets conflict. The least total relaxation that makes the plan feasible is:"]
    for name, block in milp.var_blocks.items():
        if not name.startswith("slack:"):
            continue
        vals = x[block.slice]
        hit = np.flatnonzero(vals > 1e-6)
        if hit.size == 0:
            continue
        row = name.removeprefix("slack:")
        if row.startswith("cover["):
            std = row[len("cover[") : -1]
            rs = next(r for r in reduced.standards if r.standard.name == std)
            groups = np.flatnonzero(rs.applies & ~rs.const)[hit]
            members = np.flatnonzero(np.isin(reduced.group_of, groups))
            ids = ", ".join(map(str, problem.demand.ids[members[:12]]))
            out.append(
                f"- standard '{std}': {members.size:,} demand points ({gw[groups].sum():,.0f} residents) "
                f"stay outside it under the site and budget limits, e.g. {ids}"
            )
        elif row.startswith("share["):
            std = row[len("share[") : -1]
            s = next(r for r in reduced.standards if r.standard.name == std)
            total = float(gw[s.applies].sum())
            short = float(vals[hit].sum())
            target = s.standard.min_share or 0.0
            out.append(
                f"- standard '{std}': min_share {100 * target:.1f}% is out of reach under the limits; "
                f"short by {short:,.0f} residents ({100 * short / max(total, 1):.2f} points), i.e. at most "
                f"{100 * (target - short / max(total, 1)):.2f}%"
            )
        elif row.startswith("zone_share["):
            std = row[len("zone_share[") : -1]
            zones = milp.labels.get(row, [])
            items = [f"{zones[k]} short by {vals[k]:,.0f} residents" for k in hit if k < len(zones)]
            out.append(f"- standard '{std}' zone shares: " + "; ".join(items[:15]))
        elif row.startswith("type_share["):
            units = milp.labels.get(row, [])
            items = [f"{units[k]}" for k in hit if k < len(units)]
            out.append(f"- {row}: the share cannot be reached in " + ", ".join(items[:20]))
        elif row.startswith("zone_rule_max["):
            zones = milp.labels.get(row, [])
            items = [f"{zones[k]} ({vals[k]:.0f} over)" for k in hit if k < len(zones)]
            out.append(
                f"- {row}: more sites than allowed would have to open in " + ", ".join(items[:20])
            )
        elif row.startswith("zone_rule["):
            zones = milp.labels.get(row, [])
            items = [f"{zones[k]} ({vals[k]:.0f} short)" for k in hit if k < len(zones)]
            out.append(f"- {row}: not enough sites can open in " + ", ".join(items[:20]))
        elif row.startswith("max_new_sites"):
            out.append(f"- {row}: {vals[hit].sum():.0f} more new sites would be needed")
        elif row == "budget" or row.startswith("budget["):
            out.append(
                f"- {row}: {vals[hit].sum():,.2f} {problem.sites.cost_unit} more would be needed"
            )
        elif row.startswith("min_new_sites"):
            out.append(
                f"- {row}: {vals[hit].sum():.0f} fewer new sites than asked fit the other limits"
            )
        else:
            out.append(f"- {row}: violated by {vals[hit].sum():,.3g}")
    if len(out) == 1:
        out.append("- (no single block needs relaxing; check numerical scaling of the case)")
    return out
