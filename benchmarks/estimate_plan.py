"""What the estimate costs a plan: solve on estimated times, evaluate on the real roads.

Run from the repository root::

    python benchmarks/estimate_plan.py [--case configs/andorra.yaml]

The case is solved twice: on its road network (``roads: network``) and on the calibrated
straight-line estimate (``roads: estimate``). The plan chosen on the estimate is then evaluated on
the network's travel-time tables (the same coverage code the toolkit certifies with). The table
printed per standard: the share the estimate claims for its own plan, the share that plan really
reaches on the roads, and the share of the plan optimised on the roads. Andorra stands in for a
mountain county (its roads calibrated the ``rural`` defaults, so this is an in-sample check).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer.case.loading import load_case  # noqa: E402
from optimizer.case.prepare import prepare_case  # noqa: E402
from optimizer.case.run import solve_case  # noqa: E402
from optimizer.models.coverage.evaluate import evaluate_plan  # noqa: E402
from optimizer.models.coverage.problem import coverage_sets  # noqa: E402


def _variant(case: Path, roads: str, folder: Path) -> Path:
    raw = yaml.safe_load(case.read_text(encoding="utf-8"))
    raw["roads"] = roads
    for part in ("demand", "sites", "zones"):
        for key in ("file", "geometry"):
            if part in raw and key in raw[part]:
                raw[part][key] = str((case.parent / raw[part][key]).resolve())
    for net in raw.get("networks", {}).values():
        for key in ("file", "nodes_file", "polygon"):
            if key in net:
                net[key] = str((case.parent / net[key]).resolve())
    out = folder / f"{case.stem}_{roads}.yaml"
    out.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--case", type=Path, default=ROOT / "configs" / "andorra.yaml")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        real = prepare_case(load_case(_variant(a.case, "network", Path(tmp))))
        est = prepare_case(load_case(_variant(a.case, "estimate", Path(tmp))))
    sol_real = solve_case(real)
    sol_est = solve_case(est)
    assert sol_real.evaluation is not None and sol_est.evaluation is not None
    on_roads = evaluate_plan(
        real.problem, coverage_sets(real.problem), sol_est.evaluation.open_mask
    )
    same = int((sol_est.evaluation.open_mask & sol_real.evaluation.open_mask).sum())
    print(
        f"{a.case.name}: plan on roads opens {int(sol_real.evaluation.open_mask.sum())} sites, "
        f"plan on the estimate {int(sol_est.evaluation.open_mask.sum())} ({same} in common)"
    )
    print(f"{'standard':<18}{'estimate claims':>16}{'really (roads)':>16}{'optimum on roads':>18}")
    for claim, real_r, best in zip(
        sol_est.evaluation.standards, on_roads.standards, sol_real.evaluation.standards, strict=True
    ):
        name = claim.coverage.standard.name
        shares = [np.nan if r.share is None else 100 * r.share for r in (claim, real_r, best)]
        print(f"{name:<18}{shares[0]:>15.2f}%{shares[1]:>15.2f}%{shares[2]:>17.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
