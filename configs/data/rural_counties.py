"""Derive the two committed rural county cases from ../shared/data/cn-village-points-adcode.

Run from the repository root:  python -m configs.data.rural_counties [--source DIR]

Writes ``configs/data/fenghuang/`` + ``configs/fenghuang.yaml`` + ``configs/fenghuang_quota.yaml``
(凤凰县 433123) and the same for 永顺县 433127 (``yongshun``) and 崇阳县 421223 (``chongyang``) with
:func:`geodata.county.build_county`, the code behind ``python -m optimizer prepare county``. County
totals: 2020 census (七普) resident populations as quoted by secondary sources (tookee.net,
"湘西各区人口数量排行榜": 凤凰县 350,195, 永顺县 428,373; hongheiku.com quoting the 咸宁市 bulletin:
崇阳县 427,130), not verified against the bulletins; every output labels the residents an estimate.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geodata.county import SOURCE_DIR, build_county

HERE = Path(__file__).resolve().parent
SOURCE_NOTE = (
    "2020 census (七普) resident population as quoted by tookee.net '湘西各区人口数量排行榜' [S], "
    "not verified against the bulletin"
)
COUNTIES = {
    "fenghuang": ("433123", 350_195, SOURCE_NOTE),
    "yongshun": ("433127", 428_373, SOURCE_NOTE),
    "chongyang": (
        "421223",
        427_130,
        "2020 census (七普) resident population from the 咸宁市 census bulletin as quoted by "
        "hongheiku.com [S], not verified against the bulletin",
    ),
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", type=Path, default=SOURCE_DIR)
    a = p.parse_args()
    for slug, (adcode, total, source) in COUNTIES.items():
        build_county(
            adcode,
            HERE / slug,
            source=a.source,
            case_path=HERE.parent / f"{slug}.yaml",
            slug=slug,
            population=total,
            population_source=source,
        )


if __name__ == "__main__":
    main()
