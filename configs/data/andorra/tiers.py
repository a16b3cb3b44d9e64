"""Village-clinic tiers for configs/andorra_village_tiers.yaml, derived from ``sites.csv``.

Run from the repository root:  python -m configs.data.andorra.tiers

Writes ``village_tiers.csv`` beside this file: today's clinics as ``vc_basic`` (not yet
standardised, kept open); one ``vc_upgrade`` row per clinic at the same place (its upgrade to
the standard, hosted by it: it can only happen where the clinic is open); every clinic candidate
as ``vc_std`` (a new clinic, built to the standard), except the first candidate of each parish
(by site id), offered as a ``vc_smart`` clinic (standard plus remote consultation, at
``SMART_COST_FACTOR`` times the cost). Costs are planning assumptions.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
UPGRADE_COST = 300_000.0
"""Yuan to bring an existing village clinic to the standard (ASSUMPTION)."""
SMART_COST_FACTOR = 1.4
"""A smart village clinic costs this much more than a standard one (ASSUMPTION)."""


def village_tiers(sites: pd.DataFrame) -> pd.DataFrame:
    clinics = sites[sites["type"] == "clinic"].copy()
    clinics["host"] = ""
    basic = clinics[clinics["existing"] == 1].assign(type="vc_basic")
    upgrade = basic.assign(
        site_id="UP@" + basic["site_id"],
        type="vc_upgrade",
        existing=0,
        cost_yuan=UPGRADE_COST,
        host=basic["site_id"],
    )
    new = clinics[clinics["existing"] == 0].assign(type="vc_std").sort_values("site_id")
    smart = ~new["zone"].duplicated()
    new.loc[smart, "type"] = "vc_smart"
    new.loc[smart, "cost_yuan"] = new.loc[smart, "cost_yuan"] * SMART_COST_FACTOR
    cols = ["site_id", "type", "existing", "cost_yuan", "host", "zone", "lon", "lat"]
    return pd.concat([basic, upgrade, new])[cols].reset_index(drop=True)


def main() -> None:
    out = village_tiers(pd.read_csv(HERE / "sites.csv", dtype={"site_id": str}))
    out.to_csv(HERE / "village_tiers.csv", index=False, lineterminator="\n")
    print(f"village_tiers.csv: {len(out)} rows ({out['type'].value_counts().to_dict()})")


if __name__ == "__main__":
    main()
